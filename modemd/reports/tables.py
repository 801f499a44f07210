"""The report as named tables: what the page, the printed report, the CSV and the XLSX all show.

Each :class:`Table` has a key (also its CSV file and XLSX sheet name), typed
columns and rows of plain values (``int``, ``float``, ``str``, ``date``,
``datetime`` in local time, ``None``), so every output writes the same
numbers. Words shown to people (column headings, figure names, weekdays) are
looked up in ``words`` (the web UI passes them translated); a missing word
shows its key.

Extension point: :data:`EXTRA_TABLES` holds builders ``(ReportContext) ->
Table | None`` that run after the built-in tables; the page and both exports
show whatever they return. The complaint flow's "time spent in each step, per
agency" table is meant to be added there::

    from modemd.reports.tables import EXTRA_TABLES
    EXTRA_TABLES.append(flow_steps_table)   # def flow_steps_table(context) -> Table | None
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from modemd.sms import phone

from .figures import ANSWER_BOUNDS, Counts, Figures, Scope

Kind = Literal["text", "int", "number", "percent", "minutes", "date", "datetime"]
NO_KEYWORD = "-"


@dataclass(frozen=True)
class Column:
    key: str
    kind: Kind = "int"


@dataclass
class Table:
    key: str
    columns: tuple[Column, ...]
    rows: list[tuple] = field(default_factory=list)

    def column(self, key: str) -> list:
        index = [c.key for c in self.columns].index(key)
        return [row[index] for row in self.rows]


@dataclass(frozen=True)
class KeywordInfo:
    """Stored keyword -> (the keyword's name now, its agency): a renamed keyword kept as an alias
    counts under its new name."""

    names: Mapping[str, tuple[str, str]]  # every name and alias, upper case -> (name, agency)

    def resolve(self, stored: str | None) -> tuple[str, str]:
        if stored is None:
            return NO_KEYWORD, ""
        return self.names.get(stored.upper(), (stored, ""))

    def agency_of(self, stored: str | None) -> str:
        return self.resolve(stored)[1]


@dataclass
class ReportContext:
    figures: Figures
    scope: Scope
    keywords: KeywordInfo
    words: Mapping[str, str]


TableBuilder = Callable[[ReportContext], "Table | None"]
#: more tables, appended by other parts (see the module docstring)
EXTRA_TABLES: list[TableBuilder] = []

COUNT_COLUMNS = (
    Column("sms_masuk"),
    Column("kasus"),
    Column("dijawab"),
    Column("tepat_waktu"),
    Column("terlambat"),
    Column("masih_terbuka"),
    Column("balasan_gagal"),
    Column("persen_tepat_waktu", "percent"),
)
SUMMARY_FIGURES = (
    "sms_masuk",
    "kasus",
    "dijawab",
    "tepat_waktu",
    "terlambat",
    "masih_terbuka",
    "balasan_gagal",
)
WEEKDAYS = ("senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu")
ANSWER_CLASSES = ("<15m", "15-60m", "1-3j", "3-6j", "6-24j", "1-3h", ">3h")  # one per ANSWER_BOUNDS class
assert len(ANSWER_CLASSES) == len(ANSWER_BOUNDS) + 1


def _count_cells(counts: Counts) -> tuple:
    return (
        counts.received,
        counts.cases,
        counts.answered,
        counts.within,
        counts.late,
        counts.open,
        counts.replies_failed,
        counts.on_time_share,
    )


def _counts_of(counts: Counts, key: str) -> int:
    return dict(zip(SUMMARY_FIGURES, _count_cells(counts), strict=False))[key]


def _change(now: float | None, before: float | None) -> float | None:
    if now is None or before is None or before == 0:
        return None
    return (now - before) / before


def _minutes(seconds: int | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def summary(context: ReportContext) -> Table:
    figures, words = context.figures, context.words
    rows: list[tuple] = []
    for key in SUMMARY_FIGURES:
        now, before = _counts_of(figures.totals, key), _counts_of(figures.previous, key)
        rows.append((words.get(key, key), now, before, _change(now, before)))
    share, before_share = figures.totals.on_time_share, figures.previous.on_time_share
    rows.append((words.get("persen_tepat_waktu", "persen_tepat_waktu"), share, before_share, None))
    rows.append((words.get("median_menit", "median_menit"), _minutes(figures.median_seconds), None, None))
    rows.append((words.get("p90_menit", "p90_menit"), _minutes(figures.p90_seconds), None, None))
    rows.append((words.get("pengirim_berulang", "pengirim_berulang"), figures.repeat_sender_count, None, None))
    return Table(
        "ringkasan",
        (
            Column("angka", "text"),
            Column("periode_ini", "number"),
            Column("periode_lalu", "number"),
            Column("perubahan", "percent"),
        ),
        rows,
    )


def _merged_by(context: ReportContext, key: Callable[[str | None], str]) -> dict[str, Counts]:
    merged: dict[str, Counts] = {}
    for stored, counts in context.figures.per_keyword.items():
        merged.setdefault(key(stored), Counts()).add(counts)
    return merged


def per_keyword(context: ReportContext) -> Table:
    info = context.keywords
    merged = _merged_by(context, lambda stored: info.resolve(stored)[0])
    agency = {info.resolve(stored)[0]: info.agency_of(stored) for stored in context.figures.per_keyword}
    order = sorted(merged, key=lambda name: (name == NO_KEYWORD, -merged[name].cases, -merged[name].received, name))
    return Table(
        "per_kata_kunci",
        (Column("kata_kunci", "text"), Column("dinas", "text"), *COUNT_COLUMNS),
        [(name, agency.get(name, ""), *_count_cells(merged[name])) for name in order],
    )


def per_agency(context: ReportContext) -> Table:
    merged = _merged_by(context, context.keywords.agency_of)
    order = sorted(merged, key=lambda name: (name == "", -merged[name].cases, name))
    return Table(
        "per_dinas",
        (Column("dinas", "text"), *COUNT_COLUMNS),
        [(name or context.words.get("tanpa_dinas", "tanpa_dinas"), *_count_cells(merged[name])) for name in order],
    )


def per_day(context: ReportContext) -> Table:
    return Table(
        "per_hari",
        (Column("tanggal", "date"), Column("sms_masuk"), Column("kasus")),
        [tuple(row) for row in context.figures.per_day()],
    )


def answer_times(context: ReportContext) -> Table:
    classes = context.figures.answer_classes
    total = sum(classes)
    return Table(
        "waktu_jawab",
        (Column("lama_menjawab", "text"), Column("kasus"), Column("persen", "percent")),
        [
            (context.words.get(name, name), count, count / total if total else None)
            for name, count in zip(ANSWER_CLASSES, classes, strict=True)
        ],
    )


def hour_by_weekday(context: ReportContext) -> Table:
    grid = context.figures.heat()
    return Table(
        "jam_hari",
        (Column("hari", "text"), *(Column(f"{hour:02d}") for hour in range(24)), Column("jumlah")),
        [(context.words.get(day, day), *grid[index], sum(grid[index])) for index, day in enumerate(WEEKDAYS)],
    )


def repeat_senders(context: ReportContext) -> Table:
    return Table(
        "pengirim_berulang",
        (Column("nomor", "text"), Column("sms_masuk"), Column("kasus")),
        [(phone.mask(number), messages, cases) for number, messages, cases in context.figures.repeat_senders],
    )


def _local(moment: datetime, context: ReportContext) -> datetime:
    return moment.replace(tzinfo=UTC).astimezone(context.figures.period.zone).replace(tzinfo=None)


def oldest_open(context: ReportContext) -> Table:
    today = _local(context.figures.as_of, context)
    rows = []
    for case in context.figures.oldest_open:
        name, agency = context.keywords.resolve(case.keyword)
        opened = _local(case.opened_at, context)
        rows.append((case.id, name, agency, opened, (today - opened).days, phone.mask(case.citizen)))
    return Table(
        "kasus_terlama",
        (
            Column("kasus_no"),
            Column("kata_kunci", "text"),
            Column("dinas", "text"),
            Column("dibuka", "datetime"),
            Column("umur_hari"),
            Column("nomor", "text"),
        ),
        rows,
    )


BUILT_IN: tuple[TableBuilder, ...] = (
    summary,
    per_keyword,
    per_agency,
    per_day,
    answer_times,
    hour_by_weekday,
    repeat_senders,
    oldest_open,
)

BUILT_IN_KEYS = (
    "ringkasan",
    "per_kata_kunci",
    "per_dinas",
    "per_hari",
    "waktu_jawab",
    "jam_hari",
    "pengirim_berulang",
    "kasus_terlama",
)


def build(context: ReportContext) -> dict[str, Table]:
    """Every table of the report, built-in first, by key."""
    tables: dict[str, Table] = {}
    for builder in (*BUILT_IN, *EXTRA_TABLES):
        table = builder(context)
        if table is not None:
            tables[table.key] = table
    return tables


def keyword_info(keywords) -> KeywordInfo:
    """From a :class:`modemd.receive.keywords.KeywordTable`: every name and alias -> (name, agency)."""
    names: dict[str, tuple[str, str]] = {}
    for keyword in keywords.keywords.values():
        for word in (keyword.name, *keyword.aliases):
            names[word.upper()] = (keyword.name, keyword.agency)
    return KeywordInfo(names)
