"""The fault table of README's "What we tested": run tests/faults/ and print what each case counted.

Run:  .venv/bin/python bench/fault_table.py [--full] [--results FILE] [pytest arguments...]
      (bench/faults_long.sh is the same with --full: the issue's sizes, about 30 minutes)

Every case of tests/faults/ ends with the accounting of tests/faults/accounting.py
and appends its counts to the file named by MODEMD_FAULT_RESULTS; this script
sets it, runs pytest, and prints one Markdown row per case: messages, lost,
duplicated, the documented in-flight exception (a message the modem may have
sent while the daemon died or the modem vanished inside AT+CMGS: resent,
marked "doubt" in the outbox) and messages failed with a reason. A case that
failed prints its counts too (the test says what went wrong); the exit status
is pytest's. ``--results FILE`` keeps the raw rows (JSON lines); with
``--print-only`` an existing file is printed without running anything.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def table(rows: list[dict]) -> str:
    lines = [
        "| case | messages | lost | duplicated | in flight (doubt) | failed with a reason |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['case']} | {row['messages']} | {row['lost']} | {row['duplicated']} | "
            f"{row['in_flight']} | {row['failed_with_reason']} |"
        )
    total = {key: sum(r[key] for r in rows) for key in ("messages", "lost", "duplicated", "in_flight")}
    lines.append(
        f"| **all {len(rows)} cases** | {total['messages']} | {total['lost']} | {total['duplicated']} | "
        f"{total['in_flight']} | |"
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the issue's sizes (MODEMD_FAULT_SCALE=full)")
    parser.add_argument("--results", help="keep the raw rows in this file (JSON lines)")
    parser.add_argument("--print-only", action="store_true", help="print --results without running the cases")
    args, pytest_args = parser.parse_known_args()
    if args.print_only:
        if not args.results:
            parser.error("--print-only needs --results FILE")
        print(table(read_rows(Path(args.results))))
        return 0
    results = Path(args.results) if args.results else Path(tempfile.mkstemp(suffix=".jsonl")[1])
    results.write_text("")
    env = {**os.environ, "MODEMD_FAULT_RESULTS": str(results)}
    if args.full:
        env["MODEMD_FAULT_SCALE"] = "full"
    scale = env.get("MODEMD_FAULT_SCALE", "ci")
    started = datetime.now(UTC)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/faults", *pytest_args]
    done = subprocess.run(command, cwd=ROOT, env=env)
    rows = read_rows(results)
    if not args.results:
        results.unlink()
    minutes = (datetime.now(UTC) - started).total_seconds() / 60
    how = f"MODEMD_FAULT_SCALE={scale}, {minutes:.1f} min, pytest exit {done.returncode}"
    print(f"\nFault table, {started:%Y-%m-%d} ({how}):\n")
    print(table(rows))
    return done.returncode


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


if __name__ == "__main__":
    sys.exit(main())
