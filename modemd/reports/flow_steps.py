"""The report's table of the verified complaint flow: time spent in each step, per agency (Muara Enim Pasal 7).

Added at :data:`modemd.reports.tables.EXTRA_TABLES`. The steps are the central
admin's view of all agencies, so the table is left out of a report narrowed to
some keywords, a category, a modem, or an official's own cases.
"""

from __future__ import annotations

from modemd.cases.flow_durations import step_durations

from .tables import EXTRA_TABLES, Column, ReportContext, Table

KEY = "langkah_alur"


def flow_steps(context: ReportContext) -> Table | None:
    scope = context.scope
    if scope.narrow is not None or scope.keywords is not None or scope.category or scope.modem:
        return None
    period = context.figures.period
    steps = step_durations(period.start, period.end)
    if not steps:
        return None
    words = context.words
    rows = [
        (
            step.agency or words.get("tanpa_dinas", "-"),
            words.get(f"tahap_{step.stage}", str(step.stage)),
            step.count,
            round(step.median_seconds / 60, 1),
        )
        for step in steps
    ]
    columns = (Column("dinas", "text"), Column("tahap", "text"), Column("jumlah"), Column("median_langkah", "minutes"))
    return Table(KEY, columns, rows)


def register() -> None:
    """Put the table on the report (once)."""
    if flow_steps not in EXTRA_TABLES:
        EXTRA_TABLES.append(flow_steps)
