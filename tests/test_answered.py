"""Answered means answered: a case is answered when a reply was sent, not when it was queued.

The reply goes through the real parts: the web UI's reply form, the queue as
the daemon claims it, ``record_sent`` / ``record_failure`` as the worker calls
them, status reports as the modem gives them; the inbox, deadline alerts and
the recap then read the database.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from webfixtures import *  # noqa: F401,F403

from modemd.config import Config
from modemd.drivers.base import StatusReport
from modemd.jobs import notifications, recap
from modemd.send import outbound, outqueue, status_reports
from modemd.send.outbound import Eligibility
from modemd.store.models import Case, OutboundMessage, utcnow

DEFAULTS = Config.defaults()  # the schema's settings, no file

INI = (
    WEB_INI.replace("[web]\n", "[web]\nbase_url = https://sms.pemda.go.id\n").replace(  # noqa: F405
        "[sms]\n", "[sms]\nmax_attempts = 3\nretry_intervals = 1m\n"
    )
    + """
[notify]
office_hours = 00:00-23:59
office_days = mon-sun
quiet_hours =
"""
)


@pytest.fixture
def web_ini():
    return INI


def _body(response) -> str:
    return response.get_data(as_text=True)


def claim():
    return outbound.claim("pc", Eligibility.build("sim1", ["sim1"], None))


def reply_via_web(client, auth, case, text="Segera kami tangani.", login="humas"):
    auth.login(login)
    assert client.post(f"/cases/{case.id}/reply", data={"text": text}).status_code == 302
    auth.logout()
    return OutboundMessage.select().where(OutboundMessage.case == case.id).order_by(OutboundMessage.id.desc()).get()


def test_a_queued_reply_does_not_answer_the_case_until_the_daemon_sends_it(client, auth, make_case):
    case = make_case("INFO", "INFO jalan rusak")
    reply_via_web(client, auth, case)
    row = Case.get_by_id(case.id)
    assert (row.status, row.answered_at) == ("open", None) and row.replied_at is not None
    auth.login("humas")
    assert f"/cases/{case.id}" in _body(client.get("/?status=open"))  # still in "belum dijawab"
    auth.logout()

    sent_at = utcnow() + timedelta(minutes=2)
    outbound.record_sent(claim(), "sim1", [12], now=sent_at)
    row = Case.get_by_id(case.id)
    assert (row.status, row.answered_at, row.reply_failed_at) == ("answered", sent_at, None)
    assert row.replied_at < sent_at  # the official's own time is kept


def test_a_failed_reply_puts_the_case_back_on_top_of_the_inbox_in_plain_words(client, auth, make_case, web_config):
    older = make_case("INFO", "INFO lampu mati", received_at=utcnow() - timedelta(hours=2))  # nearer deadline
    case = make_case("INFO", "INFO <b>jalan</b> rusak", citizen="+6281299998888")
    reply_via_web(client, auth, case)
    outbound.record_failure(claim(), "+CMS ERROR: 1", permanent=True, code=1, config=web_config)

    row = Case.get_by_id(case.id)
    assert row.status == "open" and row.answered_at is None and row.reply_failed_at is not None
    auth.login("humas")
    page = _body(client.get("/"))
    failed_block = page[page.index('id="reply-failed"') : page.index("</section>", page.index('id="reply-failed"'))]
    assert f"/cases/{case.id}" in failed_block and f"/cases/{older.id}" not in failed_block
    assert page.index('id="reply-failed"') < page.index(f"/cases/{older.id}")  # on top of the nearest deadline
    assert "Nomor tujuan tidak dikenal" in failed_block
    assert "CMS" not in page and "&lt;b&gt;jalan&lt;/b&gt;" in failed_block  # the SMS stays escaped text
    assert "Nomor tujuan tidak dikenal" in _body(client.get(f"/cases/{case.id}"))
    # in English through the catalogue
    client.post("/lang/en", data={"next": "/"})
    assert "Recipient number unknown" in _body(client.get("/"))


def test_a_network_outage_keeps_the_case_open_and_says_it_will_retry(client, auth, make_case, web_config):
    case = make_case("INFO")
    reply_via_web(client, auth, case)
    assert outbound.record_failure(claim(), "+CMS ERROR: 38", permanent=False, code=38, config=web_config) == "pending"
    row = Case.get_by_id(case.id)
    assert row.status == "open" and row.reply_failed_at is None  # not failed yet: it will be retried
    auth.login("humas")
    assert "Jaringan operator sedang gangguan, akan dicoba lagi" in _body(client.get(f"/cases/{case.id}"))
    auth.login("admin")
    assert "Jaringan operator sedang gangguan, akan dicoba lagi" in _body(client.get("/outbox/"))


def test_a_status_report_that_says_undelivered_reopens_an_answered_case(client, auth, make_case):
    case = make_case("INFO")
    reply_via_web(client, auth, case)
    message = claim()
    outbound.record_sent(message, "sim1", [42])
    assert Case.get_by_id(case.id).status == "answered"
    report = StatusReport(reference=42, recipient=case.citizen, delivered=False, final=True, status_code=0x41)
    status_reports.handle("sim1", report)
    row = Case.get_by_id(case.id)
    assert (row.status, row.answered_at) == ("open", None) and row.reply_failed_at is not None
    auth.login("humas")
    assert "Jaringan operator tidak dapat menyampaikan SMS ke nomor tujuan" in _body(client.get("/"))


def test_one_reply_that_reached_the_citizen_is_enough(client, auth, make_case, web_config):
    case = make_case("INFO")
    reply_via_web(client, auth, case, "Jawaban pertama")
    outbound.record_sent(claim(), "sim1", [1])
    reply_via_web(client, auth, case, "Tambahan")
    outbound.record_failure(claim(), "+CMS ERROR: 1", permanent=True, code=1, config=web_config)
    row = Case.get_by_id(case.id)
    assert row.status == "answered" and row.answered_at is not None and row.reply_failed_at is None


def test_an_expired_or_cancelled_reply_leaves_the_case_unanswered_and_flagged(client, auth, make_case):
    expiring, cancelled = make_case("INFO"), make_case("INFO", citizen="+6281277776666")
    reply_via_web(client, auth, expiring)
    message = reply_via_web(client, auth, cancelled)
    OutboundMessage.update(expires_at=utcnow() - timedelta(seconds=1)).where(
        OutboundMessage.case == expiring.id
    ).execute()
    assert outbound.expire() == 1
    auth.login("admin")
    client.post(f"/outbox/{message.id}/cancel")
    for case in (expiring, cancelled):
        row = Case.get_by_id(case.id)
        assert row.status == "open" and row.reply_failed_at is not None
    auth.login("humas")
    page = _body(client.get("/"))
    assert "SMS kedaluwarsa sebelum sempat terkirim" in page and "Dibatalkan" in page
    # the administrator sends the expired one again: no longer flagged, answered once the daemon sends it
    auth.login("admin")
    expired = OutboundMessage.get(OutboundMessage.case == expiring.id)
    client.post(f"/outbox/{expired.id}/retry")
    row = Case.get_by_id(expiring.id)
    assert (row.status, row.reply_failed_at) == ("open", None)
    outbound.record_sent(claim(), "sim1", [5])
    assert Case.get_by_id(expiring.id).status == "answered"


def test_deadline_alert_and_recap_count_a_failed_reply_as_unanswered(client, auth, make_case, web_config):
    opened = utcnow() - timedelta(hours=4)  # deadline passed an hour ago
    case = make_case("INFO", "INFO sudah dibalas tapi gagal", received_at=opened)
    reply_via_web(client, auth, case)
    outbound.record_failure(claim(), "+CMS ERROR: 30", permanent=True, code=30, config=web_config)

    alert, _ = notifications.deadlines(utcnow(), web_config)
    assert len(alert.queued) == 1
    assert f"#{case.id}" in OutboundMessage.get_by_id(alert.queued[0]).text
    summary = recap.recap_between(opened - timedelta(minutes=1), utcnow(), as_of=utcnow())
    assert (summary.cases, summary.answered, summary.within_deadline, summary.overdue) == (1, 0, 0, 1)


def test_the_reply_state_and_the_case_change_in_one_transaction(any_db, make_user):
    """answers' UPDATEs (CASE expressions, NOT IN sub-selects) on SQLite, PostgreSQL and MariaDB."""
    from modemd.cases import answers

    owner = make_user("humas", phone_number="081200000001")
    now = utcnow().replace(microsecond=0)  # MariaDB DATETIME keeps whole seconds
    cases = [Case.create(keyword="INFO", owner=owner, citizen=f"+62812000000{n}", deadline_at=now) for n in range(3)]
    for case in cases:
        outqueue.enqueue(case.citizen, "balasan", "reply", case=case, config=DEFAULTS)
    answers.reply_sent(cases[0].id, now)
    answers.reply_sent(cases[0].id, now + timedelta(minutes=5))  # the first send counts
    OutboundMessage.update(state="sent").where(OutboundMessage.case == cases[0].id).execute()
    OutboundMessage.update(state="failed").where(OutboundMessage.case != cases[0].id).execute()
    Case.update(status="closed").where(Case.id == cases[2].id).execute()
    answers.replies_failed([c.id for c in cases], now)
    rows = {c.id: Case.get_by_id(c.id) for c in cases}
    assert (rows[cases[0].id].status, rows[cases[0].id].answered_at, rows[cases[0].id].reply_failed_at) == (
        "answered",
        now,
        None,
    )
    assert (rows[cases[1].id].status, rows[cases[1].id].reply_failed_at) == ("open", now)
    assert (rows[cases[2].id].status, rows[cases[2].id].reply_failed_at) == ("closed", None)


