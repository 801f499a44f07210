"""Personal data: citizens' numbers of long-closed cases are purged (UU 27/2022 PDP), figures stay true.

``[privacy] keep_days`` turns on a daily purge, ``modemd privacy purge
--before DATE`` does it on demand. The database guard on the original SMS
allows exactly this change (sender_raw to the purged form, PDUs emptied) and
no other, on SQLite, PostgreSQL and MariaDB.
"""

from __future__ import annotations

import dataclasses
import json
import os
import stat
from datetime import date, datetime, timedelta

import peewee
import pytest

from modemd import cli
from modemd import config as config_module
from modemd.config import Config
from modemd.jobs.recap import daily_recap
from modemd.store.models import (
    AuditLog,
    Case,
    DeliveryReport,
    InboundMessage,
    OutboundMessage,
    OutboundPart,
    utcnow,
)

DEFAULTS = Config.defaults()  # the schema's settings, no file

ZONE = "Asia/Jakarta"
PURGED = "+62812*90#abcdefghij"  # the shape of a purged number
PDUS = json.dumps(["07912618010000F0040C912618214365870900006221"])


def _case(
    raw: str, *, opened: datetime, closed: datetime | None, keyword: str = "DISHUB", answered: bool = True
) -> Case:
    """A case with one received SMS (sender as the modem gave it, with PDUs) and one delivered reply."""
    from modemd.sms import phone

    number = phone.normalize(raw)
    case = Case.create(
        keyword=keyword,
        citizen=number,
        opened_at=opened,
        deadline_at=opened + timedelta(hours=3),
        last_message_at=opened,
        status="closed" if closed else "open",
        closed_at=closed,
        answered_at=opened + timedelta(hours=1) if answered else None,
    )
    InboundMessage.create(
        modem="modem1",
        sender_raw=raw,
        sender=number,
        text=f"{keyword} jalan rusak, hub {raw}",
        pdus=PDUS,
        received_at=opened,
        route="case",
        keyword=keyword,
        case=case,
    )
    reply = OutboundMessage.create(recipient=number, text="Terima kasih", kind="reply", state="delivered", case=case)
    part = OutboundPart.create(
        message=reply, sequence=1, modem="modem1", reference=7, recipient=number, state="delivered"
    )
    DeliveryReport.create(
        modem="modem1",
        reference=7,
        recipient=number,
        status_code=0,
        delivered=True,
        part=part,
        pdu="0691261801000006070C91261821436587",
    )
    return case


@pytest.fixture
def history(request, any_db):
    """Two months of cases: a repeat sender, a citizen with an old closed and a new open case, a recent one."""
    now = utcnow()
    old = now - timedelta(days=60)
    made = {
        "repeat": [
            _case("081234567890", opened=old + timedelta(hours=h), closed=old + timedelta(days=1)) for h in (0, 2, 4)
        ],
        "old_and_open": [
            _case("+6285712345678", opened=old, closed=old + timedelta(days=2)),
            _case("6285712345678", opened=now - timedelta(hours=1), closed=None, answered=False),
        ],
        "recent": [_case("081399998888", opened=now - timedelta(days=3), closed=now - timedelta(days=2))],
        "old_open": [_case("081355554444", opened=old, closed=None, keyword="INFO", answered=False)],
    }
    blocked = InboundMessage.create(
        modem="modem1",
        sender_raw="081277776666",
        sender="+6281277776666",
        text="spam",
        pdus=PDUS,
        received_at=old,
        route="blocked",
    )
    return {"now": now, "old": old, "cases": made, "blocked": blocked, "url": _url(request, any_db)}


def _url(request, database) -> str:
    """The URL of the ``any_db`` database, for a modemd.ini pointing at it."""
    kind = request.node.callspec.params["any_db"]
    if kind == "sqlite":
        return f"sqlite:///{database.database}"
    return request.getfixturevalue("postgres_url" if kind == "postgresql" else "mysql_url")


def _purge(before: datetime, tmp_path, actor: str = "test"):
    from modemd.jobs import privacy

    return privacy.purge(before, privacy.load_salt(tmp_path / "privacy.salt"), actor)


# --------------------------------------------------------------------------
# The guard in the database


def _update(database, **values):
    with database.atomic():
        return InboundMessage.update(**values).where(InboundMessage.id == 1).execute()


@pytest.mark.parametrize(
    "values",
    [
        {"text": "diubah"},
        {"sender_raw": "0"},
        {"pdus": "[]"},  # the PDUs alone: the number would stay in sender_raw
        {"sender": PURGED, "sender_raw": PURGED},  # the PDUs kept: they still hold the number
        {"sender_raw": PURGED, "pdus": "[]"},  # sender_raw purged, sender not
        {"sender": "+6281234567890", "sender_raw": "+6281234567890", "pdus": "[]"},  # not the purged shape
        {"sender": PURGED.upper(), "sender_raw": PURGED.upper(), "pdus": "[]"},  # nor in capitals
        {"sender": PURGED, "sender_raw": PURGED, "pdus": "[]", "text": "diubah"},  # the text, never
    ],
)
def test_the_guard_refuses_everything_but_the_purge(any_db, values):
    InboundMessage.create(modem="m", sender_raw="081234567890", sender="+6281234567890", text="asli", pdus=PDUS)
    with pytest.raises(peewee.DatabaseError, match="read-only"):
        _update(any_db, **values)
    row = InboundMessage.get_by_id(1)
    assert (row.text, row.sender_raw, row.pdus) == ("asli", "081234567890", PDUS)


