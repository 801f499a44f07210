"""The outbox: everything that left or is waiting, with state, attempts and reason; retry and cancel (admin).

Officials and operators see the messages they wrote; admins and approvers see all.
Keyset pagination on the id, newest first.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from peewee import JOIN

from modemd.cases import answers
from modemd.states import OutboundState, check
from modemd.store.models import OUTBOUND_KINDS, OUTBOUND_STATES, OutboundMessage, User, audit, utcnow

from .auth import roles_required
from .params import arg_id
from .redirects import redirect_to, same_site_path

bp = Blueprint("outbox", __name__, url_prefix="/outbox")
PAGE_SIZE = 50


@bp.get("/")
@login_required
def index():
    """Outbound messages, newest first, filterable by state and kind."""
    query = OutboundMessage.select(OutboundMessage, User).join(
        User, join_type=JOIN.LEFT_OUTER, on=(OutboundMessage.created_by == User.id)
    )
    if not current_user.sees_everything:
        query = query.where(OutboundMessage.created_by == current_user.id)
    chosen = {}
    state = request.args.get("state", "")
    if state in OUTBOUND_STATES:
        query = query.where(OutboundMessage.state == state)
        chosen["state"] = state
    kind = request.args.get("kind", "")
    if kind in OUTBOUND_KINDS:
        query = query.where(OutboundMessage.kind == kind)
        chosen["kind"] = kind
    before = arg_id("before")
    if before is not None:
        query = query.where(OutboundMessage.id < before)
    rows = list(query.order_by(OutboundMessage.id.desc()).limit(PAGE_SIZE + 1))
    next_before = rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None
    return render_template(
        "outbox.html",
        rows=rows[:PAGE_SIZE],
        chosen=chosen,
        next_before=next_before,
        states=OUTBOUND_STATES,
        kinds=OUTBOUND_KINDS,
        first_page=before is None,
    )


def _get(message_id: int) -> OutboundMessage:
    message = OutboundMessage.get_or_none(OutboundMessage.id == message_id)
    if message is None:
        abort(404)
    return message


@bp.post("/<int:message_id>/retry")
@roles_required("admin")
def retry(message_id: int):
    """Send a failed message again: back to pending, due now, with its attempts reset."""
    message = _get(message_id)
    now = utcnow()
    # one UPDATE guarded by the state, so a race with the daemon cannot resurrect a sent message
    with OutboundMessage._meta.database.atomic():
        changed = (
            OutboundMessage.update(
                state=check(OutboundState.FAILED, OutboundState.PENDING),
                next_attempt_at=now,
                attempts=0,
                failure_reason=None,
                failure_code=None,
                claimed_by=None,
                claimed_at=None,
                expires_at=now + (message.expires_at - message.created_at) if message.expires_at else None,
            )
            .where((OutboundMessage.id == message.id) & (OutboundMessage.state == OutboundState.FAILED))
            .execute()
        )
        if changed and message.kind == "reply":
            answers.reply_retried(message.case_id)
    if changed:
        audit(current_user.login, "outbound.retry", message, reason=message.failure_reason)
        flash(_("Pesan #%(id)d dikirim ulang.", id=message.id), "info")
    else:
        flash(_("Hanya pesan yang gagal yang dapat dikirim ulang."), "error")
    return redirect_to(same_site_path(request.referrer), url_for("outbox.index"))


@bp.post("/<int:message_id>/cancel")
@roles_required("admin")
def cancel(message_id: int):
    """Cancel a message still waiting to be sent."""
    message = _get(message_id)
    with OutboundMessage._meta.database.atomic():
        changed = (
            OutboundMessage.update(
                state=check(OutboundState.PENDING, OutboundState.CANCELLED),
                failure_reason="cancelled by " + current_user.login,
            )
            .where((OutboundMessage.id == message.id) & (OutboundMessage.state == OutboundState.PENDING))
            .execute()
        )
        if changed and message.kind == "reply":
            answers.replies_failed([message.case_id], utcnow())  # the citizen gets no answer: the owner must act
    if changed:
        audit(current_user.login, "outbound.cancel", message)
        flash(_("Pesan #%(id)d dibatalkan.", id=message.id), "info")
    else:
        flash(_("Hanya pesan yang masih menunggu yang dapat dibatalkan."), "error")
    return redirect_to(same_site_path(request.referrer), url_for("outbox.index"))
