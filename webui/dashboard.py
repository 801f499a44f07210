"""The dashboard: today's figures (each linking to its list), new cases per day over 30 days, the oldest open
cases, and the modems with signal, credit and queue.

The 30 days are counted in one query: a SUM(CASE ...) column per local day, the day boundaries computed here
in the centre's time zone, so the same SQL runs on SQLite, PostgreSQL and MariaDB and no database needs to
know the zone. Yesterday and the 7-day average come from the same row. The chart is inline SVG drawn on the
server, with a table of the same numbers for screen readers and printouts.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask import Blueprint, g, render_template
from flask_babel import format_decimal
from flask_login import current_user, login_required
from peewee import SQL, fn
from peewee import Case as SqlCase

from modemd.jobs.balance import decode_problems
from modemd.run.health import shows_sim_full, signal_current
from modemd.states import CaseStatus, OutboundState
from modemd.store.models import Case, InboundMessage, ModemStatus, OutboundMessage, utcnow
from modemd.store.sqlcache import Compiled, Param
from webui.admin.operator_messages import unseen_count

from .access import open_counts, visible_cases
from .filters import old_signal_text, zone

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


def today_range() -> tuple[datetime, datetime, str]:
    """Start and end of today in the centre's time zone, as naive UTC, and the local date."""
    local_now = datetime.now(UTC).astimezone(zone())
    start = datetime.combine(local_now.date(), time(0), tzinfo=zone()).astimezone(UTC).replace(tzinfo=None)
    return start, start + timedelta(days=1), local_now.date().isoformat()


CHART_DAYS = 30
OLDEST_SHOWN = 5


def day_starts(today_start: datetime, days: int) -> list[datetime]:
    """The starts of the last ``days`` local days (today last) and of tomorrow, as naive UTC."""
    # days of 24 hours: Indonesia's zones (WIB, WITA, WIT) have no summer time
    return [today_start - timedelta(days=days - 1 - i) for i in range(days + 1)]


def cases_per_day(user, starts: list[datetime]) -> list[int]:
    """New cases the user sees, per day between consecutive ``starts`` (one query over the opened_at range)."""
    columns = [
        fn.SUM(SqlCase(None, [((Case.opened_at >= a) & (Case.opened_at < b), 1)], 0))
        for a, b in zip(starts, starts[1:], strict=False)
    ]
    query = visible_cases(user, Case.select(*columns)).where(
        (Case.opened_at >= starts[0]) & (Case.opened_at < starts[-1])
    )
    row = query.tuples().first() or ()
    return [int(value or 0) for value in row] or [0] * (len(starts) - 1)


def oldest_open(user, limit: int = OLDEST_SHOWN) -> list[Case]:
    """The open cases the user sees that have waited longest."""
    query = visible_cases(
        user, Case.select(Case.id, Case.citizen, Case.keyword, Case.status, Case.opened_at, Case.deadline_at)
    )
    return list(query.where(Case.status == CaseStatus.OPEN).order_by(Case.opened_at, Case.id).limit(limit))


def chart(per_day: list[int], starts: list[datetime]) -> dict:
    """What the template draws: a bar per day scaled to the busiest day, with its local date."""
    top = max(per_day) or 1
    height = 60
    bars = []
    for i, count in enumerate(per_day):
        day = (starts[i] + timedelta(hours=12)).replace(tzinfo=UTC).astimezone(zone()).date()
        h = round(count * height / top)
        bars.append({"x": i * 10, "y": height - h, "h": h, "count": count, "day": day})
    return {"bars": bars, "top": top, "height": height, "width": len(per_day) * 10}


def _count(model, condition) -> object:
    return model.select(fn.COUNT(SQL("1"))).where(condition)


def _today(model, column) -> Compiled:
    """COUNT of ``model``'s rows whose ``column`` lies in [start, end) (SQL compiled once, modemd.store.sqlcache:
    peewee builds a query in ~0.1 ms, about what SQLite takes to count)."""
    return Compiled(lambda: _count(model, (column >= Param("start")) & (column < Param("end"))))


# The centre-wide received, opened and answered are shown to those who see everything; pending and failed to
# everyone. Every message counts, also those that made no case (short codes, blocked senders).
_RECEIVED = _today(InboundMessage, InboundMessage.received_at)
_OPENED = _today(Case, Case.opened_at)
_ANSWERED = _today(Case, Case.answered_at)
_PENDING = Compiled(
    lambda: _count(OutboundMessage, OutboundMessage.state.in_((OutboundState.PENDING, OutboundState.SENDING)))
)
_FAILED = Compiled(
    lambda: _count(
        OutboundMessage,
        (OutboundMessage.state == OutboundState.FAILED) & (OutboundMessage.created_at >= Param("start")),
    )
)
_MODEMS = Compiled(lambda: ModemStatus.select().order_by(ModemStatus.name))


def _scalar(query: Compiled, **values) -> int:
    return int(query.scalar(**values) or 0)


@bp.get("/")
@login_required
def index():
    """Modem health, queue depth and today's figures for the cases this user sees."""
    start, end, today = today_range()
    now = utcnow()
    open_count, overdue = open_counts(current_user, now)
    g.unanswered = open_count  # the badge in the menu, without counting twice
    if current_user.sees_everything:
        received, opened, answered = (_scalar(query, start=start, end=end) for query in (_RECEIVED, _OPENED, _ANSWERED))
    else:
        # one walk over the official's cases that moved today: opened, answered, and each one's messages of today
        # (counted by the case index for the cases walked only; a second query needed an IN list of them)
        received_today = InboundMessage.select(fn.COUNT(SQL("1"))).where(
            (InboundMessage.case == Case.id)
            & (InboundMessage.received_at >= start)
            & (InboundMessage.received_at < end)
        )
        moved = visible_cases(current_user, Case.select(Case.opened_at, Case.answered_at, received_today)).where(
            (Case.last_message_at >= start) | (Case.opened_at >= start) | (Case.answered_at >= start)
        )
        opened = answered = received = 0
        for opened_at, answered_at, messages_today in moved.tuples():
            opened += start <= opened_at < end
            answered += answered_at is not None and start <= answered_at < end
            received += messages_today
    figures = {
        "received": received,
        "opened": opened,
        "answered": answered,
        "open": open_count,
        "overdue": overdue,
        "pending": _scalar(_PENDING),
        "failed": _scalar(_FAILED, start=start),
    }
    modems = _MODEMS.rows()
    # a full SIM stops reception while the modem still looks "ready": said next to its state
    sim_full = {m.name for m in modems if shows_sim_full(m)}
    balance_problems = {m.name: {p.value for p in decode_problems(m.balance_warning)} for m in modems}
    operator_new = unseen_count() if current_user.role == "admin" else None
    # an absent modem (or a stopped daemon) leaves its last signal behind: shown with its age, not as live
    old_signal = {
        m.name: old_signal_text((now - m.last_contact).total_seconds())
        for m in modems
        if m.signal_dbm is not None and m.last_contact is not None and not signal_current(m, now)
    }
    starts = day_starts(start, CHART_DAYS)
    per_day = cases_per_day(current_user, starts)
    # the 7 days before today: today is still running
    trend = {"yesterday": per_day[-2], "week_average": format_decimal(sum(per_day[-8:-1]) / 7, "0.#")}
    return render_template(
        "dashboard.html",
        figures=figures,
        modems=modems,
        sim_full=sim_full,
        old_signal=old_signal,
        today=today,
        now=now,
        balance_problems=balance_problems,
        operator_new=operator_new,
        trend=trend,
        chart=chart(per_day, starts),
        oldest=oldest_open(current_user),
    )
