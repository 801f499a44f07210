"""The web UI: officials work their inbox and reply; the administrator runs the centre.

It talks to the daemon only through the shared database (:mod:`modemd.store.models`).
``create_app(config)`` is what ``modemd web`` serves with waitress; tests pass
``test_config`` (e.g. ``SECRET_KEY``, ``WTF_CSRF_ENABLED``) on top.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING

from flask import Flask, abort, current_app, request

if TYPE_CHECKING:
    from modemd.config import Config

log = logging.getLogger("modemd.web")

# Blueprints of this package, registered in this order. All of them ship with
# modemd: one that does not import stops the start (never a page silently gone).
BLUEPRINTS = (
    "webui.auth",
    "webui.i18n",
    "webui.inbox",
    "webui.cases",
    "webui.flow",
    "webui.outbox",
    "webui.dashboard",
    "webui.admin.users",
    "webui.admin.contacts",
    "webui.admin.keywords",
    "webui.admin.blocklist",
    "webui.admin.audit",
    "webui.admin.operator_messages",
    "webui.admin.webhooks",
    "webui.demo",
    "webui.public",
    "webui.publishing",
    "webui.broadcasts",
    "webui.recap",
    "webui.reports",
    "webui.identity",
    "webui.admin.tokens",
    "webui.api",
)


# What the public address (``[web] public_listen``) serves: the public page, its feeds, and what they
# need to render (style sheet, emblem, language switch); anything else answers 404 there.
PUBLIC_ENDPOINTS = ("static", "identity.logo", "i18n.switch")


def create_app(config: Config, test_config: dict | None = None, *, public_only: bool = False) -> Flask:
    """Build the Flask app for a loaded :class:`modemd.config.Config` (the database is already open).

    ``public_only``: the app of ``[web] public_listen``, which answers 404 to every page but the public
    ones, so the login and the officials' pages stay on the office network address.
    """
    from . import auth, errors, filters, i18n, identity, security, sessions
    from .proxies import TrustedProxies

    app = Flask(__name__)
    app.config["MODEMD"] = config
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.web.https,
        SESSION_COOKIE_NAME="modemd_session",
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        MAX_CONTENT_LENGTH=4 * 1024 * 1024,  # CSV imports; nothing else is big
    )
    app.config["SECRET_KEY"] = security.load_secret_key(config.web.secret_key_file)
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("no secret key: pass a loaded configuration ([web] secret_key_file) or SECRET_KEY")

    security.init_app(app)
    sessions.init_app(app, session_hours=config.web.session_hours, idle_minutes=config.web.idle_minutes)
    if config.web.trusted_proxies:
        app.wsgi_app = TrustedProxies(app.wsgi_app, config.web.trusted_proxies)  # type: ignore[method-assign]  # Flask's documented way to wrap the WSGI app
    auth.init_app(app)
    i18n.init_app(app)
    filters.init_app(app)
    identity.init_app(app)
    errors.init_app(app)
    for name in BLUEPRINTS:
        app.register_blueprint(importlib.import_module(name).bp)
    app.config["PUBLIC_ONLY"] = public_only
    if public_only:
        app.before_request(_public_pages_only)
    return app


def _public_pages_only() -> None:
    endpoint = request.endpoint or ""
    if request.blueprint != "public" and endpoint not in PUBLIC_ENDPOINTS:
        abort(404)


def modemd_config() -> Config:
    """The configuration the current app was built with (``create_app(config)``; tests: ``Config.defaults()``)."""
    return current_app.config["MODEMD"]
