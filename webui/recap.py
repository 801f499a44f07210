"""The daily recap page (rekap): the numbers the leadership gets by SMS, for any day, also as CSV.

Muara Enim Pasal 3 (2): every day all information is reported upward. The
numbers come from :func:`modemd.jobs.recap.daily_recap`, the same function the
recap SMS uses, over the same period (the 24 hours up to ``recap_time`` of
the chosen day), so the page and the SMS always agree. The default day is the
period now running: after ``recap_time`` that is tomorrow's.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from flask import Blueprint, Response, render_template, request

from modemd.csvcells import spreadsheet_safe
from modemd.jobs import recap
from modemd.receive.keywords import KeywordError, load_keywords
from modemd.store.models import utcnow

from . import modemd_config
from .auth import roles_required
from .filters import zone
from .params import BadParameter, parse_date

bp = Blueprint("recap", __name__, url_prefix="/rekap")

ROLES = ("admin", "approver", "official")


def _recap_time():
    return modemd_config().notify.recap_time


def _current_day() -> date:
    """The day of the recap period now running."""
    return recap.period_of(utcnow(), zone(), _recap_time())


def _day() -> date:
    """``?tanggal=YYYY-MM-DD``, else the period now running; a nonsense date is that one too."""
    today = _current_day()
    try:
        chosen = parse_date(request.args.get("tanggal", ""))
    except BadParameter:
        return today
    return min(chosen, today)


def _summary(day: date) -> recap.Recap:
    return recap.daily_recap(day, zone(), recap_time=_recap_time(), keyword_names=_keyword_names())


def _keyword_names() -> list[str] | None:
    try:
        return load_keywords(modemd_config().keywords_path).names()
    except KeywordError:
        return None  # a broken keywords.ini is reported elsewhere; the recap still shows what came in


def _template() -> str:
    return modemd_config().notify.recap_text


@bp.get("/")
@roles_required(*ROLES)
def index():
    """One day's recap: received, answered, within deadline, overdue, per keyword, and the SMS text."""
    day = _day()
    summary = _summary(day)
    today = _current_day()
    return render_template(
        "recap/index.html",
        recap=summary,
        sms=recap.sms_text(summary, _template()),
        period=recap.period_text(summary),
        previous=day - timedelta(days=1),
        following=day + timedelta(days=1) if day < today else None,
        today=today,
    )


@bp.get("/csv")
@roles_required(*ROLES)
def as_csv():
    """The same recap as a CSV file (per keyword, plus a total line)."""
    day = _day()
    summary = _summary(day)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["tanggal", "kata_kunci", "sms_masuk", "kasus", "dijawab", "tepat_waktu", "terlambat", "menunggu"])
    for line in summary.keywords:
        writer.writerow(
            [
                day.isoformat(),
                spreadsheet_safe(line.keyword),
                line.received,
                line.cases,
                line.answered,
                line.within_deadline,
                line.overdue,
                line.waiting,
            ]
        )
    writer.writerow(
        [
            day.isoformat(),
            "TOTAL",
            summary.received,
            summary.cases,
            summary.answered,
            summary.within_deadline,
            summary.overdue,
            summary.waiting,
        ]
    )
    return Response(
        out.getvalue(),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f"attachment; filename=rekap-{day.isoformat()}.csv"},
    )