def test_the_guard_allows_the_purge_once(any_db):
    InboundMessage.create(modem="m", sender_raw="081234567890", sender="+6281234567890", text="asli", pdus=PDUS)
    assert _update(any_db, sender=PURGED, sender_raw=PURGED, pdus="[]") == 1
    row = InboundMessage.get_by_id(1)
    assert (row.text, row.sender, row.sender_raw, row.pdus) == ("asli", PURGED, PURGED, "[]")
    other = "+62812*90#bbbbbbbbbb"
    with pytest.raises(peewee.DatabaseError, match="read-only"):
        _update(any_db, sender=other, sender_raw=other)  # a purged sender is final
    assert _update(any_db, route="case") == 1  # routing columns stay writable


# --------------------------------------------------------------------------
# The purge


def test_purge_replaces_the_numbers_of_cases_closed_before_the_cutoff_only(history, tmp_path):
    from modemd.jobs import privacy

    result = _purge(history["now"] - timedelta(days=30), tmp_path)
    cases = history["cases"]
    purged = [c for c in cases["repeat"] + cases["old_and_open"][:1]]
    kept = cases["old_and_open"][1:] + cases["recent"] + cases["old_open"]
    assert (result.cases, result.numbers, result.replies, result.parts, result.reports) == (4, 2, 4, 4, 4)
    assert result.messages == 4 + 1  # and the blocked number's message
    forms = {Case.get_by_id(c.id).citizen for c in cases["repeat"]}
    assert len(forms) == 1 and privacy.is_purged(forms.pop())  # one repeat sender, still one
    for case in purged:
        form = Case.get_by_id(case.id).citizen
        assert form.startswith("+62") and "#" in form and len(form) == 20
        message = InboundMessage.get(InboundMessage.case == case.id)
        assert (message.sender, message.sender_raw, message.pdus) == (form, form, "[]")
        assert message.text.startswith(case.keyword + " jalan rusak")  # the text is the evidence: unchanged
        reply = OutboundMessage.get(OutboundMessage.case == case.id)
        part = OutboundPart.get(OutboundPart.message == reply.id)
        report = DeliveryReport.get(DeliveryReport.part == part.id)
        assert (reply.recipient, part.recipient, report.recipient, report.pdu) == (form, form, form, "")
        assert AuditLog.select().where(AuditLog.action == "case.purge", AuditLog.object_id == str(case.id)).exists()
    for case in kept:
        assert Case.get_by_id(case.id).citizen == case.citizen
        message = InboundMessage.get(InboundMessage.case == case.id)
        assert message.pdus == PDUS and not privacy.is_purged(message.sender_raw)
    blocked = InboundMessage.get_by_id(history["blocked"].id)
    assert privacy.is_purged(blocked.sender_raw) and blocked.text == "spam"
    summary = AuditLog.get(AuditLog.action == "privacy.purge")
    assert json.loads(summary.detail)["cases"] == 4 and summary.actor == "test"
    # nothing left to do: a second run changes nothing
    again = _purge(history["now"] - timedelta(days=30), tmp_path)
    assert (again.cases, again.messages) == (0, 0)


def test_reports_add_up_the_same_after_the_purge(history, tmp_path):
    from zoneinfo import ZoneInfo

    from modemd.jobs import privacy

    salt = privacy.load_salt(tmp_path / "privacy.salt")
    days = sorted({(c.opened_at + timedelta(hours=7)).date() for group in history["cases"].values() for c in group})

    def figures():
        recaps = [
            dataclasses.asdict(
                daily_recap(day, ZoneInfo(ZONE), as_of=history["now"], recap_time=DEFAULTS.notify.recap_time)
            )
            for day in days
        ]
        counts = sorted(privacy.cases_per_sender(salt).values())
        return recaps, counts, sum(1 for n in counts if n > 1)

    before = figures()
    _purge(history["now"] - timedelta(days=30), tmp_path)
    after = figures()
    assert after == before
    # the citizen who wrote three times, and the one with a purged old case and a new open one
    assert before[1:] == ([1, 1, 2, 3], 2)


