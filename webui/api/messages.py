"""``POST /messages`` and ``GET /messages/{id}``: send one SMS, then follow its state and parts."""

from __future__ import annotations

from modemd.send import outqueue
from modemd.sms import phone
from modemd.store.models import OutboundMessage, OutboundPart, to_utc_naive
from modemd.store.sqlcache import get_or_none_by_id
from webui import modemd_config
from webui.access import may_see
from webui.replies import MAX_REPLY_PARTS

from . import spec
from .errors import ApiError
from .schemas import Message, Part, SendMessage, utc


def message_answer(row: OutboundMessage, *, new: bool = False) -> Message:
    """``new``: queued by this request, so no part has left yet (no query for them)."""
    parts = (
        []
        if new
        else OutboundPart.select(
            OutboundPart.sequence, OutboundPart.state, OutboundPart.sent_at, OutboundPart.delivered_at
        )
        .where(OutboundPart.message == row.id)
        .order_by(OutboundPart.sequence)
        .tuples()
    )
    return Message(
        id=row.id,
        number=row.recipient,
        text=row.text,
        kind=row.kind,
        state=row.state,
        failure_reason=row.failure_reason,
        parts=row.parts,
        encoding=row.encoding,
        modem=row.modem or row.preferred_modem,
        case_id=row.case_id,
        created_at=utc(row.created_at),
        send_at=utc(row.next_attempt_at) if row.state == "pending" else None,
        sent_at=utc(row.sent_at),
        delivered_at=utc(row.delivered_at),
        part_states=[
            Part(sequence=seq, state=state, sent_at=utc(sent), delivered_at=utc(delivered))
            for seq, state, sent, delivered in parts
        ],
    )


@spec.operation(
    "POST",
    "/messages",
    scope="send",
    summary="Send an SMS",
    ok=(201, Message),
    body=SendMessage,
    idempotent=True,
    refusals=("invalid_number", "empty_text", "too_long", "unknown_modem", "idempotency_conflict"),
)
def send_message(body: SendMessage) -> Message:
    """Queue one SMS (a long text goes as one concatenated SMS of at most 10 parts). With an
    ``Idempotency-Key`` header a retry of the same request answers the first result and sends nothing."""
    config = modemd_config()
    text = body.text.replace("\r\n", "\n")
    if not text.strip():
        raise ApiError("empty_text")
    if body.modem is not None and body.modem not in config.modems:
        raise ApiError("unknown_modem")
    try:
        row = outqueue.enqueue(
            body.number,
            text,
            "manual",
            config=config,
            created_by=spec.user(),
            preferred_modem=body.modem,
            send_at=to_utc_naive(body.send_at),
        )
    except phone.InvalidNumber:
        raise ApiError("invalid_number") from None
    if row.parts > MAX_REPLY_PARTS:  # counted once, by the queue; raising undoes the row (a savepoint)
        raise ApiError("too_long")
    spec.record("api.send", row, parts=row.parts, encoding=row.encoding)
    return message_answer(row, new=True)


def _visible_message(message_id: int) -> OutboundMessage:
    """The message if the token's user sent it or may see its case (404 otherwise, as the web UI)."""
    row = get_or_none_by_id(OutboundMessage, message_id)
    me = spec.user()
    if row is None:
        raise ApiError("not_found")
    if me.role in ("admin", "approver") or row.created_by_id == me.id:
        return row
    if row.case_id is not None and may_see(me, row.case):
        return row
    raise ApiError("not_found")


@spec.operation("GET", "/messages/{message_id}", scope="send", summary="An SMS's state and parts", ok=(200, Message))
def get_message(message_id: int) -> Message:
    """The state of an SMS sent by the token's user (or a reply in a case they see), part by part."""
    return message_answer(_visible_message(message_id))
