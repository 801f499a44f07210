"""How long each step of the verified flow takes, per agency: the median and the count, in SQL.

A step counts in the period it *ended* in (its time is known then); steps
still running are not in the medians. Each step row carries the agency that
held the case during it, so a case re-assigned from one agency to another
counts once for each, with its own time.

The median is computed by the database on SQLite, PostgreSQL and MariaDB
alike, with window functions and integer arithmetic only: every step of an
(agency, stage) group is ranked by its seconds, and the one or two middle
rows (``2 * rank`` between ``count`` and ``count + 2``) are averaged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from peewee import Select, fn

from modemd.states import FlowStage
from modemd.store.models import CaseStep, database_proxy


@dataclass(frozen=True)
class StepTime:
    """One agency's figures for one stage in a period."""

    agency: str  # "" for steps no agency held (a case rejected before it reached one)
    stage: FlowStage
    count: int
    median_seconds: float


def step_durations(start: datetime, end: datetime) -> list[StepTime]:
    """The steps that ended in ``[start, end)`` (naive UTC), grouped by agency and stage, in flow order."""
    group = [CaseStep.agency, CaseStep.stage]
    ranked = (
        CaseStep.select(
            CaseStep.agency,
            CaseStep.stage,
            CaseStep.seconds,
            fn.ROW_NUMBER().over(partition_by=group, order_by=[CaseStep.seconds, CaseStep.id]).alias("place"),
            fn.COUNT(CaseStep.id).over(partition_by=group).alias("size"),
        )
        .where(CaseStep.left_at >= start, CaseStep.left_at < end, CaseStep.seconds.is_null(False))
        .alias("ranked")
    )
    middle = (2 * ranked.c.place >= ranked.c.size) & (2 * ranked.c.place <= ranked.c.size + 2)
    query = (
        Select(
            from_list=[ranked],
            columns=[ranked.c.agency, ranked.c.stage, fn.MAX(ranked.c.size), fn.AVG(ranked.c.seconds)],
        )
        .where(middle)
        .group_by(ranked.c.agency, ranked.c.stage)
        .bind(database_proxy.obj)
    )
    order = list(FlowStage)
    rows = [
        StepTime(agency or "", FlowStage(stage), int(size), float(median))
        for agency, stage, size, median in query.tuples()
    ]
    return sorted(rows, key=lambda r: (r.agency, order.index(r.stage)))
