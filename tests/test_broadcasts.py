"""Broadcasts: preview, approval rules, queueing 20,000 recipients, cancel, retry, a restart mid-queue."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta

import pytest

from modemd import config as config_module
from modemd.jobs import broadcasts
from modemd.jobs.broadcasts import BroadcastError, content, queueing, rules
from modemd.store.models import (
    AuditLog,
    BlockedNumber,
    Broadcast,
    Contact,
    ContactGroup,
    GroupMember,
    OutboundMessage,
    Template,
    utcnow,
)

SIGNED_INI = """
[notify]
signature = HUMAS
"""


@pytest.fixture
def config(write_config):
    return config_module.load(write_config(SIGNED_INI))


@pytest.fixture
def shared(any_db, request, tmp_path, write_config, make_user):
    """(officials, config) on each database, the config naming it: for tests whose other processes open it too."""
    kind = request.node.callspec.params["any_db"]
    url = {
        "sqlite": f"sqlite:///{tmp_path / 'modemd.db'}",
        "postgresql": request.getfixturevalue("postgres_url") if kind == "postgresql" else "",
        "mysql": request.getfixturevalue("mysql_url") if kind == "mysql" else "",
    }[kind]
    people = {"admin": make_user("admin", "admin"), "ketua": make_user("ketua", "approver")}
    return people, config_module.load(write_config(f"[modemd]\ndatabase = {url}\nstate_dir = .\n{SIGNED_INI}"))


def make_group(name: str, numbers: list[str], *, start: int = 0) -> ContactGroup:
    """A group of contacts with these numbers (contacts are reused by number)."""
    group = ContactGroup.create(name=name)
    for i, number in enumerate(numbers, start=start):
        contact = Contact.get_or_none(Contact.phone == number) or Contact.create(name=f"Kontak {i}", phone=number)
        GroupMember.create(group=group, contact=contact)
    return group


def big_group(name: str, size: int) -> ContactGroup:
    """``size`` distinct contacts in one group, inserted in bulk."""
    group = ContactGroup.create(name=name)
    first = Contact.select().count()
    rows = [{"name": f"Warga {i}", "phone": f"+62812{i:08d}"} for i in range(first, first + size)]
    for start in range(0, size, 1000):
        Contact.insert_many(rows[start : start + 1000]).execute()
    ids = [c for (c,) in Contact.select(Contact.id).where(Contact.name.startswith("Warga ")).tuples()][-size:]
    for start in range(0, size, 1000):
        GroupMember.insert_many([{"group": group.id, "contact": c} for c in ids[start : start + 1000]]).execute()
    return group


def approved(officials, config, groups, text="Rapat koordinasi Senin 08.00 di aula.", **kw) -> Broadcast:
    bc = broadcasts.draft(officials["admin"], text, groups=[g.id for g in groups], **kw)
    broadcasts.submit(bc, officials["admin"], config)
    return broadcasts.approve(bc, officials["ketua"], config, version=broadcasts.content_of(bc, config).version)


# --------------------------------------------------------------------------
# Preview


def test_preview_counts_each_number_once_and_lists_invalid_and_blocked(officials, config):
    camat = make_group("Camat", ["+6281311110001", "+6281311110002", "+6281311110003"])
    kades = make_group("Kades", ["+6281311110003", "+6281311110004"], start=3)
    bad = Contact.create(name="Salah ketik", phone="0812")
    blocked = Contact.create(name="Diblokir", phone="+6281311110009")
    gone = Contact.create(name="Pensiun", phone="+6281311110008", active=False)
    BlockedNumber.create(phone="+6281311110009", reason="minta berhenti")
    GroupMember.create(group=kades, contact=bad)
    GroupMember.create(group=kades, contact=blocked)
    GroupMember.create(group=kades, contact=gone)
    direct = Contact.get(Contact.phone == "+6281311110001")

    bc = broadcasts.draft(
        officials["dishub"],
        "Jalan Merdeka ditutup besok.",
        groups=[camat.id, kades.id],
        contacts=[direct.id],
        category="announcement",
    )
    shown = broadcasts.preview(bc, config)

    assert shown.text == "Jalan Merdeka ditutup besok. -HUMAS"
    assert (shown.encoding, shown.parts, shown.count, shown.total_parts) == ("gsm7", 1, 4, 4)
    assert shown.recipients.numbers == ["+6281311110001", "+6281311110002", "+6281311110003", "+6281311110004"]
    assert shown.recipients.duplicates == 2 and shown.recipients.inactive == 1
    assert [(r.name, r.reason) for r in shown.recipients.rejected] == [
        ("Salah ketik", "invalid"),
        ("Diblokir", "blocked"),
    ]
    assert shown.problems == []


def test_empty_group_can_be_drafted_but_not_submitted(officials, config):
    empty = ContactGroup.create(name="Kosong")
    bc = broadcasts.draft(officials["admin"], "Halo", groups=[empty.id])
    assert broadcasts.preview(bc, config).count == 0
    with pytest.raises(BroadcastError, match="no recipients"):
        broadcasts.submit(bc, officials["admin"], config)
    assert Broadcast.get_by_id(bc.id).state == "draft"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"text": "   "}, "empty"),
        ({"groups": []}, "at least one group"),
        ({"groups": [9999]}, "no such group"),
        ({"category": "gosip"}, "unknown category"),
    ],
)
def test_bad_drafts_are_refused(officials, kwargs, message):
    group = make_group("Camat", ["+6281311110001"])
    args = {"text": "Halo", "groups": [group.id]} | kwargs
    with pytest.raises(BroadcastError, match=message):
        broadcasts.draft(officials["admin"], args.pop("text"), **args)


def test_operators_may_not_draft(officials, make_user):
    group = make_group("Camat", ["+6281311110001"])
    with pytest.raises(BroadcastError, match="may not draft"):
        broadcasts.draft(make_user("opr", "operator"), "Halo", groups=[group.id])


def test_a_1500_character_text_costs_ten_parts_and_unicode_of_that_length_is_refused(officials, config):
    group = make_group("Camat", ["+6281311110001", "+6281311110002"])
    long_gsm = ("Undangan rapat koordinasi penanganan banjir. " * 40)[:1500]
    bc = broadcasts.draft(officials["admin"], long_gsm, groups=[group.id])
    shown = broadcasts.preview(bc, config)
    assert (shown.encoding, shown.parts, shown.total_parts) == ("gsm7", 10, 20)
    assert broadcasts.submit(bc, officials["admin"], config).parts_per_recipient == 10

    long_unicode = ("Banjir 🌊 " * 200)[:1500]
    bc = broadcasts.draft(officials["admin"], long_unicode, groups=[group.id])
    shown = broadcasts.preview(bc, config)
    assert shown.encoding == "ucs2" and shown.parts > broadcasts.MAX_PARTS
    with pytest.raises(BroadcastError, match="at most 10"):
        broadcasts.submit(bc, officials["admin"], config)


# --------------------------------------------------------------------------
# Approval


def test_approval_appends_the_signature_and_stores_the_hash(officials, config):
    group = make_group("Camat", ["+6281311110001"])
    bc = approved(officials, config, [group])
    assert bc.state == "approved" and bc.approved_by.login == "ketua"
    assert bc.text == "Rapat koordinasi Senin 08.00 di aula. -HUMAS"
    assert bc.text_sha256 == broadcasts.text_hash(bc.text)
    assert broadcasts.preview(bc, config).text == bc.text  # not signed twice
    assert AuditLog.select().where(AuditLog.action == "broadcast.approve").count() == 1


def test_nobody_approves_their_own_and_nobody_approves_twice(officials, config, make_user):
    group = make_group("Camat", ["+6281311110001"])
    bc = broadcasts.draft(officials["ketua"], "Halo camat", groups=[group.id])
    broadcasts.submit(bc, officials["ketua"], config)
    with pytest.raises(BroadcastError, match="their own"):
        broadcasts.approve(bc, officials["ketua"], config, version=broadcasts.content_of(bc, config).version)
    with pytest.raises(BroadcastError, match="not an approver"):
        broadcasts.approve(bc, officials["admin"], config, version=broadcasts.content_of(bc, config).version)
    second = make_user("wakil", "approver")
    broadcasts.approve(bc, second, config, version=broadcasts.content_of(bc, config).version)
    with pytest.raises(BroadcastError, match="already approved"):
        broadcasts.approve(bc, second, config, version=broadcasts.content_of(bc, config).version)
    with pytest.raises(BroadcastError, match="already approved"):
        broadcasts.approve(
            bc, make_user("sekda", "approver"), config, version=broadcasts.content_of(bc, config).version
        )
    assert Broadcast.get_by_id(bc.id).approved_by.login == "wakil"


def test_a_move_another_request_made_first_is_refused_with_its_code(officials, config):
    # submit, approve and reject write their state with a conditional UPDATE; no row changed means someone was first
    group = make_group("Camat", ["+6281311110001"])
    bc = broadcasts.draft(officials["admin"], "Halo camat", groups=[group.id])
    meanwhile = Broadcast.update(state="pending").where(Broadcast.id == bc.id, Broadcast.state == "draft")
    rules.update_or_refuse(meanwhile, "the broadcast changed meanwhile; reload it", "changed")
    with pytest.raises(BroadcastError, match="changed meanwhile") as refused:
        rules.update_or_refuse(meanwhile, "the broadcast changed meanwhile; reload it", "changed")
    assert refused.value.code == "changed"
    assert Broadcast.get_by_id(bc.id).state == "pending"


def test_rejection_needs_a_reason_and_the_author_can_fix_and_resubmit(officials, config):
    group = make_group("Camat", ["+6281311110001"])
    bc = broadcasts.draft(officials["dishub"], "Rapat jam 8", groups=[group.id])
    with pytest.raises(BroadcastError, match="only a pending"):
        broadcasts.approve(bc, officials["ketua"], config, version=broadcasts.content_of(bc, config).version)
    broadcasts.submit(bc, officials["dishub"], config)
    with pytest.raises(BroadcastError, match="reason"):
        broadcasts.reject(bc, officials["ketua"], "  ")
    bc = broadcasts.reject(bc, officials["ketua"], "Sebutkan tempatnya")
    assert (bc.state, bc.rejected_reason) == ("rejected", "Sebutkan tempatnya")
    with pytest.raises(BroadcastError, match="may not edit"):
        broadcasts.edit(bc, officials["humas"], text="diubah orang lain")
    bc = broadcasts.edit(bc, officials["dishub"], text="Rapat jam 8 di aula Dishub")
    assert bc.state == "draft" and bc.rejected_reason is None
    broadcasts.submit(bc, officials["dishub"], config)
    version = broadcasts.content_of(bc, config).version
    assert (
        broadcasts.approve(bc, officials["ketua"], config, version=version).text == "Rapat jam 8 di aula Dishub -HUMAS"
    )


def test_text_cannot_change_after_approval(officials, config):
    group = make_group("Camat", ["+6281311110001", "+6281311110002"])
    bc = approved(officials, config, [group])
    with pytest.raises(BroadcastError, match="cannot change"):
        broadcasts.edit(bc, officials["admin"], text="Rapat dibatalkan")
    # someone changes it behind the application's back: queueing refuses and cancels
    Broadcast.update(text="Rapat dibatalkan -HUMAS").where(Broadcast.id == bc.id).execute()
    with pytest.raises(BroadcastError, match="changed after approval"):
        broadcasts.queue_broadcast(bc.id, config)
    assert OutboundMessage.select().count() == 0
    assert Broadcast.get_by_id(bc.id).state == "cancelled"


# --------------------------------------------------------------------------
# Queueing


def test_queueing_writes_one_low_priority_row_per_recipient_once(officials, config):
    a = make_group("Camat", ["+6281311110001", "+6281311110002"])
    b = make_group("Kades", ["+6281311110002", "+6281311110003"], start=2)
    bc = approved(officials, config, [a, b])
    assert broadcasts.run_due(utcnow(), config) == [bc.id]
    rows = list(OutboundMessage.select().order_by(OutboundMessage.recipient))
    assert [r.recipient for r in rows] == ["+6281311110001", "+6281311110002", "+6281311110003"]
    assert {(r.kind, r.priority, r.state, r.text) for r in rows} == {
        ("broadcast", 50, "pending", "Rapat koordinasi Senin 08.00 di aula. -HUMAS")
    }
    assert all(r.broadcast_id == bc.id and r.created_by_id == officials["admin"].id for r in rows)
    bc = Broadcast.get_by_id(bc.id)
    assert bc.state == "sending" and bc.queued_at is not None and bc.recipient_count == 3
    # running again (every scheduler pass, a second daemon) adds nothing
    assert broadcasts.run_due(utcnow(), config) == []
    assert broadcasts.queue_broadcast(bc.id, config) == 0
    assert OutboundMessage.select().count() == 3


def test_a_broadcast_waits_for_its_send_time(officials, config):
    group = make_group("Camat", ["+6281311110001"])
    later = utcnow() + timedelta(hours=2)
    bc = approved(officials, config, [group], send_at=later)
    assert broadcasts.run_due(utcnow(), config) == []
    with pytest.raises(BroadcastError, match="not yet"):
        broadcasts.queue_broadcast(bc.id, config)
    assert broadcasts.run_due(later + timedelta(seconds=1), config) == [bc.id]
    assert OutboundMessage.get().next_attempt_at == later + timedelta(seconds=1)


def test_twenty_thousand_recipients_are_queued_once_each(officials, config):
    group = big_group("Warga", 20_000)
    bc = approved(officials, config, [group])
    assert bc.recipient_count == 20_000
    added = broadcasts.queue_broadcast(bc.id, config)
    assert added == 20_000
    assert OutboundMessage.select().where(OutboundMessage.broadcast == bc.id).count() == 20_000
    assert OutboundMessage.select(OutboundMessage.recipient).distinct().count() == 20_000
    assert broadcasts.progress(bc.id).pending == 20_000


def test_daemon_killed_in_the_middle_of_queueing_resumes_without_duplicates(shared):
    officials, config = shared
    group = big_group("Warga", 5_000)
    bc = approved(officials, config, [group])
    script = textwrap.dedent(f"""
        import time
        from modemd.jobs import broadcasts
        from modemd.jobs.broadcasts import queueing
        from modemd import config
        from modemd.store import db
        cfg = config.load({str(config.path)!r})
        db.open_database(cfg.database_url)
        queueing.CHUNK = 50  # set where queue_broadcast reads it
        real = queueing._insert_ignoring_duplicates
        def slow(shared, numbers):
            assert len(numbers) <= 50, "queue_broadcast did not read the CHUNK set here"
            time.sleep(0.02)  # slow enough for the test to kill it half way
            return real(shared, numbers)
        queueing._insert_ignoring_duplicates = slow
        broadcasts.queue_broadcast({bc.id}, cfg)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], env=os.environ | {"PYTHONPATH": os.getcwd()})
    try:
        deadline = time.monotonic() + 60
        while OutboundMessage.select().count() < 500:
            assert child.poll() is None, "the queueing process ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    interrupted = OutboundMessage.select().count()
    assert 500 <= interrupted < 5_000
    assert Broadcast.get_by_id(bc.id).queued_at is None  # not finished: the next pass resumes it

    assert broadcasts.run_due(utcnow(), config) == [bc.id]
    assert OutboundMessage.select().count() == 5_000
    assert OutboundMessage.select(OutboundMessage.recipient).distinct().count() == 5_000
    assert Broadcast.get_by_id(bc.id).recipient_count == 5_000


