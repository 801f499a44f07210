"""Queueing an approved broadcast at its time, and closing it when nothing is left to send.

One :class:`~modemd.store.models.OutboundMessage` per recipient (kind
``broadcast``, lower priority than replies) is written in chunks of
:data:`CHUNK`, each chunk in one transaction; the unique index (broadcast,
recipient) plus ``INSERT ... ON CONFLICT DO NOTHING`` make a duplicate
impossible, also with two processes queueing at once, and a queueing cut short
by a restart is resumed where it stopped (``state = 'sending'`` with no
``queued_at`` yet). A text that no longer matches its approved SHA-256 is not
sent: the broadcast is cancelled. :func:`run_due` is the scheduler's pass.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime
from typing import TYPE_CHECKING

import peewee
from peewee import fn

from modemd import states
from modemd.send import outqueue
from modemd.states import BroadcastState as B
from modemd.states import OutboundState
from modemd.store.models import Broadcast, OutboundMessage, audit, database_proxy, utcnow
from modemd.store.sqlcache import CompiledInsert
from modemd.webhooks import events as webhook_events

from .content import resolve, targets_of, text_hash
from .outcome import progress
from .rules import BroadcastError, check_move, lock_broadcast

if TYPE_CHECKING:
    from modemd.config import Config

log = logging.getLogger("modemd.broadcast")

# Rows per INSERT and per transaction when queueing (14 columns x 1000 stays under every database's limits).
CHUNK = 1000
# States in which the daemon still owes work (of a recipient's message).
OPEN_STATES = (OutboundState.PENDING, OutboundState.SENDING)


# peewee renders a bulk INSERT value by value (insert_many: 20,000 rows 2.2 s); rendered once and run with
# executemany instead (0.5 s), see modemd.store.sqlcache. A number queued already is skipped by the unique index.
_INSERT_IGNORING_DUPLICATES = CompiledInsert(OutboundMessage, ignore_conflicts=True)


def _insert_ignoring_duplicates(shared: dict, numbers: list[str]) -> None:
    """INSERT one row per number (``shared`` columns + recipient), skipping numbers already queued."""
    _INSERT_IGNORING_DUPLICATES.execute_many(shared, "recipient", numbers)


def queue_broadcast(broadcast_id: int, config: Config, *, now: datetime | None = None) -> int:
    """Queue an approved broadcast, or resume one cut short. Safe to run twice, also at the same time.

    Returns how many recipients' rows exist now that did not when this call began.
    """
    moment = now or utcnow()
    broadcast = Broadcast.get_or_none(Broadcast.id == broadcast_id)
    if broadcast is None:
        raise BroadcastError(f"no broadcast {broadcast_id}", code="missing")
    if broadcast.state == B.APPROVED:
        if broadcast.send_at is not None and broadcast.send_at > moment:
            raise BroadcastError(f"broadcast {broadcast_id} is due at {broadcast.send_at} UTC, not yet", code="not_due")
        (
            Broadcast.update(state=states.check(B.APPROVED, B.SENDING))
            .where(Broadcast.id == broadcast_id, Broadcast.state == B.APPROVED)
            .execute()
        )
    elif not (broadcast.state == B.SENDING and broadcast.queued_at is None):
        if broadcast.state == B.SENDING:
            return 0  # fully queued already
        raise BroadcastError(
            f"broadcast {broadcast_id} is {broadcast.state}; only an approved one is queued", code="wrong_state"
        )
    broadcast = Broadcast.get_by_id(broadcast_id)
    if broadcast.state != B.SENDING:
        return 0
    if not broadcast.text_sha256 or text_hash(broadcast.text) != broadcast.text_sha256:
        _refuse_changed_text(broadcast)
        raise BroadcastError(
            f"broadcast {broadcast_id}: the text changed after approval; it was cancelled", code="changed_text"
        )

    numbers = resolve(*targets_of(broadcast)).numbers
    present = {
        n
        for (n,) in OutboundMessage.select(OutboundMessage.recipient)
        .where(OutboundMessage.broadcast == broadcast_id)
        .tuples()
    }
    todo = [n for n in numbers if n not in present]
    shared = outqueue.row_values(
        broadcast.text, "broadcast", config=config, start=max(moment, broadcast.send_at or moment), now=moment
    )
    shared.update(broadcast=broadcast_id, created_by=broadcast.created_by_id)
    for chunk in peewee.chunked(todo, CHUNK):
        with database_proxy.atomic():
            current = lock_broadcast(broadcast_id)
            if current is None or current.state != B.SENDING:
                log.info(
                    "broadcast %d: queueing stopped, it is now %s",
                    broadcast_id,
                    current.state if current else "deleted",
                )
                return _row_count(broadcast_id) - len(present)
            # a row a concurrent or earlier run already wrote is skipped by the unique (broadcast, recipient)
            _insert_ignoring_duplicates(shared, chunk)
        outqueue.notify()  # committed: wake this process's dispatcher
    with database_proxy.atomic():
        total = _row_count(broadcast_id)
        (
            Broadcast.update(queued_at=moment, recipient_count=total)
            .where(Broadcast.id == broadcast_id, Broadcast.state == B.SENDING)
            .execute()
        )
        audit("daemon", "broadcast.queue", broadcast, recipients=total, resumed=bool(present))
    log.info(
        "broadcast %d queued: %d recipient(s)%s",
        broadcast_id,
        total,
        f", resumed after {len(present)}" if present else "",
    )
    return total - len(present)


def _row_count(broadcast_id: int) -> int:
    return OutboundMessage.select().where(OutboundMessage.broadcast == broadcast_id).count()


def _refuse_changed_text(broadcast: Broadcast) -> None:
    reason = "text changed after approval (SHA-256 mismatch); not sent"
    check_move(broadcast, B.CANCELLED)
    Broadcast.update(state=B.CANCELLED, rejected_reason=reason).where(Broadcast.id == broadcast.id).execute()
    audit("daemon", "broadcast.refused", broadcast, reason=reason)
    log.error("broadcast %d: %s", broadcast.id, reason)


def due(now: datetime) -> list[int]:
    """Broadcasts to queue now: approved and due, or cut short while queueing."""
    query = (
        Broadcast.select(Broadcast.id)
        .where(
            ((Broadcast.state == B.APPROVED) & (Broadcast.send_at.is_null() | (Broadcast.send_at <= now)))
            | ((Broadcast.state == B.SENDING) & Broadcast.queued_at.is_null())
        )
        .order_by(Broadcast.id)
        .tuples()
    )
    return [i for (i,) in query]


def finish(now: datetime | None = None) -> list[int]:
    """Mark sending broadcasts with nothing left to send as done."""
    open_rows = OutboundMessage.select(OutboundMessage.id).where(
        OutboundMessage.broadcast == Broadcast.id, OutboundMessage.state.in_(OPEN_STATES)
    )
    finished = [
        i
        for (i,) in Broadcast.select(Broadcast.id)
        .where(Broadcast.state == B.SENDING, Broadcast.queued_at.is_null(False), ~fn.EXISTS(open_rows))
        .tuples()
    ]
    if finished:
        with database_proxy.atomic():  # the webhook events go with the change
            (
                Broadcast.update(state=states.check(B.SENDING, B.DONE))
                .where(Broadcast.id.in_(finished), Broadcast.state == B.SENDING)
                .execute()
            )
            if webhook_events.current():
                for broadcast in Broadcast.select(Broadcast.id, Broadcast.title).where(Broadcast.id.in_(finished)):
                    counts = dataclasses.asdict(progress(broadcast.id))
                    webhook_events.broadcast_done(broadcast.id, broadcast.title, counts, now)
        for broadcast_id in finished:
            log.info("broadcast %d done", broadcast_id)
    return finished


def run_due(now: datetime, config: Config) -> list[int]:
    """The scheduler's pass: queue what is due, close what is finished. Returns the ids queued."""
    queued = []
    for broadcast_id in due(now):
        try:
            queue_broadcast(broadcast_id, config, now=now)
            queued.append(broadcast_id)
        except BroadcastError as exc:
            log.error("%s", exc)
    finish(now)
    return queued
