"""Fault cases: the real daemon against the fake AT modem on a real pty, each ending with the accounting.

Every test in this folder carries the ``faults`` marker (``-m faults`` runs
them alone, ``-m "not faults"`` leaves them out). Sizes are CI-sized unless
``MODEMD_FAULT_SCALE=full`` (``bench/faults_long.sh``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.centre import centre_ini


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.faults)


@pytest.fixture
def centre_config(officials, write_config):
    """centre_config(modem_sections, extra="", **sms) -> modemd.ini path (tests/faults/centre.py:centre_ini);
    the officials exist and the database is bound in this process."""

    def write(modems: str, extra: str = "", **sms: object) -> Path:
        return write_config(centre_ini(modems, extra, **sms))

    return write
