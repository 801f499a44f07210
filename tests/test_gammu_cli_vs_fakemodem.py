"""The real ``gammu`` command line against the fake modem.

If Gammu, a mature AT implementation, can identify, send, list and delete
through the fake, the fake is faithful enough to test our own driver with.
Each gammu run spends about 4 s probing the phone, so there are few of them.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from fakemodem import FakeModem

GAMMU = "/usr/bin/gammu"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.access(GAMMU, os.X_OK), reason="needs the gammu CLI (Debian package `gammu`) at /usr/bin/gammu"
    ),
]


@pytest.fixture(scope="module")
def modem():
    with FakeModem() as fake:
        yield fake


@pytest.fixture(scope="module")
def gammurc(modem: FakeModem, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gammu") / "gammurc"
    path.write_text(f"[gammu]\ndevice = {modem.device}\nconnection = at\n")
    return path


def gammu(gammurc: Path, *args: str) -> str:
    done = subprocess.run([GAMMU, "-c", str(gammurc), *args], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, f"gammu {' '.join(args)} failed: {done.stdout}{done.stderr}"
    return done.stdout


def test_identify(modem: FakeModem, gammurc: Path):
    out = gammu(gammurc, "identify")
    assert "Huawei" in out
    assert modem.imei in out
    assert modem.imsi in out
    assert modem.firmware in out


def test_networkinfo(modem: FakeModem, gammurc: Path):
    out = gammu(gammurc, "networkinfo")
    assert "home network" in out
    assert "510 10" in out
    assert modem.operator in out


def test_monitor_reads_signal_and_sim_storage(modem: FakeModem, gammurc: Path):
    modem.rssi = 15
    out = gammu(gammurc, "monitor", "1")
    assert "Signal strength      : -83 dBm" in out
    assert f"{modem.capacity} locations" in out


def test_sendsms_reaches_the_fake_decoded(modem: FakeModem, gammurc: Path):
    before = len(modem.sent)
    out = gammu(gammurc, "sendsms", "TEXT", "+6281298765432", "-text", "Rapat koordinasi jam 09.00 di aula")
    assert "message reference=" in out
    sent = modem.sent[before:]
    assert [(s.number, s.text) for s in sent] == [("+6281298765432", "Rapat koordinasi jam 09.00 di aula")]
    assert sent[0].mode == "pdu"


def test_getallsms_then_deletesms(modem: FakeModem, gammurc: Path):
    [index] = modem.inject_sms("+6281234567890", "INFO jalan rusak di Desa Sukamaju")
    out = gammu(gammurc, "getallsms")
    assert "INFO jalan rusak di Desa Sukamaju" in out
    assert '"+6281234567890"' in out
    # Gammu numbers locations from 1; the stick's first index is 0
    gammu(gammurc, "deletesms", "1", str(index + 1))
    assert index not in modem.sim
    assert modem.count(f"AT+CMGD={index}") == 1
