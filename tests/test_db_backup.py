"""``modemd db backup FILE`` while a real ``modemd run`` receives and others write; ``modemd db restore FILE``.

The main test is the one a technician relies on: the daemon receives a
stream of SMS and another process writes too; the backup is taken in the
middle; the copy, restored the documented way (stop, replace the file,
start), holds every row committed before the backup began, passes SQLite's
integrity and foreign-key checks, and the daemon runs on it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import threading
from pathlib import Path

import pytest
from conftest import bound_database

from modemd.drivers import inject_simulated
from modemd.store import db as db_module
from modemd.store import migrations
from modemd.store.models import AuditLog, Case, DaemonState, InboundMessage, Template
from tests.fakemodem import wait_until
from tests.test_cli_daemon import SIM, modemd, start_daemon

OLDEST = Path(__file__).parent / "data" / "schema-v1.sql"


def stop(daemon: subprocess.Popen) -> None:
    daemon.send_signal(signal.SIGTERM)
    assert daemon.wait(30) == 0


class Writers:
    """Citizens' SMS into the simulated SIM (the daemon stores them) and audit rows from this process, nonstop."""

    def __init__(self, spool: Path):
        self.settings = {"driver": "sim", "device": str(spool)}
        self.sms_sent = 0
        self.rows_written = 0
        self.done = threading.Event()
        self.threads = [threading.Thread(target=self._citizens), threading.Thread(target=self._office)]

    def _citizens(self) -> None:
        while not self.done.is_set():
            number = f"0812111{self.sms_sent:05d}"  # a new citizen each time: a case and a reply each
            inject_simulated(self.settings, number, f"INFO pertanyaan {self.sms_sent} 😀")
            self.sms_sent += 1
            self.done.wait(0.05)

    def _office(self) -> None:
        database = bound_database()
        while not self.done.is_set():
            with database.atomic():
                AuditLog.insert_many(
                    [{"actor": "writer", "action": "test.write", "detail": "x" * 200} for _ in range(50)]
                ).execute()
            self.rows_written += 50
        database.close()

    def __enter__(self) -> Writers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.done.set()
        for thread in self.threads:
            thread.join(10)


