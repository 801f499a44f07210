"""The `modemd` command: help everywhere, config lookup, check's exit status, accounts, JSON output."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from modemd import cli
from modemd.store.models import AuditLog, User


def modemd(*args, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "modemd", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_every_subcommand_has_help():
    parser = cli.build_parser()
    names = [name for name in cli.COMMANDS]
    assert {"check", "db", "user", "run", "web", "demo"} <= set(names)
    for name in names:
        with pytest.raises(SystemExit) as exit_info:
            parser.parse_args([name, "--help"])
        assert exit_info.value.code == 0


def test_help_of_nested_actions(capsys):
    for argv in (["user", "add", "--help"], ["user", "list", "--help"], ["db", "upgrade", "--help"]):
        with pytest.raises(SystemExit):
            cli.main(argv)
    assert "--password-stdin" in capsys.readouterr().out


def test_config_comes_from_option_then_environment(write_config, tmp_path):
    path = write_config("[modemd]\ndatabase = sqlite:///modemd.db\ntimezone = Nowhere/City\n")
    by_option = modemd("check", "--config", str(path))
    by_env = modemd("check", env={"MODEMD_CONFIG": str(path)})
    for result in (by_option, by_env):
        assert result.returncode == 1
        assert f"{path}:3: error: [modemd] timezone" in result.stderr
    missing = modemd("check", env={"MODEMD_CONFIG": str(tmp_path / "absent.ini")})
    assert missing.returncode == 1 and "file not found" in missing.stderr


def test_check_json_and_exit_status(write_config):
    path = write_config("[modem:m1]\ndriver = telepathy\n")
    result = modemd("-c", str(path), "check", "--json")
    assert result.returncode == 1
    problems = json.loads(result.stdout)
    assert {"file": str(path), "line": 5, "section": "modem:m1", "key": "driver", "level": "error"}.items() <= problems[
        0
    ].items()


def test_account_lifecycle_password_only_from_stdin(write_config, tmp_path):
    path = str(write_config(""))
    assert modemd("-c", path, "db", "upgrade").returncode == 0
    added = modemd(
        "-c",
        path,
        "user",
        "add",
        "kadishub",
        "--role",
        "official",
        "--name",
        "Kepala <b>Dinas</b>",
        "--phone",
        "0812-3456-7890",
        "--sender-id",
        "DISHUB",
        "--password-stdin",
        stdin="rahasia-123\n",
    )
    assert added.returncode == 0, added.stderr
    short = modemd("-c", path, "user", "add", "x", "--role", "admin", "--password-stdin", stdin="123\n")
    assert short.returncode == 1 and "at least 8" in short.stderr
    bad_phone = modemd(
        "-c", path, "user", "add", "y", "--role", "official", "--phone", "12", "--password-stdin", stdin="rahasia-123\n"
    )
    assert bad_phone.returncode == 1 and "not a valid phone number" in bad_phone.stderr
    operator = modemd(
        "-c", path, "user", "add", "op_pu", "--role", "operator", "--agency", " Dinas  PUPR", "--password-stdin",
        stdin="rahasia-123\n",
    )  # fmt: skip
    assert operator.returncode == 0, operator.stderr
    listed = json.loads(modemd("-c", path, "user", "list", "--json").stdout)
    assert [(u["login"], u["phone"], u["sender_id"], u["agency"], u["active"]) for u in listed] == [
        ("kadishub", "+6281234567890", "DISHUB", "", True),
        ("op_pu", None, "", "Dinas PUPR", True),
    ]
    assert (
        modemd("-c", path, "user", "set-password", "kadishub", "--password-stdin", stdin="baru-rahasia\n").returncode
        == 0
    )
    assert modemd("-c", path, "user", "disable", "kadishub").returncode == 0
    assert modemd("-c", path, "user", "disable", "nobody").returncode == 1
    # an owner of a keyword in keywords.ini is not disabled: the centre would refuse to start
    assert (
        modemd(
            "-c", path, "user", "add", "dishub", "--role", "official", "--password-stdin", stdin="rahasia-123\n"
        ).returncode
        == 0
    )
    refused = modemd("-c", path, "user", "disable", "dishub")
    assert refused.returncode == 1 and "owns keyword(s) DISHUB" in refused.stderr

    from modemd.store import db

    database = db.open_database(f"sqlite:///{tmp_path / 'modemd.db'}")
    user = User.by_login("kadishub")
    assert user.check_password("baru-rahasia") and not user.active
    assert User.by_login("dishub").active
    assert [a.action for a in AuditLog.select().order_by(AuditLog.id)] == [
        "user.create",
        "user.create",  # op_pu
        "user.set_password",
        "user.disable",
        "user.create",
    ]
    database.close()
    assert modemd("-c", path, "user", "enable", "kadishub").returncode == 0
    database = db.open_database(f"sqlite:///{tmp_path / 'modemd.db'}")
    assert User.by_login("kadishub").active
    database.close()


def test_run_and_web_refuse_to_start_with_the_same_messages_as_check(write_config):
    path = str(write_config("[modem:m1]\ndriver = at\n"))
    check = modemd("-c", path, "check")
    for command in ("run", "web"):
        result = modemd("-c", path, command)
        assert result.returncode == 2
        first_line = check.stderr.splitlines()[0]
        assert first_line in result.stderr and "[modem:m1] device" in first_line
        assert "nothing was started" in result.stderr


def test_demo_setup_creates_a_working_center_with_a_printed_admin(tmp_path):
    result = modemd("demo", "--dir", str(tmp_path / "demo"), "--setup-only")
    assert result.returncode == 0, result.stderr
    login_line = next(line for line in result.stdout.splitlines() if line.strip().startswith("admin "))
    password = login_line.split()[1]
    check = modemd("-c", str(tmp_path / "demo" / "modemd.ini"), "check")
    assert check.returncode == 0, check.stderr
    from modemd.store import db

    database = db.open_database(f"sqlite:///{tmp_path / 'demo' / 'modemd.db'}")
    assert User.by_login("admin").check_password(password)
    database.close()
    again = modemd("demo", "--dir", str(tmp_path / "demo"), "--setup-only")
    assert password not in again.stdout and "accounts exist already" in again.stdout


BROKEN_KEYWORDS = """\
[INFO]
owner = humas
aliases = TANYA

