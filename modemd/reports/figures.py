"""The figures of a report, counted by the database (SQLite, PostgreSQL, MariaDB alike).

Counting rules, as the recap's (:mod:`modemd.jobs.recap`), as known at
``as_of`` (now, or the end of a period that is over):

* received: SMS that came in during the period, under their case's current
  keyword (an SMS with no case: the keyword it came with);
* cases: cases opened during the period, and of those:
* answered: a reply reached the network (``answered_at``) by ``as_of``;
* within: answered at or before the deadline; late: answered after it, or not
  answered, not closed, and the deadline passed;
* still open: not answered and not closed;
* replies failed: replies to the cases in scope, written during the period,
  that failed for good;
* time to answer: from opening to ``answered_at``, in whole seconds; the
  median and 90th percentile by nearest rank (the value at rank ceil(p * n)
  of the n answered cases, so always a time a case really took);
* busiest hours and weekdays, cases per day: counted per UTC hour in SQL, and
  those hours placed in local days and weekdays in Python (:mod:`.sqltime`);
* repeat senders: numbers that sent more than one SMS in the period.

A :class:`Scope` narrows every query: keywords (the stored words), a
category, a modem (a case "of a modem" when one of its SMS came in on it) and
``narrow``, the web UI's visibility rule (:func:`webui.access.visible_cases`)
applied to each query that reads cases (``visible``: the same rule as columns).

Where it gives the very same figures, the counts, the answer-time classes,
the hourly buckets, the median and the 90th percentile come from the summary
(:mod:`.summary`: whole hours, settled cases); the rest is counted live here:
the parts of an hour at either end, hours whose cases may stand otherwise at
``as_of``, a modem filter, a ``narrow`` without ``visible``, and always the
repeat senders and the oldest open cases (read through indexes).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from functools import cached_property
from typing import Any

from peewee import JOIN, SQL, Select, fn
from peewee import Case as SqlCase

from modemd.states import CaseStatus, OutboundState
from modemd.store.models import Case, InboundMessage, OutboundMessage, database_proxy, utcnow
from modemd.store.report_summary import ANSWER_BOUNDS

from . import summary
from .period import Period
from .sqltime import bucket_time, hour_bucket, not_by_index, seconds_between

# ANSWER_BOUNDS: upper bounds (seconds, exclusive) of the answer-time classes; the last class is "longer".
# Defined with the summary's triggers, which count the cases per class.
REPEAT_SENDERS_SHOWN = 10
OLDEST_OPEN_SHOWN = 10
# group and order by position: PostgreSQL takes a parameterised expression (the bucket's format) in
# GROUP BY for a different one than the same expression in SELECT
FIRST_COLUMN = SQL("1")


@dataclass(frozen=True)
class Scope:
    keywords: tuple[str, ...] | None = None  # stored keyword words; None: any, also none
    category: str | None = None
    modem: str | None = None
    narrow: Callable[[Any], Any] | None = None  # the visibility rule, applied to queries over Case
    # the same rule as columns, for the summary (without it, a narrowed report is counted live)
    visible: summary.Visible | None = None

    @property
    def joins_cases(self) -> bool:
        """Whether counting SMS needs their cases (for the keyword, category or visibility)."""
        return self.keywords is not None or self.category is not None or self.narrow is not None


@dataclass
class Counts:
    received: int = 0
    cases: int = 0
    answered: int = 0
    within: int = 0
    late: int = 0
    open: int = 0
    replies_failed: int = 0

    def add(self, other: Counts) -> None:
        for name in (f.name for f in fields(self)):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def on_time_share(self) -> float | None:
        """Within the deadline, of the cases whose outcome is known (within or late); None when none is."""
        judged = self.within + self.late
        return self.within / judged if judged else None


@dataclass
class OpenCase:
    id: int
    keyword: str | None
    citizen: str
    opened_at: datetime  # naive UTC
    deadline_at: datetime


@dataclass
class Figures:
    period: Period
    as_of: datetime  # naive UTC
    totals: Counts
    per_keyword: dict[str | None, Counts]  # stored keyword (None: no keyword) -> counts
    previous: Counts  # the previous period of the same length, totals
    median_seconds: int | None
    p90_seconds: int | None
    answer_classes: list[int]  # answered cases per class of ANSWER_BOUNDS (+ the "longer" class)
    received_hourly: dict[str, int]  # UTC hour bucket -> SMS
    opened_hourly: dict[str, int]  # UTC hour bucket -> cases
    repeat_senders: list[tuple[str, int, int]]  # (number, SMS, cases), busiest first
    repeat_sender_count: int
    oldest_open: list[OpenCase] = field(default_factory=list)
    computed_at: datetime | None = None  # naive UTC: when the database was read

    def per_day(self) -> list[tuple[date, int, int]]:
        """(local date, SMS received, cases opened) for every day of the period."""
        zone = self.period.zone
        received = dict.fromkeys(self.period.dates(), 0)
        opened = dict.fromkeys(self.period.dates(), 0)
        for source, target in ((self.received_hourly, received), (self.opened_hourly, opened)):
            for bucket, count in source.items():
                day = bucket_time(bucket, zone).date()
                if day in target:
                    target[day] += count
        return [(day, received[day], opened[day]) for day in self.period.dates()]

    def heat(self) -> list[list[int]]:
        """SMS received per local weekday (0 = Monday) and hour: 7 rows of 24 (a copy: callers may change it)."""
        return [list(row) for row in self._heat]

    @cached_property
    def _heat(self) -> list[list[int]]:
        grid = [[0] * 24 for _ in range(7)]
        for bucket, count in self.received_hourly.items():
            local = bucket_time(bucket, self.period.zone)
            grid[local.weekday()][local.hour] += count
        return grid

    def busiest_hours(self, top: int = 3) -> list[tuple[int, int]]:
        hours = [sum(row[h] for row in self._heat) for h in range(24)]
        return sorted(((h, n) for h, n in enumerate(hours) if n), key=lambda x: (-x[1], x[0]))[:top]

    def busiest_weekdays(self, top: int = 3) -> list[tuple[int, int]]:
        days = [sum(row) for row in self._heat]
        return sorted(((d, n) for d, n in enumerate(days) if n), key=lambda x: (-x[1], x[0]))[:top]


def _narrowed(query, scope: Scope):
    return scope.narrow(query) if scope.narrow is not None else query


def _case_filters(query, scope: Scope):
    """Scope conditions on Case (the query reads Case)."""
    if scope.keywords is not None:
        query = query.where(Case.keyword.in_(list(scope.keywords)))
    if scope.category is not None:
        query = query.where(Case.category == scope.category)
    if scope.modem is not None:
        on_modem = InboundMessage.select(InboundMessage.case).where(
            InboundMessage.modem == scope.modem, InboundMessage.case.is_null(False)
        )
        query = query.where(Case.id.in_(on_modem))
    return _narrowed(query, scope)


def _opened_in(spans: list[summary.Span]):
    return _any_span(Case.opened_at, spans)


def _any_span(column, spans: list[summary.Span]):
    condition = None
    for start, end in spans:
        part = (column >= start) & (column < end)
        condition = part if condition is None else condition | part
    return condition


def _answered_by(as_of: datetime):
    return Case.answered_at.is_null(False) & (Case.answered_at <= as_of)


def _count(condition):
    return fn.SUM(SqlCase(None, [(condition, 1)], 0))


def _case_counts(spans: list[summary.Span], as_of: datetime, scope: Scope, *, with_classes: bool):
    """Per stored keyword: cases opened in ``spans``, answered, within, late, open (+ the answer-time classes)."""
    answered = _answered_by(as_of)
    unanswered = Case.answered_at.is_null() | (Case.answered_at > as_of)
    not_closed = Case.status != CaseStatus.CLOSED
    columns = [
        Case.keyword,
        fn.COUNT(Case.id),
        _count(answered),
        _count(answered & (Case.answered_at <= Case.deadline_at)),
        _count(
            (answered & (Case.answered_at > Case.deadline_at)) | (unanswered & not_closed & (Case.deadline_at < as_of))
        ),
        _count(unanswered & not_closed),
    ]
    if with_classes:
        took = seconds_between(Case.opened_at, Case.answered_at)
        lower = 0
        for bound in (*ANSWER_BOUNDS, None):  # None: the open-ended "longer" class
            within_class = answered & (took >= lower) if bound is None else answered & (took >= lower) & (took < bound)
            columns.append(_count(within_class))
            lower = bound or 0
    query = Case.select(*columns).where(_opened_in(spans))
    return _case_filters(query, scope).group_by(Case.keyword).tuples()


def _keyword_now():
    """An SMS's keyword now: its case's, else the one it came with."""
    return SqlCase(None, [(InboundMessage.case.is_null(False), Case.keyword)], InboundMessage.keyword)


def _received(spans: list[summary.Span], scope: Scope, *, by_hour: bool):
    """SMS received in ``spans`` in scope, per UTC hour or per keyword now."""
    keyword_now = _keyword_now()
    key = hour_bucket(InboundMessage.received_at) if by_hour else keyword_now
    query = InboundMessage.select(key, fn.COUNT(InboundMessage.id))
    if scope.joins_cases or not by_hour:  # all SMS per hour need no case: no join over a year of them
        query = query.join(Case, JOIN.LEFT_OUTER, on=(InboundMessage.case == Case.id))
    query = query.where(_any_span(InboundMessage.received_at, spans))
    if scope.modem is not None:
        query = query.where(InboundMessage.modem == scope.modem)
    if scope.keywords is not None:
        query = query.where(keyword_now.in_(list(scope.keywords)))
    if scope.category is not None:
        query = query.where(Case.category == scope.category)
    return _narrowed(query, scope).group_by(FIRST_COLUMN).tuples()


def _replies_failed(spans: list[summary.Span], scope: Scope):
    query = (
        OutboundMessage.select(Case.keyword, fn.COUNT(OutboundMessage.id))
        .join(Case, on=(OutboundMessage.case == Case.id))
        .where(
            OutboundMessage.kind == "reply",
            OutboundMessage.state == OutboundState.FAILED,
            _any_span(OutboundMessage.created_at, spans),
        )
    )
    return _case_filters(query, scope).group_by(Case.keyword).tuples()


def counts_by_keyword(start: datetime, as_of: datetime, scope: Scope, classes: list[int] | None = None):
    """Counts per stored keyword over [start, as_of); ``classes`` (if given) receives the answer-time classes.

    From the summary where it gives the same figures (:mod:`.summary`), the rest live.
    """
    lines: dict[str | None, Counts] = {}

    def line(keyword: str | None) -> Counts:
        return lines.setdefault(keyword, Counts())

    hours, edges = summary.whole_hours(start, as_of) if summary.covers(scope) else (None, [(start, as_of)])
    live_cases = list(edges)
    if hours is not None:
        skipped = summary.unsettled(hours, as_of, scope)
        live_cases += skipped
        for keyword, received, failed, cases, answered, within, late, still_open, *by_class in summary.counts(
            hours, skipped, scope, with_classes=classes is not None
        ):
            if received or failed or cases:
                entry = line(keyword)
                entry.received, entry.replies_failed = received, failed
                entry.cases, entry.answered, entry.within, entry.late, entry.open = (
                    cases,
                    answered,
                    within,
                    late,
                    still_open,
                )
                if classes is not None:
                    for index, count in enumerate(by_class):
                        classes[index] += count
    if live_cases:
        for row in _case_counts(live_cases, as_of, scope, with_classes=classes is not None):
            keyword, cases, answered, within, late, still_open, *by_class = row
            entry = line(keyword)
            entry.cases += int(cases)
            entry.answered += int(answered or 0)
            entry.within += int(within or 0)
            entry.late += int(late or 0)
            entry.open += int(still_open or 0)
            if classes is not None:
                for index, count in enumerate(by_class):
                    classes[index] += int(count or 0)
    if edges:
        for keyword, count in _received(edges, scope, by_hour=False):
            line(keyword).received += int(count)
        for keyword, count in _replies_failed(edges, scope):
            line(keyword).replies_failed += int(count)
    return lines


def _total(lines: dict[str | None, Counts]) -> Counts:
    total = Counts()
    for entry in lines.values():
        total.add(entry)
    return total


def _percentiles(
    start: datetime, as_of: datetime, scope: Scope, shares: tuple[float, ...], answered: int, classes: list[int]
) -> list:
    """The answer times at ranks ceil(share * answered) (nearest rank), in seconds.

    From report_answer when the summary covers the scope and the classes hold every answered case (a time
    below zero is in none); else one sort for all shares. ROW_NUMBER() is a window function every supported
    database has (SQLite 3.25, MariaDB 10.2).
    """
    if answered <= 0:
        return [None] * len(shares)
    ranks = [max(1, math.ceil(share * answered)) for share in shares]
    if summary.covers(scope) and sum(classes) == answered:
        return [summary.answer_time_at(rank, classes, start, as_of, scope) for rank in ranks]
    took = seconds_between(Case.opened_at, Case.answered_at)
    inner = Case.select(took.alias("took"), fn.ROW_NUMBER().over(order_by=[took]).alias("position")).where(
        Case.opened_at >= start, Case.opened_at < as_of, _answered_by(as_of)
    )
    ranked = _case_filters(inner, scope).alias("ranked")
    query = Select([ranked], [ranked.c.position, ranked.c.took]).where(ranked.c.position.in_(ranks))
    found = {int(position): int(value) for position, value in query.bind(database_proxy).tuples()}
    return [found.get(rank) for rank in ranks]


def _hourly(start: datetime, as_of: datetime, scope: Scope) -> tuple[dict[str, int], dict[str, int]]:
    hours, edges = summary.whole_hours(start, as_of) if summary.covers(scope) else (None, [(start, as_of)])
    received, opened = summary.hourly(hours, scope) if hours is not None else ({}, {})
    if edges:
        for key, n in _received(edges, scope, by_hour=True):
            received[key] = received.get(key, 0) + int(n)
        bucket = hour_bucket(Case.opened_at)
        query = Case.select(bucket, fn.COUNT(Case.id)).where(_opened_in(edges))
        for key, n in _case_filters(query, scope).group_by(FIRST_COLUMN).tuples():
            opened[key] = opened.get(key, 0) + int(n)
    return received, opened


def _visible_parts(visible: summary.Visible) -> list:
    """An official's visibility rule as disjoint conditions on Case, each served by an index (keyword; owner):
    one query with the OR walks every case."""
    mine = Case.owner == visible.owner
    if not visible.keywords:
        return [mine]
    owned = Case.keyword.in_(list(visible.keywords)) & (Case.flow == "direct")
    return [
        owned,
        mine & (Case.keyword.is_null() | Case.keyword.not_in(list(visible.keywords)) | (Case.flow != "direct")),
    ]


def _scoped_senders(start: datetime, as_of: datetime, scope: Scope):
    """(sender, case) of each SMS in scope, found from the cases in scope (by their keyword, owner...) and then
    their SMS, rather than a year of SMS each joined to its case; plus, for a keyword filter, the SMS with no
    case that came with the keyword."""

    received = not_by_index(InboundMessage.received_at)  # SQLite: from the cases, not from a year of SMS

    def in_period(query):
        query = query.where(received >= start, received < as_of, InboundMessage.sender_kind == "number")
        return query.where(InboundMessage.modem == scope.modem) if scope.modem is not None else query

    columns = (InboundMessage.sender.alias("sender"), InboundMessage.case.alias("case_id"))
    of_cases = Case.select(*columns).join(InboundMessage, on=(InboundMessage.case == Case.id))
    if scope.keywords is not None:
        of_cases = of_cases.where(Case.keyword.in_(list(scope.keywords)))
    if scope.category is not None:
        of_cases = of_cases.where(Case.category == scope.category)
    parts = [of_cases.where(part) for part in _visible_parts(scope.visible)] if scope.visible else []
    found = in_period(parts[0] if parts else _narrowed(of_cases, scope))
    for part in parts[1:]:
        found = found.union_all(in_period(part))
    if scope.keywords is not None and scope.category is None and scope.narrow is None:
        without_case = InboundMessage.select(*columns).where(
            InboundMessage.case.is_null(), InboundMessage.keyword.in_(list(scope.keywords))
        )
        found = found.union_all(in_period(without_case))
    return found


Senders = list[tuple[str, int, int]]  # (number, SMS, cases), busiest first


def _repeat_senders(start: datetime, as_of: datetime, scope: Scope) -> tuple[Senders, int]:
    if not scope.joins_cases:
        return _all_repeat_senders(start, as_of, scope.modem)
    sms = _scoped_senders(start, as_of, scope).alias("sms")
    messages = fn.COUNT(SQL("*"))
    query = Select([sms], [sms.c.sender, messages.alias("messages"), fn.COUNT(sms.c.case_id.distinct()).alias("cases")])
    grouped = query.group_by(sms.c.sender).having(messages > 1).alias("repeat")
    return _busiest(
        grouped,
        [grouped.c.sender, grouped.c.messages, grouped.c.cases],
        lambda rows: [(sender, int(n), int(cases)) for sender, n, cases, _total in rows],
    )


def _busiest(grouped, columns: list, top: Callable[[list[tuple]], Senders]) -> tuple[Senders, int]:
    """The busiest of the grouped senders (``top`` turns their rows into the figure), and how many there are."""
    # one pass: a window over the grouped senders counts them all while LIMIT keeps the busiest. The window
    # sits outside the GROUP BY: beside a HAVING in the same SELECT, MariaDB 10.11 returned no row at all.
    outer = (
        Select([grouped], [*columns, fn.COUNT(SQL("*")).over()])
        .order_by(grouped.c.messages.desc(), grouped.c.sender)
        .limit(REPEAT_SENDERS_SHOWN)
    )
    rows = list(outer.bind(database_proxy).tuples())
    return top(rows), int(rows[0][-1]) if rows else 0


def _all_repeat_senders(start: datetime, as_of: datetime, modem: str | None) -> tuple[Senders, int]:
    """Every number's SMS, counted walking the (sender_kind, sender, received_at, case) index in order of the
    number, with no sort and no table read (SQLite would rather take the received_at index and sort a year of
    SMS by number); the cases only of the few shown, afterwards."""
    received = not_by_index(InboundMessage.received_at)

    def of_numbers(*columns):
        query = InboundMessage.select(InboundMessage.sender.alias("sender"), *columns).where(
            received >= start, received < as_of, InboundMessage.sender_kind == "number"
        )
        return query.where(InboundMessage.modem == modem) if modem is not None else query

    messages = fn.COUNT(InboundMessage.id)
    grouped = of_numbers(messages.alias("messages")).group_by(InboundMessage.sender).having(messages > 1)
    grouped = grouped.alias("repeat")

    def with_cases(rows: list[tuple]) -> Senders:
        shown = [sender for sender, *_rest in rows]
        query = of_numbers(fn.COUNT(InboundMessage.case.distinct())).where(InboundMessage.sender.in_(shown))
        cases = dict(query.group_by(InboundMessage.sender).tuples()) if shown else {}
        return [(sender, int(n), int(cases.get(sender, 0))) for sender, n, _total in rows]

    return _busiest(grouped, [grouped.c.sender, grouped.c.messages], with_cases)


def oldest_open(end: datetime, scope: Scope, limit: int = OLDEST_OPEN_SHOWN) -> list[OpenCase]:
    """The cases opened before ``end`` that are open now, oldest first."""
    query = Case.select(Case.id, Case.keyword, Case.citizen, Case.opened_at, Case.deadline_at).where(
        Case.status == CaseStatus.OPEN, Case.opened_at < end
    )
    rows = _case_filters(query, scope).order_by(Case.opened_at, Case.id).limit(limit).tuples()
    return [OpenCase(*row) for row in rows]


def compute(period: Period, scope: Scope | None = None, *, now: datetime | None = None) -> Figures:
    """Every figure of the report on ``period``, as known at ``now`` (default: the current time)."""
    scope = scope or Scope()
    now = now or utcnow()
    start, as_of = period.start, min(now, period.end)
    classes = [0] * (len(ANSWER_BOUNDS) + 1)
    lines = counts_by_keyword(start, as_of, scope, classes) if as_of > start else {}
    totals = _total(lines)
    before = period.previous()
    previous = _total(counts_by_keyword(before.start, min(now, before.end), scope)) if now > before.start else Counts()
    received_hourly, opened_hourly = _hourly(start, as_of, scope) if as_of > start else ({}, {})
    median, p90 = _percentiles(start, as_of, scope, (0.5, 0.9), totals.answered, classes)
    repeat, repeat_count = _repeat_senders(start, as_of, scope) if as_of > start else ([], 0)
    return Figures(
        period=period,
        as_of=as_of,
        totals=totals,
        per_keyword=lines,
        previous=previous,
        median_seconds=median,
        p90_seconds=p90,
        answer_classes=classes,
        received_hourly=received_hourly,
        opened_hourly=opened_hourly,
        repeat_senders=repeat,
        repeat_sender_count=repeat_count,
        oldest_open=oldest_open(period.end, scope),
        computed_at=now,
    )