def test_a_backup_taken_while_the_daemon_writes_holds_every_row_committed_before_it(officials, write_config, tmp_path):
    config = write_config(SIM)
    database_file = tmp_path / "modemd.db"
    database = bound_database()
    with database.atomic():  # a few megabytes, so that the copy takes a moment
        for _ in range(40):
            AuditLog.insert_many(
                [{"actor": "cli", "action": "test.fill", "detail": "y" * 400} for _ in range(500)]
            ).execute()
    daemon = start_daemon(config, tmp_path)
    try:
        with Writers(tmp_path / "spool1") as writers:
            assert wait_until(lambda: Case.select().count() >= 5, 30), (tmp_path / "daemon.log").read_text()
            # A long reader (a report in the web UI) keeps SQLite from moving newer commits into the file:
            # from here on they live only in modemd.db-wal, where a plain `cp modemd.db` would miss them.
            reader = sqlite3.connect(database_file, isolation_level=None)
            reader.execute("BEGIN")
            reader.execute("SELECT COUNT(*) FROM inbound_message").fetchone()
            started = Case.select().count()
            assert wait_until(lambda: Case.select().count() >= started + 5, 30)
            committed = {m.id: m.text for m in InboundMessage.select(InboundMessage.id, InboundMessage.text)}
            cases = {c.id for c in Case.select(Case.id)}
            audit_ids = {a.id for a in AuditLog.select(AuditLog.id)}
            sms_before, rows_before = writers.sms_sent, writers.rows_written
            done = modemd(config, "db", "backup", str(tmp_path / "backup" / "modemd.db"), "--json")
            assert done.returncode == 2 and "cannot write in" in done.stderr  # no such folder: said, nothing left
            (tmp_path / "backup").mkdir()
            done = modemd(config, "db", "backup", str(tmp_path / "backup" / "modemd.db"), "--json")
            assert done.returncode == 0, done.stderr
            # the others went on writing while the backup ran
            assert writers.rows_written > rows_before and writers.sms_sent > sms_before
            assert wait_until(lambda: InboundMessage.select().count() > len(committed) + 5, 30)
            reader.execute("ROLLBACK")
            reader.close()
    finally:
        stop(daemon)
    report = json.loads(done.stdout)
    backup = tmp_path / "backup" / "modemd.db"
    assert report["target"] == str(backup) and report["schema_version"] == migrations.LATEST
    assert report["rows"]["inbound_message"] >= len(committed) and report["rows"]["audit_log"] >= len(audit_ids)
    assert backup.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in backup.parent.iterdir()) == ["modemd.db"]  # no temporary file left

    # restore the documented way: stop (done), put the backup in place of the file and its -wal/-shm, start
    database.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database_file}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(backup, database_file)
    os.chmod(database_file, 0o600)
    with sqlite3.connect(database_file) as check:
        assert check.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert check.execute("PRAGMA foreign_key_check").fetchall() == []
    restored = db_module.open_database(f"sqlite:///{database_file}")
    assert migrations.current_version(restored) == migrations.LATEST
    kept = {m.id: m.text for m in InboundMessage.select(InboundMessage.id, InboundMessage.text)}
    assert {i: kept.get(i) for i in committed} == committed  # every SMS stored before the backup, unchanged
    assert cases <= {c.id for c in Case.select(Case.id)}
    assert audit_ids <= {a.id for a in AuditLog.select(AuditLog.id)}
    newest = max(kept)
    restored.close()

    daemon = start_daemon(config, tmp_path)
    try:
        inject_simulated({"driver": "sim", "device": str(tmp_path / "spool1")}, "085712345678", "INFO setelah restore")
        assert wait_until(
            lambda: InboundMessage.select().where(InboundMessage.text == "INFO setelah restore").exists(), 30
        )
        assert InboundMessage.get(InboundMessage.text == "INFO setelah restore").id > newest
    finally:
        stop(daemon)


def test_an_existing_file_is_kept_unless_forced(officials, write_config, tmp_path):
    config = write_config(SIM)
    target = tmp_path / "backup.db"
    target.write_text("yesterday's backup")
    target.chmod(0o644)
    done = modemd(config, "db", "backup", str(target))
    assert done.returncode == 2 and "exists already" in done.stderr and "--force" in done.stderr
    assert target.read_text() == "yesterday's backup"
    done = modemd(config, "db", "backup", str(target), "--force")
    assert done.returncode == 0 and "integrity ok" in done.stdout
    assert target.stat().st_mode & 0o777 == 0o600
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT COUNT(*) FROM user").fetchone()[0] == len(officials)
    assert modemd(config, "db", "backup", str(tmp_path)).returncode == 2  # a folder is not a file name
    itself = modemd(config, "db", "backup", str(tmp_path / "modemd.db"), "--force")
    assert itself.returncode == 2 and "the database itself" in itself.stderr


@pytest.mark.parametrize(
    "url, tool",
    [("postgresql://modemd:rahasia@db.local/modemd", "pg_dump"), ("mysql://modemd@db.local/modemd", "mariadb-dump")],
)
def test_a_server_database_is_backed_up_with_the_servers_tool(write_config, url, tool):
    config = write_config(f"[modemd]\ndatabase = {url}\nstate_dir = .\n", keywords=None)
    for action in ("backup", "restore"):
        done = modemd(config, "db", action, "x.db")
        assert done.returncode == 2 and tool in done.stderr and "server database" in done.stderr
        assert "rahasia" not in done.stderr


# --------------------------------------------------------------------------
# restore


