"""Keeping one received SMS: stored exactly as it arrived, in one transaction.

The worker calls :func:`store` and only after it returned (the row is
committed, and with SQLite ``synchronous=FULL`` on disk) deletes the message
from the SIM with ``driver.acknowledge``. A crash before the commit leaves the
message on the SIM, to be read again at the next start; a crash between the
commit and the acknowledgement makes the SIM hand it over twice, which
:func:`store` recognises (same modem, sender, SMSC time and text) so the
citizen's message is kept once.
"""

from __future__ import annotations

import json
import logging

import peewee

from . import phone
from .drivers.base import IncomingSMS
from .models import InboundMessage, ModemStatus, database_proxy, to_utc_naive, utcnow

log = logging.getLogger("modemd.inbound")


def sender_fields(raw: str) -> tuple[str, str]:
    """(sender as stored, kind): E.164 for a number, else the sender as received."""
    kind = phone.sender_kind(raw)
    if kind == "number":
        return phone.normalize(raw), kind
    return (raw or "").strip(), kind


def _already_stored(modem: str, sms: IncomingSMS, smsc_time) -> InboundMessage | None:
    """The row of the same message stored before a crash cut the acknowledgement short."""
    if smsc_time is None:
        return None  # without the SMSC's time two equal texts cannot be told from a repeat
    return (InboundMessage.select()
            .where(InboundMessage.modem == modem, InboundMessage.sender_raw == sms.sender,
                   InboundMessage.smsc_time == smsc_time, InboundMessage.text == sms.text)
            .first())


def store(modem: str, sms: IncomingSMS) -> tuple[InboundMessage, bool]:
    """Commit one received message. Returns (row, created); created is False for a repeat."""
    database: peewee.Database = database_proxy.obj
    sender, kind = sender_fields(sms.sender)
    smsc_time = to_utc_naive(sms.smsc_time)
    with database.atomic():
        existing = _already_stored(modem, sms, smsc_time)
        if existing is not None:
            log.info("%s: message from %s at %s was already stored as #%d (acknowledged again)",
                     modem, phone.mask(sender), smsc_time, existing.id)
            return existing, False
        message = InboundMessage.create(
            modem=modem, sender_raw=sms.sender or "", sender=sender, sender_kind=kind, text=sms.text or "",
            pdus=json.dumps(list(sms.pdus)), smsc_time=smsc_time, received_at=utcnow(),
            parts_total=sms.parts_total, parts_received=sms.parts_received, incomplete=sms.incomplete,
            decode_error=sms.decode_error,
        )
        ModemStatus.update(received_total=ModemStatus.received_total + 1).where(ModemStatus.name == modem).execute()
    log.info("%s: stored message #%d from %s (%d part(s)%s)", modem, message.id, phone.mask(sender),
             sms.parts_received, ", incomplete" if sms.incomplete else "")
    return message, True
