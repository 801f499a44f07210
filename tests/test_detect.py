"""``modemd detect`` against several fake modems and ports that are not modems, all at once."""

from __future__ import annotations

import configparser
import json
import os
import subprocess
from contextlib import ExitStack
from dataclasses import replace

import pytest
from fakemodem import FakeModem
from fakeports import NoModemPort
from fakeprofiles import HUAWEI, PHONE, SIMCOM, WAVECOM

from modemd import cli
from modemd.drivers.portscan import mask_imei


@pytest.fixture
def server_room(tmp_path):
    """A Huawei stick (three ports, one for SMS), a Wavecom at 9600 baud, a phone, three non-modem
    ports and a modem another program holds; /dev/serial/by-id links for the stick's ports."""
    with ExitStack() as stack:
        stick = str(tmp_path / "stick")
        os.mkdir(stick)
        # Huawei MU609 guide: MODEM (AT, here without SMS), DIAG (silent), then PCUI (AT and SMS)
        assert HUAWEI.side_ports == ("at-no-sms", "silent")
        room = {
            "huawei_modem": stack.enter_context(
                FakeModem(
                    directory=stick,
                    port_name="ttyUSB0",
                    quirks=replace(HUAWEI.quirks, sms_supported=False),
                    **HUAWEI.identity,
                )
            ),
            "huawei_diag": stack.enter_context(NoModemPort("silent", directory=stick, name="ttyUSB1")),
            "huawei_pcui": stack.enter_context(HUAWEI.fake(directory=stick, port_name="ttyUSB2")),
            "wavecom": stack.enter_context(WAVECOM.fake()),
            "phone": stack.enter_context(PHONE.fake(port_name="ttyACM0")),
            "simcom": stack.enter_context(SIMCOM.fake()),  # just powered on: SMS refused for a while
            "echo": stack.enter_context(NoModemPort("echo")),
            "junk": stack.enter_context(NoModemPort("junk")),
            "held": stack.enter_context(FakeModem(imei="358880049999999")),
        }
        by_id = tmp_path / "by-id"
        by_id.mkdir()
        for interface, key in (("if00", "huawei_modem"), ("if01", "huawei_diag"), ("if02", "huawei_pcui")):
            os.symlink(os.path.realpath(room[key].device), by_id / f"usb-HUAWEI_Mobile-{interface}-port0")
        # another program (ModemManager, a second modemd) has the last modem open
        fd = os.open(room["held"].device, os.O_RDWR | os.O_NOCTTY)
        holder = subprocess.Popen(["sleep", "60"], stdin=fd)
        os.close(fd)
        room["by_id"] = str(by_id)
        room["holder"] = holder
        try:
            yield room
        finally:
            holder.kill()
            holder.wait()


def detect(room, capsys, *extra: str) -> tuple[int, str]:
    paths = [
        room[k].device
        for k in ("huawei_modem", "huawei_diag", "huawei_pcui", "wavecom", "phone", "simcom", "echo", "junk", "held")
    ]
    status = cli.main(["detect", *paths, "--by-id", room["by_id"], "--timeout", "0.5", *extra])
    return status, capsys.readouterr().out


