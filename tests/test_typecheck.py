"""The type hints hold: mypy, with the settings of ``[mypy]`` in setup.cfg, finds
no error in modemd/ and webui/. Part of the ordinary suite, so ``scripts/test.sh`` and
``.ci/run`` check it on every run; a failure prints mypy's findings.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def test_mypy_finds_no_type_error():
    pytest.importorskip("mypy", reason="mypy is missing: install the test extra, pip install -e '.[test]'")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-color-output", "--no-error-summary"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    print(result.stdout, result.stderr)
    assert result.returncode == 0, f"mypy found type errors:\n{result.stdout}{result.stderr}"
    assert result.stdout.strip() == "", result.stdout


def test_mypy_reports_a_misspelt_setting(tmp_path):
    """Settings are attributes of typed sections (modemd.settings): a typo is a type error, not a KeyError in production."""
    pytest.importorskip("mypy", reason="mypy is missing: install the test extra, pip install -e '.[test]'")
    snippet = tmp_path / "uses_settings.py"
    snippet.write_text(
        "from datetime import time\n"
        "from modemd.config import Config\n\n\n"
        "def fine(config: Config) -> tuple[float, int, time, float]:\n"
        "    return (config.sms.expiry, config.sms.max_attempts, config.notify.recap_time,\n"
        "            config.modems['a'].typed.command_timeout)\n\n\n"
        "def misspelt(config: Config) -> float:\n"
        "    return config.sms.expirey\n\n\n"
        "def wrong_type(config: Config) -> str:\n"
        "    return config.sms.expiry\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-color-output", "--no-error-summary", str(snippet)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 2, result.stdout + result.stderr
    assert ':11: error: "SmsSettings" has no attribute "expirey"' in errors[0]
    assert ':15: error: Incompatible return value type (got "float", expected "str")' in errors[1]
