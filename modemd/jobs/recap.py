"""The recap: what came in during one recap period and how it was answered (Muara Enim Pasal 3 (2)).

The same numbers go to the leadership by SMS (:mod:`modemd.jobs.notifications`)
and to the ``/rekap`` page of the web UI, so both always agree.

A period is the 24 hours up to a ``[notify] recap_time`` (17:00 by default):
the recap sent on 23 November at 17:00 covers 22 November 17:00 up to
23 November 17:00, so an SMS that comes in after the recap is in the next
one and none is left out. The SMS says which period it covers.

Counting rules, in the centre's time zone, always under a case's *current*
keyword (a case re-assigned from DISHUB to PUPR counts, with its SMS, under
PUPR only):

* received: SMS that came in during the period (a citizen may send several
  into one case; a follow-up to an older case counts here, its case does not);
* cases: cases opened during the period;
* answered: the case has a reply that was sent (:mod:`modemd.cases.answers`);
* within deadline: that reply was sent at or before the case's deadline;
* overdue: the reply was sent after the deadline, or there is none yet and the
  deadline has passed (closed cases without a reply are not counted late:
  an administrator closed them, e.g. as spam);
* waiting: no reply yet, deadline not passed;
* unrouted: received SMS that have no keyword now.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from peewee import JOIN, fn
from peewee import Case as SqlCase

from modemd.states import CaseStatus
from modemd.store.models import Case, InboundMessage, utcnow

NO_KEYWORD = "-"


@dataclass
class KeywordLine:
    keyword: str
    received: int = 0  # SMS
    cases: int = 0
    answered: int = 0
    within_deadline: int = 0
    overdue: int = 0
    waiting: int = 0


@dataclass
class Recap:
    day: date  # the local date the period ends on (the day its SMS is sent)
    start: datetime  # naive UTC, inclusive
    end: datetime  # naive UTC, exclusive
    as_of: datetime  # naive UTC: deadlines after this have not passed yet
    zone: ZoneInfo = ZoneInfo("UTC")
    received: int = 0
    unrouted: int = 0  # SMS with no known keyword
    cases: int = 0
    answered: int = 0
    within_deadline: int = 0
    overdue: int = 0
    waiting: int = 0
    keywords: list[KeywordLine] = field(default_factory=list)


def period_bounds(day: date, zone: ZoneInfo, recap_time: time) -> tuple[datetime, datetime]:
    """The recap period that ends at ``recap_time`` on the local ``day``, as a naive-UTC [start, end) pair."""
    end = datetime.combine(day, recap_time, tzinfo=zone)
    start = datetime.combine(day - timedelta(days=1), recap_time, tzinfo=zone)
    return _naive_utc(start), _naive_utc(end)


def period_of(moment: datetime, zone: ZoneInfo, recap_time: time) -> date:
    """The ``day`` of the period holding the naive-UTC ``moment`` (after recap_time: tomorrow's)."""
    local = moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone)
    return local.date() + timedelta(days=1) if local.time().replace(tzinfo=None) >= recap_time else local.date()


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def daily_recap(
    day: date,
    zone: ZoneInfo,
    *,
    recap_time: time,
    keyword_names: list[str] | None = None,
    as_of: datetime | None = None,
) -> Recap:
    """The recap of the period ending at ``recap_time`` on ``day``. ``keyword_names`` are listed even when idle."""
    start, end = period_bounds(day, zone, recap_time)
    summary = recap_between(start, end, keyword_names=keyword_names, as_of=as_of)
    summary.day, summary.zone = day, zone
    return summary


def recap_between(
    start: datetime, end: datetime, *, keyword_names: list[str] | None = None, as_of: datetime | None = None
) -> Recap:
    """The counts for naive-UTC [start, end), as known at ``as_of`` (default now, at most ``end``)."""
    moment = min(as_of or utcnow(), end)
    recap = Recap(day=end.date(), start=start, end=end, as_of=moment)
    lines: dict[str, KeywordLine] = {name: KeywordLine(name) for name in (keyword_names or [])}

    def line(name: str | None) -> KeywordLine:
        key = name or NO_KEYWORD
        if key not in lines:
            lines[key] = KeywordLine(key)
        return lines[key]

    # an SMS of a case counts under the case's keyword now; one without a case under the keyword it came with
    keyword_now = SqlCase(None, [(InboundMessage.case.is_null(False), Case.keyword)], InboundMessage.keyword)
    received = (
        InboundMessage.select(keyword_now.alias("keyword"), fn.COUNT(InboundMessage.id).alias("n"))
        .join(Case, JOIN.LEFT_OUTER, on=(InboundMessage.case == Case.id))
        .where(InboundMessage.received_at >= start, InboundMessage.received_at < moment)
        .group_by(keyword_now)
        .tuples()
    )
    for keyword, count in received:
        recap.received += count
        if keyword is None:
            recap.unrouted += count
        line(keyword).received += count

    cases = (
        Case.select(Case.keyword, Case.status, Case.deadline_at, Case.answered_at)
        .where(Case.opened_at >= start, Case.opened_at < moment)
        .tuples()
    )
    for keyword, status, deadline_at, answered_at in cases:
        entry = line(keyword)
        recap.cases += 1
        entry.cases += 1
        if answered_at is not None and answered_at <= moment:
            recap.answered += 1
            entry.answered += 1
            if answered_at <= deadline_at:
                recap.within_deadline += 1
                entry.within_deadline += 1
            else:
                recap.overdue += 1
                entry.overdue += 1
        elif status != CaseStatus.CLOSED:
            if deadline_at < moment:
                recap.overdue += 1
                entry.overdue += 1
            else:
                recap.waiting += 1
                entry.waiting += 1
    # busiest keywords first; the "no keyword" line last
    recap.keywords = sorted(lines.values(), key=lambda k: (k.keyword == NO_KEYWORD, -k.cases, -k.received, k.keyword))
    return recap


def period_text(recap: Recap) -> str:
    """``22/11 17.00 s.d. 23/11 17.00`` (Indonesian: "until"), in the centre's time zone."""
    start = recap.start.replace(tzinfo=ZoneInfo("UTC")).astimezone(recap.zone)
    end = recap.end.replace(tzinfo=ZoneInfo("UTC")).astimezone(recap.zone)
    return f"{start:%d/%m %H.%M} s.d. {end:%d/%m %H.%M}"


class _Keep(dict):
    """format_map helper: an unknown {placeholder} in an administrator's template stays as written."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(template: str, **values) -> str:
    """Fill an INI text template; a misspelt placeholder is left visible rather than crashing a job."""
    try:
        return string.Formatter().vformat(template, (), _Keep(values)).strip()
    except (ValueError, IndexError, AttributeError):
        # an unbalanced brace or "{0}" in the template: send it unfilled rather than nothing
        return template.strip()


def sms_text(recap: Recap, template: str) -> str:
    """The recap as one SMS text for the leadership numbers."""
    per_keyword = (
        ", ".join(f"{k.keyword} {k.cases}/{k.answered}" for k in recap.keywords if k.cases or k.received) or "-"
    )
    return fill(
        template,
        date=recap.day.strftime("%d/%m/%Y"),
        period=period_text(recap),
        received=recap.received,
        cases=recap.cases,
        answered=recap.answered,
        within=recap.within_deadline,
        overdue=recap.overdue,
        waiting=recap.waiting,
        unrouted=recap.unrouted,
        keywords=per_keyword,
    )
