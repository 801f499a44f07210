"""Who may see which case: the one place the rule lives (every view asks here).

* admin, approver: every case, including the unrouted inbox (keyword NULL);
* official: cases of keywords they own, and cases assigned to them;
* operator: cases assigned to them.

A case someone may not see is "not found" (404), never "forbidden", so ids
cannot be probed.
"""

from __future__ import annotations

from flask import abort

from peewee import Case as SqlCase
from peewee import fn

from modemd.models import Case

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
    case = Case.get_or_none(Case.id == case_id)
    if case is None or not may_see(user, case):
        abort(404)
    return case


def open_counts(user, now) -> tuple[int, int]:
    """(open, overdue) among the cases ``user`` sees.

    For officials the two halves of the visibility rule are counted apart, so
    that each is answered from an index alone ((keyword, status, deadline_at)
    and (owner, status, deadline_at)); one query with an OR makes SQLite walk
    every open case of the centre.
    """
    overdue = fn.SUM(SqlCase(None, [(Case.deadline_at < now, 1)], 0))
    base = Case.select(fn.COUNT(Case.id), overdue)
    parts = []
    if user.role in ("admin", "approver"):
        parts.append(base.where(Case.status == "open"))
    else:
        keywords = owned_keywords(user.login) if user.role == "official" else []
        mine = base.where((Case.owner == user.id) & (Case.status == "open"))
        if keywords:
            parts.append(base.where(Case.keyword.in_(keywords) & (Case.status == "open")))
            mine = mine.where(Case.keyword.is_null() | Case.keyword.not_in(keywords))
        parts.append(mine)
    total = late = 0
    for query in parts:
        count, overdue_count = query.scalar(as_tuple=True)
        total += int(count or 0)
        late += int(overdue_count or 0)
    return total, late