def test_upgrade_reopens_cases_whose_reply_was_only_queued_or_failed(any_db, make_user):
    from playhouse.migrate import migrate

    from modemd.store import migrations

    owner = make_user("humas", phone_number="081200000001")
    now = utcnow().replace(microsecond=0)  # MariaDB DATETIME keeps whole seconds
    made = {}
    for name, reply_state in (("pending", "pending"), ("failed", "failed"), ("sent", "sent"), ("none", None)):
        case = Case.create(
            keyword="INFO",
            owner=owner,
            citizen="+6281200000001",
            deadline_at=now,
            status="answered" if reply_state else "closed",
            answered_at=now if reply_state else None,
        )
        if reply_state:
            OutboundMessage.create(recipient=case.citizen, text="x", kind="reply", case=case, state=reply_state)
        made[name] = case.id
    # as before schema v6: without its columns
    migrator = migrations._migrator(any_db)
    migrate(
        migrator.drop_column("case", "replied_at"),
        migrator.drop_column("case", "reply_failed_at"),
        migrator.drop_column("outbound_message", "failure_code"),
    )
    with any_db.atomic():  # the migration itself; later ones add columns this test did not take away
        migrations._v5_to_v6(any_db, migrator)
    rows = {name: Case.get_by_id(case_id) for name, case_id in made.items()}
    assert all(rows[n].replied_at == now for n in ("pending", "failed", "sent"))
    assert (rows["pending"].status, rows["pending"].answered_at, rows["pending"].reply_failed_at) == (
        "open",
        None,
        None,
    )
    assert (rows["failed"].status, rows["failed"].answered_at) == ("open", None)
    assert rows["failed"].reply_failed_at is not None
    assert (rows["sent"].status, rows["sent"].answered_at) == ("answered", now)
    assert rows["none"].status == "closed"
