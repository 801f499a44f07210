"""API tokens: the administrator makes one per system (shown once), with its user and scopes, and revokes it.

The rules are :mod:`modemd.apitokens` (also behind ``modemd token``).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from modemd import apitokens
from modemd.store.models import ApiToken, User
from webui.auth import roles_required

bp = Blueprint("admin_tokens", __name__, url_prefix="/admin/tokens")

REFUSALS = {
    "name": _l("Nama token 1–64 huruf, angka, spasi, titik, minus atau garis bawah."),
    "user": _l("Pengguna tidak dikenal atau tidak aktif."),
    "scope": _l("Izin tidak dikenal."),
    "no_scope": _l("Pilih sedikitnya satu izin."),
    "taken": _l("Nama token itu sudah dipakai."),
    "expiry": _l("Masa berlaku tidak sah (contoh: 90d, 12h, atau kosong untuk selamanya)."),
}
SCOPE_LABELS = {
    "send": _l("kirim SMS dan lihat statusnya"),
    "cases:read": _l("baca kasus"),
    "cases:reply": _l("balas kasus"),
    "status": _l("status modem dan antrean"),
    "broadcasts": _l("buat draf siaran dan lihat progresnya"),
}


def _render(form: dict, secret: str = "", status: int = 200):
    return render_template(
        "admin/tokens.html",
        tokens=list(apitokens.listing()),
        state=apitokens.state,
        users=User.select().where(User.active == True).order_by(User.login),  # noqa: E712
        scopes=apitokens.SCOPES,
        scope_labels=SCOPE_LABELS,
        form=form,
        secret=secret,
    ), status


@bp.get("/")
@roles_required("admin")
def index():
    """Every token: name, user, scopes, state, last use and the caller's address; the form for a new one."""
    return _render({"name": "", "user": "", "scopes": [], "expires": "90d"})


@bp.post("/")
@roles_required("admin")
def create():
    """Make a token and show its secret, this once."""
    form = {
        "name": request.form.get("name", "").strip(),
        "user": request.form.get("user", ""),
        "scopes": request.form.getlist("scopes"),
        "expires": request.form.get("expires", "").strip(),
    }
    user = User.by_login(form["user"]) if form["user"] else None
    try:
        if user is None:
            raise apitokens.TokenError("no such user", "user")
        made = apitokens.create(
            form["name"],
            user,
            form["scopes"],
            expires=apitokens.parse_expiry(form["expires"]),
            actor=current_user.login,
        )
    except apitokens.TokenError as exc:
        flash(str(REFUSALS[exc.code]), "error")
        return _render(form, status=400)
    flash(
        _("Token %(name)s dibuat. Salin rahasianya sekarang: tidak akan ditampilkan lagi.", name=made.token.name),
        "info",
    )
    return _render({"name": "", "user": "", "scopes": [], "expires": "90d"}, secret=made.secret, status=201)


@bp.post("/<int:token_id>/revoke")
@roles_required("admin")
def revoke(token_id: int):
    """Revoke a token: its next request is refused (401)."""
    token = ApiToken.get_or_none(ApiToken.id == token_id) or abort(404)
    apitokens.revoke(token, actor=current_user.login)
    flash(_("Token %(name)s dicabut.", name=token.name), "info")
    return redirect(url_for("admin_tokens.index"))
