"""The audit log: who did what to which object, newest first, filterable; keyset pagination."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from modemd.store.models import AuditLog
from webui.auth import roles_required
from webui.params import arg_id

bp = Blueprint("admin_audit", __name__, url_prefix="/admin/audit")
PAGE_SIZE = 100


@bp.get("/")
@roles_required("admin")
def index():
    """Audit entries, filterable by actor, action and object."""
    query = AuditLog.select()
    chosen = {}
    for name, column in (
        ("actor", AuditLog.actor),
        ("action", AuditLog.action),
        ("object_type", AuditLog.object_type),
        ("object_id", AuditLog.object_id),
    ):
        value = request.args.get(name, "").strip()[:64]
        if value:
            query = query.where(column == value)
            chosen[name] = value
    before = arg_id("before")
    if before is not None:
        query = query.where(AuditLog.id < before)
    rows = list(query.order_by(AuditLog.id.desc()).limit(PAGE_SIZE + 1))
    next_before = rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None
    return render_template(
        "admin/audit.html", rows=rows[:PAGE_SIZE], chosen=chosen, next_before=next_before, first_page=before is None
    )
