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
from collections.abc import Callable
from datetime import datetime, timedelta

from peewee import fn

from modemd.states import WebhookState as W
from modemd.store.models import WebhookAttempt, WebhookDelivery, database_proxy, utcnow

from . import events
from .endpoints import Endpoints
from .post import Outcome, headers_for, post

log = logging.getLogger("modemd.webhooks")

POLL = 1.0
BATCH = 50
BACKOFF_BASE = 30.0  # seconds before the second attempt
BACKOFF_MAX = 3600.0
GONE = "no endpoint of this name is configured any more (modemd.ini [api] or keywords.ini)"


def backoff(attempts: int, base: float = BACKOFF_BASE, maximum: float = BACKOFF_MAX) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt: base, 2 base, 4 base ... up to ``maximum``."""
    return min(base * 2 ** max(attempts - 1, 0), maximum)


def record(
    delivery: WebhookDelivery,
    url: str,
    outcome: Outcome,
    now: datetime,
    *,
    base: float = BACKOFF_BASE,
) -> W:
    """Keep one attempt and move the delivery on, in one transaction. Returns its new state."""
    attempts = delivery.attempts + 1
    changes: dict = {"attempts": attempts, "last_attempt_at": now, "url": url}
    if outcome.ok:
        state = W.DELIVERED
        changes.update(delivered_at=now, last_error=None)
    else:
        next_at = now + timedelta(seconds=backoff(attempts, base))
        if next_at > delivery.give_up_at:
            state = W.FAILED
            changes["last_error"] = f"{outcome.error} (given up after {attempts} attempts)"
        else:
            state = W.PENDING
            changes.update(next_attempt_at=next_at, last_error=outcome.error)
    changes["state"] = state
    with database_proxy.obj.atomic():
        WebhookAttempt.create(
            delivery=delivery.id,
            at=now,
            url=url,
            status_code=outcome.status_code,
            error=outcome.error,
            duration_ms=outcome.duration_ms,
        )
        WebhookDelivery.update(**changes).where(
            WebhookDelivery.id == delivery.id, WebhookDelivery.state == W.PENDING
        ).execute()
    return state


class Lane:
    """The thread posting one endpoint's deliveries, a batch at a time."""

    def __init__(self, name: str, dispatcher: Dispatcher):
        self.name = name
        self.dispatcher = dispatcher
        self.batches: queue.Queue[list[int] | None] = queue.Queue()
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
                return
            try:
                for delivery_id in ids:
                    if self.dispatcher.stop_event.is_set() or not self.dispatcher.deliver(delivery_id):
                        break
            except Exception:  # a database hiccup: the deliveries stay pending and are picked up again
                log.exception("webhook %s: delivering failed; trying again later", self.name)
            finally:
                self.busy = False
                database_proxy.obj.close()  # this thread's connection; the lane may sleep for long


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

    def deliver(self, delivery_id: int) -> bool:
        """One attempt of one delivery. True when it went through (or needed none)."""
        delivery = WebhookDelivery.get_or_none(WebhookDelivery.id == delivery_id)
        if delivery is None or delivery.state != W.PENDING:
            return True
        endpoint = self.endpoints().named(delivery.endpoint)
        if endpoint is None:
            with database_proxy.obj.atomic():
                WebhookDelivery.update(state=W.FAILED, last_error=GONE).where(
                    WebhookDelivery.id == delivery.id, WebhookDelivery.state == W.PENDING
                ).execute()
            log.warning("webhook delivery #%d to %s: %s", delivery.id, delivery.endpoint, GONE)
            return True
        body = delivery.body.encode("utf-8")
        outcome = post(
            endpoint.url, body, headers_for(endpoint.secret, body, delivery.event, delivery.id), self.timeout
        )
        state = record(delivery, endpoint.url, outcome, utcnow(), base=self.base)
        if outcome.ok:
            log.debug(
                "webhook delivery #%d (%s) to %s: HTTP %s",
                delivery.id,
                delivery.event,
                endpoint.name,
                outcome.status_code,
            )
        else:
            log.warning(
                "webhook delivery #%d (%s) to %s: attempt %d failed: %s; %s",
                delivery.id,
                delivery.event,
                endpoint.name,
                delivery.attempts + 1,
                outcome.error,
                "will retry" if state == W.PENDING else "given up",
            )
        return outcome.ok


def pending_count() -> int:
    return WebhookDelivery.select(fn.COUNT(WebhookDelivery.id)).where(WebhookDelivery.state == W.PENDING).scalar() or 0