def test_two_processes_queueing_the_same_broadcast_at_once_write_each_recipient_once(shared):
    officials, config = shared
    group = big_group("Warga", 3_000)
    bc = approved(officials, config, [group])
    script = textwrap.dedent(f"""
        import json
        from modemd.jobs import broadcasts
        from modemd.jobs.broadcasts import queueing
        from modemd import config
        from modemd.store import db
        cfg = config.load({str(config.path)!r})
        db.open_database(cfg.database_url)
        queueing.CHUNK = 100  # set where queue_broadcast reads it: small chunks, so the two runs interleave
        chunks = []
        real = queueing._insert_ignoring_duplicates
        def counted(shared, numbers):
            chunks.append(len(numbers))
            return real(shared, numbers)
        queueing._insert_ignoring_duplicates = counted
        added = broadcasts.queue_broadcast({bc.id}, cfg)
        print(json.dumps({{"added": added, "chunks": chunks}}))
    """)
    env = os.environ | {"PYTHONPATH": os.getcwd()}
    children = [
        subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)
    ]
    outputs = [json.loads(child.communicate(timeout=120)[0]) for child in children]
    assert [child.returncode for child in children] == [0, 0]
    assert sum(out["added"] for out in outputs) >= 3_000  # each counts what exists now that did not before
    # the first to look found nothing queued and wrote all 3,000 in chunks of 100 (the other skipped what it met)
    assert max(size for out in outputs for size in out["chunks"]) == 100
    assert sum(len(out["chunks"]) for out in outputs) >= 30
    assert OutboundMessage.select().count() == 3_000
    assert OutboundMessage.select(OutboundMessage.recipient).distinct().count() == 3_000
    assert Broadcast.get_by_id(bc.id).recipient_count == 3_000


