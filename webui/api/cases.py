"""``GET /cases``, ``GET /cases/{id}``, ``POST /cases/{id}/replies``: the token user's cases.

Visibility is the web UI's (:mod:`webui.access`): a case the user may not see
is 404. Replies go through the web UI's own :func:`webui.replies.send_reply`
(same size limit, same sender ID).
"""

from __future__ import annotations

import base64
import binascii
import heapq
from datetime import datetime
from itertools import islice

from peewee import JOIN, Tuple

from modemd.store.models import Case, User, to_utc_naive
from modemd.store.sqlcache import Compiled, Param, get_or_none_by_id
from webui import modemd_config
from webui.access import keywords_of, may_see, narrowed, part_names
from webui.cases import conversation
from webui.replies import ReplyError, send_reply

from . import spec
from .errors import ApiError
from .messages import message_answer
from .schemas import (
    CaseDetail,
    CaseMessage,
    CasePage,
    CaseQuery,
    CaseReply,
    CaseSummary,
    Message,
    Problem,
    ReplyBody,
    utc,
)

# the columns of a summary, in CaseSummary's order; a list page reads them as tuples (no model per row)
SUMMARY_COLUMNS = (
    Case.id,
    Case.keyword,
    Case.status,
    Case.category,
    Case.citizen,
    User.login,
    Case.opened_at,
    Case.deadline_at,
    Case.last_message_at,
    Case.answered_at,
    Case.closed_at,
)
SUMMARY_FIELDS = tuple(CaseSummary.model_fields)
TIMES = frozenset(("opened_at", "deadline_at", "last_message_at", "answered_at", "closed_at"))


def _summary_fields(values: tuple) -> dict:
    return {name: utc(value) if name in TIMES else value for name, value in zip(SUMMARY_FIELDS, values, strict=True)}


def _page_query(part: str, user_id: int, keywords: tuple[str, ...], filters: tuple[bool, ...], limit: int):
    """One part of a page of ``GET /cases``; ``filters`` says which of keyword, state, since, cursor are given."""
    by_keyword, by_state, since, after = filters
    rows = Case.select(*SUMMARY_COLUMNS).join(User, on=(Case.owner == User.id), join_type=JOIN.LEFT_OUTER)
    if by_keyword:
        rows = rows.where(Case.keyword == Param("keyword"))
    if by_state:
        rows = rows.where(Case.status == Param("state"))
    if since:
        rows = rows.where(Case.last_message_at >= Param("since"))
    if after:
        moment = Param("moment", Case.last_message_at.db_value)
        rows = rows.where(Tuple(Case.last_message_at, Case.id) > Tuple(moment, Param("after")))
    return narrowed(rows, part, user_id, keywords).order_by(Case.last_message_at, Case.id).limit(limit + 1)


# a token polls its page often: SQL compiled once per shape (modemd.store.sqlcache, bench/bench_api.py)
_PAGE = Compiled(_page_query, shapes=512)
_TIME_COLUMNS = frozenset(n for n, name in enumerate(SUMMARY_FIELDS) if name in TIMES)
_DATETIME = Case.last_message_at.python_value  # the driver's value (SQLite: text) as a datetime


def _as_python(row: tuple) -> tuple:
    return tuple(_DATETIME(value) if n in _TIME_COLUMNS else value for n, value in enumerate(row))


def encode_cursor(last_message_at: datetime, case_id: int) -> str:
    raw = f"{last_message_at.isoformat()}|{case_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, case_id = raw.split("|")
        return datetime.fromisoformat(moment), int(case_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ApiError(
            "invalid_field", details=[Problem(field="query.cursor", problem="not a cursor this API gave")]
        ) from None


def _visible(case_id: int) -> Case:
    case = get_or_none_by_id(Case, case_id)
    if case is None or not may_see(spec.user(), case):
        raise ApiError("not_found")
    return case


@spec.operation(
    "GET", "/cases", scope="cases:read", summary="The cases the token's user sees", ok=(200, CasePage), query=CaseQuery
)
def list_cases(query: CaseQuery) -> CasePage:
    """Cases in order of their last citizen SMS (then id), a page at a time: pass ``next_cursor`` as
    ``cursor`` for the next one. A case that gets a new SMS while you page moves to the end, so you see it again."""
    me = spec.user()
    keywords = keywords_of(me)
    filters = (bool(query.keyword), bool(query.state), bool(query.updated_since), bool(query.cursor))
    values: dict = {}
    if query.keyword:
        values["keyword"] = query.keyword.strip().upper()
    if query.state:
        values["state"] = query.state
    if query.updated_since:
        values["since"] = to_utc_naive(query.updated_since)
    if query.cursor:
        values["moment"], values["after"] = decode_cursor(query.cursor)
    # each part of the visibility rule read in index order up to a page, then merged
    parts = [
        map(_as_python, _PAGE.execute(part, me.id, keywords, filters, query.limit, **values))
        for part in part_names(me.role, keywords)
    ]
    page = list(islice(heapq.merge(*parts, key=lambda row: (row[8], row[0])), query.limit + 1))
    more = len(page) > query.limit
    page = page[: query.limit]
    last = page[-1] if more else None
    # validated in one call (pydantic's core), not one constructor call per case
    return CasePage.model_validate(
        {
            "cases": [_summary_fields(values) for values in page],
            "next_cursor": encode_cursor(last[8], last[0]) if last else None,
        }
    )


@spec.operation(
    "GET", "/cases/{case_id}", scope="cases:read", summary="A case with its messages and replies", ok=(200, CaseDetail)
)
def get_case(case_id: int) -> CaseDetail:
    """The case, the citizen's SMS and the replies with their states, oldest first."""
    case = _visible(case_id)
    messages, replies = [], []
    for item in conversation(case):
        row = item["message"]
        if item["kind"] == "in":
            messages.append(
                CaseMessage(id=row.id, text=row.text, received_at=utc(row.received_at), incomplete=row.incomplete)
            )
        else:
            replies.append(
                CaseReply(
                    id=row.id,
                    text=row.text,
                    state=row.state,
                    failure_reason=row.failure_reason,
                    created_at=utc(row.created_at),
                    author=row.author,
                )
            )
    summary = Case.select(*SUMMARY_COLUMNS).join(User, on=(Case.owner == User.id), join_type=JOIN.LEFT_OUTER)
    values = summary.where(Case.id == case.id).tuples().get()
    return CaseDetail(**_summary_fields(values), messages=messages, replies=replies)


@spec.operation(
    "POST",
    "/cases/{case_id}/replies",
    scope="cases:reply",
    summary="Reply to a case's citizen",
    ok=(201, Message),
    body=ReplyBody,
    idempotent=True,
    refusals=("empty_text", "too_long", "unanswerable", "idempotency_conflict"),
)
def reply_to_case(case_id: int, body: ReplyBody) -> Message:
    """Queue a reply, exactly as the web UI's reply box does (the user's sender ID is appended, at most
    10 SMS parts). The case counts as answered once the daemon has sent it."""
    case = _visible(case_id)
    try:
        row = send_reply(case, spec.user(), body.text, modemd_config(), token=spec.token().name)
    except ReplyError as exc:
        raise ApiError({"empty": "empty_text"}.get(str(exc), str(exc))) from None
    return message_answer(row, new=True)
