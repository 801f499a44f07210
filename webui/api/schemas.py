"""The API's requests and answers, one pydantic model each: the handlers validate and answer with
them, and :mod:`.openapi` writes the document from them, so the two cannot disagree.

Request bodies refuse unknown fields and wrong types (no "123" for a number, no 5 for a text).
Times are ISO 8601 with a zone offset; answers give them in UTC (``Z``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal, overload

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from modemd.jobs.broadcasts import CATEGORIES as BROADCAST_CATEGORIES
from modemd.store.models import CASE_STATUSES

#: the largest id in a path or a list; bigger ones cannot exist (and would overflow the database's integer)
MAX_ID = 2**31 - 1
CaseState = Literal[CASE_STATUSES]  # type: ignore[valid-type]  # a tuple of the words, fixed at import
BroadcastCategory = Literal[BROADCAST_CATEGORIES]  # type: ignore[valid-type]


_ISO_8601 = re.compile(r"^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d")


def _iso_only(value):
    # pydantic also reads "0.5" or 1700000000 as seconds since 1970: the document says date-time, so only that
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_8601.match(value):
        raise ValueError("expected an ISO 8601 date-time with a zone offset, e.g. 2026-12-01T08:00:00+07:00")
    return datetime.fromisoformat(value)  # ValueError for a day or hour that does not exist


#: a moment given by a client: ISO 8601 with its zone offset (a time without zone is ambiguous)
Moment = Annotated[AwareDatetime, BeforeValidator(_iso_only)]


#: a row's id given by a client (bigger ones cannot exist)
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class Body(BaseModel):
    """A JSON request body: exactly the declared fields, each of its declared type."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


@overload
def utc(moment: datetime) -> datetime: ...
@overload
def utc(moment: None) -> None: ...
@overload
def utc(moment: datetime | None) -> datetime | None: ...
def utc(moment: datetime | None) -> datetime | None:
    """A stored naive UTC time as an aware one (answers carry the zone)."""
    return moment.replace(tzinfo=UTC) if moment is not None else None


# --------------------------------------------------------------------------
# Errors


class Problem(Answer):
    field: str = Field(description="where in the request, e.g. body.number or query.limit")
    problem: str = Field(description="what is wrong (English, for the developer)")


class Error(Answer):
    """Every error: a stable ``code`` for programs and a ``message`` in the request's language."""

    code: str = Field(description="stable, e.g. invalid_field, invalid_token, scope, not_found, rate_limited")
    message: str = Field(description="for people, in the language of Accept-Language (id or en)")
    details: list[Problem] = Field(default_factory=list)


# --------------------------------------------------------------------------
# Messages


class SendMessage(Body):
    number: str = Field(max_length=64, description="the recipient: 0812…, 62812… or +62812…")
    text: str = Field(max_length=5000, description="at most 10 SMS parts")
    modem: str | None = Field(default=None, max_length=32, description="a [modem:NAME] to send through")
    send_at: Moment | None = Field(default=None, description="not before this moment (default: now)")


class Part(Answer):
    sequence: int
    state: str = Field(description="sent, delivered or failed")
    sent_at: datetime | None
    delivered_at: datetime | None


class Message(Answer):
    id: int
    number: str
    text: str
    kind: str
    state: str = Field(description="pending, sending, sent, delivered, failed or cancelled")
    failure_reason: str | None
    parts: int
    encoding: str
    modem: str | None
    case_id: int | None
    created_at: datetime
    send_at: datetime | None = Field(description="the next attempt, while pending")
    sent_at: datetime | None
    delivered_at: datetime | None
    part_states: list[Part]


# --------------------------------------------------------------------------
# Cases


class CaseQuery(BaseModel):
    """``GET /cases``: filters and keyset paging (an unknown parameter is refused: a misspelt filter
    must not quietly list everything)."""

    model_config = ConfigDict(extra="forbid")
    keyword: str | None = Field(default=None, max_length=20, description="e.g. DISHUB")
    state: CaseState | None = None
    updated_since: Moment | None = Field(default=None, description="cases whose last SMS came at or after")
    cursor: str | None = Field(default=None, max_length=100, description="next_cursor of the previous page")
    limit: int = Field(default=50, ge=1, le=200)


class CaseSummary(Answer):
    id: int
    keyword: str | None
    state: CaseState
    category: str | None
    citizen: str
    owner: str | None = Field(description="login of the official the case is assigned to")
    opened_at: datetime
    deadline_at: datetime
    last_message_at: datetime
    answered_at: datetime | None
    closed_at: datetime | None


class CasePage(Answer):
    cases: list[CaseSummary] = Field(description="in order of last_message_at, then id")
    next_cursor: str | None = Field(description="pass as cursor for the next page; null on the last one")


class CaseMessage(Answer):
    id: int
    text: str
    received_at: datetime
    incomplete: bool


class CaseReply(Answer):
    id: int
    text: str
    state: str
    failure_reason: str | None
    created_at: datetime
    author: str | None


class CaseDetail(CaseSummary):
    messages: list[CaseMessage]
    replies: list[CaseReply]


class ReplyBody(Body):
    text: str = Field(max_length=5000, description="the sender ID of the token's user is appended, as in the web UI")


# --------------------------------------------------------------------------
# Status


class ModemState(Answer):
    name: str
    driver: str
    state: str
    operator: str
    signal_dbm: int | None
    registration: str
    last_contact: datetime | None
    queue_depth: int


class Status(Answer):
    modems: list[ModemState]
    pending: int = Field(description="SMS waiting in the queue")
    sending: int


# --------------------------------------------------------------------------
# Broadcasts


class BroadcastBody(Body):
    text: str = Field(max_length=5000)
    title: str = Field(default="", max_length=128)
    category: BroadcastCategory = "information"
    groups: list[Id] = Field(default_factory=list, max_length=200, description="contact group ids")
    contacts: list[Id] = Field(default_factory=list, max_length=500, description="contact ids")
    send_at: Moment | None = None


class Progress(Answer):
    total: int
    pending: int
    sending: int
    sent: int
    delivered: int
    failed: int
    cancelled: int


class BroadcastAnswer(Answer):
    id: int
    title: str
    text: str
    category: str
    state: str = Field(description="draft until a person submits and the approver approves it in the web UI")
    created_at: datetime
    send_at: datetime | None
    recipient_count: int
    progress: Progress
