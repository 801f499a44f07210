"""The blocklist: senders whose messages are stored but never routed or answered."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from peewee import JOIN

from modemd.sms import phone
from modemd.store.models import BlockedNumber, User, audit
from webui.auth import roles_required

bp = Blueprint("admin_blocklist", __name__, url_prefix="/admin/blocklist")


@bp.get("/")
@roles_required("admin")
def index():
    """Blocked senders with reason, who blocked them and when."""
    rows = (
        BlockedNumber.select(BlockedNumber, User)
        .join(User, join_type=JOIN.LEFT_OUTER, on=(BlockedNumber.created_by == User.id))
        .order_by(BlockedNumber.created_at.desc())
    )
    return render_template("admin/blocklist.html", rows=rows)


@bp.post("/")
@roles_required("admin")
def add():
    """Block a number (or an alphanumeric sender as received)."""
    raw = request.form.get("phone", "").strip()
    reason = request.form.get("reason", "").strip()
    value = phone.try_normalize(raw) or raw
    if not raw or len(value) > 32 or any(c.isspace() for c in value) or not value.isprintable():
        flash(_("Isi nomor atau nama pengirim (tanpa spasi, paling banyak 32 karakter)."), "error")
    elif len(reason) > 255:
        flash(_("Alasan terlalu panjang (paling banyak 255 karakter)."), "error")
    elif BlockedNumber.select().where(BlockedNumber.phone == value).exists():
        flash(_("%(number)s sudah diblokir.", number=value), "error")
    else:
        row = BlockedNumber.create(phone=value, reason=reason, created_by=current_user.row)
        audit(current_user.login, "blocklist.add", row, phone=value, reason=reason)
        flash(_("%(number)s diblokir.", number=value), "info")
    return redirect(url_for("admin_blocklist.index"))


@bp.post("/<int:row_id>/delete")
@roles_required("admin")
def remove(row_id: int):
    """Unblock a sender."""
    row = BlockedNumber.get_or_none(BlockedNumber.id == row_id) or abort(404)
    audit(current_user.login, "blocklist.remove", row, phone=row.phone)
    row.delete_instance()
    flash(_("%(number)s tidak lagi diblokir.", number=row.phone), "info")
    return redirect(url_for("admin_blocklist.index"))
