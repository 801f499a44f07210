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
        cwd=REPO, capture_output=True, text=True, check=False,
    )
    print(result.stdout, result.stderr)
    assert result.returncode == 0, f"mypy found type errors:\n{result.stdout}{result.stderr}"
    assert result.stdout.strip() == "", result.stdout
