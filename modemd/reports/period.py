"""The period of a report: local dates, their naive-UTC bounds, the previous period of the same length.

A period is whole local days, first to last inclusive, in the centre's time
zone; its bounds are [first 00:00, the day after last 00:00) as naive UTC,
the form every time in the database has. The presets:

* ``hari`` -- today;
* ``minggu`` -- this week, Monday to today;
* ``bulan`` -- this month, the 1st to today;
* ``tahun`` -- a whole calendar year (365 or 366 days);
* ``rentang`` -- from one date to another (a reversed pair is turned round).

The previous period is the one of the same number of days that ends where
this one starts, for the trend.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PRESETS = ("hari", "minggu", "bulan", "tahun", "rentang")


@dataclass(frozen=True)
class Period:
    first: date  # local, inclusive
    last: date  # local, inclusive
    zone: ZoneInfo

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"period ends ({self.last}) before it starts ({self.first})")

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def start(self) -> datetime:
        """Naive UTC, inclusive."""
        return local_midnight(self.first, self.zone)

    @property
    def end(self) -> datetime:
        """Naive UTC, exclusive."""
        return local_midnight(self.last + timedelta(days=1), self.zone)

    def previous(self) -> Period:
        """The period of as many days just before this one."""
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1), self.zone)

    def dates(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range(self.days)]


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


def preset(name: str, today: date, zone: ZoneInfo, *, year: int | None = None) -> Period:
    """The period a preset names, as seen on the local date ``today``."""
    if name == "hari":
        return Period(today, today, zone)
    if name == "minggu":
        return Period(today - timedelta(days=today.weekday()), today, zone)
    if name == "bulan":
        return Period(today.replace(day=1), today, zone)
    if name == "tahun":
        chosen = year if year is not None else today.year
        return Period(date(chosen, 1, 1), date(chosen, 12, 31), zone)
    raise ValueError(f"unknown period {name!r} (expected one of: {', '.join(PRESETS)})")


def between(first: date, last: date, zone: ZoneInfo) -> tuple[Period, bool]:
    """The period from ``first`` to ``last``; a reversed pair is turned round (the flag says it was)."""
    if last < first:
        return Period(last, first, zone), True
    return Period(first, last, zone), False
