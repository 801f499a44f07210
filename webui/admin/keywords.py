"""The keyword table: as the daemon has it, the file's check, and a reload button."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from modemd.receive.keywords import check_owners
from modemd.store.models import DaemonState, User, audit, utcnow
from webui import modemd_config
from webui.auth import roles_required
from webui.keywordtable import checked_table, daemon_keywords

bp = Blueprint("admin_keywords", __name__, url_prefix="/admin/keywords")


@bp.get("/")
@roles_required("admin")
def index():
    """The daemon's keyword table next to keywords.ini and the problems found in the file."""
    path = modemd_config().keywords_path
    table, problems = checked_table(path)
    problems = list(problems)
    check_owners(table, _user_states().get, problems)
    loaded = DaemonState.get_or_none(DaemonState.key == "keywords")
    reload_row = DaemonState.get_or_none(DaemonState.key == "reload_keywords")
    return render_template(
        "admin/keywords.html",
        daemon=daemon_keywords(),
        loaded_at=loaded.updated_at if loaded else None,
        table=table,
        problems=problems,
        path=path,
        reload_requested=reload_row.updated_at if reload_row else None,
    )


def _user_states() -> dict[str, str]:
    return {u.login: "active" if u.active else "disabled" for u in User.select(User.login, User.active)}


@bp.post("/reload")
@roles_required("admin")
def reload():
    """Ask the daemon to re-read keywords.ini (it polls DaemonState "reload_keywords")."""
    DaemonState.put("reload_keywords", utcnow().isoformat())
    audit(current_user.login, "keywords.reload")
    flash(_("Permintaan muat ulang dikirim ke layanan SMS."), "info")
    return redirect(url_for("admin_keywords.index"))
