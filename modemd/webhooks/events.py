"""The events, queued in the caller's transaction: one ``webhook_delivery`` row per endpoint.

Each function is called by the code path that makes the change, inside its
transaction, so an event exists exactly when its change was committed (a
rolled-back routing queues nothing; a crash after the commit loses nothing).
They only INSERT: the POST happens later in the daemon's own threads
(:mod:`modemd.webhooks.dispatch`). With no endpoint configured they return at
once.

The body names the case and the message but the citizen's number only masked
(UU 27/2022: what the receiving system does not need, it does not get); the
full case is read through the API with a token, under its user's visibility.

Event types and their ``data``:

* ``case.opened``   -- a citizen's SMS opened a case: ``case``, ``message``
* ``case.message``  -- another SMS of the citizen joined an open case: ``case``, ``message``
* ``reply.state``   -- a staff reply was sent, delivered or failed: ``case``, ``reply``
* ``broadcast.done``-- a broadcast has nothing left to send: ``broadcast`` (global endpoint only)
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

from modemd.sms import phone
from modemd.store.models import Case, WebhookDelivery, utcnow
from modemd.store.sqlcache import CompiledInsert

from .endpoints import Endpoint, current

CASE_OPENED = "case.opened"
CASE_MESSAGE = "case.message"
REPLY_STATE = "reply.state"
BROADCAST_DONE = "broadcast.done"
EVENTS = (CASE_OPENED, CASE_MESSAGE, REPLY_STATE, BROADCAST_DONE)
RETRY_FOR = timedelta(hours=24)  # an event is retried this long, then given up

# on the receive path, beside routing's own compiled statements (modemd.store.sqlcache)
_INSERT = CompiledInsert(WebhookDelivery)
_listeners: list = []


def add_listener(callback) -> None:
    """``callback()`` after an event was queued in this process (the dispatcher's wake-up)."""
    _listeners.append(callback)


def remove_listener(callback) -> None:
    if callback in _listeners:
        _listeners.remove(callback)


def wake() -> None:
    """Tell the dispatcher that events wait; call it after the transaction that queued them committed."""
    for callback in list(_listeners):
        callback()


def iso(moment: datetime | None) -> str | None:
    """Stored naive UTC as ISO 8601 with a Z."""
    return moment.isoformat(timespec="seconds") + "Z" if moment is not None else None


def queue(event: str, data: dict, endpoints: list[Endpoint], now: datetime | None = None) -> int:
    """Queue one event for each endpoint (in the caller's transaction). Returns how many rows."""
    if not endpoints:
        return 0
    now = now or utcnow()
    event_id = str(uuid.uuid4())
    body = json.dumps(
        {"id": event_id, "type": event, "occurred_at": iso(now), "data": data}, ensure_ascii=False, sort_keys=True
    )
    for endpoint in endpoints:
        _INSERT.execute(
            {
                "event_id": event_id,
                "event": event,
                "endpoint": endpoint.name,
                "url": endpoint.url,
                "body": body,
                "state": "pending",
                "attempts": 0,
                "created_at": now,
                "next_attempt_at": now,
                "give_up_at": now + RETRY_FOR,
            }
        )
    return len(endpoints)


def case_document(case: Case) -> dict:
    return {
        "id": case.id,
        "keyword": case.keyword,
        "status": case.status,
        "citizen": phone.mask(case.citizen),
        "opened_at": iso(case.opened_at),
        "deadline_at": iso(case.deadline_at),
    }


def message_arrived(case: Case, message, opened: bool) -> int:
    """A citizen's SMS opened ``case`` (``opened``) or joined it."""
    endpoints = current().for_keyword(case.keyword)
    if not endpoints:
        return 0
    data = {
        "case": case_document(case),
        "message": {"id": message.id, "text": message.text, "received_at": iso(message.received_at)},
    }
    return queue(CASE_OPENED if opened else CASE_MESSAGE, data, endpoints)


def reply_changed(reply, state: str, reason: str | None = None, now: datetime | None = None) -> int:
    """A staff reply (``kind = reply``, of a case) moved to ``state``: sent, delivered or failed (``reason``)."""
    hooks = current()
    if not hooks or reply.kind != "reply" or reply.case_id is None:
        return 0
    case = Case.select(Case.id, Case.keyword, Case.status).where(Case.id == reply.case_id).first()
    if case is None:
        return 0
    endpoints = hooks.for_keyword(case.keyword)
    data = {
        "case": {"id": case.id, "keyword": case.keyword, "status": case.status},
        "reply": {"id": reply.id, "state": str(state), "failure_reason": reason},
    }
    return queue(REPLY_STATE, data, endpoints, now)


def broadcast_done(broadcast_id: int, title: str, counts: dict[str, int], now: datetime | None = None) -> int:
    hooks = current()
    if not hooks:
        return 0
    data = {"broadcast": {"id": broadcast_id, "title": title, "recipients": counts}}
    return queue(BROADCAST_DONE, data, hooks.for_all(), now)
