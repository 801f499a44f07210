"""The daemon's webhook threads: one dispatcher looks for due events, one lane per endpoint posts them.

Why lanes: an endpoint that is down costs a whole timeout per attempt. Each
endpoint has its own thread, handed a batch of its due deliveries only when it
is idle, so a dead endpoint slows nothing but itself -- not the other
endpoints, and never receiving or sending SMS, which only INSERT the events
(:mod:`modemd.webhooks.events`). A failed attempt ends the lane's batch: the
endpoint is tried again at the next look rather than spending a timeout on
every event queued for it.

Retries: after the n-th failed attempt the next one waits ``BACKOFF_BASE *
2**(n-1)``, at most ``BACKOFF_MAX``; an event not delivered 24 hours after it
happened (``give_up_at``, :data:`modemd.webhooks.events.RETRY_FOR`) is given up (``failed``), and an administrator may
queue it again (``modemd webhooks retry``, the web page). Delivery is at least
once: a receiver tells repeats apart by the body's ``id``.

The dispatcher looks every ``POLL`` seconds, and at once when this process
queued an event (:func:`modemd.webhooks.events.wake`).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from peewee import fn

from modemd.states import WebhookState as W
from modemd.store.models import WebhookAttempt, WebhookDelivery, database_proxy, utcnow

from . import events
from .endpoints import Endpoints
from .post import Outcome, Poster, headers_for

log = logging.getLogger("modemd.webhooks")

POLL = 1.0
BATCH = 50
BACKOFF_BASE = 30.0  # seconds before the second attempt
BACKOFF_MAX = 3600.0
RECORD_EVERY = 1.0  # seconds: quick deliveries' attempts are written together, at most this late
GONE = "no endpoint of this name is configured any more (modemd.ini [api] or keywords.ini)"


def backoff(attempts: int, base: float = BACKOFF_BASE, maximum: float = BACKOFF_MAX) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt: base, 2 base, 4 base ... up to ``maximum``."""
    return min(base * 2 ** max(attempts - 1, 0), maximum)


@dataclass
class Attempted:
    """One attempt made, waiting to be written."""

    delivery: WebhookDelivery
    url: str
    outcome: Outcome
    at: datetime


def _changes(done: Attempted, base: float) -> dict:
    delivery, outcome = done.delivery, done.outcome
    attempts = delivery.attempts + 1
    changes: dict = {"attempts": attempts, "last_attempt_at": done.at, "url": done.url}
    if outcome.ok:
        changes.update(state=W.DELIVERED, delivered_at=done.at, last_error=None)
        return changes
    next_at = done.at + timedelta(seconds=backoff(attempts, base))
    if next_at > delivery.give_up_at:
        changes.update(state=W.FAILED, last_error=f"{outcome.error} (given up after {attempts} attempts)")
    else:
        changes.update(state=W.PENDING, next_attempt_at=next_at, last_error=outcome.error)
    return changes


def record_all(done: list[Attempted], base: float = BACKOFF_BASE) -> list[W]:
    """Keep the attempts and move their deliveries on, in one transaction. Returns the new states."""
    changes = [_changes(item, base) for item in done]
    with database_proxy.obj.atomic():
        WebhookAttempt.insert_many(
            [
                {
                    "delivery": item.delivery.id,
                    "at": item.at,
                    "url": item.url,
                    "status_code": item.outcome.status_code,
                    "error": item.outcome.error,
                    "duration_ms": item.outcome.duration_ms,
                }
                for item in done
            ]
        ).execute()
        for item, change in zip(done, changes, strict=True):
            WebhookDelivery.update(**change).where(
                WebhookDelivery.id == item.delivery.id, WebhookDelivery.state == W.PENDING
            ).execute()
    return [change["state"] for change in changes]


def record(delivery: WebhookDelivery, url: str, outcome: Outcome, now: datetime, *, base: float = BACKOFF_BASE) -> W:
    """Keep one attempt and move its delivery on. Returns its new state."""
    return record_all([Attempted(delivery, url, outcome, now)], base)[0]


class Lane:
    """The thread posting one endpoint's deliveries, a batch at a time."""

    def __init__(self, name: str, dispatcher: Dispatcher):
        self.name = name
        self.dispatcher = dispatcher
        self.batches: queue.Queue[list[int] | None] = queue.Queue()
        self.poster = Poster()  # the lane's kept-alive connection
        self.busy = False
        self.thread = threading.Thread(target=self._run, name=f"webhook {name}", daemon=True)
        self.thread.start()

    def give(self, ids: list[int]) -> None:
        self.busy = True
        self.batches.put(ids)

    def _run(self) -> None:
        while True:
            ids = self.batches.get()
            if ids is None:
                self.poster.close()
                return
            try:
                self.dispatcher.deliver_batch(ids, self.poster)
            except Exception:  # a database hiccup: the deliveries stay pending and are picked up again
                log.exception("webhook %s: delivering failed; trying again later", self.name)
            finally:
                self.busy = False
                database_proxy.obj.close()  # this thread's connection; the lane may sleep for long
                self.dispatcher.wake()  # events queued meanwhile go out now, not at the next look


