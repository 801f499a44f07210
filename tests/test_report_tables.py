"""The report's periods and tables: presets, the previous period, renamed keywords, the extension point."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from modemd.reports import tables
from modemd.reports.figures import Counts, Figures, Scope
from modemd.reports.period import Period, between, preset

JAKARTA = ZoneInfo("Asia/Jakarta")
WEDNESDAY = date(2026, 12, 2)


@pytest.mark.parametrize(
    ("name", "first", "last"),
    [
        ("hari", WEDNESDAY, WEDNESDAY),
        ("minggu", date(2026, 11, 30), WEDNESDAY),
        ("bulan", date(2026, 12, 1), WEDNESDAY),
        ("tahun", date(2026, 1, 1), date(2026, 12, 31)),
    ],
)
def test_presets(name, first, last):
    period = preset(name, WEDNESDAY, JAKARTA)
    assert (period.first, period.last) == (first, last)


def test_bounds_are_local_midnights_in_utc_and_the_previous_period_is_as_long():
    period = Period(date(2026, 11, 1), date(2026, 11, 30), JAKARTA)
    assert period.start == datetime(2026, 10, 31, 17) and period.end == datetime(2026, 11, 30, 17)
    before = period.previous()
    assert (before.first, before.last, before.days) == (date(2026, 10, 2), date(2026, 10, 31), 30)


def test_a_leap_year_has_366_days_and_so_has_its_previous_period():
    period = preset("tahun", WEDNESDAY, JAKARTA, year=2028)
    assert period.days == 366 and date(2028, 2, 29) in period.dates()
    assert period.previous().days == 366 and period.previous().last == date(2027, 12, 31)


def test_a_reversed_range_is_turned_round_and_a_period_cannot_be_made_backwards():
    period, flipped = between(date(2026, 3, 31), date(2026, 3, 1), JAKARTA)
    assert flipped and (period.first, period.last) == (date(2026, 3, 1), date(2026, 3, 31))
    with pytest.raises(ValueError, match="before it starts"):
        Period(date(2026, 3, 31), date(2026, 3, 1), JAKARTA)
    with pytest.raises(ValueError, match="expected one of"):
        preset("abad", WEDNESDAY, JAKARTA)


def _figures(per_keyword: dict) -> Figures:
    period = Period(date(2026, 11, 1), date(2026, 11, 30), JAKARTA)
    total = Counts()
    for line in per_keyword.values():
        total.add(line)
    return Figures(period, period.end, total, per_keyword, Counts(), None, None, [0] * 7, {}, {}, [], 0)


@pytest.fixture(autouse=True)
def _built_in_tables_only(monkeypatch):
    """These tests build reports without a database: no table registered by the web UI (the flow's steps)."""
    monkeypatch.setattr(tables, "EXTRA_TABLES", [])


def test_a_renamed_keyword_kept_as_an_alias_is_one_line_and_one_agency():
    info = tables.KeywordInfo({"PERHUB": ("PERHUB", "Dinas Perhubungan"), "DISHUB": ("PERHUB", "Dinas Perhubungan")})
    found = _figures(
        {"DISHUB": Counts(received=3, cases=2), "PERHUB": Counts(received=1, cases=1), None: Counts(received=4)}
    )
    built = tables.build(tables.ReportContext(found, Scope(), info, {}))
    assert built["per_kata_kunci"].rows[0][:4] == ("PERHUB", "Dinas Perhubungan", 4, 3)
    assert built["per_kata_kunci"].rows[-1][0] == "-"  # the "no keyword" line last
    assert [row[:3] for row in built["per_dinas"].rows] == [("Dinas Perhubungan", 4, 3), ("tanpa_dinas", 4, 0)]


def test_the_extension_point_adds_a_table_to_every_output(monkeypatch):
    def flow_steps(context: tables.ReportContext) -> tables.Table:
        return tables.Table(
            "langkah_alur", (tables.Column("dinas", "text"), tables.Column("menit", "minutes")), [("X", 1.5)]
        )

    monkeypatch.setattr(tables, "EXTRA_TABLES", [flow_steps])
    built = tables.build(tables.ReportContext(_figures({}), Scope(), tables.KeywordInfo({}), {}))
    assert list(built)[-1] == "langkah_alur" and set(tables.BUILT_IN_KEYS) < set(built)


def test_the_cache_keeps_a_running_period_a_minute_and_an_ended_one_ten():
    from datetime import timedelta

    from modemd.reports.cache import ENDED_SECONDS, RUNNING_SECONDS, ReportCache

    cache, calls = ReportCache(max_entries=2), []
    now = datetime(2026, 12, 2, 10)

    def count(value):
        return lambda: calls.append(value) or value

    running_end, ended = now + timedelta(hours=5), now - timedelta(days=1)
    assert cache.get("a", now, running_end, count(1)) == 1
    assert cache.get("a", now + timedelta(seconds=RUNNING_SECONDS - 1), running_end, count(2)) == 1
    assert cache.get("a", now + timedelta(seconds=RUNNING_SECONDS), running_end, count(3)) == 3
    assert cache.get("b", now, ended, count(4)) == 4
    assert cache.get("b", now + timedelta(seconds=ENDED_SECONDS - 1), ended, count(5)) == 4
    cache.get("c", now, ended, count(6))  # a third report pushes out the least recently used
    assert cache.get("a", now + timedelta(seconds=RUNNING_SECONDS), running_end, count(7)) == 7
    assert calls == [1, 3, 4, 6, 7]
