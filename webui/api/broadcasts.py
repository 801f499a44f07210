"""``POST /broadcasts`` (a draft) and ``GET /broadcasts/{id}`` (its progress).

Only drafts: submitting and approving stay a person's acts in the web UI
(Bekasi Pasal 7 (6)). The rules are those of :mod:`modemd.jobs.broadcasts`.
"""

from __future__ import annotations

from modemd.jobs import broadcasts
from modemd.jobs.broadcasts import BroadcastError
from modemd.store.models import Broadcast, to_utc_naive

from . import spec
from .errors import ApiError
from .schemas import BroadcastAnswer, BroadcastBody, Problem, Progress, utc


def _answer(row: Broadcast) -> BroadcastAnswer:
    counts = broadcasts.progress(row.id)
    return BroadcastAnswer(
        id=row.id,
        title=row.title,
        text=row.text,
        category=row.category,
        state=row.state,
        created_at=utc(row.created_at),
        send_at=utc(row.send_at),
        recipient_count=row.recipient_count,
        progress=Progress(**vars(counts)),
    )


@spec.operation(
    "POST",
    "/broadcasts",
    scope="broadcasts",
    summary="Draft a broadcast",
    ok=(201, BroadcastAnswer),
    body=BroadcastBody,
    idempotent=True,
    refusals=("invalid_broadcast", "not_allowed", "idempotency_conflict"),
)
def draft_broadcast(body: BroadcastBody) -> BroadcastAnswer:
    """A draft to groups and contacts; a person submits it in the web UI, and the approver approves it there."""
    try:
        row = broadcasts.draft(
            spec.user(),
            body.text.replace("\r\n", "\n").strip(),
            title=body.title,
            category=body.category,
            groups=body.groups,
            contacts=body.contacts,
            send_at=to_utc_naive(body.send_at),
        )
    except BroadcastError as exc:
        if exc.code == "not_allowed":
            raise ApiError("not_allowed") from None
        raise ApiError("invalid_broadcast", details=[Problem(field="body", problem=str(exc))]) from None
    spec.record("api.broadcast.draft", row)
    return _answer(row)


@spec.operation(
    "GET", "/broadcasts/{broadcast_id}", scope="broadcasts", summary="A broadcast's progress", ok=(200, BroadcastAnswer)
)
def get_broadcast(broadcast_id: int) -> BroadcastAnswer:
    """State and per-state counts of the recipients; admins and approvers see every broadcast, others their own."""
    row = broadcasts.visible_to(spec.user()).where(Broadcast.id == broadcast_id).first()
    if row is None:
        raise ApiError("not_found")
    return _answer(row)
