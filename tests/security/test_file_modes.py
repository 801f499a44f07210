"""Issue 10, item 11: data and configuration are private to the modemd user, whatever the umask.

``modemd.db`` holds password hashes and citizens' numbers; with the usual
umask 022 it, the demo folder, ``modemd.ini`` and the simulated modem's spool
were readable by every local user. Files are now created 0600 in 0700
folders (0640/0750 for the installed /etc/modemd and /var/lib/modemd, which
the group modemd reads), and files left readable by an older version are
tightened when modemd opens them.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from modemd.commands import demo
from modemd.drivers import create_driver
from modemd.drivers.sim import inject
from modemd.store import db, migrations
from modemd.store.models import AuditLog

ROOT = Path(__file__).resolve().parents[2]


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(params=[0o000, 0o022])
def umask(request):
    """Run the test under this umask (0 = the most careless one), restored afterwards."""
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def test_demo_folder_config_and_database_are_private(tmp_path, umask):
    folder = tmp_path / "demo"
    ini, _ = demo.prepare(folder, "127.0.0.1:8080", "0")
    assert mode(folder) == 0o700
    for name in ("modemd.ini", "keywords.ini", "modemd.db"):
        assert mode(folder / name) == 0o600, name
    # the SQLite write-ahead log and shared-memory index hold the same data while the database is open
    database = db.open_database(f"sqlite:///{folder / 'modemd.db'}")
    AuditLog.create(actor="test", action="write")
    assert (folder / "modemd.db-wal").exists() and (folder / "modemd.db-shm").exists()
    assert mode(folder / "modemd.db-wal") == 0o600
    assert mode(folder / "modemd.db-shm") == 0o600
    database.close()


def test_files_an_older_version_left_readable_are_tightened(tmp_path, umask):
    folder = tmp_path / "demo"
    folder.mkdir()
    demo.prepare(folder, "127.0.0.1:8080", "0")
    os.chmod(folder, 0o755)
    for name in ("modemd.ini", "keywords.ini", "modemd.db"):
        os.chmod(folder / name, 0o644)
    demo.prepare(folder, "127.0.0.1:8080", "0")
    assert mode(folder) == 0o700
    for name in ("modemd.ini", "keywords.ini", "modemd.db"):
        assert mode(folder / name) == 0o600, name
    # a write-ahead log left readable (by a crash of an older version) is tightened when the database opens
    (folder / "modemd.db-wal").touch()
    os.chmod(folder / "modemd.db-wal", 0o644)
    database = db.open_database(f"sqlite:///{folder / 'modemd.db'}")
    assert mode(folder / "modemd.db-wal") == 0o600
    database.close()


def test_a_new_database_file_is_private(tmp_path, umask):
    path = tmp_path / "data.db"
    database = db.open_database(f"sqlite:///{path}")
    migrations.upgrade(database)
    assert mode(path) == 0o600
    database.close()


def test_the_simulated_modems_spool_is_private(tmp_path, umask):
    spool = tmp_path / "sim-spool"
    inject(spool, "081234567890", "DISHUB jalan rusak")
    assert mode(spool) == 0o700
    assert all(mode(path) == 0o600 for path in spool.iterdir())
    modem = create_driver(
        "sim1", {"driver": "sim", "device": str(tmp_path / "other-spool"), "send_delay": "0", "report_delay": "0"}
    )
    modem.connect()
    try:
        modem.send("+6281234567890", "Terima kasih")
    finally:
        modem.close()
    assert mode(tmp_path / "other-spool") == 0o700
    assert mode(tmp_path / "other-spool" / "sent.log") == 0o600


def test_commands_run_with_a_umask_that_keeps_other_users_out(tmp_path):
    import subprocess
    import sys

    script = (
        "import os; from modemd import cli\n"
        "try:\n    cli.main(['--version'])\nexcept SystemExit:\n    pass\nprint(oct(os.umask(0)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, preexec_fn=lambda: os.umask(0o002)
    )
    assert int(done.stdout.split()[-1], 8) & 0o027 == 0o027, done.stdout


def test_install_script_keeps_config_and_data_away_from_other_users():
    script = (ROOT / "scripts" / "install.sh").read_text()
    assert re.search(r"^umask 0?027$", script, re.M), "install.sh must set a umask before creating files"
    for target, most in (("$ETC", 0o750), ("$STATE", 0o750)):
        match = re.search(r"install -d .*-m (\d+) \"" + re.escape(target) + '"', script)
        assert match and int(match.group(1), 8) & ~most == 0, target
    for match in re.finditer(r"install -o root -g modemd -m (\d+) \"config/", script):
        assert int(match.group(1), 8) & 0o037 == 0
