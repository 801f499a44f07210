"""Status reports: matched in UTC on (modem, reference, recipient, time); unknown ones kept, never a crash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from modemd.config import Config
from modemd.drivers.base import StatusReport
from modemd.send import outbound, outqueue, status_reports
from modemd.send.outbound import Eligibility
from modemd.store.models import DeliveryReport, OutboundMessage, OutboundPart, utcnow

DEFAULTS = Config.defaults()  # the schema's settings, no file

WIB = timezone(timedelta(hours=7))
NUMBER = "081211112222"
E164 = "+6281211112222"


def sent(text: str = "jawaban", references=(7,), *, modem: str = "m1", at: datetime | None = None) -> OutboundMessage:
    message = outqueue.enqueue(NUMBER, text, "reply", config=DEFAULTS)
    claimed = outbound.claim("pc1", Eligibility.build(modem, {modem}, {}))
    outbound.record_sent(claimed, modem, list(references), now=at)
    return OutboundMessage.get_by_id(message.id)


def report(
    reference: int, *, smsc_time: datetime | None, delivered=True, final=True, status=0, recipient: str = E164
) -> StatusReport:
    return StatusReport(
        reference=reference,
        recipient=recipient,
        delivered=delivered,
        final=final,
        status_code=status,
        smsc_time=smsc_time,
        discharge_time=smsc_time,
    )


def test_a_delivered_report_moves_sent_to_delivered(any_db):
    message = sent()
    row = status_reports.handle("m1", report(7, smsc_time=datetime.now(WIB)))
    assert row.part is not None and row.part.message_id == message.id
    fresh = OutboundMessage.get_by_id(message.id)
    assert fresh.state == "delivered" and fresh.delivered_at is not None


def test_jakarta_smsc_time_is_compared_in_utc_unlike_gammu_issue_242(sqlite_db):
    """Two sends with the same reference to the same number, 7 hours apart.

    The report carries the SMSC's time in WIB (+07:00). Compared as local wall
    time against UTC send times (Gammu's mistake) it would point at the old
    send; compared in UTC it is the new one.
    """
    now = utcnow()
    old = sent("lama", at=now - timedelta(hours=7))
    new = sent("baru", at=now)
    smsc_wib = (now + timedelta(seconds=2)).replace(tzinfo=UTC).astimezone(WIB)
    naive_local = smsc_wib.replace(tzinfo=None)  # what a local-time comparison would use
    assert abs(naive_local - (now - timedelta(hours=7))) > timedelta(hours=13)  # the trap is real
    status_reports.handle("m1", report(7, smsc_time=smsc_wib))
    assert OutboundMessage.get_by_id(new.id).state == "delivered"
    assert OutboundMessage.get_by_id(old.id).state == "sent"


def test_reference_wrapping_picks_the_send_nearest_the_smsc_time(sqlite_db):
    now = utcnow()
    first = sent("pertama", references=(0,), at=now - timedelta(minutes=50))
    again = sent("setelah 256 pesan", references=(0,), at=now - timedelta(minutes=2))
    status_reports.handle("m1", report(0, smsc_time=(now - timedelta(minutes=50)).replace(tzinfo=UTC)))
    assert OutboundMessage.get_by_id(first.id).state == "delivered"
    assert OutboundMessage.get_by_id(again.id).state == "sent"


def test_the_recipient_and_modem_must_match_too(sqlite_db):
    message = sent()
    status_reports.handle("m2", report(7, smsc_time=datetime.now(WIB)))
    status_reports.handle("m1", report(7, smsc_time=datetime.now(WIB), recipient="+6285712345678"))
    assert OutboundMessage.get_by_id(message.id).state == "sent"
    assert DeliveryReport.select().where(DeliveryReport.part.is_null()).count() == 2


def test_the_recipient_in_national_form_still_matches(sqlite_db):
    message = sent()
    status_reports.handle("m1", report(7, smsc_time=datetime.now(WIB), recipient="6281211112222"))
    assert OutboundMessage.get_by_id(message.id).state == "delivered"


def test_without_smsc_time_the_newest_waiting_part_is_taken(sqlite_db):
    message = sent()
    status_reports.handle("m1", report(7, smsc_time=None))
    assert OutboundMessage.get_by_id(message.id).state == "delivered"


def test_a_long_message_is_delivered_when_every_part_is(sqlite_db):
    message = sent("x" * 300, references=(10, 11, 12))
    when = datetime.now(WIB)
    status_reports.handle("m1", report(10, smsc_time=when))
    status_reports.handle("m1", report(11, smsc_time=when))
    assert OutboundMessage.get_by_id(message.id).state == "sent"
    status_reports.handle("m1", report(12, smsc_time=when))
    assert OutboundMessage.get_by_id(message.id).state == "delivered"
    assert {p.state for p in OutboundPart.select()} == {"delivered"}


def test_a_failed_part_fails_the_message(sqlite_db):
    message = sent("x" * 300, references=(20, 21))
    status_reports.handle("m1", report(20, smsc_time=datetime.now(WIB)))
    status_reports.handle("m1", report(21, smsc_time=datetime.now(WIB), delivered=False, status=0x41))
    fresh = OutboundMessage.get_by_id(message.id)
    assert fresh.state == "failed" and "status report" in fresh.failure_reason


def test_a_still_trying_report_changes_nothing_but_is_kept(sqlite_db):
    message = sent()
    status_reports.handle("m1", report(7, smsc_time=datetime.now(WIB), delivered=False, final=False, status=0x30))
    assert OutboundMessage.get_by_id(message.id).state == "sent"
    assert OutboundPart.get().status_code == 0x30
    assert DeliveryReport.get().final is False


def test_a_report_for_an_unknown_reference_is_stored_unmatched(any_db):
    row = status_reports.handle("m1", report(99, smsc_time=datetime.now(WIB)))
    assert row.part is None and DeliveryReport.select().count() == 1


def test_a_report_for_a_message_now_being_retried_leaves_it_alone(sqlite_db):
    message = sent()
    OutboundMessage.update(state="pending").where(OutboundMessage.id == message.id).execute()
    status_reports.handle("m1", report(7, smsc_time=datetime.now(WIB)))
    assert OutboundMessage.get_by_id(message.id).state == "pending"
