"""The reports page (``/laporan``): any period, per keyword, agency, category and modem; charts,
a printable monthly report for the Bupati, and every table as CSV and XLSX.

Admin and approver see every case, an official those :mod:`webui.access`
lets them see (their keywords and the cases assigned to them). The figures
come from :mod:`modemd.reports`; this module reads the request (strictly,
:mod:`webui.params`: a malformed value is a 400), builds the scope and
renders. A reversed from-to range is turned round, and the page says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_login import current_user
from peewee import fn

from modemd.receive.keywords import KEYWORD_PATTERN, KeywordTable
from modemd.reports import export, figures, flow_steps, tables
from modemd.reports.cache import ReportCache
from modemd.reports.period import PRESETS, Period, between, preset
from modemd.store.models import CATEGORIES, AuditLog, Case, InboundMessage, ModemStatus, OutboundMessage, utcnow

from . import charts, reportwords
from .access import visible_cases, visible_columns
from .auth import roles_required
from .filters import to_local, zone
from .keywordtable import checked_table, keywords_path, owned_keywords
from .params import FIRST_YEAR, LAST_YEAR, BadParameter, arg_int, parse_date

bp = Blueprint("reports", __name__, url_prefix="/laporan")
flow_steps.register()  # the complaint flow's table at the report's extension point

ROLES = ("admin", "approver", "official")
FILTERS = ("kata_kunci", "dinas", "kategori", "modem")
_MODEM_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,32}")
MAX_AGENCY = 128


@dataclass
class Choice:
    """What the request asked for, read and checked."""

    period: Period
    preset: str
    keyword: str = ""
    agency: str = ""
    category: str = ""
    modem: str = ""
    reversed: bool = False
    args: dict[str, str] = field(default_factory=dict)  # to repeat in links (exports, print)


def _today() -> date:
    return to_local(utcnow()).date()


def _date_arg(name: str, default: date) -> date:
    text = request.args.get(name, "")
    if not text:
        return default
    try:
        return parse_date(text)
    except BadParameter:
        abort(400)


def read_choice() -> Choice:
    """The period and filters of the request; 400 for anything malformed."""
    today = _today()
    name = request.args.get("periode", "bulan") or "bulan"
    if name not in PRESETS:
        abort(400)
    args = {"periode": name}
    flipped = False
    if name == "rentang":
        period, flipped = between(_date_arg("dari", today), _date_arg("sampai", today), zone())
        args.update(dari=period.first.isoformat(), sampai=period.last.isoformat())
    elif name == "tahun":
        year = arg_int("tahun", today.year, FIRST_YEAR, LAST_YEAR)
        period = preset(name, today, zone(), year=year)
        args["tahun"] = str(year)
    else:
        period = preset(name, today, zone())
    choice = Choice(period, name, reversed=flipped)
    keyword = request.args.get("kata_kunci", "").strip().upper()
    if keyword and not KEYWORD_PATTERN.match(keyword):
        abort(400)
    agency = " ".join(request.args.get("dinas", "").split())
    if len(agency) > MAX_AGENCY or not agency.isprintable():
        abort(400)
    category = request.args.get("kategori", "")
    if category and category not in CATEGORIES:
        abort(400)
    modem = request.args.get("modem", "")
    if modem and not _MODEM_NAME.fullmatch(modem):
        abort(400)
    choice.keyword, choice.agency, choice.category, choice.modem = keyword, agency, category, modem
    args.update({k: v for k, v in zip(FILTERS, (keyword, agency, category, modem), strict=True) if v})
    choice.args = args
    return choice


def _keyword_table() -> KeywordTable:
    table, _problems = checked_table(keywords_path())
    return table


def _words_of(keyword) -> set[str]:
    """A keyword's stored words: its name and its aliases (a renamed keyword kept as an alias)."""
    return {keyword.name, *(alias.upper() for alias in keyword.aliases)}


def scope_of(choice: Choice, table: KeywordTable, user) -> figures.Scope:
    keywords: set[str] | None = None
    if choice.keyword:
        found = table.find(choice.keyword)
        keywords = _words_of(found) if found else {choice.keyword}
    if choice.agency:
        of_agency: set[str] = set()
        for keyword in table.keywords.values():
            if keyword.agency.casefold() == choice.agency.casefold():
                of_agency |= _words_of(keyword)
        keywords = of_agency if keywords is None else keywords & of_agency
    narrow = None if user.role in ("admin", "approver") else (lambda query: visible_cases(user, query))
    return figures.Scope(
        keywords=tuple(sorted(keywords)) if keywords is not None else None,
        category=choice.category or None,
        modem=choice.modem or None,
        narrow=narrow,
        visible=visible_columns(user),  # the same rule as columns: the report reads the summary
    )


def _cache() -> ReportCache:
    """The app's report cache (one per app: tests and centres never share one)."""
    return current_app.extensions.setdefault("modemd_reports", ReportCache())


