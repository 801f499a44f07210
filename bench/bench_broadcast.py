"""Benchmark: create, approve and queue a broadcast to 20,000 recipients on SQLite (goal: under 3 s).

Run:  .venv/bin/python bench/bench_broadcast.py [--recipients 20000] [--runs 3]

The contacts are made first (not timed); each run drafts, submits, approves
and queues a new broadcast to all of them, on a fresh SQLite file with the
daemon's settings (WAL, synchronous=FULL, BEGIN IMMEDIATE).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from modemd import config as config_module  # noqa: E402
from modemd import users
from modemd.jobs import broadcasts  # noqa: E402
from modemd.jobs.broadcasts import content  # noqa: E402
from modemd.store import db, migrations  # noqa: E402
from modemd.store.models import Contact, ContactGroup, GroupMember, OutboundMessage  # noqa: E402


def setup(folder: Path, recipients: int):
    (folder / "keywords.ini").write_text("", encoding="utf-8")
    (folder / "modemd.ini").write_text(
        "[modemd]\ndatabase = sqlite:///modemd.db\nstate_dir = .\n[notify]\nsignature = HUMAS\n", encoding="utf-8"
    )
    config = config_module.load(folder / "modemd.ini")
    database = db.open_database(config.database_url)
    migrations.upgrade(database)
    admin = users.create_user("admin", "admin", "rahasia-123")
    ketua = users.create_user("ketua", "approver", "rahasia-123")
    # two overlapping groups, so de-duplication has work to do
    rows = [{"name": f"Warga {i}", "phone": f"+62812{i:08d}"} for i in range(recipients)]
    with database.atomic():
        for start in range(0, recipients, 1000):
            Contact.insert_many(rows[start : start + 1000]).execute()
        ids = [c for (c,) in Contact.select(Contact.id).order_by(Contact.id).tuples()]
        everyone, officers = ContactGroup.create(name="Semua"), ContactGroup.create(name="Pejabat")
        members = [{"group": everyone.id, "contact": c} for c in ids] + [
            {"group": officers.id, "contact": c} for c in ids[: recipients // 10]
        ]
        for start in range(0, len(members), 1000):
            GroupMember.insert_many(members[start : start + 1000]).execute()
    return config, admin, ketua, [everyone.id, officers.id]


def one_run(config, admin, ketua, groups) -> dict[str, float]:
    times = {}
    start = time.perf_counter()
    bc = broadcasts.draft(admin, "Pemberitahuan: pelayanan KTP hari Sabtu buka pukul 08.00-12.00.", groups=groups)
    shown = broadcasts.preview(bc, config)
    times["draft+preview"] = time.perf_counter() - start
    mark = time.perf_counter()
    broadcasts.submit(bc, admin, config)
    times["submit"] = time.perf_counter() - mark
    mark = time.perf_counter()
    broadcasts.approve(bc, ketua, config, version=broadcasts.content_of(bc, config).version)
    times["approve"] = time.perf_counter() - mark
    mark = time.perf_counter()
    added = broadcasts.queue_broadcast(bc.id, config)
    times["queue"] = time.perf_counter() - mark
    times["total"] = time.perf_counter() - start
    assert added == shown.count == OutboundMessage.select().where(OutboundMessage.broadcast == bc.id).count()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        config, admin, ketua, groups = setup(Path(folder), args.recipients)
        results = []
        for run in range(args.runs):
            # a fresh process would start with an empty number cache: clear it so every run pays for it
            content._normalized.cache_clear()
            times = one_run(config, admin, ketua, groups)
            results.append(times)
            print(f"run {run + 1}: " + "  ".join(f"{k} {v:.3f}s" for k, v in times.items()))
        median = statistics.median(r["total"] for r in results)
        queue_only = statistics.median(r["queue"] for r in results)
        print(
            f"{args.recipients} recipients (+{args.recipients // 10} duplicates across groups), SQLite: "
            f"median create+approve+queue {median:.3f}s (queue alone {queue_only:.3f}s, "
            f"{args.recipients / queue_only:,.0f} rows/s); goal < 3 s: {'met' if median < 3 else 'NOT met'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
