"""The audit log: who did what to which object, newest first, filterable; keyset pagination."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from modemd.models import AuditLog

from .auth import roles_required

bp = Blueprint("admin_audit", __name__, url_prefix="/admin/audit")
PAGE_SIZE = 100


@bp.get("/")
@roles_required("admin")
def index():
    """Audit entries, filterable by actor, action and object."""
    query = AuditLog.select()
    chosen = {}
    for name, column in (("actor", AuditLog.actor), ("action", AuditLog.action), ("object_type", AuditLog.object_type),
                         ("object_id", AuditLog.object_id)):
        value = request.args.get(name, "").strip()[:64]
        if value:
            query = query.where(column == value)
            chosen[name] = value
    before = request.args.get("before", "")
    if before.isdigit():
        query = query.where(AuditLog.id < int(before))
    rows = list(query.order_by(AuditLog.id.desc()).limit(PAGE_SIZE + 1))
    next_before = rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None
    return render_template("admin/audit.html", rows=rows[:PAGE_SIZE], chosen=chosen, next_before=next_before,
                           first_page=not before)
