"""Administration of users: login, name, role, notification phone, sender ID, agency, active; keywords owned.

The users page also lists the logins held back by the password-guessing
throttle (:mod:`webui.throttle`), and lets the administrator release one (audited).
"""

from __future__ import annotations

import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from modemd import users
from modemd.sms import phone
from modemd.store.models import ROLES, User, WebSession, audit
from webui.auth import roles_required, throttle
from webui.keywordtable import agencies, keyword_owners

bp = Blueprint("admin_users", __name__, url_prefix="/admin/users")
SENDER_ID = re.compile(r"^[A-Za-z0-9.\-]{0,8}$")


def _owned_by_login() -> dict[str, list[str]]:
    owned: dict[str, list[str]] = {}
    for keyword, owner in sorted(keyword_owners().items()):
        owned.setdefault(owner, []).append(keyword)
    return owned


def _read_form(form) -> tuple[dict, list[str]]:
    """The editable fields from a form, checked; problems in the admin's language."""
    problems = []
    values = {
        "name": form.get("name", "").strip(),
        "role": form.get("role", ""),
        "sender_id": form.get("sender_id", "").strip().lstrip("-"),
        "agency": "",
        "phone": None,
        "active": form.get("active") == "1",
    }
    if len(values["name"]) > 128:
        problems.append(_("Nama terlalu panjang (paling banyak 128 karakter)."))
    if values["role"] not in ROLES:
        problems.append(_("Peran tidak dikenal."))
    try:
        values["agency"] = users.operator_agency(form.get("agency"))
    except users.UserError:
        problems.append(_("Nama instansi terlalu panjang (paling banyak 128 karakter)."))
    if not SENDER_ID.match(values["sender_id"]):
        problems.append(
            _("ID pengirim paling banyak 8 huruf, angka, titik atau tanda minus (Perbup Banjarnegara Pasal 1 (20)).")
        )
    raw_phone = form.get("phone", "").strip()
    if raw_phone:
        number = phone.try_normalize(raw_phone)
        if number is None:
            problems.append(_("Nomor telepon notifikasi tidak sah (contoh: 0812xxxxxxxx)."))
        values["phone"] = number
    return values, problems


def _form(user: User | None, form, **extra):
    """The account form: the roles to pick from, and keywords.ini's agencies to suggest."""
    return render_template("admin/user_form.html", user=user, form=form, roles=ROLES, agencies=agencies(), **extra)


@bp.get("/")
@roles_required("admin")
def index():
    """Every account with its role, phone, sender ID, keywords owned and state."""
    rows = User.select().order_by(User.login)
    return render_template("admin/users.html", rows=rows, owned=_owned_by_login(), locks=throttle().locks())


@bp.post("/locks/clear")
@roles_required("admin")
def clear_lock():
    """Release one held-back login (e.g. the owner cannot get in while someone guesses at the account)."""
    account, address = request.form.get("account", "")[:64], request.form.get("address", "")[:64]
    if throttle().unlock(account, address):
        audit(current_user.login, "login.unlock", account=account, address=address)
        flash(_("Penahanan dilepas."), "info")
    else:
        flash(_("Penahanan itu sudah berakhir."), "info")
    return redirect(url_for("admin_users.index") + "#locks")


@bp.route("/new", methods=["GET", "POST"])
@roles_required("admin")
def create():
    """Create an account; without a typed password a random one is shown once."""
    form = request.form
    if request.method == "POST":
        values, problems = _read_form(form)
        password = form.get("password", "") or users.random_password()
        if not problems:
            try:
                user = users.create_user(
                    form.get("login", ""),
                    values["role"],
                    password,
                    name=values["name"],
                    phone_number=values["phone"],
                    sender_id=values["sender_id"],
                    agency=values["agency"],
                    actor=current_user.login,
                )
            except users.UserError as exc:
                problems.append(str(exc))
            else:
                return render_template(
                    "admin/user_password.html", user=user, password=password if not form.get("password") else None
                )
        for problem in problems:
            flash(problem, "error")
        return _form(None, form), 400
    return _form(None, {"role": "official", "active": "1"})


@bp.route("/<int:user_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit(user_id: int):
    """Change an account's name, role, phone, sender ID or state."""
    user = User.get_or_none(User.id == user_id) or abort(404)
    if request.method == "POST":
        values, problems = _read_form(request.form)
        if user.id == current_user.id and (values["role"] != "admin" or not values["active"]):
            problems.append(_("Anda tidak dapat menonaktifkan atau menurunkan peran akun Anda sendiri."))
        owned = _owned_by_login().get(user.login, [])
        if user.active and not values["active"] and owned:
            # a disabled keyword owner makes the daemon and this UI refuse to start (modemd check)
            problems.append(
                _(
                    "%(login)s pemilik kata kunci %(keywords)s. Pindahkan kata kunci itu ke pengguna lain "
                    "di keywords.ini sebelum menonaktifkan akun ini.",
                    login=user.login,
                    keywords=", ".join(owned),
                )
            )
        if problems:
            for problem in problems:
                flash(problem, "error")
            return _form(user, request.form), 400
        changes = {k: [getattr(user, k), v] for k, v in values.items() if getattr(user, k) != v}
        was_active = user.active
        user.name, user.role, user.phone, user.sender_id, user.agency = (
            values["name"] or user.login,
            values["role"],
            values["phone"],
            values["sender_id"],
            values["agency"],
        )
        user.active = values["active"]
        user.save()
        if was_active and not user.active:
            WebSession.end_all(user)
        audit(current_user.login, "user.update", user, **{k: v for k, v in changes.items()})
        flash(_("Pengguna %(login)s disimpan.", login=user.login), "info")
        return redirect(url_for("admin_users.index"))
    form = {
        "name": user.name,
        "role": user.role,
        "phone": user.phone or "",
        "sender_id": user.sender_id,
        "agency": user.agency,
        "active": "1" if user.active else "",
    }
    return _form(user, form, owned=_owned_by_login().get(user.login, []))


@bp.post("/<int:user_id>/password")
@roles_required("admin")
def reset_password(user_id: int):
    """Give the user a new random password, shown once (their sessions end)."""
    user = User.get_or_none(User.id == user_id) or abort(404)
    password = users.random_password()
    users.set_password(user, password, actor=current_user.login)
    return render_template("admin/user_password.html", user=user, password=password)
