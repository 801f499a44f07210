"""The report's figures, counted by each database, equal the same figures computed in Python.

The data is generated (tests/reportdata.py) over two months around a period,
so the previous period has data too; the expected figures are computed from
the rows by reportdata.Expected, which shares no code with the SQL.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from reportdata import JAKARTA, Expected, generate

from modemd.reports import figures
from modemd.reports.figures import Scope
from modemd.reports.period import Period
from modemd.reports.summary import Visible
from modemd.store.models import Case

NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30), JAKARTA)
DATA_FROM, DATA_TO = datetime(2026, 9, 25), datetime(2026, 12, 5)


def _check(report: figures.Figures, expected: Expected) -> None:
    assert report.per_keyword == expected.per_keyword()
    assert report.totals == expected.totals()
    assert report.previous == expected.previous()
    assert report.median_seconds == expected.percentile(0.5)
    assert report.p90_seconds == expected.percentile(0.9)
    assert report.answer_classes == expected.answer_classes()
    assert sum(report.answer_classes) == report.totals.answered
    assert report.heat() == expected.heat()
    assert report.per_day() == expected.per_day()
    assert (report.repeat_senders, report.repeat_sender_count) == expected.repeat_senders()
    assert [c.id for c in report.oldest_open] == expected.oldest_open()


def test_a_month_that_is_over(any_db):
    generate(1, DATA_FROM, DATA_TO)
    now = datetime(2026, 12, 6)
    report = figures.compute(NOVEMBER, now=now)
    expected = Expected(NOVEMBER, now)
    assert report.totals.cases > 50 and report.previous.cases > 50  # the data reaches both periods
    assert report.totals.late and report.totals.open and report.totals.replies_failed and report.repeat_senders
    _check(report, expected)


def test_a_month_still_running_counts_up_to_now(any_db):
    generate(2, DATA_FROM, DATA_TO)
    now = datetime(2026, 11, 17, 9, 30)
    report = figures.compute(NOVEMBER, now=now)
    assert report.as_of == now
    _check(report, Expected(NOVEMBER, now))
    # later cases exist in the data but are not counted yet
    assert (
        report.totals.cases
        < Case.select().where(Case.opened_at >= NOVEMBER.start, Case.opened_at < NOVEMBER.end).count()
    )


@pytest.mark.parametrize(
    "scope",
    [
        Scope(keywords=("DISHUB",)),
        Scope(keywords=("DISHUB", "INFO")),
        Scope(category="complaint"),
        Scope(modem="m2"),
        Scope(keywords=("DINKES",), category="question", modem="m1"),
        Scope(keywords=()),  # an agency with no keyword: nothing, not everything
    ],
    ids=["keyword", "two-keywords", "category", "modem", "all-three", "empty"],
)
def test_filters(any_db, scope):
    generate(3, DATA_FROM, DATA_TO)
    now = datetime(2026, 12, 6)
    _check(figures.compute(NOVEMBER, scope, now=now), Expected(NOVEMBER, now, scope))
    if scope.keywords == ():
        assert figures.compute(NOVEMBER, scope, now=now).totals == figures.Counts()


def test_the_visibility_rule_narrows_every_figure(any_db):
    """What an official sees: their keyword, plus the cases assigned to them (here: none)."""
    generate(4, DATA_FROM, DATA_TO)
    now = datetime(2026, 12, 6)
    scope = Scope(narrow=lambda query: query.where(Case.keyword.in_(["DINKES"])))
    report = figures.compute(NOVEMBER, scope, now=now)
    _check(report, Expected(NOVEMBER, now, scope, visible=lambda case: case["keyword"] == "DINKES"))
    assert set(report.per_keyword) == {"DINKES"}


def test_the_visibility_rule_as_columns_reads_the_summary_and_gives_the_same_figures(any_db, make_user):
    """An official's report: their keyword's direct cases and the cases assigned to them, any keyword."""
    generate(5, DATA_FROM, DATA_TO)
    official = make_user("dinkes")
    ids = [case_id for (case_id,) in Case.select(Case.id).tuples()]
    Case.update(owner=official).where(Case.id.in_(ids[::7])).execute()
    Case.update(flow="verified").where(Case.id.in_(ids[::5])).execute()
    now = datetime(2026, 12, 6)
    rule = (Case.keyword.in_(["DINKES"]) & (Case.flow == "direct")) | (Case.owner == official.id)
    scope = Scope(narrow=lambda query: query.where(rule), visible=Visible(("DINKES",), official.id))
    report = figures.compute(NOVEMBER, scope, now=now)
    twin = lambda case: (case["keyword"] == "DINKES" and case["flow"] == "direct") or case["owner"] == official.id  # noqa: E731
    _check(report, Expected(NOVEMBER, now, scope, visible=twin))
    assert len(report.per_keyword) > 1  # cases of other keywords assigned to the official count too
