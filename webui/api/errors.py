"""API errors: JSON with a stable ``code``, a message in the request's language and the right status."""

from __future__ import annotations

from flask import Response, jsonify, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from webui.replies import MAX_REPLY_PARTS

from .schemas import Error, Problem

# code -> (status, message); the codes are the API's contract, never renamed
ERRORS = {
    "bad_json": (400, _l("Isi permintaan bukan JSON yang sah.")),
    "invalid_field": (400, _l("Ada isian yang tidak sah; lihat details.")),
    "unknown_field": (400, _l("Ada isian yang tidak dikenal; lihat details.")),
    "bad_request": (400, _l("Permintaan tidak sah.")),
    "missing_token": (401, _l("Token API diperlukan (header Authorization: Bearer …).")),
    "invalid_token": (401, _l("Token API tidak dikenal.")),
    "expired_token": (401, _l("Token API sudah kedaluwarsa.")),
    "revoked_token": (401, _l("Token API sudah dicabut.")),
    "disabled_user": (401, _l("Pengguna pemilik token ini tidak aktif.")),
    "scope": (403, _l("Token ini tidak berhak atas tindakan ini (izin yang diperlukan: %(scope)s).")),
    "not_allowed": (403, _l("Pengguna token ini tidak berhak melakukan tindakan ini.")),
    "not_found": (404, _l("Data tidak ditemukan.")),
    "method_not_allowed": (405, _l("Metode HTTP ini tidak didukung di alamat ini.")),
    "idempotency_conflict": (
        409,
        _l("Idempotency-Key ini sudah dipakai untuk permintaan lain; pakai kunci baru untuk permintaan baru."),
    ),
    "too_large": (413, _l("Isi permintaan terlalu besar.")),
    "invalid_number": (422, _l("Nomor tujuan tidak sah (contoh: 0812xxxxxxxx).")),
    "empty_text": (422, _l("Teks pesan kosong.")),
    "too_long": (422, _l("Teks terlalu panjang: paling banyak %(parts)d SMS.", parts=MAX_REPLY_PARTS)),
    "unknown_modem": (422, _l("Modem ini tidak ada di konfigurasi.")),
    "unanswerable": (
        422,
        _l("Pengirim ini bukan nomor telepon (kode pendek atau nama), jadi tidak dapat dibalas."),
    ),
    "invalid_broadcast": (422, _l("Siaran tidak dapat dibuat; lihat details.")),
    "rate_limited": (429, _l("Terlalu banyak permintaan dengan token ini; coba lagi sebentar lagi.")),
    "internal": (500, _l("Terjadi kesalahan di server.")),
}
HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}


class ApiError(Exception):
    """Raised anywhere in a handler; answered as :class:`.schemas.Error`."""

    def __init__(self, code: str, *, details: list[Problem] | None = None, headers: dict | None = None, **variables):
        super().__init__(code)
        self.code = code
        self.status = ERRORS[code][0]
        self.details = details or []
        self.headers = headers or {}
        self.variables = variables


def error_response(error: ApiError) -> Response:
    message = str(ERRORS[error.code][1])
    if error.variables:
        message = message % error.variables
    body = Error(code=error.code, message=message, details=error.details)
    response = jsonify(body.model_dump(mode="json"))
    response.status_code = error.status
    response.headers.update(error.headers)
    response.headers["Cache-Control"] = "no-store"
    return response


def is_api_request() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def http_error_response(error: HTTPException) -> Response:
    """A Werkzeug error (no route, wrong method, body too big) on an API path, as JSON."""
    code = HTTP_CODES.get(error.code or 500, "internal" if (error.code or 500) >= 500 else "bad_request")
    api_error = ApiError(code)
    if error.code == 405 and getattr(error, "valid_methods", None):
        api_error.headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
    return error_response(api_error)
