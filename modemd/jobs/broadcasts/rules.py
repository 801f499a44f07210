"""The rules every step of a broadcast applies: who drafts, approves and sees, the state check, the row lock.

A refused request is a :class:`BroadcastError` whose ``code`` names the rule.
A move between states is asked of the one transition table
(``BROADCAST_TRANSITIONS`` in :mod:`modemd.states`) by :func:`check_move`;
:func:`lock_broadcast` re-reads a broadcast locked inside the transaction that
changes it, so two people (or the daemon and a person) cannot both act on
what they read before the other wrote.
"""

from __future__ import annotations

import peewee

from modemd import states
from modemd.states import BroadcastState as B
from modemd.store.db import dialect
from modemd.store.models import Broadcast, User, database_proxy

# What a broadcast is about; the web UI shows the Indonesian words.
CATEGORIES = ("information", "invitation", "announcement", "warning")
DRAFTER_ROLES = ("admin", "official", "approver")
APPROVER_ROLES = ("approver",)
# Concatenated SMS beyond this many parts are costly and some phones show them badly.
MAX_PARTS = 10


class BroadcastError(ValueError):
    """A request the rules refuse; the message says why (in English, for logs and the CLI).

    ``code`` names the rule, so the web UI can say it in the user's language.
    """

    def __init__(self, message: str, code: str = ""):
        super().__init__(message)
        self.code = code


def check_move(broadcast: Broadcast, new: B, refusal: str = "") -> None:
    """Refuse a move the transition table does not allow, as a :class:`BroadcastError` the UI can word."""
    try:
        states.check(broadcast.state, new)
    except states.TransitionError as exc:
        raise BroadcastError(f"{refusal}: {exc}" if refusal else str(exc), code="wrong_state") from exc


def update_or_refuse(update: peewee.ModelUpdate, refusal: str, code: str) -> None:
    """Run a conditional UPDATE of a broadcast; no row changed means another request moved it first."""
    if not update.execute():
        raise BroadcastError(refusal, code=code)


def lock_broadcast(broadcast_id: int) -> Broadcast | None:
    """Re-read the broadcast inside the current transaction, locked against a concurrent cancel."""
    query = Broadcast.select().where(Broadcast.id == broadcast_id)
    if dialect(database_proxy.obj) != "sqlite":  # SQLite's BEGIN IMMEDIATE already holds the write lock
        query = query.for_update()
    return query.first()


def visible_to(user: User) -> peewee.ModelSelect:
    """Broadcasts a user may see: admins and approvers all, others their own."""
    query = Broadcast.select().order_by(Broadcast.created_at.desc(), Broadcast.id.desc())
    if user.role in ("admin", *APPROVER_ROLES):
        return query
    return query.where(Broadcast.created_by == user)
