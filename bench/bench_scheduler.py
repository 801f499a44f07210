"""Benchmark: the scheduler's hourly pass over 500 officials and 100,000 cases on SQLite (goal: under 1 s).

Run:  .venv/bin/python bench/bench_scheduler.py [--officials 500] [--cases 100000] [--active 300]

100,000 cases (one SMS each) spread over 60 days, owned by 500 officials;
``--active`` of the officials got new SMS in the last hour and are notified.
Timed: the hourly pass that queues their notifications, the same pass again
(nothing left to send: what every restart costs), and for comparison the
daily, deadline and recap passes.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from modemd import config as config_module  # noqa: E402
from modemd.jobs import notifications  # noqa: E402
from modemd.store import db, migrations  # noqa: E402
from modemd.store.models import Case, InboundMessage, OutboundMessage, User  # noqa: E402

JAKARTA = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 11, 23, 14, 0, 2, tzinfo=JAKARTA).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)  # a Monday


def setup(folder: Path, officials: int, cases: int, active: int):
    (folder / "keywords.ini").write_text("", encoding="utf-8")
    (folder / "modemd.ini").write_text(
        "[modemd]\ndatabase = sqlite:///modemd.db\nstate_dir = .\n[notify]\nrecap_numbers = 081300000001\n",
        encoding="utf-8",
    )
    config = config_module.load(folder / "modemd.ini")
    database = db.open_database(config.database_url)
    migrations.upgrade(database)
    rng = random.Random(6)
    with database.atomic():
        User.insert_many(
            [
                {"login": f"pejabat{i}", "name": f"Pejabat {i}", "role": "official", "phone": f"+62813{i:08d}"}
                for i in range(officials)
            ]
        ).execute()
        for role in ("admin", "approver"):
            User.create(login=role, role=role, phone=f"+6281399{len(role):06d}")
        owners = [u for (u,) in User.select(User.id).where(User.role == "official").order_by(User.id).tuples()]
        keywords = [f"KW{i % 50}" for i in range(officials)]
        case_rows, message_rows = [], []
        for n in range(cases):
            if n < active:  # one fresh SMS for each of the first `active` officials
                index, opened = n, NOW - timedelta(minutes=rng.randint(1, 59))
            else:
                index, opened = rng.randrange(officials), NOW - timedelta(minutes=rng.randint(61, 60 * 24 * 60))
            answered = opened + timedelta(minutes=rng.randint(5, 400)) if rng.random() < 0.9 else None
            case_rows.append(
                {
                    "keyword": keywords[index],
                    "owner": owners[index],
                    "citizen": f"+62812{n:08d}",
                    "status": "answered" if answered else "open",
                    "opened_at": opened,
                    "deadline_at": opened + timedelta(hours=3),
                    "last_message_at": opened,
                    "answered_at": answered,
                }
            )
        for start in range(0, cases, 2000):
            Case.insert_many(case_rows[start : start + 2000]).execute()
        ids = [c for (c,) in Case.select(Case.id).order_by(Case.id).tuples()]
        for case_id, row in zip(ids, case_rows, strict=True):
            message_rows.append(
                {
                    "modem": "sim",
                    "sender_raw": row["citizen"],
                    "sender": row["citizen"],
                    "text": f"{row['keyword']} mohon info",
                    "received_at": row["opened_at"],
                    "route": "case",
                    "keyword": row["keyword"],
                    "case": case_id,
                }
            )
        for start in range(0, cases, 2000):
            InboundMessage.insert_many(message_rows[start : start + 2000]).execute()
    return config


def timed(label: str, work) -> float:
    start = time.perf_counter()
    result = work()
    elapsed = time.perf_counter() - start
    outcomes = result if isinstance(result, list) else [result]
    queued = sum(len(o.queued) for o in outcomes)
    print(f"{label:38} {elapsed:7.3f}s  {queued:4d} SMS queued")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--officials", type=int, default=500)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--active", type=int, default=300, help="officials with new SMS in the last hour")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        config = setup(Path(folder), args.officials, args.cases, args.active)
        print(
            f"setup: {args.officials} officials, {args.cases} cases and SMS in {time.perf_counter() - start:.1f}s "
            "(not part of the figures)"
        )
        first = timed("hourly pass (notifies the active ones)", lambda: notifications.hourly(NOW, config))
        again = timed(
            "hourly pass again (all recorded)", lambda: notifications.hourly(NOW + timedelta(seconds=30), config)
        )
        timed("daily pass", lambda: notifications.daily(NOW + timedelta(hours=1, minutes=0), config))
        timed("deadline + escalation pass", lambda: notifications.deadlines(NOW, config))
        timed("recap pass", lambda: notifications.recap(NOW + timedelta(hours=3), config))
        print(f"notification SMS in the queue: {OutboundMessage.select().count()}")
        print(
            f"hourly pass over {args.officials} officials and {args.cases} cases: {first:.3f}s first, "
            f"{again:.3f}s repeated; goal < 1 s: {'met' if max(first, again) < 1 else 'NOT met'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
