"""Why a webhook delivery failed, in words an administrator reads (Bahasa Indonesia msgids).

The queue keeps the technical text (``last_error``, each attempt's ``error``:
"no answer within 10 s", "HTTP 502 Bad Gateway") for technicians and logs.
:func:`plain` names its kind by how :mod:`.post` and :mod:`.dispatch` begin
it; the web UI shows that sentence, translated, with the technical text beside
it, as :mod:`modemd.send.failures` does for SMS.
"""

from __future__ import annotations

from modemd.drivers.causes import N_

from . import post
from .dispatch import GONE

REDIRECT = N_("Penerima mengalihkan ke alamat lain; pengalihan tidak diikuti")
HTTP_STATUS = N_("Penerima menjawab dengan kode galat")
NO_ANSWER = N_("Penerima tidak menjawab tepat waktu")
REFUSED = N_("Sambungan ditolak: tidak ada layanan di alamat itu")
TLS_FAILED = N_("Sambungan aman (TLS) gagal")
HOST_UNKNOWN = N_("Nama host tidak ditemukan")
CONNECTION_FAILED = N_("Sambungan gagal")
ENDPOINT_GONE = N_("Tujuan ini tidak lagi diatur")
OTHER = N_("Pengiriman gagal")
GAVE_UP = N_("dihentikan setelah %(attempts)d percobaan")  # a failed delivery, with its attempts

_KINDS = (
    (GONE, ENDPOINT_GONE),
    (post.REDIRECT, REDIRECT),
    (post.HTTP_STATUS + " ", HTTP_STATUS),
    (post.NO_ANSWER, NO_ANSWER),
    (post.REFUSED, REFUSED),
    (post.TLS_FAILED, TLS_FAILED),
    (post.HOST_UNKNOWN, HOST_UNKNOWN),
    (post.CONNECTION_FAILED, CONNECTION_FAILED),
)


def plain(error: str) -> str:
    """The msgid naming the kind of ``error``."""
    for start, text in _KINDS:
        if error.startswith(start):
            return text
    return OTHER