def test_cancel_while_sending_stops_what_has_not_left(officials, config):
    group = big_group("Warga", 100)
    bc = approved(officials, config, [group])
    broadcasts.queue_broadcast(bc.id, config)
    ids = [i for (i,) in OutboundMessage.select(OutboundMessage.id).order_by(OutboundMessage.id).tuples()]
    OutboundMessage.update(state="delivered").where(OutboundMessage.id.in_(ids[:20])).execute()
    OutboundMessage.update(state="sent").where(OutboundMessage.id.in_(ids[20:30])).execute()
    OutboundMessage.update(state="sending").where(OutboundMessage.id.in_(ids[30:35])).execute()

    with pytest.raises(BroadcastError, match="may not cancel"):
        broadcasts.cancel(bc, officials["humas"])
    assert broadcasts.cancel(bc, officials["admin"], "salah tanggal") == 65

    shown = broadcasts.progress(bc.id)
    assert (shown.delivered, shown.sent, shown.sending, shown.cancelled, shown.pending) == (20, 10, 5, 65, 0)
    assert Broadcast.get_by_id(bc.id).state == "cancelled"
    with pytest.raises(BroadcastError, match="already cancelled"):
        broadcasts.cancel(bc, officials["admin"])
    assert broadcasts.run_due(utcnow(), config) == []
    with pytest.raises(BroadcastError, match="sending or done"):
        broadcasts.retry_failed(bc, officials["admin"], config)


