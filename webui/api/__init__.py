"""The HTTP API under ``/api/v1``: other systems send, read cases and reply with an API token.

Token-authenticated only (``Authorization: Bearer mdt_…``, :mod:`modemd.apitokens`):
a browser's session cookie never authenticates here, so CSRF protection (which
stays on for the web UI) does not apply. Each endpoint is declared once in
:mod:`.spec`; the OpenAPI document (:mod:`.openapi`) is written from those
declarations.
"""

from __future__ import annotations

import logging

from flask import Flask, request
from werkzeug.exceptions import HTTPException

from webui.security import csrf

from . import broadcasts, cases, messages, openapi, status  # noqa: F401  (they register their endpoints)
from .batching import GroupCommit
from .errors import ApiError, error_response, http_error_response
from .ratelimit import RateLimiter
from .spec import bp

log = logging.getLogger("modemd.web")
csrf.exempt(bp)


@bp.errorhandler(ApiError)
def api_error(error: ApiError):
    return error_response(error)


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    return http_error_response(error)


@bp.errorhandler(Exception)
def unexpected(error: Exception):
    """A bug: logged with its traceback, answered as JSON without internals."""
    log.exception("API request failed: %s %s", request.method, request.path)
    return error_response(ApiError("internal"))


@bp.record_once
def _setup(state) -> None:
    app: Flask = state.app
    api = app.config["MODEMD"].api
    app.extensions["modemd_api_limiter"] = RateLimiter(api.rate_limit, api.rate_burst)
    app.extensions["modemd_api_writer"] = GroupCommit()
