"""Benchmark: `modemd db backup` and `modemd db copy` of a SQLite database of a busy year.

Run:  .venv/bin/python bench/bench_db_backup_copy.py [--messages 100000]

Makes a SQLite database with MESSAGES inbound SMS (160 characters, emoji),
one case per ten messages and one reply per case (not timed), then times:
the online backup (while a writer thread commits audit rows, as the daemon
would), and the copy to PostgreSQL and MariaDB when MODEMD_TEST_POSTGRES_URL /
MODEMD_TEST_MYSQL_URL are set (into a scratch schema / database, dropped after).
Prints seconds, rows per second and megabytes per second.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from modemd.store import backup, dbcopy, migrations  # noqa: E402
from modemd.store import db as db_module  # noqa: E402
from modemd.store.models import AuditLog, Case, InboundMessage, OutboundMessage, User, utcnow  # noqa: E402

REPLY = "Terima kasih, segera kami tindak lanjuti."
TEXT = ("Lampu jalan di Jl. Sudirman mati sejak kemarin malam, mohon segera diperbaiki 🙏 " * 3)[:160]


def populate(path: Path, messages: int) -> int:
    database = db_module.open_database(f"sqlite:///{path}")
    migrations.upgrade(database)
    now = utcnow()
    owner = User.create(login="humas", role="official")
    with database.atomic():
        cases = [
            {"keyword": "INFO", "owner": owner.id, "citizen": f"+62812{n:08d}", "deadline_at": now}
            for n in range(messages // 10)
        ]
        for start in range(0, len(cases), 1000):
            Case.insert_many(cases[start : start + 1000]).execute()
        for start in range(0, messages, 1000):
            InboundMessage.insert_many(
                [
                    {
                        "modem": "sim1",
                        "sender_raw": f"0812{n:08d}",
                        "sender": f"+62812{n:08d}",
                        "text": TEXT,
                        "received_at": now - timedelta(seconds=n),
                        "case": n // 10 + 1,
                        "keyword": "INFO",
                    }
                    for n in range(start, min(start + 1000, messages))
                ]
            ).execute()
        for start in range(0, len(cases), 1000):
            OutboundMessage.insert_many(
                [
                    {
                        "recipient": f"+62812{n:08d}",
                        "text": "Terima kasih, segera kami tindak lanjuti.",
                        "kind": "reply",
                    }
                    | {"case": n + 1, "state": "delivered"}
                    for n in range(start, min(start + 1000, len(cases)))
                ]
            ).execute()
    database.close()
    return messages + 2 * (messages // 10) + 1


def writer(path: Path, stop: threading.Event, counter: list[int]) -> None:
    database = db_module.open_database(f"sqlite:///{path}")
    while not stop.is_set():
        with database.atomic():
            AuditLog.create(actor="daemon", action="bench.write")
        counter[0] += 1
    database.close()


def scratch_url(base: str) -> tuple[str, str]:
    """A URL of a new schema (PostgreSQL) or database (MariaDB), and its name."""
    name = f"modemd_bench_{uuid.uuid4().hex[:8]}"
    admin = db_module.connect_url(base)
    if base.startswith("postgres"):
        admin.execute_sql(f'CREATE SCHEMA "{name}"')
        separator = "&" if "?" in base else "?"
        url = f"{base}{separator}options=-csearch_path%3D{name}"
    else:
        admin.execute_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        url = f"{base.rpartition('/')[0]}/{name}"
    admin.close()
    return url, name


def drop_scratch(base: str, name: str) -> None:
    admin = db_module.connect_url(base)
    admin.execute_sql(f'DROP SCHEMA "{name}" CASCADE' if base.startswith("postgres") else f"DROP DATABASE `{name}`")
    admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "modemd.db"
        rows = populate(source, args.messages)
        megabytes = source.stat().st_size / 1e6
        print(f"database: {args.messages} inbound SMS, {rows} rows in the big tables, {megabytes:.1f} MB")

        stop, commits = threading.Event(), [0]
        thread = threading.Thread(target=writer, args=(source, stop, commits))
        thread.start()
        time.sleep(0.5)
        before = commits[0]
        report = backup.backup(str(source), Path(folder) / "backup.db")
        during = commits[0] - before
        stop.set()
        thread.join()
        print(
            f"backup:  {report.seconds:6.2f} s  {megabytes / report.seconds:7.1f} MB/s"
            f"  (a writer committed {during} transactions meanwhile)"
        )

        for env, kind in (("MODEMD_TEST_POSTGRES_URL", "PostgreSQL"), ("MODEMD_TEST_MYSQL_URL", "MariaDB")):
            base = os.environ.get(env)
            if not base:
                print(f"copy to {kind}: skipped ({env} is not set)")
                continue
            url, name = scratch_url(base)
            try:
                result = dbcopy.copy_database(f"sqlite:///{source}", url)
            finally:
                drop_scratch(base, name)
            copied = sum(counts["target"] for counts in result.tables.values())
            print(
                f"copy to {kind}: {result.seconds:6.2f} s  {copied / result.seconds:9.0f} rows/s"
                f"  counts {'equal' if result.ok else 'DIFFERENT'}"
            )


if __name__ == "__main__":
    main()
