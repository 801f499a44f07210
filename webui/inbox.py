"""The inbox: my cases, unanswered first (nearest deadline on top), then the rest, newest first.

Pagination is keyset (``?after=<cursor>``), never OFFSET, so page 200 of a
million-message centre costs the same as page 1. Both sections walk
``(deadline_at, id)``, which the (status, deadline_at) and (owner, status,
deadline_at) indexes on Case serve.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from modemd.receive.routing import KEYWORD_CORRECTED
from modemd.send import failures
from modemd.sms import phone
from modemd.states import CaseStatus, OutboundState
from modemd.store.models import CASE_STATUSES, CATEGORIES, AuditLog, Case, InboundMessage, OutboundMessage

from .access import visible_cases
from .filters import zone
from .keywordtable import keyword_names, owned_keywords
from .params import BadParameter, parse_date, parse_id

bp = Blueprint("inbox", __name__)
PAGE_SIZE = 30  # a phone screen shows five; thirty is a good scroll and keeps the page light
UNROUTED = "-"
# only what the list shows: every DateTimeField read from SQLite is parsed from text
LIST_COLUMNS = (
    Case.id,
    Case.keyword,
    Case.citizen,
    Case.status,
    Case.category,
    Case.deadline_at,
    Case.last_message_at,
    Case.reply_failed_at,
)
# each row's newest message, in the page query itself (read for the page's rows only, by the case index):
# a second query with an IN list of the page's ids cost more to build in peewee than to run
LAST_TEXT = (
    InboundMessage.select(InboundMessage.text)
    .where(InboundMessage.case == Case.id)
    .order_by(InboundMessage.id.desc())
    .limit(1)
)


class CaseRow(NamedTuple):
    """A row as the list shows it: plain tuples with names, no model instances (LIST_COLUMNS + last_text)."""

    id: int
    keyword: str | None
    citizen: str
    status: str
    category: str | None
    deadline_at: datetime
    last_message_at: datetime
    reply_failed_at: datetime | None
    last_text: str | None


def _last_failed_reply(column):
    return (
        OutboundMessage.select(column)
        .where(
            (OutboundMessage.case == Case.id)
            & (OutboundMessage.kind == "reply")
            & OutboundMessage.state.in_((OutboundState.FAILED, OutboundState.CANCELLED))
        )
        .order_by(OutboundMessage.id.desc())
        .limit(1)
    )


class FailedRow(NamedTuple):
    """A case whose reply failed, with why (from its newest failed reply, in the same query)."""

    case: CaseRow
    failure_code: int | None
    failure_reason: str | None


_NUMBERISH = re.compile(r"^[+\d][\d\s\-]{2,}$")


def _encode_cursor(section: str, case: CaseRow) -> str:
    return f"{section}.{case.deadline_at.isoformat()}.{case.id}"


def _decode_cursor(text: str) -> tuple[str, datetime, int]:
    """The cursor of :func:`_encode_cursor`; 400 for anything else (a made-up or damaged link)."""
    section, _sep, rest = text.partition(".")
    moment_text, _sep, id_text = rest.rpartition(".")
    try:
        if section not in ("o", "d") or not moment_text.isascii():
            raise BadParameter("not a cursor")
        return section, datetime.fromisoformat(moment_text), parse_id(id_text)
    except ValueError:
        abort(400)


def _local_day_range(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=zone()).astimezone(UTC).replace(tzinfo=None)
    return start, start + timedelta(days=1)


def _search(query, text: str):
    text = text.strip()
    if text.startswith("#"):
        try:
            return query.where(Case.id == parse_id(text[1:]))
        except BadParameter:
            pass  # "#²" is text to look for, not a case number
    if _NUMBERISH.match(text):
        number = phone.try_normalize(text)
        if number:
            return query.where(Case.citizen == number)
        digits = re.sub(r"\D", "", text).lstrip("0")
        return query.where(Case.citizen.contains(digits))
    matching = InboundMessage.select(InboundMessage.case).where(InboundMessage.text.contains(text))
    return query.where(Case.id.in_(matching))


def filtered_cases(user, args) -> tuple[object, dict, list[str]]:
    """Visible cases narrowed by the filters in ``args``; also the filters as understood and any problems."""
    query = visible_cases(user, Case.select(*LIST_COLUMNS))
    chosen: dict[str, str] = {}
    problems: list[str] = []
    status = args.get("status", "")
    if status in CASE_STATUSES:
        chosen["status"] = status
    category = args.get("category", "")
    if category in CATEGORIES:
        query = query.where(Case.category == category)
        chosen["category"] = category
    keyword = args.get("keyword", "").strip().upper()
    if keyword == UNROUTED and user.role in ("admin", "approver"):
        query = query.where(Case.keyword.is_null())
        chosen["keyword"] = UNROUTED
    elif keyword:
        query = query.where(Case.keyword == keyword)
        chosen["keyword"] = keyword
    day_text = args.get("date", "").strip()
    if day_text:
        try:
            start, end = _local_day_range(parse_date(day_text))
        except BadParameter:
            problems.append(_("Tanggal tidak dikenali (pakai format TTTT-BB-HH)."))
        else:
            query = query.where((Case.opened_at >= start) & (Case.opened_at < end))
            chosen["date"] = day_text
    search = args.get("q", "").strip()[:100]
    if search:
        query = _search(query, search)
        chosen["q"] = search
    return query, chosen, problems


def page_of_cases(query, status: str | None, cursor_text: str) -> tuple[list[CaseRow], str | None]:
    """One page: open cases by nearest deadline, then answered/closed ones newest first, each with its newest text."""
    cursor = _decode_cursor(cursor_text) if cursor_text else None
    query = query.select_extend(LAST_TEXT.alias("last_text"))
    rows: list[tuple[str, CaseRow]] = []
    want = PAGE_SIZE + 1
    if status in (None, CaseStatus.OPEN) and (cursor is None or cursor[0] == "o"):
        open_query = query.where(Case.status == CaseStatus.OPEN)
        if cursor:
            _s, moment, last_id = cursor
            # the redundant bound lets the index seek to the cursor (the OR alone makes SQLite walk from the top)
            open_query = open_query.where(
                (Case.deadline_at >= moment)
                & ((Case.deadline_at > moment) | ((Case.deadline_at == moment) & (Case.id > last_id)))
            )
        rows += [("o", CaseRow._make(c)) for c in open_query.order_by(Case.deadline_at, Case.id).limit(want).tuples()]
    if status != CaseStatus.OPEN and len(rows) < want:
        done_query = query.where(Case.status == status) if status else query.where(Case.status != CaseStatus.OPEN)
        if cursor and cursor[0] == "d":
            _s, moment, last_id = cursor
            done_query = done_query.where(
                (Case.deadline_at <= moment)
                & ((Case.deadline_at < moment) | ((Case.deadline_at == moment) & (Case.id < last_id)))
            )
        rows += [
            ("d", CaseRow._make(c))
            for c in done_query.order_by(Case.deadline_at.desc(), Case.id.desc()).limit(want - len(rows)).tuples()
        ]
    next_cursor = _encode_cursor(*rows[PAGE_SIZE - 1]) if len(rows) > PAGE_SIZE else None
    return [case for _section, case in rows[:PAGE_SIZE]], next_cursor


def with_corrected_keyword(cases: list[CaseRow]) -> set[int]:
    """The cases of a page that hold a message whose mistyped keyword the router corrected (one query)."""
    if not cases:
        return set()
    rows = (
        AuditLog.select(AuditLog.object_id)
        .where(
            (AuditLog.object_type == "case")
            & (AuditLog.object_id.in_([str(c.id) for c in cases]))
            & (AuditLog.action == KEYWORD_CORRECTED)
        )
        .tuples()
    )
    return {int(object_id) for (object_id,) in rows}


def cases_with_failed_reply(query, status: str | None) -> list[FailedRow]:
    """Open cases whose reply failed and nothing reached the citizen since: on top of the first page,
    newest failure first, each with the reason in the reader's language."""
    if status not in (None, CaseStatus.OPEN):
        return []
    rows = (
        query.select_extend(
            LAST_TEXT.alias("last_text"),
            _last_failed_reply(OutboundMessage.failure_code).alias("failure_code"),
            _last_failed_reply(OutboundMessage.failure_reason).alias("failure_reason"),
        )
        .where((Case.status == CaseStatus.OPEN) & Case.reply_failed_at.is_null(False))
        .order_by(Case.reply_failed_at.desc(), Case.id.desc())
        .limit(PAGE_SIZE)
        .tuples()
    )
    return [FailedRow(CaseRow._make(row[:-2]), *row[-2:]) for row in rows]


def failure_reason_text(row: FailedRow) -> str:
    return failures.plain(row.failure_code, row.failure_reason, OutboundState.FAILED, _)


@bp.get("/")
@login_required
def index():
    """My cases: unanswered first with the time left to the deadline; filters, search, next page."""
    query, chosen, problems = filtered_cases(current_user, request.args)
    cursor = request.args.get("after", "")
    cases, next_cursor = page_of_cases(query, chosen.get("status"), cursor)
    failed = [] if cursor else cases_with_failed_reply(query, chosen.get("status"))
    keywords = keyword_names() if current_user.sees_everything else owned_keywords(current_user.login)
    return render_template(
        "inbox.html",
        cases=cases,
        corrected=with_corrected_keyword(cases),
        failed=failed,
        failure_text=failure_reason_text,
        chosen=chosen,
        problems=problems,
        next_cursor=next_cursor,
        first_page=not request.args.get("after"),
        keywords=keywords,
        statuses=CASE_STATUSES,
        categories=CATEGORIES,
        unrouted=UNROUTED,
    )
