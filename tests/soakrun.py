"""The CI soak (bench/soak.py for 10 minutes) runs beside the rest of the suite, not after it.

A soak mostly waits: the daemon handles a few SMS a second (about 4% of one
core). Started when the session collects a ``soak`` test, it is done by the
time that test (near the end of the alphabet) looks at it, so the suite gets
a ten-minute soak for the price of a few seconds. ``MODEMD_SOAK_MINUTES``
shortens it for a quick local run of that test alone.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MINUTES_ENV = "MODEMD_SOAK_MINUTES"
DRAIN_TIMEOUT = 300


@dataclass
class SoakRun:
    minutes: float
    folder: Path
    process: subprocess.Popen

    @property
    def summary_file(self) -> Path:
        return self.folder / "soak.json"

    @property
    def output_file(self) -> Path:
        return self.folder / "soak.out"

    def wait(self) -> int:
        """Wait for the run to end (its length, the drain and a margin); its exit code."""
        return self.process.wait(timeout=self.minutes * 60 + DRAIN_TIMEOUT + 300)

    def output(self) -> str:
        return self.output_file.read_text(errors="replace") if self.output_file.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def minutes() -> float:
    return float(os.environ.get(MINUTES_ENV, "10"))


def start() -> SoakRun:
    """Start bench/soak.py in the background: CI's ten minutes of mixed traffic."""
    length = minutes()
    folder = Path(tempfile.mkdtemp(prefix="modemd-ci-soak-"))
    command = [
        sys.executable,
        str(ROOT / "bench" / "soak.py"),
        "--minutes",
        f"{length:g}",
        "--rate",
        "3",
        "--broadcast-every",
        f"{min(60.0, length * 15):g}",  # a broadcast a minute; four in a shorter run
        "--drain-timeout",
        str(DRAIN_TIMEOUT),
        "--json-out",
        str(folder / "soak.json"),
    ]
    with open(folder / "soak.out", "wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    return SoakRun(length, folder, process)
