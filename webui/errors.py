"""Error pages: short, translated, and never showing internals."""

from __future__ import annotations

from flask import Flask, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


def _page(code: int, message: str):
    return render_template("error.html", code=code, message=message), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        return _page(400, _("Formulir kedaluwarsa atau tidak sah. Muat ulang halaman lalu coba lagi."))

    @app.errorhandler(404)
    def not_found(error):
        return _page(404, _("Halaman atau data tidak ditemukan."))

    @app.errorhandler(403)
    def forbidden(error):
        return _page(403, _("Anda tidak berhak membuka halaman ini."))

    @app.errorhandler(413)
    def too_large(error):
        return _page(413, _("Berkas terlalu besar."))

    @app.errorhandler(400)
    def bad_request(error: HTTPException):
        return _page(400, _("Permintaan tidak sah."))