class Dispatcher:
    """Finds due deliveries and hands them to each endpoint's lane."""

    def __init__(
        self,
        endpoints: Callable[[], Endpoints],
        timeout: float,
        stop: threading.Event | None = None,
        *,
        poll: float = POLL,
        base: float = BACKOFF_BASE,
    ):
        self.endpoints = endpoints
        self.timeout = timeout
        self.stop_event = stop or threading.Event()
        self.poll, self.base = poll, base
        self.lanes: dict[str, Lane] = {}
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        events.add_listener(self.wake)
        self._thread = threading.Thread(target=self._run, name="webhooks", daemon=True)
        self._thread.start()

    def stop(self, wait: float = 5.0) -> None:
        self.stop_event.set()
        self._wake.set()
        events.remove_listener(self.wake)
        if self._thread is not None:
            self._thread.join(wait)
        for lane in self.lanes.values():
            lane.batches.put(None)
        for lane in self.lanes.values():
            lane.thread.join(max(wait, self.timeout + 1) if lane.busy else 0.5)

    def _run(self) -> None:
        while not self.stop_event.is_set():
            self._wake.clear()
            try:
                self.look()
            except Exception as exc:  # the daemon outlives a database hiccup
                log.warning("webhooks: cannot read the queue: %s", exc)
            self._wake.wait(self.poll)

    def look(self, now: datetime | None = None) -> int:
        """Hand each idle endpoint's lane its due deliveries. Returns how many were handed out."""
        now = now or utcnow()
        due = (WebhookDelivery.state == W.PENDING) & (WebhookDelivery.next_attempt_at <= now)
        names = [n for (n,) in WebhookDelivery.select(WebhookDelivery.endpoint).where(due).distinct().tuples()]
        handed = 0
        for name in names:
            lane = self.lanes.get(name)
            if lane is not None and lane.busy:
                continue
            ids = [
                i
                for (i,) in WebhookDelivery.select(WebhookDelivery.id)
                .where(due, WebhookDelivery.endpoint == name)
                .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
                .limit(BATCH)
                .tuples()
            ]
            if ids:
                if lane is None:
                    lane = self.lanes[name] = Lane(name, self)
                lane.give(ids)
                handed += len(ids)
        return handed

    def deliver_batch(self, ids: list[int], poster: Poster) -> None:
        """Post a lane's batch in order, until one attempt fails (the rest wait for the next look).

        The attempts are written together, at the latest ``RECORD_EVERY`` seconds
        after the first unwritten one: one commit (one disk flush) for a run of quick
        deliveries instead of one each, so the next POST leaves sooner.
        """
        rows = {d.id: d for d in WebhookDelivery.select().where(WebhookDelivery.id.in_(ids))}
        unwritten: list[Attempted] = []
        since = 0.0
        for delivery_id in ids:
            delivery = rows.get(delivery_id)
            if self.stop_event.is_set():
                break
            if delivery is None or delivery.state != W.PENDING:
                continue
            endpoint = self.endpoints().named(delivery.endpoint)
            if endpoint is None:
                self._gone(delivery)
                continue
            body = delivery.body.encode("utf-8")
            headers = headers_for(endpoint.secret, body, delivery.event, delivery.id)
            outcome = poster.post(endpoint.url, body, headers, self.timeout)
            if not unwritten:
                since = time.monotonic()
            unwritten.append(Attempted(delivery, endpoint.url, outcome, utcnow()))
            if not outcome.ok or time.monotonic() - since >= RECORD_EVERY:
                self._write(unwritten)
                unwritten = []
            if not outcome.ok:
                break
        if unwritten:
            self._write(unwritten)

    def _write(self, done: list[Attempted]) -> None:
        for item, state in zip(done, record_all(done, self.base), strict=True):
            delivery, outcome = item.delivery, item.outcome
            if outcome.ok:
                log.debug(
                    "webhook delivery #%d (%s) to %s: HTTP %s",
                    delivery.id,
                    delivery.event,
                    delivery.endpoint,
                    outcome.status_code,
                )
            else:
                log.warning(
                    "webhook delivery #%d (%s) to %s: attempt %d failed: %s; %s",
                    delivery.id,
                    delivery.event,
                    delivery.endpoint,
                    delivery.attempts + 1,
                    outcome.error,
                    "will retry" if state == W.PENDING else "given up",
                )

    def _gone(self, delivery: WebhookDelivery) -> None:
        with database_proxy.obj.atomic():
            WebhookDelivery.update(state=W.FAILED, last_error=GONE).where(
                WebhookDelivery.id == delivery.id, WebhookDelivery.state == W.PENDING
            ).execute()
        log.warning("webhook delivery #%d to %s: %s", delivery.id, delivery.endpoint, GONE)


def pending_count() -> int:
    return WebhookDelivery.select(fn.COUNT(WebhookDelivery.id)).where(WebhookDelivery.state == W.PENDING).scalar() or 0
