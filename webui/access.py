"""Who may see which case: the one place the rule lives (every view asks here).

* admin, approver: every case, including the unrouted inbox (keyword NULL);
* official: cases of keywords they own, and cases assigned to them;
* operator: cases assigned to them.

A case of the verified flow (:mod:`modemd.cases.flow`) is no keyword owner's:
it belongs to the central admin until verified, then to the operator it was
given to (its owner). So neither an official nor an operator ever sees a case
nobody verified yet.

A case someone may not see is "not found" (404), never "forbidden", so ids
cannot be probed.
"""

from __future__ import annotations

from datetime import datetime

from flask import abort
from peewee import Case as SqlCase
from peewee import fn

from modemd.reports.summary import Visible
from modemd.states import CaseStatus
from modemd.store.models import Case
from modemd.store.sqlcache import Compiled, Param, get_or_none_by_id

from .keywordtable import owned_keywords


def visible_cases(user, query=None):
    """``query`` (default: all cases) narrowed to what ``user`` may see."""
    query = query if query is not None else Case.select()
    if user.role in ("admin", "approver"):
        return query
    if user.role == "official":
        keywords = owned_keywords(user.login)
        if keywords:
            return query.where((Case.keyword.in_(keywords) & (Case.flow == "direct")) | (Case.owner == user.id))
    return query.where(Case.owner == user.id)


def visible_columns(user) -> Visible | None:
    """:func:`visible_cases` as columns, for the report summary (:mod:`modemd.reports.summary`); None: every case."""
    if user.role in ("admin", "approver"):
        return None
    keywords = tuple(sorted(owned_keywords(user.login))) if user.role == "official" else ()
    return Visible(keywords, user.id)


def may_see(user, case: Case) -> bool:
    if user.role in ("admin", "approver"):
        return True
    if case.owner_id == user.id:
        return True
    return (
        user.role == "official"
        and case.flow == "direct"
        and case.keyword is not None
        and case.keyword in owned_keywords(user.login)
    )


def case_or_404(user, case_id: int) -> Case:
    case = get_or_none_by_id(Case, case_id)
    if case is None or not may_see(user, case):
        abort(404)
    return case


def part_names(role: str, keywords: tuple[str, ...]) -> tuple[str, ...]:
    """What a user sees as disjoint parts without an OR: one, or two for officials with keywords.

    For officials the two halves of the visibility rule are queried apart, so
    that each is answered from an index alone ((keyword, status, deadline_at)
    and (owner, status, deadline_at) for counts; (keyword, last_message_at, id)
    and (owner, last_message_at, id) for the API's pages); one query with an OR
    makes SQLite walk every open case of the centre.
    """
    if role in ("admin", "approver"):
        return ("all",)
    return ("owned_keywords", "assigned") if keywords else ("assigned",)


def narrowed(query, part: str, user_id: int, keywords: tuple[str, ...]):
    """``query`` narrowed to one part (see :func:`part_names`) of what a user sees."""
    if part == "all":
        return query
    if part == "owned_keywords":
        return query.where(Case.keyword.in_(list(keywords)) & (Case.flow == "direct"))
    mine = query.where(Case.owner == user_id)
    if keywords:  # those of the owned keywords are in the other part (a verified case is its owner's only)
        mine = mine.where(Case.keyword.is_null() | Case.keyword.not_in(list(keywords)) | (Case.flow != "direct"))
    return mine


def _open_part(part: str, user_id: int, keywords: tuple[str, ...], *columns):
    """``columns`` over one part (see :func:`part_names`) of the open cases a user sees."""
    return narrowed(Case.select(*columns).where(Case.status == CaseStatus.OPEN), part, user_id, keywords)


def keywords_of(user) -> tuple[str, ...]:
    """The keywords whose cases ``user`` sees as their owner (an official's; nobody else's)."""
    return tuple(owned_keywords(user.login)) if user.role == "official" else ()


# SQL compiled once per user and part (modemd.store.sqlcache): every page shows the badge, the dashboard both counts
_OPEN_COUNTS = Compiled(
    lambda part, user_id, keywords: _open_part(
        part, user_id, keywords, fn.COUNT(Case.id), fn.SUM(SqlCase(None, [(Case.deadline_at < Param("now"), 1)], 0))
    ),
    shapes=256,
)
_OPEN_COUNT = Compiled(
    lambda part, user_id, keywords: _open_part(part, user_id, keywords, fn.COUNT(Case.id)), shapes=256
)


def open_counts(user, now: datetime) -> tuple[int, int]:
    """(open, overdue) among the cases ``user`` sees."""
    keywords = keywords_of(user)
    total = late = 0
    for part in part_names(user.role, keywords):
        count, overdue_count = _OPEN_COUNTS.execute(part, user.id, keywords, now=now).fetchone()
        total += int(count or 0)
        late += int(overdue_count or 0)
    return total, late


def open_count(user) -> int:
    """``open_counts(user, now)[0]``: the unanswered badge of every page."""
    keywords = keywords_of(user)
    return sum(int(_OPEN_COUNT.scalar(part, user.id, keywords) or 0) for part in part_names(user.role, keywords))
