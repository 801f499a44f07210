"""What the technician relies on: unit files that systemd accepts, journald-friendly logs, sd_notify."""

from __future__ import annotations

import io
import logging
import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from modemd.run.logsetup import setup_logging
from modemd.run.sdnotify import Notifier

REPO = Path(__file__).resolve().parent.parent
UNITS = ("modemd.service", "modemd-web.service")


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze (Debian package systemd) is not installed"
)
def test_unit_files_pass_systemd_analyze_verify(tmp_path):
    modemd = shutil.which("modemd") or str(Path(os.sys.executable).parent / "modemd")
    paths = []
    for unit in UNITS:
        text = (REPO / "systemd" / unit).read_text()
        # verify checks that ExecStart exists: point it at this environment's modemd
        path = tmp_path / unit
        path.write_text(text.replace("/usr/local/bin/modemd", modemd))
        paths.append(str(path))
    result = subprocess.run(["systemd-analyze", "verify", *paths], capture_output=True, text=True, timeout=60)
    complaints = [line for line in (result.stdout + result.stderr).splitlines() if any(u in line for u in UNITS)]
    assert result.returncode == 0 and not complaints, result.stdout + result.stderr


def test_daemon_unit_has_what_the_issue_asks():
    text = (REPO / "systemd" / "modemd.service").read_text()
    for line in (
        "Type=notify",
        "WatchdogSec=",
        "Restart=on-failure",
        "User=modemd",
        "SupplementaryGroups=dialout",
        "StateDirectory=modemd",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "ExecReload=/bin/kill -HUP",
    ):
        assert line in text


def test_logs_under_journald_have_priority_and_no_timestamp(monkeypatch):
    monkeypatch.setenv("JOURNAL_STREAM", "8:12345")
    stream = io.StringIO()
    setup_logging("info", stream)
    logging.getLogger("modemd.at").warning("modem %s gone", "modem1")
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        logging.getLogger("modemd.daemon").exception("worker crashed")
    logging.getLogger("modemd.at").debug("hidden at info level")
    lines = stream.getvalue().splitlines()
    assert lines[0] == "<4>warning modemd.at: modem modem1 gone"
    assert len(lines) == 2 and lines[1].startswith("<3>error modemd.daemon: worker crashed | Traceback")
    assert "ValueError: bad | thing" in lines[1]


def test_logs_by_hand_have_a_timestamp(monkeypatch):
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    stream = io.StringIO()
    setup_logging("debug", stream)
    logging.getLogger("modemd.web").info("listening")
    assert stream.getvalue().rstrip().endswith("INFO modemd.web: listening")
    assert stream.getvalue()[:4].isdigit()


def test_sd_notify_datagrams(monkeypatch, tmp_path):
    address = str(tmp_path / "notify.sock")
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(address)
    monkeypatch.setenv("NOTIFY_SOCKET", address)
    monkeypatch.setenv("WATCHDOG_USEC", "60000000")
    notifier = Notifier()
    assert notifier.watchdog_interval == 30.0
    assert notifier.ready("1 modem, 0 queued")
    assert notifier.watchdog()
    assert receiver.recv(1024) == b"READY=1\nSTATUS=1 modem, 0 queued"
    assert receiver.recv(1024) == b"WATCHDOG=1"
    receiver.close()
    monkeypatch.delenv("NOTIFY_SOCKET")
    assert Notifier().ready() is False  # outside systemd: nothing to tell, no error


FIRST_KEYWORDS_SED = r"s/^\([^;#]\)/;\1/"


def test_a_fresh_install_passes_check_with_only_the_first_admin(tmp_path, make_user, write_config, sqlite_db):
    """install.sh comments out the sample keywords (their owners do not exist yet), so both units can start."""
    assert f"sed -e '{FIRST_KEYWORDS_SED}'" in (REPO / "scripts" / "install.sh").read_text()
    keywords = subprocess.run(
        ["sed", "-e", FIRST_KEYWORDS_SED, str(REPO / "config" / "keywords.ini")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    sample = (REPO / "config" / "modemd.ini").read_text()
    ini = write_config(
        sample.replace("sqlite:////var/lib/modemd/modemd.db", "sqlite:///modemd.db")
        .replace("state_dir = /var/lib/modemd", "state_dir = .")
        .replace("secret_key_file = /var/lib/modemd/secret.key", "secret_key_file = secret.key"),
        keywords=keywords,
    )
    make_user("admin", "admin")
    from modemd.checks import check_all

    result = check_all(ini)
    assert result.ok, [str(p) for p in result.problems]
    assert len(result.keywords) == 0
    # and the examples are all still there for the administrator to uncomment
    assert keywords.count(";[") == (REPO / "config" / "keywords.ini").read_text().count("\n[")
