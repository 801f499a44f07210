"""``modemd db copy --to URL``: a populated SQLite database moved to PostgreSQL, MariaDB (and SQLite), then used.

Every table holds rows, with emoji, 400-character texts, NULLs and times
around midnight in Jakarta; the copy runs as a real ``modemd`` process under
TZ=Asia/Jakarta (nothing may shift by seven hours). Afterwards the web UI on
the copy shows the cases, a new row gets an id after the copied ones, and the
original SMS is still read-only (the trigger of migration v10).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path

import peewee
import pytest
from webfixtures import PASSWORD, WEB_INI

from modemd import config as config_module
from modemd.store import db as db_module
from modemd.store import migrations
from modemd.store.dbcopy import BATCH_ROWS, ordered_models, safe_url
from modemd.store.models import (
    ALL_MODELS,
    ApiIdempotency,
    ApiToken,
    AuditLog,
    BlockedNumber,
    Broadcast,
    BroadcastTarget,
    Case,
    CaseNote,
    CaseStep,
    Contact,
    ContactGroup,
    DaemonState,
    DeliveryReport,
    GroupMember,
    InboundMessage,
    ModemStatus,
    NotificationSent,
    OutboundMessage,
    OutboundPart,
    Publication,
    ReportHour,
    Template,
    WebhookAttempt,
    WebhookDelivery,
    WebSession,
    audit,
    database_proxy,
)
from tests.fakemodem import wait_until

ROOT = Path(__file__).resolve().parents[1]
LONG = ("Jalan di depan kantor desa rusak 🚧, mohon segera diperbaiki <b>&amp;</b>. " * 8)[:400]
# naive UTC, as stored: 23:59:59 in Jakarta, the last second of 1 March there
NEAR_MIDNIGHT_WIB = datetime(2026, 3, 1, 16, 59, 59)
MANY = BATCH_ROWS * 2 + 37  # inbound messages: several batches
KEPT = MANY + 1 - 5  # the citizen's question, the many, less five deleted


def populate_every_table(officials) -> None:
    """At least one row in every table of the schema, with the values a copy gets wrong first."""
    humas, admin, ketua = officials["humas"], officials["admin"], officials["ketua"]
    at = NEAR_MIDNIGHT_WIB
    WebSession.create(key_hash="a" * 64, user=humas, address="10.0.0.7", created_at=at, ended_at=None)
    contact = Contact.create(name="Bu Siti 👩‍🌾", phone="+6281211110000", position="Kepala Desa Sei Rampah")
    group = ContactGroup.create(name="Kepala Desa", description="")
    GroupMember.create(group=group, contact=contact)
    BlockedNumber.create(phone="+628999000111", reason="iklan 💰", created_by=admin)
    case = Case.create(
        keyword="INFO", owner=humas, citizen="+6281211112222", opened_at=at, deadline_at=at + timedelta(hours=3)
    )
    question = InboundMessage.create(
        modem="sim1",
        sender_raw="081211112222",
        sender="+6281211112222",
        text=LONG,
        pdus='["0791261891"]',
        smsc_time=at,
        received_at=at,
        case=case,
        keyword="INFO",
        decode_error=None,
    )
    InboundMessage.insert_many(
        [
            {
                "modem": "sim1",
                "sender_raw": f"08121111{n:04d}",
                "sender": f"+628121111{n:04d}",
                "text": f"pesan {n} 😀",
                "received_at": at + timedelta(seconds=n),
                "route": "unrouted",
            }
            for n in range(MANY)
        ]
    ).execute()
    # gaps in the ids, as deleted rows leave them: the copy keeps each row's id
    InboundMessage.delete().where(InboundMessage.id.between(10, 14)).execute()
    CaseNote.create(case=case, author=humas, text="catatan <script>alert(1)</script> 📝")
    broadcast = Broadcast.create(title="Vaksinasi", text=LONG, created_by=admin, approved_by=ketua, approved_at=at)
    BroadcastTarget.create(broadcast=broadcast, group=group, contact=None)
    Template.create(name="salam", text="Salam sejahtera 🙏")
    answer = OutboundMessage.create(
        recipient="+6281211112222",
        text="Baik, segera kami tindak lanjuti 👍",
        kind="reply",
        state="delivered",
        case=case,
        created_by=humas,
        sent_at=at,
        delivered_at=at + timedelta(seconds=1),
    )
    OutboundMessage.create(recipient="+6281211110000", text=LONG, kind="broadcast", broadcast=broadcast, parts=3)
    # report_hour and report_answer: the triggers count the rows above (an answered case has its line); and a
    # row none of them made, which the copy must carry as it is rather than count again
    Case.update(answered_at=at + timedelta(minutes=7), status="answered").where(Case.id == case.id).execute()
    ReportHour.create(hour=datetime(2025, 1, 1, 3), keyword="LAMA", category="complaint", flow="direct", owner=humas.id)
    part = OutboundPart.create(
        message=answer, sequence=1, modem="sim1", reference=255, recipient="+6281211112222", sent_at=at
    )
    DeliveryReport.create(
        modem="sim1", reference=255, recipient="+6281211112222", status_code=0, delivered=True, part=part, smsc_time=at
    )
    Publication.create(
        case=case,
        question=question,
        answer=answer,
        question_text=LONG,
        answer_text=answer.text,
        keyword="INFO",
        citizen_masked="+62812****2222",
        asked_at=at,
        published_by=humas,
    )
    ModemStatus.create(name="sim1", driver="sim", signal_dbm=None, balance="Sisa pulsa Rp 5.000 😀", balance_at=at)
    DaemonState.put("keywords", '[{"name": "INFO"}]')
    NotificationSent.create(job="reminder", period="2026-03-01T23", target="humas", message=answer)
    audit("humas", "case.reply", case, text=LONG)
    delivery = WebhookDelivery.create(
        event_id="case-1-opened",
        event="case.opened",
        endpoint="api",
        url="https://lapor.example.go.id/hook",
        body='{"text": "' + LONG + '"}',
        give_up_at=NEAR_MIDNIGHT_WIB,
    )
    token = ApiToken.create(
        name="e-office 🏛", token_hash="b" * 64, prefix="mdt_bbbb", user=humas, scopes="send,status", expires_at=at
    )
    ApiIdempotency.create(token=token, key="kirim-1", request_hash="c" * 64, status=201, response='{"id": 1}')
    CaseStep.create(
        case=case, stage="verify", agency="Dinas Perhubungan 🚦", actor="daemon", due_at=NEAR_MIDNIGHT_WIB, note=LONG
    )
    WebhookAttempt.create(delivery=delivery, url=delivery.url, status_code=500, error="HTTP 500 😞", duration_ms=12)


def rows_of(database: peewee.Database) -> dict[str, list[tuple]]:
    with database.bind_ctx(ALL_MODELS):
        return {m._meta.table_name: list(m.select().order_by(m.id).tuples()) for m in ordered_models()}


def same_value(a, b, kind: str) -> bool:
    if isinstance(a, datetime) and isinstance(b, datetime) and kind == "mysql":
        return abs(a - b) < timedelta(seconds=1)  # DATETIME keeps whole seconds
    return a == b


def modemd_copy(config: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "modemd", "--config", str(config), "db", "copy", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env={**os.environ, "TZ": "Asia/Jakarta"},
    )


def _drop(url: str) -> None:
    database = db_module.connect_url(url)
    with database.bind_ctx(ALL_MODELS):
        database.drop_tables(ALL_MODELS, safe=True, **({"cascade": True} if "postgres" in url else {}))
    database.close()


@pytest.fixture(params=["postgresql", "mysql", "sqlite"])
def target_url(request, tmp_path):
    """An empty target database of each kind (the servers' skip without their URL)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'copy' / 'modemd.db'}"
        return
    url = request.getfixturevalue("postgres_url" if request.param == "postgresql" else "mysql_url")
    _drop(url)
    yield url
    _drop(url)


def test_copy_moves_every_row_and_the_app_works_on_the_copy(officials, write_config, target_url, tmp_path):
    if target_url.startswith("sqlite"):
        (tmp_path / "copy").mkdir(mode=0o700)
    populate_every_table(officials)
    source = db_module.connect_url(f"sqlite:///{tmp_path / 'modemd.db'}")
    before = rows_of(source)
    assert all(before.values()), [name for name, rows in before.items() if not rows]
    config = write_config(WEB_INI)

    done = modemd_copy(config, "--to", target_url, "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)  # JSON alone on stdout
    assert summary["ok"] is True and summary["schema_version"] == migrations.LATEST
    assert summary["tables"]["inbound_message"] == {"source": KEPT, "target": KEPT}
    assert {name: counts["target"] for name, counts in summary["tables"].items()} == {
        name: len(rows) for name, rows in before.items()
    }
    assert "inbound_message: 1000 rows" in done.stderr and f"inbound_message: {KEPT} rows copied" in done.stderr

    target = db_module.connect_url(target_url)
    kind = db_module.dialect(target)
    after = rows_of(target)
    for name, rows in before.items():
        for old, new in zip(rows, after[name], strict=True):
            assert all(same_value(a, b, kind) for a, b in zip(old, new, strict=True)), (name, old, new)
    with target.bind_ctx(ALL_MODELS):
        assert migrations.current_version(target) == migrations.LATEST
        copied = InboundMessage.get_by_id(1)
        assert copied.text == LONG and len(copied.text) == 400 and copied.decode_error is None
        assert copied.received_at == NEAR_MIDNIGHT_WIB  # not shifted by the copy's TZ=Asia/Jakarta
        with pytest.raises(peewee.DatabaseError, match="read-only"):
            InboundMessage.update(text="diubah").where(InboundMessage.id == 1).execute()
        if kind == "postgresql":
            target.rollback()
    target.close()
    if target_url.startswith("sqlite"):
        assert (Path(target_url[len("sqlite:///") :]).stat().st_mode & 0o777) == 0o600

    # the web UI on the copy: the official sees the case, and what is new gets fresh ids
    write_config(f"[modemd]\ndatabase = {target_url}\nstate_dir = .\n{WEB_INI}")
    from webui import create_app

    used = db_module.open_database(target_url)  # as `modemd web` does: the models now work on the copy
    assert db_module.dialect(used) == kind
    app = create_app(config=config_module.load(config), test_config={"WTF_CSRF_ENABLED": False})
    client = app.test_client()
    assert client.post("/login", data={"login": "humas", "password": PASSWORD}).status_code == 302
    inbox = client.get("/").get_data(as_text=True)
    assert 'href="/cases/1"' in inbox
    page = client.get("/cases/1").get_data(as_text=True)
    assert "🚧" in page and "&lt;b&gt;&amp;amp;&lt;/b&gt;" in page and "<b>&amp;</b>" not in page
    highest = {m: max(row[0] for row in before[m._meta.table_name]) for m in (Case, OutboundMessage, AuditLog)}
    client.post("/cases/1/reply", data={"text": "Sudah diperbaiki 👍"})
    reply = OutboundMessage.select().order_by(OutboundMessage.id.desc()).first()
    assert reply.text.startswith("Sudah diperbaiki 👍") and reply.id == highest[OutboundMessage] + 1
    case = Case.create(keyword="INFO", citizen="+6281299990000", deadline_at=NEAR_MIDNIGHT_WIB)
    assert case.id == highest[Case] + 1
    assert AuditLog.select(peewee.fn.MAX(AuditLog.id)).scalar() > highest[AuditLog]
    used.close()


def test_a_target_holding_data_is_refused_unless_forced(officials, write_config, target_url, tmp_path):
    if target_url.startswith("sqlite"):
        (tmp_path / "copy").mkdir(mode=0o700)
    populate_every_table(officials)
    config = write_config(WEB_INI)
    assert modemd_copy(config, "--to", target_url).returncode == 0
    target = db_module.connect_url(target_url)
    with target.bind_ctx(ALL_MODELS):
        Template.create(name="hanya di target", text="x")
        done = modemd_copy(config, "--to", target_url)
        assert done.returncode == 2 and "already holds modemd data" in done.stderr and "--force" in done.stderr
        assert Template.select().where(Template.name == "hanya di target").exists()  # untouched
        assert InboundMessage.select().count() == KEPT
        target.close()  # PostgreSQL: the copy drops these tables

        done = modemd_copy(config, "--to", target_url, "--force")
        assert done.returncode == 0, done.stderr
        assert "every table has the same number of rows" in done.stdout
        assert not Template.select().where(Template.name == "hanya di target").exists()
        assert InboundMessage.select().count() == KEPT
    target.close()


def test_the_copy_is_one_moment_while_another_process_writes(officials, write_config, tmp_path):
    """The source is read in one snapshot: rows committed during the copy are in neither count nor copy."""
    database = database_proxy.obj  # the database the fixture bound
    with database.atomic():
        for _ in range(6):
            AuditLog.insert_many([{"actor": "cli", "action": "test.fill"} for _ in range(BATCH_ROWS)]).execute()
    config = write_config(WEB_INI)
    baseline = AuditLog.select().count()
    written, done_writing = [0], threading.Event()

    def office() -> None:
        while not done_writing.is_set():
            with database.atomic():
                AuditLog.create(actor="writer", action="test.write")
                Template.create(name=f"t{written[0]}", text="x")
            written[0] += 1
        database.close()

    writer = threading.Thread(target=office)
    writer.start()
    try:
        assert wait_until(lambda: written[0] > 10, 10)
        before = written[0]
        done = modemd_copy(config, "--to", f"sqlite:///{tmp_path / 'copy.db'}", "--json")
        during = written[0] - before
    finally:
        done_writing.set()
        writer.join(10)
    assert done.returncode == 0, done.stderr
    assert during > 0  # the writer went on while the copy ran
    summary = json.loads(done.stdout)
    assert summary["ok"] is True
    audit, templates = summary["tables"]["audit_log"]["target"], summary["tables"]["template"]["target"]
    assert audit - baseline == templates  # both tables of one moment: one row each per commit


def test_an_empty_upgraded_target_needs_no_force(officials, write_config, tmp_path):
    populate_every_table(officials)
    config = write_config(WEB_INI)
    target_url = f"sqlite:///{tmp_path / 'copy.db'}"
    target = db_module.connect_url(target_url)
    with target.bind_ctx(ALL_MODELS):
        migrations.upgrade(target)  # e.g. `modemd db upgrade` run on the new server first
    done = modemd_copy(config, "--to", target_url, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["tables"]["schema_version"] == {"source": 1, "target": 1}


def test_a_server_database_copies_back_to_sqlite(officials, write_config, postgres_url, mysql_url, tmp_path):
    """Any to any: SQLite -> PostgreSQL -> MariaDB -> SQLite keeps every row."""
    populate_every_table(officials)
    config = write_config(WEB_INI)
    first = rows_of(db_module.connect_url(f"sqlite:///{tmp_path / 'modemd.db'}"))
    back = f"sqlite:///{tmp_path / 'back.db'}"
    for url in (postgres_url, mysql_url):
        _drop(url)
    try:
        assert modemd_copy(config, "--to", postgres_url, "--force").returncode == 0
        done = modemd_copy(config, "--from", postgres_url, "--to", mysql_url, "--force")
        assert done.returncode == 0, done.stderr
        assert modemd_copy(config, "--from", mysql_url, "--to", back).returncode == 0
    finally:
        for url in (postgres_url, mysql_url):
            _drop(url)
    last = rows_of(db_module.connect_url(back))
    for name, rows in first.items():
        for old, new in zip(rows, last[name], strict=True):
            assert all(same_value(a, b, "mysql") for a, b in zip(old, new, strict=True)), (name, old, new)


@pytest.mark.parametrize(
    "args, says",
    [
        (["--to", "oracle://scott@host/db"], "unsupported database URL"),
        (["--to", "sqlite:///"], "expected sqlite:///"),
        (["--from", "sqlite:////nowhere/modemd.db", "--to", "sqlite:///x.db"], "no such file"),
        (["--to", "sqlite:///{tmp}/./modemd.db", "--force"], "the same database"),
    ],
)
def test_bad_urls_are_refused_with_the_reason(officials, write_config, tmp_path, args, says):
    done = modemd_copy(write_config(WEB_INI), *[arg.replace("{tmp}", str(tmp_path)) for arg in args])
    assert done.returncode == 2 and says in done.stderr and "Traceback" not in done.stderr
    assert {u.login for u in type(officials["admin"]).select()} == set(officials)  # the source is untouched


def test_a_source_with_an_older_schema_is_refused(officials, write_config, tmp_path):
    from modemd.store.models import SchemaVersion

    SchemaVersion.update(version=migrations.LATEST - 1).execute()
    done = modemd_copy(write_config(WEB_INI), "--to", f"sqlite:///{tmp_path / 'copy.db'}")
    assert done.returncode == 2 and "run `modemd db upgrade` on it first" in done.stderr
    assert not (tmp_path / "copy.db").exists()


def assert_refused_before_writing(config: Path, url: str, says: str) -> None:
    done = modemd_copy(config, "--to", url)
    assert done.returncode == 2 and says in done.stderr
    target = db_module.connect_url(url)
    assert target.get_tables() == []  # not even the schema was made (PostgreSQL: in the current schema)
    target.close()


def test_a_text_too_long_for_the_server_column_is_named_before_anything_is_written(
    officials, write_config, postgres_url
):
    _drop(postgres_url)
    Template.create(name="x" * 70, text="SQLite does not enforce VARCHAR(64)")
    says = "template.name is longer than 64 characters in row(s) id 1"
    assert_refused_before_writing(write_config(WEB_INI), postgres_url, says)


def test_a_row_pointing_to_nothing_is_named_before_anything_is_written(officials, write_config, mysql_url):
    """SQLite keeps such a row when foreign keys were off (an old version, a hand edit); MariaDB would refuse it."""
    _drop(mysql_url)
    database = database_proxy.obj  # the database the fixture bound
    database.execute_sql("PRAGMA foreign_keys = OFF")
    CaseNote.insert(case=999, author=officials["humas"].id, text="catatan yatim").execute()
    database.execute_sql("PRAGMA foreign_keys = ON")
    says = "case_note row(s) id 1 point to a case row that does not exist"
    assert_refused_before_writing(write_config(WEB_INI), mysql_url, says)


def test_a_row_the_server_refuses_midway_leaves_an_empty_target_a_new_copy_accepts(
    officials, write_config, postgres_url
):
    """SQLite's integers have 64 bits, PostgreSQL's INTEGER 32: the copy fails at that table, after others."""
    _drop(postgres_url)
    populate_every_table(officials)
    OutboundPart.update(reference=2**40).execute()
    config = write_config(WEB_INI)
    done = modemd_copy(config, "--to", postgres_url)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "the target refused a row of outbound_part: integer out of range" in done.stderr
    assert "outbound_message: 2 rows copied" in done.stderr  # tables before it were written, then undone
    target = db_module.connect_url(postgres_url)
    with target.bind_ctx(ALL_MODELS):
        assert [m.select().count() for m in ALL_MODELS] == [0] * len(ALL_MODELS)
    target.close()
    OutboundPart.update(reference=255).execute()
    done = modemd_copy(config, "--to", postgres_url)
    assert done.returncode == 0, done.stderr


def test_a_mariadb_database_that_cannot_hold_emoji_is_refused(officials, write_config, mysql_url):
    head, _, name = mysql_url.rpartition("/")
    admin = db_module.connect_url(mysql_url)
    admin.execute_sql(f"CREATE DATABASE IF NOT EXISTS `{name}_latin1` CHARACTER SET latin1")
    try:
        done = modemd_copy(write_config(WEB_INI), "--to", f"{head}/{name}_latin1")
        assert done.returncode == 2 and "CHARACTER SET utf8mb4" in done.stderr
    finally:
        admin.execute_sql(f"DROP DATABASE IF EXISTS `{name}_latin1`")
        admin.close()


def test_the_same_server_database_under_another_login_is_refused(officials, write_config):
    done = modemd_copy(
        write_config(WEB_INI),
        "--from",
        "postgresql://modemd:rahasia@DB.local/modemd",
        "--to",
        "postgresql://admin@db.local/modemd",
        "--force",
    )
    assert done.returncode == 2 and "the same database" in done.stderr  # before any connection is tried


def test_passwords_are_not_printed():
    assert (
        safe_url("postgresql://modemd:rahasia@db.local:5433/modemd") == "postgresql://modemd:***@db.local:5433/modemd"
    )
    assert safe_url("sqlite:////var/lib/modemd/modemd.db") == "sqlite:////var/lib/modemd/modemd.db"
