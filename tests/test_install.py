"""``scripts/install.sh`` end to end, into a temporary root, as root.

The folders come from the environment (PREFIX, ETC, STATE, BINDIR, UNITDIR),
``systemctl`` is a stub that records its calls, and the apt step is skipped
(SKIP_APT=1: the packages are on this machine). Root's PATH starts with a
python3 in a folder only root may enter, as a pyenv or conda Python under
/root does: the venv must be made with Debian's /usr/bin/python3 all the same,
or nothing runs as the modemd user. The first run finds what an older install.sh left on such a PC, a venv
whose python links into root's folder, and makes it anew; the second run
finds the technician's edits. The script creates the real system user
``modemd`` on this machine (it stays; a second run reuses it).

pip installs from the machine's package index or wheel folder (see pip's
configuration); the two runs take about a minute and a half.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEBIAN_PYTHON = Path("/usr/bin/python3")

pytestmark = [
    pytest.mark.skipif(
        os.geteuid() != 0, reason="install.sh creates the modemd system user and uses runuser: needs root"
    ),
    pytest.mark.skipif(shutil.which("runuser") is None, reason="runuser (util-linux) is not installed"),
    pytest.mark.skipif(not DEBIAN_PYTHON.exists(), reason="no Debian /usr/bin/python3 on this machine"),
]


class Install:
    def __init__(self, base: Path, private: Path):
        self.base = base
        self.prefix = base / "opt" / "modemd"
        self.etc = base / "etc" / "modemd"
        self.state = base / "var" / "lib" / "modemd"
        self.bindir = base / "usr" / "local" / "bin"
        self.unitdir = base / "etc" / "systemd" / "system"
        self.calls = base / "systemctl.calls"
        self.stub = base / "stub" / "systemctl"
        self.private = private

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PREFIX": str(self.prefix),
            "ETC": str(self.etc),
            "STATE": str(self.state),
            "BINDIR": str(self.bindir),
            "UNITDIR": str(self.unitdir),
            "SYSTEMCTL": str(self.stub),
            "SKIP_APT": "1",
            # root's own Python first, as a pyenv shim would be
            "PATH": f"{self.private}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        }

    def run(self) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["sh", "scripts/install.sh"], cwd=ROOT, env=self.env(), capture_output=True, text=True, timeout=900
        )

    def as_modemd(self, *args: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "MODEMD_CONFIG": str(self.etc / "modemd.ini")}
        return subprocess.run(
            ["runuser", "-u", "modemd", "--", *args],
            cwd=self.state,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )


@pytest.fixture(scope="module")
def install(tmp_path_factory):
    base = Path(tempfile.mkdtemp(prefix="modemd-install-", dir="/tmp"))
    base.chmod(0o755)  # like /: every user may pass (pytest's own folders are 0700)
    private = tmp_path_factory.mktemp("root-python")
    private.chmod(0o700)
    (private / "python3").symlink_to(sys.executable)  # the python3 that comes first on root's PATH
    setup = Install(base, private)
    for folder in (setup.prefix.parent, setup.etc.parent, setup.state.parent, setup.bindir, setup.unitdir):
        folder.mkdir(parents=True, exist_ok=True)
    for folder in base.rglob("*"):
        folder.chmod(0o755)
    setup.stub.parent.mkdir()
    setup.stub.write_text(f'#!/bin/sh\necho "$*" >> {setup.calls}\n')
    setup.stub.chmod(0o755)
    # what an older install.sh left on a PC with pyenv: a venv whose python is a link into root's folder
    old_venv = setup.prefix / "venv" / "bin"
    old_venv.mkdir(parents=True)
    (old_venv / "python").symlink_to(private / "python3")
    first = setup.run()
    assert first.returncode == 0, f"install.sh failed:\n{first.stdout}\n{first.stderr}"
    setup.first = first  # type: ignore[attr-defined]
    yield setup
    shutil.rmtree(base)


def owner(path: Path) -> tuple[str, str, int]:
    info = path.lstat()
    return pwd.getpwuid(info.st_uid).pw_name, grp.getgrgid(info.st_gid).gr_name, stat.S_IMODE(info.st_mode)


def test_files_have_their_owners_and_modes(install):
    assert owner(install.etc) == ("root", "modemd", 0o750)
    assert owner(install.etc / "modemd.ini") == ("root", "modemd", 0o640)
    assert owner(install.etc / "keywords.ini") == ("root", "modemd", 0o640)
    assert owner(install.state) == ("modemd", "modemd", 0o750)
    assert owner(install.state / "modemd.db") == ("modemd", "modemd", 0o600)
    assert owner(install.prefix)[2] == 0o755 and owner(install.prefix / "README.md")[2] == 0o644
    for unit in ("modemd.service", "modemd-web.service"):
        text = (install.unitdir / unit).read_text()
        assert owner(install.unitdir / unit)[2] == 0o644
        assert f"Environment=MODEMD_CONFIG={install.etc}/modemd.ini" in text
        assert f"ExecStart={install.bindir}/modemd " in text and f"WorkingDirectory={install.state}" in text
    assert os.readlink(install.bindir / "modemd") == str(install.prefix / "venv" / "bin" / "modemd")
    assert f"database = sqlite:///{install.state}/modemd.db" in (install.etc / "modemd.ini").read_text()


def test_the_venv_uses_debians_python_not_roots(install):
    assert "making it anew with /usr/bin/python3" in install.first.stdout  # the old venv went
    python = (install.prefix / "venv" / "bin" / "python").resolve()
    assert python == DEBIAN_PYTHON.resolve()
    assert not str(python).startswith(str(install.private))


def test_modemd_runs_as_the_modemd_user(install):
    check = install.as_modemd(str(install.bindir / "modemd"), "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.startswith("OK:")
    password = install.first.stdout.split("first admin login: admin / ", 1)[1].split()[0]
    login = install.as_modemd(
        str(install.prefix / "venv" / "bin" / "python"),
        "-c",
        "import sys; from modemd import config; from modemd.store import db; from modemd.store.models import User;"
        " db.open_database(config.load(config.config_path_from(None)).database_url);"
        " print(User.by_login('admin').check_password(sys.argv[1]))",
        password,
    )
    assert login.stdout.strip() == "True", login.stderr
    assert install.calls.read_text().splitlines() == [
        "daemon-reload",
        "enable --now modemd-web.service",
        "enable modemd.service",
    ]


def test_a_second_run_keeps_edited_files_and_the_data(install):
    ini, keywords = install.etc / "modemd.ini", install.etc / "keywords.ini"
    ini.write_text(ini.read_text() + "\n; diubah oleh teknisi 2026-12-01\n")
    keywords.write_text("; tabel kata kunci kantor kami\n")
    edited = ini.read_text(), keywords.read_text()
    again = install.run()
    assert again.returncode == 0, again.stdout + again.stderr
    assert (ini.read_text(), keywords.read_text()) == edited
    assert f"kept your {ini}" in again.stdout and f"kept your {keywords}" in again.stdout
    assert owner(install.etc / "modemd.ini.dist") == ("root", "modemd", 0o640)
    assert "[INFO]" in (install.etc / "keywords.ini.dist").read_text()  # the sample, examples and all
    assert "first admin login" not in again.stdout  # the admin made by the first run is kept
    assert "making it anew" not in again.stdout  # the venv of the first run is kept, upgraded in place
    users = install.as_modemd(str(install.bindir / "modemd"), "user", "list", "--json")
    assert users.returncode == 0 and users.stdout.count('"role": "admin"') == 1
    check = install.as_modemd(str(install.bindir / "modemd"), "check")
    assert check.returncode == 0, check.stdout + check.stderr
