"""The daily recap: what came in on one day and how it was answered (Muara Enim Pasal 3 (2)).

The same numbers go to the leadership by SMS (:mod:`modemd.notifications`)
and to the ``/rekap`` page of the web UI, so both always agree.

Counting rules, for the cases opened on the day (in the centre's time zone):

* answered: the case has a first reply;
* within deadline: that reply came at or before the case's deadline;
* overdue: the reply came after the deadline, or there is none yet and the
  deadline has passed (closed cases without a reply are not counted late:
  an administrator closed them, e.g. as spam);
* waiting: no reply yet, deadline not passed.

"Received" counts SMS (a citizen may send several into one case).
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from peewee import fn

from .config import SCHEMA
from .models import Case, InboundMessage, utcnow

NO_KEYWORD = "-"

DEFAULT_RECAP_TEXT = SCHEMA["notify"]["recap_text"].parse(SCHEMA["notify"]["recap_text"].default)


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
    day: date
    start: datetime  # naive UTC, inclusive
    end: datetime  # naive UTC, exclusive
    as_of: datetime  # naive UTC: deadlines after this have not passed yet
    received: int = 0
    unrouted: int = 0  # SMS with no known keyword
    cases: int = 0
    answered: int = 0
    within_deadline: int = 0
    overdue: int = 0
    waiting: int = 0
    keywords: list[KeywordLine] = field(default_factory=list)


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The local calendar day as a naive-UTC [start, end) pair."""
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return _naive_utc(start), _naive_utc(end)


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def daily_recap(day: date, zone: ZoneInfo, *, keyword_names: list[str] | None = None,
                as_of: datetime | None = None) -> Recap:
    """The recap of one local day. ``keyword_names`` are listed even with nothing received."""
    start, end = day_bounds(day, zone)
    moment = min(as_of or utcnow(), end)
    recap = Recap(day=day, start=start, end=end, as_of=moment)
    lines: dict[str, KeywordLine] = {name: KeywordLine(name) for name in (keyword_names or [])}

    def line(name: str | None) -> KeywordLine:
        key = name or NO_KEYWORD
        if key not in lines:
            lines[key] = KeywordLine(key)
        return lines[key]

    received = (InboundMessage
                .select(InboundMessage.keyword, InboundMessage.route, fn.COUNT(InboundMessage.id).alias("n"))
                .where(InboundMessage.received_at >= start, InboundMessage.received_at < moment)
                .group_by(InboundMessage.keyword, InboundMessage.route)
                .tuples())
    for keyword, route, count in received:
        recap.received += count
        if route == "unrouted":
            recap.unrouted += count
        line(keyword).received += count

    cases = (Case
             .select(Case.keyword, Case.status, Case.deadline_at, Case.answered_at)
             .where(Case.opened_at >= start, Case.opened_at < moment)
             .tuples())
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
        elif status != "closed":
            if deadline_at < moment:
                recap.overdue += 1
                entry.overdue += 1
            else:
                recap.waiting += 1
                entry.waiting += 1
    # busiest keywords first; the "no keyword" line last
    recap.keywords = sorted(lines.values(), key=lambda k: (k.keyword == NO_KEYWORD, -k.cases, -k.received, k.keyword))
    return recap


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


def sms_text(recap: Recap, template: str = DEFAULT_RECAP_TEXT) -> str:
    """The recap as one SMS text for the leadership numbers."""
    per_keyword = ", ".join(
        f"{k.keyword} {k.cases}/{k.answered}" for k in recap.keywords if k.cases or k.received
    ) or "-"
    return fill(
        template, date=recap.day.strftime("%d/%m/%Y"), received=recap.received, cases=recap.cases,
        answered=recap.answered, within=recap.within_deadline, overdue=recap.overdue, waiting=recap.waiting,
        unrouted=recap.unrouted, keywords=per_keyword,
    )