@pytest.fixture
def backup_file(officials, write_config, tmp_path) -> Path:
    """A backup of a database holding the officials and a template, taken with the command."""
    Template.create(name="salam", text="Salam 🙏")
    path = tmp_path / "backup.db"
    assert modemd(write_config(SIM), "db", "backup", str(path)).returncode == 0
    return path


def test_restore_replaces_a_database_holding_data_only_when_forced(backup_file, write_config, tmp_path):
    config = write_config(SIM)
    Template.delete().execute()
    Template.create(name="sesudah backup", text="hilang setelah restore")
    done = modemd(config, "db", "restore", str(backup_file))
    assert done.returncode == 2 and "--force" in done.stderr
    assert [t.name for t in Template.select()] == ["sesudah backup"]
    done = modemd(config, "db", "restore", str(backup_file), "--force", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["schema_version"] == migrations.LATEST
    assert [t.text for t in Template.select()] == ["Salam 🙏"]  # this connection sees the restored content
    assert (tmp_path / "modemd.db").stat().st_mode & 0o777 == 0o600


def test_restore_is_refused_while_a_daemon_runs(backup_file, write_config):
    DaemonState.put("daemon_heartbeat", "now")
    done = modemd(write_config(SIM), "db", "restore", str(backup_file), "--force")
    assert done.returncode == 2 and "systemctl stop modemd" in done.stderr


def test_restore_into_a_new_installation_needs_no_force(backup_file, write_config, tmp_path):
    elsewhere = tmp_path / "new"
    elsewhere.mkdir()
    ini = elsewhere / "modemd.ini"
    ini.write_text("[modemd]\ndatabase = sqlite:///modemd.db\nstate_dir = .\n", encoding="utf-8")
    done = modemd(ini, "db", "restore", str(backup_file))
    assert done.returncode == 0, done.stderr
    assert "start modemd again" in done.stdout
    assert (elsewhere / "modemd.db").stat().st_mode & 0o777 == 0o600
    with sqlite3.connect(elsewhere / "modemd.db") as restored:
        assert restored.execute("SELECT text FROM template").fetchall() == [("Salam 🙏",)]


def test_an_old_backup_is_upgraded_after_the_restore(write_config, tmp_path):
    old = tmp_path / "v1.db"
    with sqlite3.connect(old) as connection:
        connection.executescript(OLDEST.read_text(encoding="utf-8"))
    ini = tmp_path / "fresh.ini"
    ini.write_text("[modemd]\ndatabase = sqlite:///fresh.db\nstate_dir = .\n", encoding="utf-8")
    done = modemd(ini, "db", "restore", str(old))
    assert done.returncode == 0, done.stderr
    assert f"upgraded from schema version 1 to {migrations.LATEST}" in done.stdout


@pytest.mark.parametrize(
    "content, says",
    [
        (b"not a database at all" * 100, "not a readable SQLite database"),
        (None, "not a modemd database"),
        ("missing", "no such file"),
    ],
)
def test_restore_refuses_what_is_no_modemd_backup(officials, write_config, tmp_path, content, says):
    config = write_config(SIM)
    candidate = tmp_path / "candidate.db"
    if content is None:
        with sqlite3.connect(candidate) as other:
            other.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    elif isinstance(content, bytes):
        candidate.write_bytes(content)
    done = modemd(config, "db", "restore", str(candidate), "--force")
    assert done.returncode == 2 and says in done.stderr and "Traceback" not in done.stderr
    assert {u.login for u in type(officials["admin"]).select()} == set(officials)  # the database is untouched


def test_restore_refuses_a_backup_newer_than_this_modemd(backup_file, write_config):
    with sqlite3.connect(backup_file) as newer:
        newer.execute(
            "INSERT INTO schema_version (version, applied_at) VALUES (?, '2030-01-01')", (migrations.LATEST + 1,)
        )
    done = modemd(write_config(SIM), "db", "restore", str(backup_file), "--force")
    assert done.returncode == 2 and "upgrade modemd first" in done.stderr