[DISHUB]
owner = nobody
aliases = tanya, JALAN
warna = merah

[DINKES]
owner = dinkes
reply = nomor {kasus}

[JALAN RUSAK]
owner = hantu

[PU]
description = tanpa pemilik

[INFO]
description = lagi
"""


def test_check_reports_every_keyword_problem_in_one_run(write_config, officials):
    """A repeated section, a duplicate alias, a bad reply or a bad name does not hide the owner problems of the same sections."""
    from modemd import users

    users.disable(officials["dinkes"])
    path = write_config("", keywords=BROKEN_KEYWORDS)
    keywords = path.parent / "keywords.ini"
    result = modemd("-c", str(path), "check")
    assert result.returncode == 1
    assert sorted(result.stderr.splitlines()) == sorted(
        [
            f"{keywords}:7: error: [DISHUB] aliases: TANYA is already used by [INFO] (keywords and aliases must be unique, any case)",
            f"{keywords}:8: warning: [DISHUB] warna: unknown key (expected one of: owner, aliases, description, reply, webhook, webhook_secret, agency, flow)",
            f"{keywords}:12: error: [DINKES] reply: reply may only use {{case}} and {{keyword}} placeholders ('kasus')",
            f"{keywords}:14: error: [JALAN RUSAK]: a keyword is 2 to 20 letters or digits, no spaces (e.g. [DISHUB])",
            f"{keywords}:17: error: [PU] owner: missing key owner (the login of the official who answers this keyword)",
            f"{keywords}:6: error: [DISHUB] owner: owner 'nobody' is not a user (create it with: modemd user add nobody --role official)",
            f"{keywords}:11: error: [DINKES] owner: owner 'dinkes' is disabled; give the keyword to an active user",
            f"{keywords}:15: error: [JALAN RUSAK] owner: owner 'hantu' is not a user (create it with: modemd user add hantu --role official)",
            f"{keywords}:20: error: [INFO]: this section appears twice",
        ]
    )