def test_the_salt_is_created_private_and_reused(tmp_path):
    from modemd.jobs import privacy

    old = os.umask(0o022)
    try:
        salt = privacy.load_salt(tmp_path / "data" / "privacy.salt")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "data" / "privacy.salt").st_mode) == 0o600
    assert privacy.load_salt(tmp_path / "data" / "privacy.salt") == salt and len(salt) >= 16
    number = "+6281234567890"
    assert privacy.purged_form(number, salt) == privacy.purged_form(number, salt)
    assert privacy.purged_form(number, salt) != privacy.purged_form(number, b"another salt of 32 bytes.......")
    assert privacy.purged_form("+6281234567891", salt) != privacy.purged_form(number, salt)


# --------------------------------------------------------------------------
# The setting, the command and the daily job


def test_keep_days_is_a_setting_that_defaults_to_off(write_config):
    config = config_module.load(write_config())
    assert config.privacy.keep_days == 0
    assert config_module.load(write_config("[privacy]\nkeep_days = 365\n")).privacy.keep_days == 365
    with pytest.raises(config_module.ConfigError, match="keep_days"):
        config_module.load(write_config("[privacy]\nkeep_days = sebulan\n"))


def test_privacy_purge_command_prints_json_alone(officials, write_config, tmp_path, capsys):
    path = write_config()
    old = utcnow() - timedelta(days=90)
    case = _case("081234567890", opened=old, closed=old + timedelta(days=1))
    before = (date.today() - timedelta(days=30)).isoformat()
    assert cli.main(["-c", str(path), "privacy", "purge", "--before", before, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["cases"] == 1 and out["messages"] == 1
    assert Case.get_by_id(case.id).citizen != case.citizen
    assert AuditLog.get(AuditLog.action == "privacy.purge").actor == "cli"
    assert stat.S_IMODE(os.stat(tmp_path / "privacy.salt").st_mode) == 0o600  # in the data folder (state_dir)


def test_privacy_senders_command_counts_purged_and_live_cases_of_one_number_together(history, write_config, capsys):
    path = write_config(f"[modemd]\ndatabase = {history['url']}\nstate_dir = .\n")
    assert (
        cli.main(["-c", str(path), "privacy", "purge", "--before", (date.today() - timedelta(days=30)).isoformat()])
        == 0
    )
    capsys.readouterr()
    assert cli.main(["-c", str(path), "privacy", "senders", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"senders": 4, "repeat_senders": 2, "cases": 7}


@pytest.mark.parametrize("before", ["kemarin", "2026-13-01", (date.today() + timedelta(days=2)).isoformat()])
def test_privacy_purge_command_refuses_a_bad_or_future_date(officials, write_config, capsys, before):
    path = write_config()
    assert cli.main(["-c", str(path), "privacy", "purge", "--before", before]) == 2
    assert "--before" in capsys.readouterr().err


def test_the_daemon_purges_daily_when_keep_days_is_set(officials, write_config):
    from modemd.jobs.scheduler import PRIVACY, Scheduler

    old = utcnow() - timedelta(days=90)
    case = _case("081234567890", opened=old, closed=old + timedelta(days=1))
    off = Scheduler(config_module.load(write_config()), lambda: None)
    off.start()
    try:
        assert PRIVACY not in off.jobs()
    finally:
        off.shutdown()
    scheduler = Scheduler(config_module.load(write_config("[privacy]\nkeep_days = 30\n")), lambda: None)
    scheduler.start()
    try:
        assert PRIVACY in scheduler.jobs()
        result = scheduler.privacy_purge()
    finally:
        scheduler.shutdown()
    assert result.cases == 1
    assert Case.get_by_id(case.id).citizen != case.citizen
    assert AuditLog.get(AuditLog.action == "privacy.purge").actor == "daemon"


def test_an_installed_centre_gets_the_new_guard_by_upgrading(sqlite_db):
    """A database of the previous schema keeps its strict trigger until the v10 migration replaces it."""
    from modemd.store import migrations

    sqlite_db.execute_sql("DROP TRIGGER inbound_message_original_is_read_only")
    sqlite_db.execute_sql(  # the guard as schema versions before v10 installed it
        """CREATE TRIGGER inbound_message_original_is_read_only
           BEFORE UPDATE OF text, pdus, sender_raw ON inbound_message
           WHEN NEW.text IS NOT OLD.text OR NEW.pdus IS NOT OLD.pdus OR NEW.sender_raw IS NOT OLD.sender_raw
           BEGIN SELECT RAISE(ABORT, 'the original SMS is read-only'); END"""
    )
    InboundMessage.create(modem="m", sender_raw="081234567890", sender="+6281234567890", text="asli", pdus=PDUS)
    with pytest.raises(peewee.DatabaseError, match="read-only"):
        _update(sqlite_db, sender=PURGED, sender_raw=PURGED, pdus="[]")
    with sqlite_db.atomic():  # the v10 step itself (later steps add their own tables and columns)
        migrations._v9_to_v10(sqlite_db, migrations._migrator(sqlite_db))
    assert _update(sqlite_db, sender=PURGED, sender_raw=PURGED, pdus="[]") == 1
    with pytest.raises(peewee.DatabaseError, match="read-only"):
        _update(sqlite_db, text="diubah")
