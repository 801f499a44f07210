"""The web UI: officials work their inbox and reply; the administrator runs the centre.

It talks to the daemon only through the shared database (:mod:`modemd.models`).
``create_app(config)`` is what ``modemd web`` serves with waitress; tests pass
``test_config`` (e.g. ``SECRET_KEY``, ``WTF_CSRF_ENABLED``) on top.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from datetime import timedelta

from flask import Flask

log = logging.getLogger("modemd.web")

# Blueprints of this package, registered in this order. Others' blueprints
# (broadcasts, recap) are registered when their module exists.
CORE_BLUEPRINTS = (
    "webui.auth", "webui.i18n", "webui.inbox", "webui.cases", "webui.outbox", "webui.dashboard",
    "webui.admin_users", "webui.admin_contacts", "webui.admin_keywords", "webui.admin_blocklist",
    "webui.admin_audit", "webui.operator_messages", "webui.demo", "webui.public", "webui.publishing", "webui.identity",
)
OPTIONAL_BLUEPRINTS = ("webui.broadcasts", "webui.recap")


def create_app(config=None, test_config: dict | None = None) -> Flask:
    """Build the Flask app for a loaded :class:`modemd.config.Config` (the database is already open)."""
    from . import auth, errors, filters, i18n, identity, security

    app = Flask(__name__)
    app.config["MODEMD"] = config
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(config and config.get("web", "https")),
        SESSION_COOKIE_NAME="modemd_session",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
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
    auth.init_app(app)
    i18n.init_app(app)
    filters.init_app(app)
    identity.init_app(app)
    errors.init_app(app)
    for name in CORE_BLUEPRINTS:
        _register(app, name)
    for name in OPTIONAL_BLUEPRINTS:
        if importlib.util.find_spec(name) is not None:
            _register(app, name)
    return app


def _register(app: Flask, module_name: str) -> None:
    if importlib.util.find_spec(module_name) is None:
        return
    module = importlib.import_module(module_name)
    app.register_blueprint(module.bp)
