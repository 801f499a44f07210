"""Keeping one received SMS: stored exactly as it arrived, in one transaction.

The worker calls :func:`store_batch` and only after it returned (the row is
committed, and with SQLite ``synchronous=FULL`` on disk) deletes the message
from the SIM with ``driver.acknowledge``. A crash before the commit leaves the
message on the SIM, to be read again at the next start; a crash between the
commit and the acknowledgement makes the SIM hand it over twice, which
:func:`store` recognises (same modem, SIM slot, sender, SMSC time and text) so
the citizen's message is kept once.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import peewee

from modemd.drivers.base import IncomingSMS
from modemd.sms import phone
from modemd.store.models import InboundMessage, ModemStatus, database_proxy, to_utc_naive, utcnow
from modemd.store.sqlcache import Compiled, CompiledInsert, Param

if TYPE_CHECKING:
    from modemd.receive.routing import Router, Routing

log = logging.getLogger("modemd.inbound")


def sender_fields(raw: str) -> tuple[str, str]:
    """(sender as stored, kind): E.164 for a number, else the sender as received."""
    kind = phone.sender_kind(raw)
    if kind == "number":
        return phone.normalize(raw), kind
    return (raw or "").strip(), kind


def sim_slot(sms: IncomingSMS) -> str:
    """The driver's handle as text: SIM index(es), a spool file or Gammu locations."""
    return "" if sms.handle is None else str(sms.handle)[:255]


def _already_stored(modem: str, sms: IncomingSMS, sender: str, smsc_time) -> InboundMessage | None:
    """The row of the same message stored before a crash cut the acknowledgement short.

    A repeat comes back from the same SIM slot with the same sender, SMSC time
    and text. A citizen who sends the same text twice within one second (a
    double tap) gets two slots, so both messages are kept.
    """
    if smsc_time is None:
        return None  # without the SMSC's time two equal texts cannot be told from a repeat
    found = _REPEAT.execute(
        sender=sender, modem=modem, raw=sms.sender or "", slot=sim_slot(sms), smsc_time=smsc_time, text=sms.text
    ).fetchone()
    return None if found is None else InboundMessage.get_by_id(found[0])  # a repeat is rare: read it whole then


# `sender` first: it is indexed, so this stays one short lookup however many messages are kept.
# Only the id: no row to build for the usual answer, "not stored yet". (SQL compiled once: see modemd.store.sqlcache)
_REPEAT = Compiled(
    lambda: (
        InboundMessage.select(InboundMessage.id)
        .where(
            InboundMessage.sender == Param("sender"),
            InboundMessage.modem == Param("modem"),
            InboundMessage.sender_raw == Param("raw"),
            InboundMessage.sim_slot == Param("slot"),
            InboundMessage.smsc_time == Param("smsc_time"),
            InboundMessage.text == Param("text"),
        )
        .limit(1)
    )
)
_INSERT = CompiledInsert(InboundMessage)


@dataclass
class Stored:
    """One message of a batch after the commit."""

    message: InboundMessage
    created: bool  # False: a repeat of a message stored before
    routing: Routing | None = None


def store(modem: str, sms: IncomingSMS, router: Router | None = None) -> tuple[InboundMessage, bool]:
    """Commit one received message. Returns (row, created); created is False for a repeat."""
    [stored] = store_batch(modem, [sms], router)
    return stored.message, stored.created


def store_batch(modem: str, batch: list[IncomingSMS], router: Router | None = None) -> list[Stored]:
    """Commit the messages the modem handed over together, in one transaction.

    With a ``router`` each message is also routed in that transaction, inside
    a savepoint: when routing fails the message is still committed, unrouted
    (``route = 'new'``), and routed again at the next start, so a routing
    error never loses a message. One commit for the whole batch means one
    flush to disk, which is what lets a burst of messages in (a full SIM
    after a restart) be kept at thousands per second with synchronous=FULL.
    Only after this returns may the caller delete the messages from the SIM.
    """
    database: peewee.Database = database_proxy.obj
    results: list[Stored] = []
    with database.atomic():
        for sms in batch:
            results.append(_store_one(modem, sms, router))
        created = sum(1 for r in results if r.created)
        if created:
            ModemStatus.update(received_total=ModemStatus.received_total + created).where(
                ModemStatus.name == modem
            ).execute()
    for stored in results:
        if stored.created:
            log.info(
                "%s: stored message #%d from %s (%d part(s)%s)",
                modem,
                stored.message.id,
                shown(stored.message),
                stored.message.parts_received,
                ", incomplete" if stored.message.incomplete else "",
            )
        if stored.routing is not None and router is not None:  # routing happens only with a router
            router.after_commit(stored.routing)
    return results


def shown(message: InboundMessage) -> str:
    """The sender for a log line: a number masked, a name as it is."""
    return phone.mask(message.sender) if message.sender_kind == "number" else message.sender


def _store_one(modem: str, sms: IncomingSMS, router: Router | None) -> Stored:
    sender, kind = sender_fields(sms.sender)
    smsc_time = to_utc_naive(sms.smsc_time)
    existing = _already_stored(modem, sms, sender, smsc_time)
    if existing is not None:
        log.info(
            "%s: message from %s at %s was already stored as #%d (acknowledged again)",
            modem,
            shown(existing),
            smsc_time,
            existing.id,
        )
        return Stored(existing, False)
    values = {
        "modem": modem,
        "sender_raw": sms.sender or "",
        "sender": sender,
        "sender_kind": kind,
        "text": sms.text or "",
        "pdus": json.dumps(list(sms.pdus)),
        "smsc_time": smsc_time,
        "received_at": utcnow(),
        "parts_total": sms.parts_total,
        "parts_received": sms.parts_received,
        "incomplete": sms.incomplete,
        "decode_error": sms.decode_error,
        "sim_slot": sim_slot(sms),
    }
    # the row is built from the values just written, not read back
    message = InboundMessage(id=_INSERT.execute(values), **values)
    return Stored(message, True, _route_inside(router, message) if router is not None else None)


def _route_inside(router: Router, message: InboundMessage):
    try:
        with database_proxy.obj.atomic():  # a savepoint: a routing failure leaves the stored message alone
            return router.apply(message)
    except Exception:  # keep the message whatever went wrong in routing
        log.exception("message #%d: routing failed; stored unrouted, routed again at the next start", message.id)
        message.route = "new"
        return None
