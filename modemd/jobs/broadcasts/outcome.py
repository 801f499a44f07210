"""Once it is under way: stop it, send its failed recipients again, see how far it got and who got what.

Cancelling stops what has not left the modem; what has left stays. Retrying
puts every failed recipient back in the queue (a done broadcast then sends
again). :func:`progress` counts the recipients per state, and
:func:`recipient_rows` lists them with the contact's name, for "I did not
receive it" (Bekasi Pasal 10 e).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from peewee import fn

from modemd import states
from modemd.send import outqueue
from modemd.sms import phone
from modemd.states import BroadcastState as B
from modemd.states import OutboundState
from modemd.store.models import Broadcast, Contact, OutboundMessage, User, audit, database_proxy, utcnow

from .rules import APPROVER_ROLES, BroadcastError, check_move, lock_broadcast

if TYPE_CHECKING:
    from modemd.config import Config

log = logging.getLogger("modemd.broadcast")

# A broadcast that can no longer be cancelled (the transition table has no move to cancelled from these).
FINISHED = tuple(state for state in B if not states.allowed(state, B.CANCELLED))


def may_cancel(broadcast: Broadcast, user: User) -> bool:
    return broadcast.state not in FINISHED and (
        user.id == broadcast.created_by_id or user.role in ("admin", *APPROVER_ROLES)
    )


def cancel(broadcast: Broadcast, actor: User, reason: str = "") -> int:
    """Stop a broadcast: what has not left is cancelled, what has left stays. Returns the rows cancelled."""
    with database_proxy.atomic():
        current = lock_broadcast(broadcast.id)
        if current is None:
            raise BroadcastError("no such broadcast", code="missing")
        if current.state in FINISHED:
            raise BroadcastError(f"this broadcast is already {current.state}", code="finished")
        check_move(current, B.CANCELLED)
        if not may_cancel(current, actor):
            raise BroadcastError(f"{actor.login} may not cancel this broadcast", code="not_allowed")
        Broadcast.update(state=B.CANCELLED, rejected_reason=reason.strip() or None).where(
            Broadcast.id == broadcast.id
        ).execute()
        cancelled = (
            OutboundMessage.update(
                state=states.check(OutboundState.PENDING, OutboundState.CANCELLED), failure_reason="broadcast cancelled"
            )
            .where(OutboundMessage.broadcast == broadcast.id, OutboundMessage.state == OutboundState.PENDING)
            .execute()
        )
        audit(actor.login, "broadcast.cancel", current, cancelled=cancelled, reason=reason.strip())
    log.info("broadcast %d cancelled by %s: %d pending SMS cancelled", broadcast.id, actor.login, cancelled)
    return cancelled


# Failed recipients can be sent again while the broadcast sends, or once it is done (it then sends again).
RETRYABLE = (B.SENDING, B.DONE)


def may_retry(broadcast: Broadcast, user: User) -> bool:
    return broadcast.state in RETRYABLE and (
        user.id == broadcast.created_by_id or user.role in ("admin", *APPROVER_ROLES)
    )


def retry_failed(broadcast: Broadcast, actor: User, config: Config, *, now: datetime | None = None) -> int:
    """Put every failed recipient back in the queue (one click). Returns how many."""
    moment = now or utcnow()
    expiry = config.sms.expiry
    with database_proxy.atomic():
        current = lock_broadcast(broadcast.id)
        if current is None or current.state not in RETRYABLE:
            raise BroadcastError(
                "only a broadcast that is sending or done can retry its failed recipients", code="wrong_state"
            )
        if not may_retry(current, actor):
            raise BroadcastError(f"{actor.login} may not retry this broadcast", code="not_allowed")
        retried = (
            OutboundMessage.update(
                state=states.check(OutboundState.FAILED, OutboundState.PENDING),
                attempts=0,
                next_attempt_at=moment,
                failure_reason=None,
                expires_at=moment + timedelta(seconds=expiry),
                claimed_by=None,
                claimed_at=None,
            )
            .where(OutboundMessage.broadcast == broadcast.id, OutboundMessage.state == OutboundState.FAILED)
            .execute()
        )
        if retried and current.state == B.DONE:
            check_move(current, B.SENDING)
            Broadcast.update(state=B.SENDING).where(Broadcast.id == broadcast.id).execute()
        audit(actor.login, "broadcast.retry_failed", current, retried=retried)
    outqueue.notify()
    return retried


@dataclass
class Progress:
    total: int = 0
    pending: int = 0
    sending: int = 0
    sent: int = 0  # left the modem, no delivery report yet
    delivered: int = 0
    failed: int = 0
    cancelled: int = 0

    @property
    def left(self) -> int:
        return self.pending + self.sending

    def share(self, state: str) -> float:
        """Percentage of the total in a state, for a progress bar."""
        return 100.0 * getattr(self, state) / self.total if self.total else 0.0


def progress(broadcast_id: int) -> Progress:
    """Per-state counts of a broadcast's recipients (one query)."""
    result = Progress()
    for state, number in (
        OutboundMessage.select(OutboundMessage.state, fn.COUNT(OutboundMessage.id))
        .where(OutboundMessage.broadcast == broadcast_id)
        .group_by(OutboundMessage.state)
        .tuples()
    ):
        setattr(result, state, number)
        result.total += number
    return result


def recipient_rows(
    broadcast_id: int, *, state: str | None = None, search: str = "", limit: int = 100, offset: int = 0
) -> list[dict]:
    """Per-recipient states with the contact's name, for "I did not receive it" (Bekasi Pasal 10 e)."""
    query = OutboundMessage.select(
        OutboundMessage.id,
        OutboundMessage.recipient,
        OutboundMessage.state,
        OutboundMessage.attempts,
        OutboundMessage.sent_at,
        OutboundMessage.delivered_at,
        OutboundMessage.failure_reason,
        OutboundMessage.failure_code,
    ).where(OutboundMessage.broadcast == broadcast_id)
    if state:
        query = query.where(OutboundMessage.state == state)
    if search.strip():
        number = phone.try_normalize(search) or search.strip()
        query = query.where(OutboundMessage.recipient.contains(number.lstrip("0")))
    rows = list(query.order_by(OutboundMessage.recipient).limit(limit).offset(offset).dicts())
    names = (
        dict(
            Contact.select(Contact.phone, Contact.name)
            .where(Contact.phone.in_([r["recipient"] for r in rows]))
            .tuples()
        )
        if rows
        else {}
    )
    for row in rows:
        row["name"] = names.get(row["recipient"], "")
    return rows
