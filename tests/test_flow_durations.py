"""Time per step of the verified flow, per agency (modemd/cases/flow_durations.py), on all three databases."""

from __future__ import annotations

import random
import statistics
from datetime import datetime, timedelta

from modemd.cases.flow_durations import step_durations
from modemd.states import FlowStage
from modemd.store.models import Case, CaseStep

START = datetime(2026, 11, 1)
END = datetime(2026, 12, 1)


def _case() -> Case:
    return Case.create(keyword="DISHUB", citizen="+6281211112222", deadline_at=START, flow="verified", stage="verify")


def _step(case, stage, agency, entered, seconds):
    left = entered + timedelta(seconds=seconds) if seconds is not None else None
    return CaseStep.create(
        case=case, stage=stage, agency=agency, actor="admin", entered_at=entered, left_at=left, seconds=seconds
    )


def test_medians_and_counts_per_agency_and_step_match_an_independent_computation(any_db):
    rng = random.Random(12)
    case = _case()
    expected: dict[tuple[str, str], list[int]] = {}
    for _ in range(120):
        agency = rng.choice(["Dinas Perhubungan", "Dinas Kesehatan", ""])
        stage = rng.choice([FlowStage.VERIFY, FlowStage.ASSIGNED, FlowStage.REVIEW])
        entered = START + timedelta(minutes=rng.randrange(0, 60 * 24 * 40))  # some end after the period
        seconds = rng.randrange(0, 20000)
        _step(case, stage, agency, entered, seconds)
        left = entered + timedelta(seconds=seconds)
        if START <= left < END:
            expected.setdefault((agency, str(stage)), []).append(seconds)
    _step(case, FlowStage.ASSIGNED, "Dinas Perhubungan", START, None)  # still running: not counted

    got = {(r.agency, str(r.stage)): (r.count, r.median_seconds) for r in step_durations(START, END)}
    want = {key: (len(values), float(statistics.median(values))) for key, values in expected.items()}
    assert got == want


def test_even_and_odd_groups_a_single_step_and_an_empty_period(any_db):
    case = _case()
    for seconds in (10, 40, 20, 30):  # even: the mean of 20 and 30
        _step(case, FlowStage.VERIFY, "A", START, seconds)
    for seconds in (5, 500, 7):  # odd: the middle one
        _step(case, FlowStage.ASSIGNED, "A", START, seconds)
    _step(case, FlowStage.REVIEW, "B", START, 61)
    rows = step_durations(START, END)
    assert [(r.agency, r.stage, r.count, r.median_seconds) for r in rows] == [
        ("A", FlowStage.VERIFY, 4, 25.0),
        ("A", FlowStage.ASSIGNED, 3, 7.0),
        ("B", FlowStage.REVIEW, 1, 61.0),
    ]
    assert step_durations(END, END + timedelta(days=30)) == []
    assert step_durations(END, START) == []  # a reversed range holds nothing