def test_cancel_between_a_restart_and_the_resume_adds_nothing(officials, config):
    group = big_group("Warga", 10)
    bc = approved(officials, config, [group])
    Broadcast.update(state="sending").where(Broadcast.id == bc.id).execute()  # queueing began, then the daemon died
    broadcasts.cancel(bc, officials["ketua"])
    assert broadcasts.run_due(utcnow(), config) == []
    assert OutboundMessage.select().count() == 0


def test_retry_failed_in_one_click_and_done_when_nothing_is_left(officials, config):
    group = big_group("Warga", 10)
    bc = approved(officials, config, [group])
    broadcasts.queue_broadcast(bc.id, config)
    ids = [i for (i,) in OutboundMessage.select(OutboundMessage.id).order_by(OutboundMessage.id).tuples()]
    OutboundMessage.update(state="delivered").where(OutboundMessage.id.in_(ids[:7])).execute()
    OutboundMessage.update(state="failed", attempts=4, failure_reason="CMS 500").where(
        OutboundMessage.id.in_(ids[7:])
    ).execute()
    assert broadcasts.finish() == [bc.id]
    assert Broadcast.get_by_id(bc.id).state == "done"
    failed = broadcasts.recipient_rows(bc.id, state="failed")
    assert len(failed) == 3 and failed[0]["failure_reason"] == "CMS 500" and failed[0]["name"].startswith("Warga")

    assert broadcasts.retry_failed(bc, officials["admin"], config) == 3
    shown = broadcasts.progress(bc.id)
    assert (shown.total, shown.delivered, shown.pending, shown.failed) == (10, 7, 3, 0)
    assert OutboundMessage.get_by_id(ids[9]).attempts == 0
    assert Broadcast.get_by_id(bc.id).state == "sending"
    assert broadcasts.finish() == []


