"""Who may see which case: the one place the rule lives (every view asks here).

* admin, approver: every case, including the unrouted inbox (keyword NULL);
* official: cases of keywords they own, and cases assigned to them;
* operator: cases assigned to them.

A case someone may not see is "not found" (404), never "forbidden", so ids
cannot be probed.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from flask import abort
from peewee import Case as SqlCase
from peewee import fn

from modemd.models import Case
from modemd.sqlcache import database_kind, get_or_none_by_id
from modemd.states import CaseStatus

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


def _open_parts(role: str, user_id: int, keywords: list[str] | tuple[str, ...], *columns) -> list:
    """``columns`` over the open cases of a user with ``role``, ``user_id`` and owned ``keywords``
    (one query, or two for officials).

    For officials the two halves of the visibility rule are counted apart, so
    that each is answered from an index alone ((keyword, status, deadline_at)
    and (owner, status, deadline_at)); one query with an OR makes SQLite walk
    every open case of the centre.
    """
    base = Case.select(*columns)
    if role in ("admin", "approver"):
        return [base.where(Case.status == CaseStatus.OPEN)]
    parts = []
    mine = base.where((Case.owner == user_id) & (Case.status == CaseStatus.OPEN))
    if keywords:
        parts.append(base.where(Case.keyword.in_(list(keywords)) & (Case.status == CaseStatus.OPEN)))
        mine = mine.where(Case.keyword.is_null() | Case.keyword.not_in(list(keywords)))
    parts.append(mine)
    return parts


def _keywords_of(user) -> list[str]:
    return owned_keywords(user.login) if user.role == "official" else []


# stands for "now" while the SQL of open_counts is compiled; each run puts the real time in its place
_NOW = datetime(1900, 1, 1, 0, 0, 0, 424242)


@lru_cache(maxsize=256)
def _open_counts_sql(kind: type, role: str, user_id: int,
                     keywords: tuple[str, ...]) -> tuple[tuple[str, tuple, int], ...]:
    overdue = fn.SUM(SqlCase(None, [(Case.deadline_at < _NOW, 1)], 0))
    compiled = []
    for query in _open_parts(role, user_id, keywords, fn.COUNT(Case.id), overdue):
        sql, params = query.sql()
        compiled.append((sql, tuple(params), params.index(_NOW)))
    return tuple(compiled)


def open_counts(user, now: datetime) -> tuple[int, int]:
    """(open, overdue) among the cases ``user`` sees, with the SQL compiled once per user."""
    database = Case._meta.database
    total = late = 0
    for sql, params, at in _open_counts_sql(database_kind(Case), user.role, user.id, tuple(_keywords_of(user))):
        count, overdue_count = database.execute_sql(sql, params[:at] + (now,) + params[at + 1:]).fetchone()
        total += int(count or 0)
        late += int(overdue_count or 0)
    return total, late


@lru_cache(maxsize=256)
def _open_count_sql(kind: type, role: str, user_id: int, keywords: tuple[str, ...]) -> tuple[tuple[str, tuple], ...]:
    # no time in these queries: the text and the parameters depend on the key alone
    return tuple((sql, tuple(params)) for sql, params in
                 (query.sql() for query in _open_parts(role, user_id, keywords, fn.COUNT(Case.id))))


def open_count(user) -> int:
    """``open_counts(user, now)[0]``: the unanswered badge of every page, with its SQL compiled once per user."""
    database = Case._meta.database
    queries = _open_count_sql(database_kind(Case), user.role, user.id, tuple(_keywords_of(user)))
    return sum(int(database.execute_sql(sql, params).fetchone()[0] or 0) for sql, params in queries)
