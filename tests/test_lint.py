"""The code stays as ruff wants it: lint (pyflakes, pycodestyle, import order, bugbear, pyupgrade) and format.

The settings are in pyproject.toml (ruff reads no setup.cfg). Part of the ordinary suite, so
``scripts/test.sh`` and ``.ci/run`` check it on every run; a failure prints ruff's findings and
``ruff check --fix . && ruff format .`` mends most of them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("command", [["check", "--output-format", "concise"], ["format", "--check"]])
def test_ruff_finds_nothing(command):
    pytest.importorskip("ruff", reason="ruff is missing: install the test extra, pip install -e '.[test]'")
    result = subprocess.run([sys.executable, "-m", "ruff", *command, "."], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, f"ruff {' '.join(command)}:\n{result.stdout}{result.stderr}"
