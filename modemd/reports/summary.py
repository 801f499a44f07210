"""The report's figures read from the summary (table ``report_hour``, :mod:`modemd.store.report_summary`).

The summary holds, per UTC hour and segment, the counts of
:mod:`.figures` for the cases *as they stand now*. A report as known at
``as_of`` reads it where that gives the very same figure, and counts the rest
from the rows (the live queries of :mod:`.figures`):

* the whole hours of the period come from the summary; a period that starts or
  ends inside an hour (``as_of`` is now, or a zone whose offset is not whole
  hours) counts those parts live;
* the cases of an hour where one may still change class after ``as_of`` (its
  ``settle_max``: answered after ``as_of``, or not answered, not closed and
  its deadline not passed at ``as_of``) are counted live, that hour's whole;
  SMS and failed replies never depend on ``as_of``;
* a scope the summary has no column for falls back to the live queries
  entirely: a modem (a case is "of a modem" when one of its SMS came in on it,
  so a case may be of several), and a ``narrow`` without its :class:`Visible`
  form.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from peewee import fn

from modemd.store.models import ReportAnswer, ReportHour
from modemd.store.report_summary import ANSWER_BOUNDS, CLASSES

HOUR = timedelta(hours=1)
MAX_LIVE_SPANS = 24  # unsettled hours beyond this many runs are joined into longer spans (fewer ORs)

Span = tuple[datetime, datetime]  # [start, end), naive UTC


@dataclass(frozen=True)
class Visible:
    """webui.access.visible_cases for an official, as columns: cases of ``keywords`` (direct flow) or owned."""

    keywords: tuple[str, ...]
    owner: int


def covers(scope) -> bool:
    """Whether the summary has a column for every part of ``scope`` (a :class:`.figures.Scope`)."""
    return scope.modem is None and (scope.narrow is None or scope.visible is not None)


def whole_hours(start: datetime, end: datetime) -> tuple[Span | None, list[Span]]:
    """[start, end) as the whole hours inside it (or None) and the parts left at either end."""
    first = start.replace(minute=0, second=0, microsecond=0)
    if first < start:
        first += HOUR
    last = end.replace(minute=0, second=0, microsecond=0)
    if first >= last:
        return None, [(start, end)] if start < end else []
    edges = [span for span in ((start, first), (last, end)) if span[0] < span[1]]
    return (first, last), edges


def _scoped(query, scope, table=ReportHour):
    """``query`` over ``table`` (report_hour, or report_answer: the same segment columns) narrowed to ``scope``."""
    if scope.keywords is not None:
        query = query.where(table.keyword.in_(list(scope.keywords)))
    if scope.category is not None:
        query = query.where(table.category == scope.category)
    visible = scope.visible
    if visible is not None:
        mine = table.owner == visible.owner
        if visible.keywords:
            mine = mine | (table.keyword.in_(list(visible.keywords)) & (table.flow == "direct"))
        query = query.where(mine)
    return query


def _in(hours: Span):
    return (ReportHour.hour >= hours[0]) & (ReportHour.hour < hours[1])


def unsettled(hours: Span, as_of: datetime, scope) -> list[Span]:
    """The hours whose cases may stand otherwise at ``as_of`` than now, as spans (a few, joined if many)."""
    query = ReportHour.select(ReportHour.hour).distinct().where(_in(hours), ReportHour.settle_max >= as_of)
    found = sorted(hour for (hour,) in _scoped(query, scope).tuples())
    spans: list[list[datetime]] = []
    for hour in found:
        if spans and spans[-1][1] == hour:
            spans[-1][1] = hour + HOUR
        else:
            spans.append([hour, hour + HOUR])
    while len(spans) > MAX_LIVE_SPANS:  # join across the shortest gap: counted live, still exact
        gap = min(range(len(spans) - 1), key=lambda n: spans[n + 1][0] - spans[n][1])
        spans[gap : gap + 2] = [[spans[gap][0], spans[gap + 1][1]]]
    return [(a, b) for a, b in spans]


def _inside(spans: list[Span]):
    condition = None
    for span in spans:
        condition = _in(span) if condition is None else condition | _in(span)
    return condition


def _outside(spans: list[Span]):
    condition = None
    for a, b in spans:
        part = (ReportHour.hour < a) | (ReportHour.hour >= b)
        condition = part if condition is None else condition & part
    return condition


def counts(hours: Span, skipped: list[Span], scope, *, with_classes: bool = True) -> list[tuple]:
    """Per stored keyword, in the whole hours ``hours``: SMS received, replies failed, then of the cases
    opened there except in the hours ``skipped``: cases, answered, within, late, still open (and the
    answer-time classes: each column summed costs, so only when asked)."""
    columns: tuple[str, ...] = ("received", "replies_failed", "opened", "answered", "within", "late", "still_open")
    columns += CLASSES if with_classes else ()
    query = ReportHour.select(ReportHour.keyword, *(fn.SUM(getattr(ReportHour, name)) for name in columns))
    query = query.where(_in(hours))
    if skipped:
        query = query.where(_outside(skipped))
    found: dict[str | None, list[int]] = {}
    for keyword, *values in _scoped(query, scope).group_by(ReportHour.keyword).tuples():
        found[keyword or None] = [int(value or 0) for value in values]
    if skipped:  # the SMS and failed replies of the skipped hours, which never depend on as_of
        query = ReportHour.select(ReportHour.keyword, fn.SUM(ReportHour.received), fn.SUM(ReportHour.replies_failed))
        for keyword, received, failed in (
            _scoped(query.where(_inside(skipped)), scope).group_by(ReportHour.keyword).tuples()
        ):
            line = found.setdefault(keyword or None, [0] * len(columns))
            line[0] += int(received or 0)
            line[1] += int(failed or 0)
    return [(keyword, *values) for keyword, values in found.items()]


def hourly(hours: Span, scope) -> tuple[dict[str, int], dict[str, int]]:
    """SMS received and cases opened per UTC hour bucket (``YYYY-MM-DD HH``) in the whole hours ``hours``."""
    query = ReportHour.select(ReportHour.hour, fn.SUM(ReportHour.received), fn.SUM(ReportHour.opened))
    received: dict[str, int] = {}
    opened: dict[str, int] = {}
    for hour, messages, cases in _scoped(query.where(_in(hours)), scope).group_by(ReportHour.hour).tuples():
        bucket = f"{hour:%Y-%m-%d %H}"
        if messages:
            received[bucket] = int(messages)
        if cases:
            opened[bucket] = int(cases)
    return received, opened


def answer_time_at(rank: int, classes: list[int], start: datetime, as_of: datetime, scope) -> int | None:
    """The time to answer at ``rank`` (1 = the quickest) among the cases opened in [start, as_of) and answered
    by ``as_of``, given their count per answer-time class (``classes``, exact): read from report_answer in
    order of the time, within the one class that holds the rank."""
    below, index = 0, 0
    while index < len(classes) and rank > below + classes[index]:
        below += classes[index]
        index += 1
    if index == len(classes):
        return None
    lower = ANSWER_BOUNDS[index - 1] if index else 0
    took = ReportAnswer.seconds >= lower
    if index < len(ANSWER_BOUNDS):
        took &= ReportAnswer.seconds < ANSWER_BOUNDS[index]
    query = ReportAnswer.select(ReportAnswer.seconds).where(
        took,
        ReportAnswer.opened_at >= start,
        ReportAnswer.opened_at < as_of,
        ReportAnswer.answered_at <= as_of,
    )
    query = _scoped(query, scope, ReportAnswer).order_by(ReportAnswer.seconds).limit(1).offset(rank - below - 1)
    found = query.scalar()
    return None if found is None else int(found)
