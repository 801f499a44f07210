"""A part that always ships and fails to import stops the start, loudly: never "reminders are off" quietly.

Issue 15, item 4: the daemon used to turn an ImportError anywhere under the
scheduler into one INFO line, and the web UI registered some blueprints "when
their module exists". Both now import unconditionally.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from webfixtures import _make_app, web_config, web_ini  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
SIM = "[modem:sim1]\ndriver = sim\ndevice = spool1\nsend_delay = 0\nreport_delay = 0\n"


def test_the_daemon_refuses_to_run_without_its_scheduler(officials, write_config):
    path = write_config(SIM)
    program = (
        "import sys; sys.modules['apscheduler'] = None\n"  # as if the package were missing
        "from modemd.cli import main\n"
        f"sys.exit(main(['--config', {str(path)!r}, 'run']))\n"
    )
    try:
        done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, cwd=ROOT, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("modemd run kept running without its scheduler (reminders silently off)")
    assert done.returncode != 0
    assert "apscheduler" in done.stderr
    assert "reminders are off" not in done.stderr


@pytest.mark.parametrize("module", ["webui.recap", "webui.broadcasts", "webui.inbox"])
def test_the_web_app_refuses_to_start_without_one_of_its_pages(web_config, monkeypatch, module):
    monkeypatch.setitem(sys.modules, module, None)  # importing it now raises ImportError
    with pytest.raises(ImportError):
        _make_app(web_config, WTF_CSRF_ENABLED=False)