# --------------------------------------------------------------------------
# Templates


def test_templates_are_saved_replaced_and_deleted(officials):
    first = broadcasts.save_template("Rapat", "Rapat koordinasi hari {hari}", officials["admin"])
    again = broadcasts.save_template("Rapat", "Rapat koordinasi Senin", officials["admin"])
    assert first.id == again.id and Template.get_by_id(first.id).text == "Rapat koordinasi Senin"
    with pytest.raises(BroadcastError, match="empty"):
        broadcasts.save_template("Kosong", " ", officials["admin"])
    broadcasts.delete_template(again, officials["admin"])
    assert Template.select().count() == 0


# --------------------------------------------------------------------------
# The same on every database


def test_whole_flow_on_each_database(any_db, write_config, monkeypatch):
    from modemd import users

    config = config_module.load(write_config(SIGNED_INI))
    admin = users.create_user("admin", "admin", "rahasia-123")
    ketua = users.create_user("ketua", "approver", "rahasia-123")
    a = make_group("Camat", [f"+628131111{i:04d}" for i in range(30)])
    b = make_group("Kades", [f"+628131111{i:04d}" for i in range(20, 50)], start=20)
    bc = broadcasts.draft(admin, "Siaga banjir 🌊", groups=[a.id, b.id])
    broadcasts.submit(bc, admin, config)
    bc = broadcasts.approve(bc, ketua, config, version=broadcasts.content_of(bc, config).version)
    assert bc.recipient_count == 50
    monkeypatch.setattr(queueing, "CHUNK", 7)  # where queue_broadcast reads it
    chunks = []
    real = queueing._insert_ignoring_duplicates

    def counted(shared, numbers):
        chunks.append(len(numbers))
        return real(shared, numbers)

    monkeypatch.setattr(queueing, "_insert_ignoring_duplicates", counted)
    assert broadcasts.queue_broadcast(bc.id, config) == 50
    assert chunks == [7] * 7 + [1]
    # a pass that starts over (as after a crash) adds only the missing row
    Broadcast.update(queued_at=None).where(Broadcast.id == bc.id).execute()
    OutboundMessage.delete().where(OutboundMessage.recipient == "+6281311110000").execute()
    assert broadcasts.run_due(utcnow(), config) == [bc.id]
    assert chunks == [7] * 7 + [1, 1]
    assert OutboundMessage.select().count() == 50
    assert OutboundMessage.get(OutboundMessage.recipient == "+6281311110049").encoding == "ucs2"
    assert broadcasts.cancel(bc, ketua) == 50
    assert broadcasts.progress(bc.id).cancelled == 50


