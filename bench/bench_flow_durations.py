"""Benchmark: time per step per agency (modemd/cases/flow_durations.py) over many verified-flow steps on SQLite.

Run:  .venv/bin/python bench/bench_flow_durations.py [--steps 200000] [--agencies 40]

``--steps`` finished steps spread over a year, among ``--agencies``
agencies and the three timed stages. Timed: a month's medians (what
/laporan/alur shows by default) and a whole year's, each the best of three.
The CI variant is tests/test_flow_durations.py (correctness, not time).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from modemd.cases.flow_durations import step_durations  # noqa: E402
from modemd.store import db, migrations  # noqa: E402
from modemd.store.models import Case, CaseStep  # noqa: E402

YEAR = datetime(2026, 1, 1)
STAGES = ("verify", "assigned", "review")


def fill(steps: int, agencies: int) -> None:
    rng = random.Random(13)
    case_id = Case.insert(keyword="DISHUB", citizen="+6281211112222", deadline_at=YEAR, flow="verified").execute()
    rows = []
    for _ in range(steps):
        entered = YEAR + timedelta(seconds=rng.randrange(0, 365 * 86400))
        seconds = int(rng.expovariate(1 / 5400))
        rows.append(
            {
                "case": case_id,
                "stage": rng.choice(STAGES),
                "agency": f"Dinas {rng.randrange(agencies)}",
                "actor": "admin",
                "entered_at": entered,
                "left_at": entered + timedelta(seconds=seconds),
                "seconds": seconds,
            }
        )
    for start in range(0, len(rows), 5000):
        CaseStep.insert_many(rows[start : start + 5000]).execute()


def best_of_three(start: datetime, end: datetime) -> tuple[float, int]:
    times, groups = [], 0
    for _ in range(3):
        began = time.perf_counter()
        groups = len(step_durations(start, end))
        times.append(time.perf_counter() - began)
    return min(times), groups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200_000)
    parser.add_argument("--agencies", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        database = db.open_database(f"sqlite:///{Path(folder) / 'modemd.db'}")
        migrations.upgrade(database)
        began = time.perf_counter()
        with database.atomic():
            fill(args.steps, args.agencies)
        print(f"filled {args.steps} steps of {args.agencies} agencies in {time.perf_counter() - began:.1f} s")
        month, groups = best_of_three(datetime(2026, 11, 1), datetime(2026, 12, 1))
        print(f"one month: {month * 1000:.0f} ms ({groups} agency x step groups)")
        year, groups = best_of_three(YEAR, YEAR + timedelta(days=365))
        print(f"one year:  {year * 1000:.0f} ms ({groups} agency x step groups)")
        database.close()


if __name__ == "__main__":
    main()