def _fingerprint() -> tuple:
    """The newest SMS, case, reply and audited change: a report counted before any of them moved is stale.

    Each is the largest id of its table, read from the primary key's end (no scan). A reply that
    reaches the network later changes no id; the cache's lifetime bounds how long that goes unseen.
    """
    return tuple(model.select(fn.MAX(model.id)).scalar() for model in (InboundMessage, Case, OutboundMessage, AuditLog))


def _viewer(user) -> tuple:
    """Who the figures are for, as the cache tells reports apart: everything, or what this user may see."""
    if user.role in ("admin", "approver"):
        return ("all",)
    return (user.role, user.id, tuple(owned_keywords(user.login)))


def build_report(choice: Choice) -> tuple[figures.Figures, dict[str, tables.Table]]:
    table = _keyword_table()
    scope = scope_of(choice, table, current_user)
    period = choice.period
    key = (period.first, period.last, str(period.zone), scope.keywords, scope.category, scope.modem)
    now = utcnow()
    found = _cache().get(
        (*key, _viewer(current_user), _fingerprint()), now, period.end, lambda: figures.compute(period, scope, now=now)
    )
    context = tables.ReportContext(found, scope, tables.keyword_info(table), reportwords.words())
    return found, tables.build(context)


def _charts(found: figures.Figures, built: dict[str, tables.Table], words: dict[str, str]) -> dict:
    days = built["per_hari"]
    long = len(days.rows) > 31
    points = [(day.strftime("%d/%m") if not long else day.strftime("%m/%y"), cases) for day, _r, cases in days.rows]
    if long:  # a year: one bar per month reads better than 366
        monthly: dict[str, int] = {}
        for label, cases in points:
            monthly[label] = monthly.get(label, 0) + cases
        points = list(monthly.items())
    keywords = built["per_kata_kunci"]
    shares = list(zip(keywords.column("kata_kunci"), keywords.column("persen_tepat_waktu"), strict=True))
    answer = built["waktu_jawab"]
    weekdays = [words[day] for day in tables.WEEKDAYS]
    return {
        "per_hari": charts.columns(points, str(reportwords.title("per_hari")), every=max(1, len(points) // 12)),
        "tepat_waktu": charts.shares(shares, words["persen_tepat_waktu"]),
        "waktu_jawab": charts.columns(
            list(zip(answer.column("lama_menjawab"), answer.column("kasus"), strict=True)),
            str(reportwords.title("waktu_jawab")),
        ),
        "jam_hari": charts.heat_map(found.heat(), weekdays, str(reportwords.title("jam_hari"))),
    }


def _modems() -> list[str]:
    return [name for (name,) in ModemStatus.select(ModemStatus.name).order_by(ModemStatus.name).tuples()]


def _page(template: str, choice: Choice):
    found, built = build_report(choice)
    words = reportwords.words()
    table = _keyword_table()
    agencies = sorted({k.agency for k in table.keywords.values() if k.agency}, key=str.casefold)
    return render_template(
        template,
        choice=choice,
        figures=found,
        tables=built,
        charts=_charts(found, built, words),
        words=words,
        title_of=reportwords.title,
        weekdays=[words[day] for day in tables.WEEKDAYS],
        keyword_names=table.names(),
        agencies=agencies,
        categories=CATEGORIES,
        modems=_modems(),
        presets=PRESETS,
        today=_today(),
        extra_tables=[key for key in built if key not in tables.BUILT_IN_KEYS],
    )


@bp.get("/")
@roles_required(*ROLES)
def index():
    """The report of the chosen period and filters: figures, trend, charts, tables, export links."""
    return _page("reports/index.html", read_choice())


@bp.get("/cetak")
@roles_required(*ROLES)
def printable():
    """The same report as an A4 document for the Bupati (print it, or save it as PDF)."""
    return _page("reports/print.html", read_choice())


def _file_name(choice: Choice, suffix: str) -> str:
    return f"laporan-{choice.period.first.isoformat()}-{choice.period.last.isoformat()}{suffix}"


@bp.get("/csv/<key>")
@roles_required(*ROLES)
def as_csv(key: str):
    """One table of the report as CSV (text cells safe from formula injection)."""
    choice = read_choice()
    _found, built = build_report(choice)
    if key not in built:
        abort(404)
    return Response(
        export.to_csv(built[key]),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f"attachment; filename={_file_name(choice, '-' + key + '.csv')}"},
    )


@bp.get("/xlsx")
@roles_required(*ROLES)
def as_xlsx():
    """Every table of the report as one workbook, one sheet per table."""
    choice = read_choice()
    _found, built = build_report(choice)
    return Response(
        export.to_xlsx(built.values(), reportwords.words()),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f"attachment; filename={_file_name(choice, '.xlsx')}"},
    )