# --------------------------------------------------------------------------
# modemd broadcast (the command line, as a script runs it)


def modemd(config_path, *args, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "modemd", "-c", str(config_path), "broadcast", *args],
        capture_output=True,
        text=True,
        timeout=120,
        input=stdin,
    )


def test_command_line_flow_with_refusals_and_progress(officials, config):
    make_group("Camat", ["+6281311110001", "+6281311110002"])
    make_group("Kades", ["+6281311110002", "+6281311110003"], start=2)
    path = config.path
    assert modemd(path, "template", "add", "Apel", "--text", "Apel pagi Senin 07.30", "--as", "admin").returncode == 0
    assert "Apel pagi Senin 07.30" in modemd(path, "template", "list").stdout
    assert json.loads(modemd(path, "template", "list", "--json").stdout) == [
        {"name": "Apel", "text": "Apel pagi Senin 07.30"}
    ]

    created = modemd(
        path,
        "create",
        "--as",
        "admin",
        "--template",
        "Apel",
        "--group",
        "Camat",
        "--group",
        "Kades",
        "--contact",
        "081311110001",
        "--category",
        "invitation",
        "--submit",
    )
    assert created.returncode == 0, created.stderr
    assert "recipients:  3 (duplicates removed: 2" in created.stdout
    assert "text:        Apel pagi Senin 07.30 -HUMAS" in created.stdout
    bc = Broadcast.select().order_by(Broadcast.id.desc()).get()
    assert bc.state == "pending"

    own = modemd(path, "approve", str(bc.id), "--as", "admin")
    assert own.returncode == 1 and "not an approver" in own.stderr
    assert (
        modemd(path, "approve", str(bc.id), "--as", "ketua", "--password-stdin", stdin="rahasia-123\n").returncode == 0
    )
    twice = modemd(path, "approve", str(bc.id), "--as", "ketua", "--password-stdin", stdin="rahasia-123\n")
    assert twice.returncode == 1 and "already approved" in twice.stderr
    assert "3 SMS queued" in modemd(path, "queue", str(bc.id)).stdout

    OutboundMessage.update(state="delivered").where(OutboundMessage.recipient == "+6281311110001").execute()
    status = modemd(path, "status", str(bc.id))
    assert "delivered 1, sent 0, failed 0, pending 2 of 3" in status.stdout
    assert status.stdout.count("#") == 10  # a third of the 30-character bar
    cancelled = modemd(path, "cancel", str(bc.id), "--as", "admin", "--reason", "hujan")
    assert "2 SMS that had not left were cancelled" in cancelled.stdout
    watched = modemd(path, "status", str(bc.id), "--watch", "--json")  # returns at once: nothing left
    lines = watched.stdout.splitlines()  # JSON Lines: every line is one whole object
    assert [json.loads(line)["state"] for line in lines] == ["cancelled"] and json.loads(lines[0])["cancelled"] == 2
    listed = modemd(path, "recipients", str(bc.id), "--state", "delivered")
    assert "+6281311110001" in listed.stdout and "+6281311110002" not in listed.stdout
    cancelled_rows = modemd(path, "recipients", str(bc.id), "--state", "cancelled")
    assert cancelled_rows.stdout.count("Dibatalkan") == 2  # plain words, not the stored reason
    assert "cancelled:" not in cancelled_rows.stdout
    as_json = json.loads(modemd(path, "recipients", str(bc.id), "--state", "cancelled", "--json").stdout)
    assert {row["why"] for row in as_json} == {"Dibatalkan"}


