"""Putting SMS into the outbound queue: the one way any part of modemd sends.

Replies from the web UI, automatic replies, notifications and broadcasts all
become :class:`~modemd.store.models.OutboundMessage` rows here (one per recipient);
the daemon's dispatcher takes them from the database.

Waking the daemon when a row is queued
--------------------------------------
Inside the daemon's process, :func:`enqueue` sets every Event registered
with :func:`add_listener`, so an automatic reply leaves at once.

From another process (the web UI, ``modemd send``) nothing needs to be
signalled: the daemon's dispatcher reads :func:`newest_id` (the largest id,
one lookup at the end of the primary key index) every
:data:`CROSS_PROCESS_POLL` seconds and wakes the workers when it grew. We chose
this over a datagram socket in state_dir because it works the same on SQLite,
PostgreSQL and MariaDB, also for a web UI or several daemons on other PCs
sharing one server database, needs no socket file whose owner and mode must
suit both the web and the daemon user, and cannot be lost when the daemon
restarts. SQLite's ``PRAGMA data_version`` would be as cheap but exists on
SQLite only. Rows that become due later (retries, ``send_at``) are found by the
workers' own check every second.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import peewee

from modemd.sms import phone
from modemd.states import OutboundState
from modemd.store.models import PRIORITY, OutboundMessage, utcnow
from modemd.store.sqlcache import CompiledInsert

if TYPE_CHECKING:
    from modemd.config import Config

#: seconds between two looks at :func:`newest_id` by the daemon (a new row leaves within a second)
CROSS_PROCESS_POLL = 0.3

# the API queues hundreds a second (bench/bench_api.py): its INSERT compiled once (modemd.store.sqlcache)
_INSERT = CompiledInsert(OutboundMessage)
_listeners: set[threading.Event] = set()
_listeners_lock = threading.Lock()


def add_listener(event: threading.Event) -> None:
    """``event`` is set whenever this process queues a message."""
    with _listeners_lock:
        _listeners.add(event)


def remove_listener(event: threading.Event) -> None:
    with _listeners_lock:
        _listeners.discard(event)


def notify() -> None:
    """Wake this process's dispatcher (called by :func:`enqueue`; also after re-queueing rows)."""
    with _listeners_lock:
        listeners = list(_listeners)
    for event in listeners:
        event.set()


def newest_id() -> int:
    """The largest outbound id so far (0 for none): grows whenever any process queues a message."""
    return int(OutboundMessage.select(peewee.fn.MAX(OutboundMessage.id)).scalar() or 0)


class EmptyMessage(ValueError):
    pass


def sms_shape(text: str) -> tuple[str, int]:
    """(encoding, parts) of a text as it will be sent."""
    from modemd.sms.segmentation import count

    shape = count(text)
    return shape.encoding, shape.parts


def row_values(
    text: str, kind: str, *, config: Config, start: datetime | None = None, now: datetime | None = None
) -> dict:
    """The columns of a new pending row, shared by :func:`enqueue` and bulk inserts (broadcasts).

    ``config`` supplies attempts, expiry and the delivery-report setting ([sms];
    tests pass ``Config.defaults()``). ``start`` (naive UTC) is the earliest
    send time, default now.
    """
    encoding, parts = sms_shape(text)
    now = now or utcnow()
    start = start or now
    return {
        "text": text,
        "kind": kind,
        "priority": PRIORITY[kind],
        "state": OutboundState.PENDING,
        "max_attempts": config.sms.max_attempts,
        "next_attempt_at": start,
        "expires_at": start + timedelta(seconds=config.sms.expiry),
        "created_at": now,
        "parts": parts,
        "encoding": encoding,
        "status_report": config.sms.status_report,
    }


def enqueue(
    recipient: str,
    text: str,
    kind: str,
    *,
    config: Config,
    case=None,
    broadcast=None,
    created_by=None,
    preferred_modem: str | None = None,
    send_at: datetime | None = None,
) -> OutboundMessage:
    """Queue one SMS. Raises phone.InvalidNumber for a bad number, EmptyMessage for no text.

    ``send_at`` is naive UTC; see :func:`row_values` for ``config``.
    """
    if not text or not text.strip():
        raise EmptyMessage("the message is empty")
    values = {
        "recipient": phone.normalize(recipient),
        "preferred_modem": preferred_modem,
        "case": case,
        "broadcast": broadcast,
        "created_by": created_by,
        **row_values(text, kind, config=config, start=send_at),
    }
    message = OutboundMessage(id=_INSERT.execute(values), **values)
    notify()
    return message
