"""A modem's last signal is shown as current only while the daemon still reads it.

An absent modem (or one whose daemon stopped) keeps the signal figure of its
last health check in ModemStatus. Shown as if current, "-71 dBm, 4 bars"
tells a technician the antenna is fine while the modem is unplugged. The
dashboard and `modemd status` say how old it is instead; ``--json`` carries
the time it was read.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from cli_run import modemd
from webfixtures import *  # noqa: F401,F403

from modemd.run import health
from modemd.store.models import ModemStatus, utcnow

TWO_MODEMS = "[modem:usb1]\ndriver = at\ndevice = /dev/null\n[modem:usb2]\ndriver = at\ndevice = /dev/null\n"


def unplugged_and_fine(now):
    """usb1 unplugged two hours ago with a good signal then; usb2 ready, read a moment ago."""
    ModemStatus.create(
        name="usb1",
        driver="at",
        state="absent",
        signal_dbm=-71,
        registration="home",
        last_contact=now - timedelta(hours=2, minutes=3),
        last_error="stopped answering",
    )
    ModemStatus.create(
        name="usb2",
        driver="at",
        state="ready",
        signal_dbm=-95,
        registration="home",
        last_contact=now - timedelta(seconds=10),
    )


@pytest.mark.parametrize(
    "state, age, current",
    [
        ("ready", timedelta(seconds=10), True),
        ("resting", timedelta(seconds=40), True),  # still talked to, only not sending
        ("absent", timedelta(seconds=10), False),  # gone: whatever it said last is the past
        ("error", timedelta(seconds=10), False),
        ("ready", timedelta(minutes=10), False),  # "ready" but nobody read it for ten minutes: the daemon stopped
        ("ready", None, False),
    ],
)
def test_signal_is_current_only_while_read(state, age, current):
    now = utcnow()
    status = ModemStatus(name="m", state=state, signal_dbm=-71, last_contact=None if age is None else now - age)
    assert health.signal_current(status, now) is current


def test_status_says_the_signal_of_an_absent_modem_is_old(officials, write_config):
    path = write_config(TWO_MODEMS)
    now = utcnow()
    unplugged_and_fine(now)
    data = json.loads(modemd(path, "status", "--json").stdout)
    usb1, usb2 = data["modems"]
    assert (usb1["signal_dbm"], usb1["signal_current"]) == (-71, False)
    assert usb1["signal_read_at"].startswith((now - timedelta(hours=2, minutes=3)).strftime("%Y-%m-%d"))
    assert usb1["signal_read_at"].endswith("+07:00")  # the centre's zone, with its offset
    assert (usb2["signal_dbm"], usb2["signal_current"]) == (-95, True)
    table = modemd(path, "status").stdout
    [line1] = [line for line in table.splitlines() if line.startswith("usb1")]
    [line2] = [line for line in table.splitlines() if line.startswith("usb2")]
    assert "-71 dBm, last read 2 h ago" in line1
    assert "-95 dBm" in line2 and "ago" not in line2


@pytest.fixture
def web_ini():
    return TWO_MODEMS + "[web]\nsecret_key_file = secret.key\n"


def test_dashboard_shows_the_age_of_an_old_signal(client, auth):
    unplugged_and_fine(utcnow())
    auth.login("humas")
    page = client.get("/dashboard/").get_data(as_text=True)
    usb1, usb2 = page.split("<b>usb1</b>")[1].split("<b>usb2</b>")
    assert "sinyal terakhir 2 jam lalu" in usb1
    assert 'class="bars stale"' in usb1 and '<i class="on">' not in usb1  # no bars drawn as if live
    assert "sinyal terakhir" not in usb2 and "-95 dBm" in usb2
    client.post("/lang/en", data={"next": "/"})
    english = client.get("/dashboard/").get_data(as_text=True)
    assert "last signal 2 hours ago" in english
