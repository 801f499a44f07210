"""Secret key, response headers and CSRF: the parts of security that are not about users."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from modemd.privatefiles import secret_file

log = logging.getLogger("modemd.web")
csrf = CSRFProtect()

# No inline script or style anywhere: a message that slipped past escaping still cannot run.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def load_secret_key(path: Path | str) -> str:
    """The session key from ``path``; a new random one is written (mode 0600) if the file is missing."""
    key = secret_file(path, "web secret key")
    if len(key) < 32:
        raise RuntimeError(
            f"{path}: the secret key is too short (at least 32 characters); delete the file to get a new one"
        )
    return key


def add_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype in ("text/html", "text/csv") or "attachment" in headers.get("Content-Disposition", ""):
        # pages show citizens' messages, downloads hold contacts and figures: out of every cache
        headers.setdefault("Cache-Control", "no-store")
    return response


def add_hsts(response):
    response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    app.after_request(add_headers)
    if app.config.get("SESSION_COOKIE_SECURE"):
        app.after_request(add_hsts)  # behind HTTPS: browsers must not fall back to plain HTTP
