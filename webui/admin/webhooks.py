"""Webhook deliveries for the administrator: each event per endpoint, every attempt, and a retry button.

The daemon posts them (:mod:`modemd.webhooks.dispatch`); this page only reads
the queue and, on a retry, makes failed deliveries pending again
(:func:`modemd.webhooks.deliveries.retry`, audited), as ``modemd webhooks retry`` does.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from modemd.store.models import WEBHOOK_STATES
from modemd.webhooks import deliveries
from webui.auth import roles_required
from webui.params import arg_id

bp = Blueprint("admin_webhooks", __name__, url_prefix="/admin/webhooks")
PAGE_SIZE = 50

EVENT_LABELS = {
    "case.opened": _l("Kasus baru"),
    "case.message": _l("Pesan baru dalam kasus"),
    "reply.state": _l("Status balasan"),
    "broadcast.done": _l("Siaran selesai"),
}
STATE_LABELS = {"pending": _l("menunggu"), "delivered": _l("terkirim"), "failed": _l("gagal")}


@bp.get("/")
@roles_required("admin")
def index():
    """Deliveries newest first, optionally of one state, each with its attempts."""
    state = request.args.get("state", "")
    state = state if state in WEBHOOK_STATES else ""
    before = arg_id("before")
    rows = deliveries.recent(state or None, PAGE_SIZE + 1, before)
    next_before = rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None
    rows = rows[:PAGE_SIZE]
    return render_template(
        "admin/webhooks.html",
        rows=rows,
        attempts=deliveries.attempts_of(r.id for r in rows),
        state=state,
        states=WEBHOOK_STATES,
        event_labels=EVENT_LABELS,
        state_labels=STATE_LABELS,
        next_before=next_before,
        first_page=before is None,
    )


@bp.post("/<int:delivery_id>/retry")
@roles_required("admin")
def retry(delivery_id: int):
    """Queue one failed delivery again."""
    if deliveries.retry([delivery_id], current_user.login):
        flash(_("Pengiriman #%(id)d diantrekan lagi.", id=delivery_id), "ok")
    else:
        flash(_("Pengiriman #%(id)d tidak gagal; tidak ada yang diantrekan.", id=delivery_id), "error")
    return redirect(url_for("admin_webhooks.index", state=request.args.get("state") or None))


@bp.post("/retry-failed")
@roles_required("admin")
def retry_failed():
    """Queue every failed delivery again."""
    count = deliveries.retry(None, current_user.login)
    flash(_("%(n)d pengiriman gagal diantrekan lagi.", n=count), "ok")
    return redirect(url_for("admin_webhooks.index"))
