"""The dashboard: modems, queue depth, and today's received / answered / overdue, each linking to its list."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from flask import Blueprint, g, render_template
from flask_login import current_user, login_required

from modemd.health import shows_sim_full
from modemd.models import Case, InboundMessage, ModemStatus, OutboundMessage, utcnow

from .access import open_counts, visible_cases
from .filters import zone

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


def today_range() -> tuple[datetime, datetime, str]:
    """Start and end of today in the centre's time zone, as naive UTC, and the local date."""
    local_now = datetime.now(timezone.utc).astimezone(zone())
    start = datetime.combine(local_now.date(), time(0), tzinfo=zone()).astimezone(timezone.utc).replace(tzinfo=None)
    return start, start + timedelta(days=1), local_now.date().isoformat()


@bp.get("/")
@login_required
def index():
    """Modem health, queue depth and today's figures for the cases this user sees."""
    start, end, today = today_range()
    now = utcnow()
    open_count, overdue = open_counts(current_user, now)
    g.unanswered = open_count  # the badge in the menu, without counting twice
    received_today = (InboundMessage.received_at >= start) & (InboundMessage.received_at < end)
    if current_user.sees_everything:
        # every message counts, also those that made no case (short codes, blocked senders)
        received = InboundMessage.select().where(received_today).count()
        opened = Case.select().where((Case.opened_at >= start) & (Case.opened_at < end)).count()
        answered = Case.select().where((Case.answered_at >= start) & (Case.answered_at < end)).count()
    else:
        # one walk over the official's cases that moved today: opened, answered, and where today's messages are
        moved = visible_cases(current_user, Case.select(Case.id, Case.opened_at, Case.answered_at)).where(
            (Case.last_message_at >= start) | (Case.opened_at >= start) | (Case.answered_at >= start))
        opened = answered = 0
        touched: list[int] = []
        for case_id, opened_at, answered_at in moved.tuples():
            touched.append(case_id)
            opened += start <= opened_at < end
            answered += answered_at is not None and start <= answered_at < end
        received = InboundMessage.select().where(InboundMessage.case.in_(touched or [0]) & received_today).count()
    figures = {
        "received": received,
        "opened": opened,
        "answered": answered,
        "open": open_count,
        "overdue": overdue,
        "pending": OutboundMessage.select().where(OutboundMessage.state.in_(("pending", "sending"))).count(),
        "failed": OutboundMessage.select().where(
            (OutboundMessage.state == "failed") & (OutboundMessage.created_at >= start)).count(),
    }
    modems = list(ModemStatus.select().order_by(ModemStatus.name))
    # a full SIM stops reception while the modem still looks "ready": said next to its state
    sim_full = {m.name for m in modems if shows_sim_full(m)}
    return render_template("dashboard.html", figures=figures, modems=modems, sim_full=sim_full, today=today, now=now)
