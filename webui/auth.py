"""Accounts in the browser: login, logout, change own password, roles.

The cookie holds only the secret of a server-side session (:mod:`.sessions`):
logout, the idle timeout, the absolute lifetime, a password change and a
disabled account end it on the server, so a copied cookie dies with it.

Login checks exactly one password hash whatever the account's state (unknown
and disabled accounts included, :func:`modemd.users.verify_password`), so the
answer's timing does not tell which accounts exist or are disabled; guessing
is slowed by :mod:`.throttle`, per account and address.
"""

from __future__ import annotations

import logging
from functools import wraps

from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user

from modemd import users
from modemd.store.models import User, audit, utcnow

from . import sessions
from .redirects import redirect_to
from .throttle import LoginThrottle

log = logging.getLogger("modemd.web")
bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.session_protection = "basic"

__all__ = ["bp", "init_app", "login_required", "roles_required", "current_user", "Account"]


class Account(UserMixin):
    """The logged-in user: the database row and the secret of their session, plus what Flask-Login needs."""

    def __init__(self, row: User, session_key: str):
        self.row = row
        self.session_key = session_key

    def get_id(self) -> str:
        return self.session_key

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
def load_account(session_key: str) -> Account | None:
    row = sessions.open_session(session_key)
    return Account(row.user, session_key) if row is not None else None


def _log_in(row: User) -> None:
    """A fresh session for ``row``: nothing planted in the cookie before it survives (but the language)."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    session.permanent = True
    login_user(Account(row, sessions.start(row, request.remote_addr)))


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
        account, address = login_name.lower(), request.remote_addr or "?"
        wait = throttle().wait_left(account, address)
        if wait > 0:
            flash(
                _("Terlalu banyak percobaan yang gagal. Coba lagi dalam %(seconds)d detik.", seconds=int(wait) + 1),
                "error",
            )
            log.warning("login refused while throttled: login=%r address=%s", login_name, request.remote_addr)
            return render_template("login.html", login=login_name), 429
        row = User.by_login(login_name) if login_name else None
        if users.verify_password(row, password) and row.active:
            throttle().succeeded(account, address)
            _log_in(row)
            row.last_login_at = utcnow()
            row.save(only=[User.last_login_at])
            audit(row.login, "login", row, address=request.remote_addr)
            log.info("login: %s from %s", row.login, request.remote_addr)
            return redirect_to(request.args.get("next"))
        throttle().failed(account, address)
        audit(login_name or "?", "login.failed", row, address=request.remote_addr)
        log.warning("login failed: login=%r address=%s", login_name, request.remote_addr)
        flash(_("Login atau kata sandi salah, atau akun tidak aktif."), "error")
        status = 401
    return render_template("login.html", login=login_name), status


@bp.post("/logout")
@login_required
def logout():
    """End the session."""
    audit(current_user.login, "logout", current_user.row, address=request.remote_addr)
    sessions.end_key(current_user.session_key)
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
                _log_in(row)  # the change ended every session of the user: this one goes on in a new one
                flash(_("Kata sandi diganti."), "info")
                return redirect(url_for("inbox.index"))
        return render_template("password.html"), 400
    return render_template("password.html")


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_message = None
    app.extensions["modemd_login_throttle"] = LoginThrottle()
    users.dummy_hash()
