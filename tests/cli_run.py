"""Running ``modemd`` the way a technician or a script does: this Python, a subprocess, output captured."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def modemd(config: Path, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
    """``modemd --config CONFIG ARGS…``; with ``check`` a non-zero exit fails the test with modemd's stderr."""
    done = subprocess.run(
        [sys.executable, "-m", "modemd", "--config", str(config), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
    )
    assert not check or done.returncode == 0, f"modemd {' '.join(args)} exited {done.returncode}: {done.stderr}"
    return done
