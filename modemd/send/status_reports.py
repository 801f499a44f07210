"""Status (delivery) reports: find the part they are about, move its message to delivered or failed.

A report names the message reference (0-255, it wraps), the recipient and the
time the SMSC took the message. We match on (modem, reference, recipient)
and pick the part sent nearest to that time, comparing both in UTC. Gammu
SMSD compares the SMSC's time with the PC's local time (gammu issue 242), so
in Jakarta (UTC+7) its window misses every report; here the SMSC time is
converted from its own offset first.

Every report is stored; one that matches nothing is kept unmatched (a
report for a message sent before the database was reset, or by another
program on the SIM) and never stops the worker.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from modemd.cases import answers
from modemd.drivers.base import StatusReport
from modemd.sms import phone
from modemd.states import OutboundState, PartState, check
from modemd.store.models import DeliveryReport, OutboundMessage, OutboundPart, database_proxy, to_utc_naive, utcnow
from modemd.webhooks import events as webhook_events

#: message states a status report may still change (the network took the message)
REPORTED = (OutboundState.SENT, OutboundState.DELIVERED, OutboundState.FAILED)

log = logging.getLogger("modemd.reports")

#: a part is matched when it was sent this close to the SMSC's time (PC and network clocks differ a little)
MATCH_WINDOW = timedelta(hours=1)
#: why a message failed when its status report said so (shown to people through drivers/causes.py)
UNDELIVERABLE_REASON = "the network could not deliver it (status report)"
#: without a usable SMSC time, the newest matching part sent within this time is taken
FALLBACK_WINDOW = timedelta(days=3)


def _recipient_forms(recipient: str) -> set[str]:
    forms = {recipient}
    normal = phone.try_normalize(recipient)
    if normal:
        forms.add(normal)
    return forms


def find_part(modem: str, report: StatusReport, now: datetime | None = None) -> OutboundPart | None:
    """The sent part this report is about, or None."""
    now = now or utcnow()
    smsc_utc = to_utc_naive(report.smsc_time)
    candidates = OutboundPart.select().where(
        OutboundPart.modem == modem,
        OutboundPart.reference == report.reference,
        OutboundPart.recipient.in_(_recipient_forms(report.recipient)),
        OutboundPart.sent_at >= now - FALLBACK_WINDOW,
    )
    parts = list(candidates)
    if not parts:
        return None
    if smsc_utc is not None:
        near = [p for p in parts if abs(p.sent_at - smsc_utc) <= MATCH_WINDOW]
        if near:
            return min(near, key=lambda p: abs(p.sent_at - smsc_utc))
    # no SMSC time, or the PC's clock is far off: the newest part still waiting for its report
    waiting = [p for p in parts if p.state == PartState.SENT] or parts
    return max(waiting, key=lambda p: p.sent_at)


def derive_message_state(message_id: int, now: datetime) -> OutboundState:
    """A message is delivered when every part is, failed when any part failed, else still sent."""
    states = [p.state for p in OutboundPart.select(OutboundPart.state).where(OutboundPart.message == message_id)]
    message = OutboundMessage.get_by_id(message_id)
    if message.state not in REPORTED:
        return OutboundState(message.state)  # a report for an earlier attempt of a message being retried: leave it
    if PartState.FAILED in states:
        new = OutboundState.FAILED
    elif states and all(s == PartState.DELIVERED for s in states):
        new = OutboundState.DELIVERED
    else:
        new = OutboundState.SENT
    if new != message.state:
        check(message.state, new)
        changes: dict[str, object] = {"state": new}
        if new == OutboundState.DELIVERED:
            changes["delivered_at"] = now
        if new == OutboundState.FAILED:
            changes["failure_reason"] = UNDELIVERABLE_REASON
        OutboundMessage.update(**changes).where(OutboundMessage.id == message_id).execute()
        if message.kind == "reply" and message.case_id is not None:
            # the case follows its reply in this same transaction (modemd.cases.answers)
            if new == OutboundState.FAILED:
                answers.replies_failed([message.case_id], now)
            else:
                answers.reply_sent(message.case_id, message.sent_at or now)
            reason = UNDELIVERABLE_REASON if new == OutboundState.FAILED else None
            webhook_events.reply_changed(message, new, reason, now)
    return new


def handle(modem: str, report: StatusReport, now: datetime | None = None) -> DeliveryReport:
    """Store one report and apply it to its part and message, in one transaction."""
    now = now or utcnow()
    with database_proxy.obj.atomic():
        part = find_part(modem, report, now)
        row = DeliveryReport.create(
            modem=modem,
            reference=report.reference,
            recipient=report.recipient,
            status_code=report.status_code,
            delivered=report.delivered,
            final=report.final,
            smsc_time=to_utc_naive(report.smsc_time),
            discharge_time=to_utc_naive(report.discharge_time),
            received_at=now,
            part=part,
            pdu=report.pdu or "",
        )
        if part is None:
            log.warning(
                "%s: status report for unknown reference %d to %s kept unmatched",
                modem,
                report.reference,
                phone.mask(report.recipient),
            )
            return row
        if report.final:
            state = PartState.DELIVERED if report.delivered else PartState.FAILED
            (
                OutboundPart.update(
                    state=state, status_code=report.status_code, delivered_at=to_utc_naive(report.discharge_time) or now
                )
                .where(OutboundPart.id == part.id)
                .execute()
            )
            message_state = derive_message_state(part.message_id, now)
            log.info(
                "%s: message #%d part %d %s (status %d); message %s",
                modem,
                part.message_id,
                part.sequence,
                state,
                report.status_code,
                message_state,
            )
        else:
            OutboundPart.update(status_code=report.status_code).where(OutboundPart.id == part.id).execute()
    return row


def handle_batch(modem: str, batch: list[StatusReport], now: datetime | None = None) -> list[DeliveryReport]:
    """Several reports in one transaction (one disk flush); the caller acknowledges them afterwards."""
    with database_proxy.obj.atomic():
        rows = [handle(modem, report, now) for report in batch]
    webhook_events.wake()  # a reply's new state may have queued an event: committed now
    return rows