def test_detect_names_the_sms_port_of_each_modem_and_leaves_the_rest(server_room, capsys):
    status, out = detect(server_room, capsys, "--json")
    data = json.loads(out)  # JSON alone on stdout
    assert status == 0
    ports = {p["path"]: p for p in data["ports"]}
    port = {
        key: ports[server_room[key].device]
        for key in ("huawei_modem", "huawei_diag", "huawei_pcui", "echo", "junk", "held")
    }
    modems = {m["device"]: m for m in data["modems"]}

    pcui = os.path.join(server_room["by_id"], "usb-HUAWEI_Mobile-if02-port0")
    assert set(modems) == {
        pcui,
        server_room["wavecom"].device,
        server_room["phone"].device,
        server_room["simcom"].device,
    }
    assert modems[pcui]["receives"] is True and modems[pcui]["baudrate"] == 115200
    assert f"device = {pcui}" in modems[pcui]["section"]
    assert modems[server_room["wavecom"].device]["baudrate"] == 9600  # found at its fixed rate
    assert "baudrate = 9600" in modems[server_room["wavecom"].device]["section"]
    assert modems[server_room["phone"].device]["receives"] is False
    assert ports[server_room["wavecom"].device]["sim"] == "READY"  # answered without OK

    assert port["huawei_modem"]["verdict"] == "at-only"  # same stick, answers AT, refuses SMS
    assert port["huawei_modem"]["stable"].endswith("usb-HUAWEI_Mobile-if00-port0")
    pcui_port = port["huawei_pcui"]
    assert pcui_port["imei"] == "35888004*****67" and pcui_port["sim"] == "READY"
    assert pcui_port["manufacturer"] == "huawei" and pcui_port["model"] == "E173"
    for silent in ("huawei_diag", "echo", "junk"):
        assert port[silent]["verdict"] == "silent", silent
    held = port["held"]
    assert held["verdict"] == "busy" and held["holders"] == [f"sleep (pid {server_room['holder'].pid})"]
    assert server_room["held"].commands == []  # never touched
    assert b"AT" in bytes(server_room["echo"].received)  # it was asked


def test_detect_prints_sections_ready_for_modemd_ini(server_room, capsys):
    status, out = detect(server_room, capsys)
    assert status == 0
    assert "in use by sleep" in out and "refuses SMS commands" in out
    assert "sends SMS but cannot receive them" in out
    ini = configparser.ConfigParser(inline_comment_prefixes=None)
    ini.read_string(out.split("Put this into /etc/modemd/modemd.ini:", 1)[1])
    devices = {ini[s]["device"]: dict(ini[s]) for s in ini.sections()}
    assert ini.sections() == ["modem:modem1", "modem:modem2", "modem:modem3", "modem:modem4"]
    pcui = os.path.join(server_room["by_id"], "usb-HUAWEI_Mobile-if02-port0")
    assert devices[pcui] == {"driver": "at", "device": pcui}
    assert devices[server_room["wavecom"].device]["baudrate"] == "9600"


def test_detect_with_nothing_that_answers(capsys):
    with NoModemPort("junk") as junk, NoModemPort("echo") as echo:
        status = cli.main(["detect", junk.device, echo.device, "--timeout", "0.3", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert status == 1 and data["modems"] == []
    assert [p["verdict"] for p in data["ports"]] == ["silent", "silent"]


def test_detect_looks_in_the_usual_places_and_sums_up_ports_without_hardware(tmp_path, capsys):
    dev = tmp_path / "dev"
    dev.mkdir()
    for n in range(3):
        (dev / f"ttyS{n}").write_text("")  # not a terminal: cannot be opened as a serial port
    with HUAWEI.fake(directory=str(dev), port_name="ttyUSB0"):
        status = cli.main(
            [
                "detect",
                "--look-in",
                str(dev / "ttyUSB*"),
                "--look-in",
                str(dev / "ttyS*"),
                "--timeout",
                "0.5",
                "--by-id",
                str(tmp_path / "none"),
            ]
        )
    out = capsys.readouterr().out
    assert status == 0
    assert f"{dev}/ttyUSB0: huawei E173" in out
    assert f"3 more port(s) could not be opened (no hardware behind them?): {dev}/ttyS0 {dev}/ttyS1 {dev}/ttyS2" in out
    assert f"device = {dev}/ttyUSB0" in out


def test_detect_reports_a_port_still_talking_when_time_runs_out(capsys):
    with FakeModem(command_delay=1.0) as slow:
        status = cli.main(["detect", slow.device, "--timeout", "3", "--total", "0.5", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert status == 1 and data["ports"][0]["verdict"] == "unfinished"


@pytest.mark.parametrize("imei, masked", [("358880041234567", "35888004*****67"), ("", ""), ("12345", "*****")])
def test_imei_is_masked(imei, masked):
    assert mask_imei(imei) == masked
