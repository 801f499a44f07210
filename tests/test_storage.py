"""The storage suite: runs on SQLite always, and on PostgreSQL and MariaDB when their URLs are set."""

from __future__ import annotations

import json

import peewee
import pytest

from modemd.config import Config
from modemd.send import outqueue
from modemd.sms import phone
from modemd.store.models import (
    AuditLog,
    Broadcast,
    Case,
    DaemonState,
    InboundMessage,
    OutboundMessage,
    User,
    audit,
    utcnow,
)
from modemd.users import create_user

DEFAULTS = Config.defaults()  # the schema's settings, no file

NASTY = 'DISHUB <script>alert("x")</script> jalan rusak 🚧🙏 ‘quotes’ & € [ ] { } \\ ~ ^ |'


def _store(text: str = NASTY) -> InboundMessage:
    return InboundMessage.create(
        modem="modem1",
        sender_raw="081234567890",
        sender="+6281234567890",
        text=text,
        pdus=json.dumps(["0791261806111111040C9126"]),
        smsc_time=utcnow(),
    )


def test_text_with_emoji_html_and_extension_chars_round_trips(any_db):
    stored = _store()
    again = InboundMessage.get_by_id(stored.id)
    assert again.text == NASTY
    assert again.pdu_list == ["0791261806111111040C9126"]
    long_text = "Ä" * 1600 + "😀" * 200
    assert InboundMessage.get_by_id(_store(long_text).id).text == long_text


def test_original_sms_cannot_be_changed_but_routing_can_be_written(any_db):
    stored = _store()
    case = Case.create(keyword="DISHUB", citizen="+6281234567890", deadline_at=utcnow())
    InboundMessage.update(route="case", keyword="DISHUB", case=case).where(InboundMessage.id == stored.id).execute()
    for field, value in (("text", "edited"), ("pdus", "[]"), ("sender_raw", "0")):
        with pytest.raises(peewee.DatabaseError, match="read-only"):
            with any_db.atomic():
                InboundMessage.update({field: value}).where(InboundMessage.id == stored.id).execute()
    again = InboundMessage.get_by_id(stored.id)
    assert (again.text, again.route, again.case_id) == (NASTY, "case", case.id)


# MariaDB reports a failed CHECK as error 4025, which PyMySQL maps to OperationalError.
CHECK_FAILED = (peewee.IntegrityError, peewee.OperationalError)


def test_state_words_are_checked_by_the_database(any_db, make_user):
    with pytest.raises(CHECK_FAILED):
        with any_db.atomic():
            OutboundMessage.create(recipient="+6281234567890", text="x", kind="reply", state="lost")
    with pytest.raises(CHECK_FAILED):
        with any_db.atomic():
            User.create(login="x", role="superuser")


def test_one_sms_per_number_per_broadcast(any_db, make_user):
    author = make_user("humas", "official")
    broadcast = Broadcast.create(text="Rapat jam 9", created_by=author)
    OutboundMessage.create(recipient="+6281234567890", text="Rapat", kind="broadcast", broadcast=broadcast)
    with pytest.raises(peewee.IntegrityError):
        with any_db.atomic():
            OutboundMessage.create(recipient="+6281234567890", text="Rapat", kind="broadcast", broadcast=broadcast)
    # replies (no broadcast) to the same number are not limited
    for _ in range(2):
        OutboundMessage.create(recipient="+6281234567890", text="Balasan", kind="reply")
    assert OutboundMessage.select().count() == 3


def test_users_passwords_and_audit(any_db):
    user = create_user(
        "kadishub", "official", "rahasia-123", name="Kepala Dinas", phone_number="0812-3456-7890", sender_id="DISHUB"
    )
    assert user.phone == "+6281234567890"
    assert user.password_hash.startswith("scrypt:") and "rahasia" not in user.password_hash
    again = User.by_login("kadishub")
    assert again.check_password("rahasia-123") and not again.check_password("rahasia-124")
    entry = AuditLog.get((AuditLog.action == "user.create") & (AuditLog.object_id == str(user.id)))
    assert json.loads(entry.detail)["phone"] == "+6281234567890"
    audit("admin", "case.note", again, text="catatan <b>")
    assert AuditLog.select().count() == 2


def test_daemon_state_upsert(any_db):
    DaemonState.put("keywords", "[]")
    DaemonState.put("keywords", '[{"name": "DISHUB"}]')
    assert DaemonState.read("keywords") == '[{"name": "DISHUB"}]'
    assert DaemonState.read("missing", "default") == "default"
    assert DaemonState.select().count() == 1


def test_enqueue_counts_parts_and_refuses_bad_input(any_db):
    message = outqueue.enqueue("081234567890", "Halo " * 40, "reply", config=DEFAULTS)
    assert (message.recipient, message.parts, message.encoding, message.state) == (
        "+6281234567890",
        2,
        "gsm7",
        "pending",
    )
    emoji = outqueue.enqueue("6281234567890", "Terima kasih 🙏", "autoreply", config=DEFAULTS)
    assert (emoji.encoding, emoji.parts) == ("ucs2", 1)
    assert emoji.priority > message.priority  # replies leave before automatic replies
    with pytest.raises(phone.InvalidNumber):
        outqueue.enqueue("12345", "x", "reply", config=DEFAULTS)
    with pytest.raises(outqueue.EmptyMessage):
        outqueue.enqueue("081234567890", "   ", "reply", config=DEFAULTS)
    assert OutboundMessage.select().count() == 2