@pytest.mark.parametrize(
    "args, message",
    [
        (["create", "--as", "admin", "--text", "Halo", "--group", "Tidak ada"], "no contact group"),
        (["create", "--as", "admin", "--text", "Halo", "--contact", "081399999999"], "no contact with number"),
        (["create", "--as", "hantu", "--text", "Halo", "--group", "Camat"], "no active user"),
        (
            ["create", "--as", "admin", "--text", "Halo", "--group", "Camat", "--send-at", "besok pagi"],
            "expected 'YYYY-MM-DD",
        ),
        (["create", "--as", "admin", "--template", "Tidak ada", "--group", "Camat"], "no template"),
        (["approve", "999", "--as", "ketua"], "no broadcast 999"),
        (["reject", "999", "--as", "ketua", "--reason", ""], "no broadcast 999"),
    ],
)
def test_command_line_refusals_say_why(officials, config, args, message):
    make_group("Camat", ["+6281311110001"])
    result = modemd(config.path, *args)
    assert result.returncode == 1 and message in result.stderr


def test_command_line_send_time_is_local(officials, config):
    make_group("Camat", ["+6281311110001"])
    result = modemd(
        config.path,
        "create",
        "--as",
        "admin",
        "--text-file",
        "-",
        "--group",
        "Camat",
        "--send-at",
        "2026-11-24 08:00",
        stdin="Upacara 17 Agustus\n",
    )
    assert result.returncode == 0, result.stderr
    bc = Broadcast.get()
    assert bc.send_at == datetime(2026, 11, 24, 1, 0) and bc.text == "Upacara 17 Agustus\n"


@pytest.mark.parametrize(
    "raw",
    [
        "+6281311110001",
        "+6281234567890",
        "+62215551234",
        "+6280000000000",
        "+62812",
        "+628123456789012",
        "+6201234567",
        "0812",
        "081311110001",
        "62813 1111 0001",
        "12345",
        "HUMAS",
        "",
    ],
)
def test_the_fast_number_check_agrees_with_phone_normalize(raw):
    from modemd.sms import phone

    assert content._normalized(raw) == phone.try_normalize(raw)
