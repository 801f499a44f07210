"""Storing a received SMS exactly as it arrived, once, before the SIM lets go of it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import peewee
import pytest

from modemd.drivers import create_driver, inject_simulated
from modemd.receive import inbound
from modemd.store.models import InboundMessage, ModemStatus
from tests.daemonharness import sms

WIB = timezone(timedelta(hours=7))


def test_a_message_is_stored_with_everything_the_modem_gave(any_db):
    ModemStatus.create(name="m1")
    smsc = datetime(2026, 11, 23, 21, 5, 7, tzinfo=WIB)
    message, created = inbound.store(
        "m1",
        sms(
            "0812-1111-2222",
            'DISHUB jalan rusak 🙏 "<b>"',
            smsc,
            pdus=["0791", "0792"],
            parts_total=2,
            parts_received=2,
        ),
    )
    assert created
    row = InboundMessage.get_by_id(message.id)
    assert (row.modem, row.sender_raw, row.sender, row.sender_kind) == (
        "m1",
        "0812-1111-2222",
        "+6281211112222",
        "number",
    )
    assert row.text == 'DISHUB jalan rusak 🙏 "<b>"'
    assert json.loads(row.pdus) == ["0791", "0792"]
    assert row.smsc_time == datetime(2026, 11, 23, 14, 5, 7)  # UTC
    assert row.received_at is not None and row.route == "new"
    assert (row.parts_total, row.parts_received, row.incomplete) == (2, 2, False)
    assert ModemStatus.get(ModemStatus.name == "m1").received_total == 1


def test_senders_that_are_not_numbers_are_kept_as_received(sqlite_db):
    for raw, kind in (
        ("TELKOMSEL", "alphanumeric"),
        ("3636", "shortcode"),
        ("", "alphanumeric"),
        ("+1 555", "alphanumeric"),
    ):
        message, _ = inbound.store("m1", sms(raw, "promo", None))
        assert (message.sender, message.sender_kind, message.sender_raw) == (raw.strip(), kind, raw)


def test_an_incomplete_or_undecodable_message_is_kept(sqlite_db):
    message, _ = inbound.store(
        "m1",
        sms(
            "081211112222",
            "",
            None,
            pdus=["00zz"],
            incomplete=True,
            parts_total=3,
            parts_received=1,
            decode_error="bad user data length",
        ),
    )
    row = InboundMessage.get_by_id(message.id)
    assert row.incomplete and row.decode_error == "bad user data length" and row.text == ""


def test_the_same_message_handed_over_again_after_a_crash_is_kept_once(sqlite_db):
    smsc = datetime(2026, 11, 23, 9, 0, tzinfo=WIB)
    first, created = inbound.store("m1", sms("081211112222", "DISHUB jalan", smsc))
    again, created_again = inbound.store("m1", sms("081211112222", "DISHUB jalan", smsc))
    assert created and not created_again and again.id == first.id
    # the same words a minute later are a new message
    _, created_later = inbound.store("m1", sms("081211112222", "DISHUB jalan", smsc + timedelta(minutes=1)))
    assert created_later
    assert InboundMessage.select().count() == 2


def test_original_columns_are_read_only_in_the_database(any_db):
    message, _ = inbound.store("m1", sms("081211112222", "asli", None))
    for column, value in (("text", "palsu"), ("pdus", "[]x"), ("sender_raw", "0000")):
        with pytest.raises(peewee.DatabaseError):
            with any_db.atomic():
                InboundMessage.update({column: value}).where(InboundMessage.id == message.id).execute()
    InboundMessage.update(route="case").where(InboundMessage.id == message.id).execute()  # routing may write
    assert InboundMessage.get_by_id(message.id).text == "asli"


def test_store_then_acknowledge_on_the_simulated_sim(sqlite_db, tmp_path):
    settings = {"driver": "sim", "device": str(tmp_path / "spool"), "send_delay": "0", "report_delay": "0"}
    inject_simulated(settings, "081211112222", "INFO halo")
    driver = create_driver("sim1", settings)
    driver.connect()
    try:
        [incoming] = driver.receive()
        message, _ = inbound.store("sim1", incoming)
        driver.acknowledge(incoming)
        assert InboundMessage.get_by_id(message.id).text == "INFO halo"
        assert driver.receive() == []
        assert not list((tmp_path / "spool").glob("*.sms"))
    finally:
        driver.close()


def test_a_failed_store_leaves_the_message_on_the_sim(sqlite_db, tmp_path):
    settings = {"driver": "sim", "device": str(tmp_path / "spool"), "send_delay": "0", "report_delay": "0"}
    inject_simulated(settings, "081211112222", "INFO halo")
    driver = create_driver("sim1", settings)
    driver.connect()
    try:
        [incoming] = driver.receive()
        sqlite_db.execute_sql("DROP TABLE modem_status")  # the database breaks mid-store
        with pytest.raises(peewee.DatabaseError):
            inbound.store("sim1", incoming)
        assert InboundMessage.select().count() == 0  # nothing half-written
        assert len(list((tmp_path / "spool").glob("*.sms"))) == 1  # the SIM still holds it
    finally:
        driver.close()


def test_a_routing_failure_keeps_the_message_stored_unrouted(officials, write_config, caplog):
    from tests.daemonharness import Conversation

    chat = Conversation(write_config())
    officials["admin"]._meta.database.execute_sql("DROP TABLE audit_log")  # opening a case now fails
    message, created = inbound.store("sim1", sms("081211112222", "DISHUB jalan rusak", None), chat.router)
    assert created and InboundMessage.get_by_id(message.id).route == "new"
    assert InboundMessage.get_by_id(message.id).text == "DISHUB jalan rusak"
    assert "routing failed" in caplog.text
    from modemd.store.models import Case, OutboundMessage

    assert Case.select().count() == 0 and OutboundMessage.select().count() == 0  # no half-routed leftovers


def test_a_batch_is_committed_together_and_repeats_inside_it_are_kept_once(sqlite_db):
    smsc = datetime(2026, 11, 23, 9, 0, tzinfo=WIB)
    batch = [sms("081211112222", f"INFO {n}", smsc) for n in range(5)] + [sms("081211112222", "INFO 0", smsc)]
    stored = inbound.store_batch("m1", batch)
    assert [s.created for s in stored] == [True] * 5 + [False]
    assert stored[5].message.id == stored[0].message.id
    assert InboundMessage.select().count() == 5


def test_a_citizen_sending_the_same_text_twice_in_one_second_is_kept_twice(sqlite_db, tmp_path):
    """A double tap gives two SIM slots; only a repeat from the same slot is a crash repeat."""
    smsc = datetime(2026, 11, 23, 9, 0, tzinfo=WIB)
    first, _ = inbound.store("m1", sms("081211112222", "DISHUB lampu mati", smsc, handle=(3,)))
    second, created = inbound.store("m1", sms("081211112222", "DISHUB lampu mati", smsc, handle=(4,)))
    assert created and second.id != first.id
    repeat, created_again = inbound.store("m1", sms("081211112222", "DISHUB lampu mati", smsc, handle=(4,)))
    assert not created_again and repeat.id == second.id

    # the same through the simulated SIM: two files, both stored, both deleted
    settings = {"driver": "sim", "device": str(tmp_path / "spool"), "send_delay": "0", "report_delay": "0"}
    when = datetime(2026, 11, 23, 10, 0, tzinfo=WIB)
    from modemd.drivers import sim

    for _ in range(2):
        sim.inject(settings["device"], "081233334444", "INFO halo", smsc_time=when)
    driver = create_driver("sim1", settings)
    driver.connect()
    try:
        incoming = driver.receive()
        assert len(incoming) == 2
        stored = inbound.store_batch("sim1", incoming)
        assert [s.created for s in stored] == [True, True]
        for item in incoming:
            driver.acknowledge(item)
    finally:
        driver.close()
    assert InboundMessage.select().where(InboundMessage.text == "INFO halo").count() == 2


def test_a_routed_batch_writes_the_same_rows_on_every_database(any_db, make_user, write_config):
    """Storing and routing run SQL compiled once per kind of database: the rows must be right on each."""
    from modemd.store.models import AuditLog, BlockedNumber, Case, OutboundMessage
    from tests.daemonharness import Conversation

    owners = {login: make_user(login) for login in ("humas", "dishub", "dinkes")}
    BlockedNumber.create(phone="+6285712345678")
    chat = Conversation(write_config("[sms]\nautoreply_limit = 2\n"))
    smsc = datetime(2026, 11, 23, 9, 0, tzinfo=WIB)
    batch = [
        sms("081211112222", "DISHUB jalan rusak", smsc, handle=(1,)),
        sms("081211112222", "dishub: sudah 3 hari", smsc + timedelta(minutes=1), handle=(2,)),
        sms("081233334444", "HALO", smsc, handle=(3,)),
        sms("081233334444", "HALO lagi", smsc, handle=(4,)),
        sms("081233334444", "HALO lagi lagi", smsc, handle=(5,)),
        sms("085712345678", "DISHUB promo", smsc, handle=(6,)),
        sms("TELKOMSEL", "DISHUB promo", None, handle=(7,)),
    ]
    stored = inbound.store_batch("m1", batch, chat.router)
    again = inbound.store_batch("m1", [sms("081211112222", "DISHUB jalan rusak", smsc, handle=(1,))], chat.router)
    assert not again[0].created and again[0].message.id == stored[0].message.id

    dishub = Case.get(Case.keyword == "DISHUB")
    assert (dishub.owner_id, dishub.citizen, dishub.status) == (owners["dishub"].id, "+6281211112222", "open")
    assert abs((dishub.deadline_at - dishub.opened_at) - timedelta(hours=3)) < timedelta(seconds=1)
    assert dishub.last_message_at >= dishub.opened_at
    unrouted = Case.get(Case.keyword.is_null())
    assert (unrouted.owner_id, unrouted.citizen) == (None, "+6281233334444")
    rows = [(m.text, m.route, m.keyword, m.case_id) for m in InboundMessage.select().order_by(InboundMessage.id)]
    assert rows == [
        ("DISHUB jalan rusak", "case", "DISHUB", dishub.id),
        ("dishub: sudah 3 hari", "case", "DISHUB", dishub.id),
        ("HALO", "unrouted", None, unrouted.id),
        ("HALO lagi", "unrouted", None, unrouted.id),
        ("HALO lagi lagi", "unrouted", None, unrouted.id),
        ("DISHUB promo", "blocked", None, None),
        ("DISHUB promo", "unanswerable", None, None),
    ]
    replies = [
        (r.recipient, r.kind, r.state, r.case_id, r.parts, r.encoding)
        for r in OutboundMessage.select().order_by(OutboundMessage.id)
    ]
    assert replies == [
        ("+6281211112222", "autoreply", "pending", dishub.id, 1, "gsm7"),
        ("+6281233334444", "autoreply", "pending", unrouted.id, 1, "gsm7"),
        ("+6281233334444", "autoreply", "pending", unrouted.id, 1, "gsm7"),
    ]  # limit 2: no third
    assert [s.routing.replies[0].id for s in stored if s.routing and s.routing.replies] == [
        r.id for r in OutboundMessage.select().order_by(OutboundMessage.id)
    ]
    opened = AuditLog.select().where(AuditLog.action == "case.open").order_by(AuditLog.id)
    assert [(a.object_type, a.object_id, json.loads(a.detail)["message"]) for a in opened] == [
        ("case", str(dishub.id), stored[0].message.id),
        ("case", str(unrouted.id), stored[2].message.id),
    ]
