"""Under ``--json`` standard output carries the JSON and nothing else, for every command and every driver.

Every command that offers ``--json`` is found by walking the real argument
parser, so a command added later without a case here makes the test fail.
Each runs as a real ``modemd`` process and its standard output must be one
JSON document. ``probe`` runs against each driver: the simulated modem, the
fake AT modem on a pty, and Gammu's ``dummy`` phone, whose USSD balance makes
python-gammu print a warning on the C-level standard output (fd 1).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from modemd import cli
from modemd.config import Config
from modemd.drivers import inject_simulated
from modemd.jobs import broadcasts
from modemd.send import outqueue
from modemd.store.models import Contact
from tests.fakemodem import FakeModem

DEFAULTS = Config.defaults()  # the schema's settings, no file

ROOT = Path(__file__).resolve().parents[1]


def json_commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """Every subcommand path (e.g. ("broadcast", "status")) whose parser has --json."""
    found = set()
    for action in parser._actions:
        if "--json" in action.option_strings:
            found.add(path)
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found |= json_commands(sub, (*path, name))
    return found


def run(config: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "modemd", "--config", str(config), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def assert_only_json(done: subprocess.CompletedProcess, what: str):
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(
            f"`modemd {what}` wrote more than JSON on stdout ({exc}):\n{done.stdout}\nstderr:\n{done.stderr}"
        ) from None


@pytest.fixture
def center(officials, write_config, tmp_path):
    """A simulated modem, Gammu's dummy phone and the fake AT modem; a broadcast, an inbound and an outbound SMS."""
    gammu = pytest.importorskip("gammu", reason="python-gammu is not installed")
    assert gammu  # the dummy phone needs libGammu
    phone = tmp_path / "dummy-phone"
    phone.mkdir()
    with FakeModem() as fake:
        path = write_config(
            "[modem:sim1]\ndriver = sim\ndevice = spool1\nsend_delay = 0\nreport_delay = 0\n"
            f"[modem:dummy1]\ndriver = gammu\ndevice = {phone}\nconnection = none\nmodel = dummy\n"
            f"[modem:usb1]\ndriver = at\ndevice = {fake.device}\n"
        )
        from modemd import config as config_module
        from tests.daemonharness import Conversation

        Conversation(path).receive("081211112222", "DISHUB lampu merah mati")
        outqueue.enqueue("085712345678", "Balasan", "manual", config=DEFAULTS)
        contact = Contact.create(name="Camat Kota", phone="+6281311110001")
        bc = broadcasts.draft(officials["admin"], "Rapat Senin", contacts=[contact.id])
        broadcasts.save_template("rapat", "Rapat {tanggal}", officials["admin"])
        inject_simulated(config_module.load(path).modems["sim1"].settings, "081211112222", "INFO halo")
        yield path, bc.id, fake.device


def test_every_json_command_prints_json_alone(center):
    path, broadcast, device = center
    cases = {
        ("check",): ["check", "--json"],
        ("db", "version"): ["db", "version", "--json"],
        ("db", "backup"): ["db", "backup", str(path.parent / "backup.db"), "--json"],
        ("db", "copy"): ["db", "copy", "--to", f"sqlite:///{path.parent / 'copy.db'}", "--json"],
        ("db", "restore"): ["db", "restore", str(path.parent / "backup.db"), "--force", "--json"],
        ("user", "list"): ["user", "list", "--json"],
        ("broadcast", "list"): ["broadcast", "list", "--json"],
        ("broadcast", "preview"): ["broadcast", "preview", str(broadcast), "--json"],
        ("broadcast", "status"): ["broadcast", "status", str(broadcast), "--json"],
        ("broadcast", "recipients"): ["broadcast", "recipients", str(broadcast), "--json"],
        ("broadcast", "template", "list"): ["broadcast", "template", "list", "--json"],
        ("outbox",): ["outbox", "--json"],
        ("inbox",): ["inbox", "--json"],
        ("status",): ["status", "--json"],
        ("probe",): ["probe", "--json"],
        ("detect",): ["detect", str(device), "--json"],
        ("privacy", "purge"): ["privacy", "purge", "--before", "2020-01-01", "--json"],
        ("privacy", "senders"): ["privacy", "senders", "--json"],
        ("webhooks", "list"): ["webhooks", "list", "--json"],
        ("token", "create"): ["token", "create", "json-test", "--user", "admin", "--scope", "status", "--json"],
        ("token", "list"): ["token", "list", "--json"],
        ("reports", "rebuild"): ["reports", "rebuild", "--json"],
    }
    assert json_commands(cli.build_parser()) == set(cases), "a command with --json has no case in this test"
    for argv in cases.values():
        assert_only_json(run(path, *argv), " ".join(argv))


@pytest.mark.parametrize("modem, driver", [("sim1", "sim"), ("usb1", "at"), ("dummy1", "gammu")])
def test_probe_json_is_alone_on_stdout_for_each_driver(center, modem, driver):
    path, _broadcast, _device = center
    done = run(path, "probe", "--modem", modem, "--json")
    [result] = assert_only_json(done, f"probe --modem {modem} --json")
    assert (result["driver"], result["ok"]) == (driver, True), done.stderr
    assert "balance" in result
    if driver == "gammu":
        # libGammu's own chatter is not lost: it goes to stderr, where a technician still sees it
        assert "Adding USSD to queue" in done.stderr


def test_the_human_probe_output_is_unchanged_by_the_json_guard(center):
    path, _broadcast, _device = center
    done = run(path, "probe", "--modem", "sim1")
    assert done.returncode == 0 and "[sim1] driver = sim" in done.stdout
