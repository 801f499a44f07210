"""Accounts in the browser: login, logout, change own password, roles.

A session holds the user's id and their ``session_token``; changing the
password or disabling the account changes the token, so every old session
ends (the loader below refuses it).
"""

from __future__ import annotations

import hmac
import logging
from functools import wraps
from urllib.parse import urlparse

from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash

from modemd import users
from modemd.models import User, audit, utcnow
from modemd.sqlcache import get_or_none_by_id

from .throttle import LoginThrottle

log = logging.getLogger("modemd.web")
bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.session_protection = "basic"

ADDRESS_FREE_FAILURES = 10  # an office behind one NAT address shares this allowance
_DUMMY_HASH = generate_password_hash("not-a-password", method="scrypt")

__all__ = ["bp", "init_app", "login_required", "roles_required", "current_user", "Account"]


class Account(UserMixin):
    """The logged-in user: the database row, plus what Flask-Login needs."""

    def __init__(self, row: User):
        self.row = row

    def get_id(self) -> str:
        return f"{self.row.id}:{self.row.session_token}"

    @property
    def is_active(self) -> bool:
        return bool(self.row.active)

    @property
    def is_admin(self) -> bool:
        return self.row.role == "admin"

    @property
    def sees_everything(self) -> bool:
        return self.row.role in ("admin", "approver")

    def __getattr__(self, name):
        return getattr(self.row, name)


@login_manager.user_loader
def load_account(session_id: str) -> Account | None:
    user_id, _sep, token = session_id.partition(":")
    if not user_id.isdigit():
        return None
    row = get_or_none_by_id(User, int(user_id))  # on every request: the SELECT is compiled once
    if row is None or not row.active or not row.session_token or not hmac.compare_digest(row.session_token, token):
        return None
    return Account(row)


def roles_required(*roles: str):
    """Only users with one of ``roles`` (403 for others, login page for anonymous)."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def throttle() -> LoginThrottle:
    return current_app.extensions["modemd_login_throttle"]


def _safe_next(target: str | None) -> str:
    if target:
        parts = urlparse(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("inbox.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form; repeated failures are slowed down per account and per address."""
    if current_user.is_authenticated:
        return redirect(url_for("inbox.index"))
    status = 200
    login_name = ""
    if request.method == "POST":
        login_name = request.form.get("login", "").strip()[:64]
        password = request.form.get("password", "")
        account_key, address_key = "login:" + login_name.lower(), "addr:" + (request.remote_addr or "?")
        wait = throttle().wait_left(account_key, address_key)
        if wait > 0:
            flash(_("Terlalu banyak percobaan yang gagal. Coba lagi dalam %(seconds)d detik.", seconds=int(wait) + 1), "error")
            log.warning("login refused while throttled: login=%r address=%s", login_name, request.remote_addr)
            return render_template("login.html", login=login_name), 429
        row = User.by_login(login_name) if login_name else None
        if row is not None and row.active and row.check_password(password):
            throttle().succeeded(account_key)
            throttle().succeeded(address_key)
            language = session.get("lang")
            session.clear()  # a fresh session at login: nothing planted before it survives
            if language:
                session["lang"] = language
            session.permanent = True
            login_user(Account(row))
            row.last_login_at = utcnow()
            row.save(only=[User.last_login_at])
            audit(row.login, "login", row, address=request.remote_addr)
            log.info("login: %s from %s", row.login, request.remote_addr)
            return redirect(_safe_next(request.args.get("next")))
        if row is None:
            check_password_hash(_DUMMY_HASH, password)  # same time whether or not the login exists
        throttle().failed(account_key)
        throttle().failed(address_key, ADDRESS_FREE_FAILURES)
        audit(login_name or "?", "login.failed", row, address=request.remote_addr)
        log.warning("login failed: login=%r address=%s", login_name, request.remote_addr)
        flash(_("Login atau kata sandi salah, atau akun tidak aktif."), "error")
        status = 401
    return render_template("login.html", login=login_name), status


@bp.post("/logout")
@login_required
def logout():
    """End the session."""
    audit(current_user.login, "logout", current_user.row)
    logout_user()
    session.clear()
    flash(_("Anda telah keluar."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    """Change one's own password (ends the user's other sessions)."""
    if request.method == "POST":
        current = request.form.get("current", "")
        new = request.form.get("new", "")
        repeat = request.form.get("repeat", "")
        row = User.get_by_id(current_user.id)
        if not row.check_password(current):
            flash(_("Kata sandi lama salah."), "error")
        elif new != repeat:
            flash(_("Kata sandi baru dan ulangannya tidak sama."), "error")
        else:
            try:
                users.set_password(row, new, actor=row.login)
            except users.UserError:
                flash(_("Kata sandi baru minimal %(n)d karakter.", n=users.MIN_PASSWORD_LENGTH), "error")
            else:
                login_user(Account(row))  # this session carries the new token
                flash(_("Kata sandi diganti."), "info")
                return redirect(url_for("inbox.index"))
        return render_template("password.html"), 400
    return render_template("password.html")


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_message = None
    app.extensions["modemd_login_throttle"] = LoginThrottle()
