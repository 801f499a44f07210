"""Who may see which case: the one place the rule lives (every view asks here).

* admin, approver: every case, including the unrouted inbox (keyword NULL);
* official: cases of keywords they own, and cases assigned to them;
* operator: cases assigned to them.

A case someone may not see is "not found" (404), never "forbidden", so ids
cannot be probed.
"""

from __future__ import annotations

from datetime import datetime

from flask import abort
from peewee import Case as SqlCase
from peewee import fn

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
            return query.where((Case.keyword.in_(keywords)) | (Case.owner == user.id))
    return query.where(Case.owner == user.id)


def visible_parts(user, query) -> list:
    """``visible_cases(user, query)`` as disjoint queries without an OR, so that each can be read from an
    index in its order: an official's cases of owned keywords, and those assigned to them beyond these."""
    if user.role == "official":
        keywords = owned_keywords(user.login)
        if keywords:
            others = Case.keyword.is_null() | Case.keyword.not_in(keywords)
            return [query.where(Case.keyword.in_(keywords)), query.where((Case.owner == user.id) & others)]
    return [visible_cases(user, query)]


def may_see(user, case: Case) -> bool:
    if user.role in ("admin", "approver"):
        return True
    if case.owner_id == user.id:
        return True
    return user.role == "official" and case.keyword is not None and case.keyword in owned_keywords(user.login)


def case_or_404(user, case_id: int) -> Case:
    case = get_or_none_by_id(Case, case_id)
    if case is None or not may_see(user, case):
        abort(404)
    return case


def _open_part_names(role: str, keywords: tuple[str, ...]) -> tuple[str, ...]:
    """The queries that count a user's open cases: one, or two for officials with keywords.

    For officials the two halves of the visibility rule are counted apart, so
    that each is answered from an index alone ((keyword, status, deadline_at)
    and (owner, status, deadline_at)); one query with an OR makes SQLite walk
    every open case of the centre.
    """
    if role in ("admin", "approver"):
        return ("all",)
    return ("owned_keywords", "assigned") if keywords else ("assigned",)


def _open_part(part: str, user_id: int, keywords: tuple[str, ...], *columns):
    """``columns`` over one part (see :func:`_open_part_names`) of the open cases a user sees."""
    base = Case.select(*columns)
    if part == "all":
        return base.where(Case.status == CaseStatus.OPEN)
    if part == "owned_keywords":
        return base.where(Case.keyword.in_(list(keywords)) & (Case.status == CaseStatus.OPEN))
    mine = base.where((Case.owner == user_id) & (Case.status == CaseStatus.OPEN))
    if keywords:  # those of the owned keywords are counted by the other part
        mine = mine.where(Case.keyword.is_null() | Case.keyword.not_in(list(keywords)))
    return mine


def _keywords_of(user) -> list[str]:
    return owned_keywords(user.login) if user.role == "official" else []


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
    keywords = tuple(_keywords_of(user))
    total = late = 0
    for part in _open_part_names(user.role, keywords):
        count, overdue_count = _OPEN_COUNTS.execute(part, user.id, keywords, now=now).fetchone()
        total += int(count or 0)
        late += int(overdue_count or 0)
    return total, late


def open_count(user) -> int:
    """``open_counts(user, now)[0]``: the unanswered badge of every page."""
    keywords = tuple(_keywords_of(user))
    return sum(int(_OPEN_COUNT.scalar(part, user.id, keywords) or 0) for part in _open_part_names(user.role, keywords))
