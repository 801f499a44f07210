"""The deliveries as the administrator sees them (web page, ``modemd webhooks``): list, attempts, retry."""

from __future__ import annotations

from collections.abc import Iterable

from modemd.states import WebhookState as W
from modemd.store.models import WebhookAttempt, WebhookDelivery, audit, database_proxy, utcnow

from .events import RETRY_FOR


def recent(state: str | None = None, limit: int = 50, before: int | None = None) -> list[WebhookDelivery]:
    """Newest first."""
    query = WebhookDelivery.select().order_by(WebhookDelivery.id.desc())
    if state:
        query = query.where(WebhookDelivery.state == state)
    if before is not None:
        query = query.where(WebhookDelivery.id < before)
    if limit:
        query = query.limit(limit)
    return list(query)


def attempts_of(ids: Iterable[int]) -> dict[int, list[WebhookAttempt]]:
    """Each delivery's attempts, oldest first (one query)."""
    found: dict[int, list[WebhookAttempt]] = {}
    wanted = list(ids)
    if wanted:
        for attempt in WebhookAttempt.select().where(WebhookAttempt.delivery.in_(wanted)).order_by(WebhookAttempt.id):
            found.setdefault(attempt.delivery_id, []).append(attempt)
    return found


def retry(ids: Iterable[int] | None, actor: str) -> int:
    """Queue failed deliveries again, now, for another 24 hours (``ids`` None: every failed one). Audited."""
    now = utcnow()
    where = WebhookDelivery.state == W.FAILED
    if ids is not None:
        wanted = list(ids)
        if not wanted:
            return 0
        where &= WebhookDelivery.id.in_(wanted)
    with database_proxy.obj.atomic():
        chosen = [i for (i,) in WebhookDelivery.select(WebhookDelivery.id).where(where).tuples()]
        if not chosen:
            return 0
        WebhookDelivery.update(state=W.PENDING, next_attempt_at=now, give_up_at=now + RETRY_FOR).where(
            WebhookDelivery.id.in_(chosen), WebhookDelivery.state == W.FAILED
        ).execute()
        audit(actor, "webhook.retry", None, deliveries=chosen)
    return len(chosen)
