"""Error pages: short, translated, and never showing internals (JSON under /api, see webui.api.errors)."""

from __future__ import annotations

from flask import Flask, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .api.errors import http_error_response, is_api_request


def _page(error: HTTPException, message: str):
    if is_api_request():  # no route, wrong method or too big under /api: the API's JSON, not a page
        return http_error_response(error)
    code = error.code or 500
    return render_template("error.html", code=code, message=message), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        return _page(error, _("Formulir kedaluwarsa atau tidak sah. Muat ulang halaman lalu coba lagi."))

    @app.errorhandler(404)
    def not_found(error):
        return _page(error, _("Halaman atau data tidak ditemukan."))

    @app.errorhandler(403)
    def forbidden(error):
        return _page(error, _("Anda tidak berhak membuka halaman ini."))

    @app.errorhandler(413)
    def too_large(error):
        return _page(error, _("Berkas terlalu besar."))

    @app.errorhandler(405)
    def wrong_method(error):
        return _page(error, _("Permintaan tidak sah."))

    @app.errorhandler(400)
    def bad_request(error: HTTPException):
        return _page(error, _("Permintaan tidak sah."))
