"""The web UI: officials work their inbox and reply; the administrator runs the centre.

It talks to the daemon only through the shared database (:mod:`modemd.models`).
``create_app(config)`` is what ``modemd web`` serves with waitress; tests pass
``test_config`` (e.g. ``SECRET_KEY``, ``WTF_CSRF_ENABLED``) on top.
"""

from __future__ import annotations

import importlib
import logging

from flask import Flask

log = logging.getLogger("modemd.web")

# Blueprints of this package, registered in this order. All of them ship with
# modemd: one that does not import stops the start (never a page silently gone).
BLUEPRINTS = (
    "webui.auth", "webui.i18n", "webui.inbox", "webui.cases", "webui.outbox", "webui.dashboard",
    "webui.admin_users", "webui.admin_contacts", "webui.admin_keywords", "webui.admin_blocklist",
    "webui.admin_audit", "webui.operator_messages", "webui.demo", "webui.public", "webui.publishing",
    "webui.broadcasts", "webui.recap", "webui.identity",
)


def create_app(config=None, test_config: dict | None = None) -> Flask:
    """Build the Flask app for a loaded :class:`modemd.config.Config` (the database is already open)."""
    from . import auth, errors, filters, i18n, identity, security, sessions
    from .proxies import TrustedProxies

    app = Flask(__name__)
    app.config["MODEMD"] = config
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(config and config.get("web", "https")),
        SESSION_COOKIE_NAME="modemd_session",
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        MAX_CONTENT_LENGTH=4 * 1024 * 1024,  # CSV imports; nothing else is big
    )
    if config is not None:
        app.config["SECRET_KEY"] = security.load_secret_key(config.get("web", "secret_key_file"))
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("no secret key: pass a loaded configuration ([web] secret_key_file) or SECRET_KEY")

    security.init_app(app)
    sessions.init_app(app, session_hours=_web_setting(config, "session_hours"),
                      idle_minutes=_web_setting(config, "idle_minutes"))
    if _web_setting(config, "trusted_proxies"):
        app.wsgi_app = TrustedProxies(app.wsgi_app, _web_setting(config, "trusted_proxies"))  # type: ignore[method-assign]  # Flask's documented way to wrap the WSGI app
    auth.init_app(app)
    i18n.init_app(app)
    filters.init_app(app)
    identity.init_app(app)
    errors.init_app(app)
    for name in BLUEPRINTS:
        app.register_blueprint(importlib.import_module(name).bp)
    return app


def _web_setting(config, key: str):
    """``[web] key`` of the configuration, or the schema's default for an app built without one (tests)."""
    if config is not None:
        return config.get("web", key)
    from modemd.config import SCHEMA

    return SCHEMA["web"][key].parse(SCHEMA["web"][key].default)
