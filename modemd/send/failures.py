"""Why an outgoing SMS is not out yet, or never will be, in words an official understands.

The outbox keeps the technical reason (``failure_reason``, e.g.
``+CMS ERROR: 38``, for logs and technicians) and the modem's cause code
(``failure_code``). People read :func:`plain`: the cause table's text
(:mod:`modemd.drivers.causes`), or the words for a failure that has no modem
cause (expired, undeliverable by status report, modem unplugged, in doubt twice,
cancelled),
followed by "akan dicoba lagi" while the message is still waiting for another
attempt. The texts are Bahasa Indonesia msgids: the web UI passes its
``gettext`` as ``translate``; the CLI prints them as they are.
"""

from __future__ import annotations

from collections.abc import Callable

from modemd.drivers import causes
from modemd.drivers.causes import N_
from modemd.send.outbound import EXPIRED_REASON, IN_DOUBT_REASON
from modemd.send.status_reports import UNDELIVERABLE_REASON
from modemd.states import OutboundState

EXPIRED = N_("SMS kedaluwarsa sebelum sempat terkirim")
UNDELIVERABLE = N_("Jaringan operator tidak dapat menyampaikan SMS ke nomor tujuan")
MODEM_GONE = N_("Modem terputus")
CANCELLED = N_("Dibatalkan")
IN_DOUBT = N_("Pengiriman terputus dua kali; SMS mungkin sudah sampai, jadi tidak dikirim lagi")
RETRYING = N_("%(cause)s, akan dicoba lagi")

# failures recorded without a modem cause, by how their technical reason begins
_WITHOUT_CODE = (
    (EXPIRED_REASON, EXPIRED),
    (UNDELIVERABLE_REASON, UNDELIVERABLE),
    (IN_DOUBT_REASON, IN_DOUBT),
    ("cancelled", CANCELLED),
)


def cause_text(code: int | None, reason: str | None) -> str | None:
    """The plain msgid for a failure, or None when nothing failed."""
    if code is None and not reason:
        return None
    if code is not None:
        return causes.cause(code).text
    assert reason  # no code: then there is a reason
    for start, text in _WITHOUT_CODE:
        if reason.startswith(start):
            return text
    if "stopped answering" in reason:
        return MODEM_GONE
    return causes.UNKNOWN


def plain(code: int | None, reason: str | None, state: str, translate: Callable[[str], str] = lambda text: text) -> str:
    """What people read about a message's failure ('' when there is none)."""
    if state == OutboundState.CANCELLED:  # whoever cancelled it and however the reason was worded
        return translate(CANCELLED)
    text = cause_text(code, reason)
    if text is None or state in (OutboundState.SENT, OutboundState.DELIVERED):
        return ""
    if state in (OutboundState.PENDING, OutboundState.SENDING):
        return translate(RETRYING) % {"cause": translate(text)}
    return translate(text)
