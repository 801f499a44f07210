"""Phone numbers are masked in every log line at INFO and above, whichever driver carries the traffic.

A citizen's number is personal data; the journal is read by more people than
the inbox. Each driver (the simulated modem, the AT driver on the fake modem,
the Gammu driver on Gammu's dummy phone) runs in the real daemon and carries
a citizen's report and its acknowledgement, a status report, a send that
fails, an SMS whose second part never comes and a status report for a
message nobody sent. The log is captured at DEBUG; no line at INFO or above
may carry any of the numbers in full, in any spelling.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

import pytest
from webfixtures import *  # noqa: F401,F403  (client, auth)

from modemd.config import Config
from modemd.send import outqueue
from modemd.sms import phone, tpdu
from modemd.sms.phone import mask
from modemd.store.models import InboundMessage, OutboundMessage
from tests.fakemodem import FakeModem, wait_until
from tests.test_daemon import Running

DEFAULTS = Config.defaults()  # the schema's settings, no file

CITIZEN = "+6281211112222"
FAILING = "+6285733334444"
STRANGER = "+6281955556666"
PARTIAL = "+6287877778888"
NUMBERS = (CITIZEN, FAILING, STRANGER, PARTIAL)


def full_numbers_in(record: logging.LogRecord) -> list[str]:
    """The numbers ``record`` shows in full: +62..., 62... or 0... all carry the national digits."""
    text = record.getMessage()
    if record.exc_info:
        text += logging.Formatter().formatException(record.exc_info)
    return [n for n in NUMBERS + ("+6281200000001", "+6281200000002") if n[3:] in re.sub(r"[\s-]", "", text)]


def assert_masked(caplog) -> None:
    leaks = [
        (r.levelname, r.name, r.getMessage())
        for r in caplog.records
        if r.levelno >= logging.INFO and full_numbers_in(r)
    ]
    assert not leaks, f"full phone numbers logged at INFO or above: {leaks}"
    shown = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert any(mask(CITIZEN) in line for line in shown), "the citizen's masked number should still be in the log"


@pytest.fixture
def running(officials, write_config, caplog):
    caplog.set_level(logging.DEBUG, logger="modemd")
    started = []

    def start(ini: str) -> Running:
        started.append(Running(write_config(ini)).start())
        return started[-1]

    yield start
    for daemon in started:
        daemon.stop()


def first_part_only(sender: str) -> str:
    """The first PDU of a two-part message; the second never comes."""
    parts = tpdu.encode_deliver(
        sender,
        "INFO " + "jalan rusak parah " * 12,
        smsc_time=datetime.now(UTC).replace(microsecond=0),
        concat_reference=9,
    )
    assert len(parts) == 2
    return parts[0]


def wait_for_traffic(failing_id: int) -> None:
    assert wait_until(
        lambda: (
            OutboundMessage.select()
            .where(OutboundMessage.recipient == CITIZEN, OutboundMessage.state.in_(("sent", "delivered")))
            .exists()
        ),
        20,
    )
    assert wait_until(lambda: OutboundMessage.get_by_id(failing_id).attempts >= 1, 20)
    assert wait_until(lambda: InboundMessage.select().where(InboundMessage.incomplete == True).exists(), 20)  # noqa: E712 (a peewee expression)


def test_sim_driver_logs_no_full_number(running, caplog):
    daemon = running(
        f"[modem:sim1]\ndriver = sim\ndevice = spool1\nsend_delay = 0\nreport_delay = 0\nfail_numbers = {FAILING}\n"
    )
    failing = outqueue.enqueue(FAILING, "Balasan yang gagal", "manual", config=DEFAULTS)
    daemon.inject(CITIZEN, "DISHUB jalan rusak")
    assert wait_until(lambda: OutboundMessage.select().where(OutboundMessage.state == "delivered").exists(), 20)
    assert wait_until(lambda: OutboundMessage.get_by_id(failing.id).attempts >= 1, 20)
    assert_masked(caplog)


def test_at_driver_logs_no_full_number(running, caplog):
    with FakeModem(status_report_delay=0.01) as fake:
        fake.fail_number(FAILING, code=21)
        daemon = running(
            f"[modem:usb1]\ndriver = at\ndevice = {fake.device}\nsweep_interval = 1s\nreassembly_timeout = 1s\n"
        )
        assert wait_until(lambda: daemon.daemon.health.state("usb1") == "ready", 10)
        failing = outqueue.enqueue(FAILING, "Balasan yang gagal", "manual", config=DEFAULTS)
        fake.inject_sms(CITIZEN, "DISHUB jalan rusak")
        fake.inject_pdu(first_part_only(PARTIAL))
        fake.send_status_report(200, STRANGER)
        wait_for_traffic(failing.id)
        assert wait_until(lambda: OutboundMessage.select().where(OutboundMessage.state == "delivered").exists(), 20)
        assert wait_until(lambda: "unknown reference" in caplog.text, 10)
    assert_masked(caplog)


def test_gammu_driver_logs_no_full_number(running, caplog, tmp_path):
    gammu = pytest.importorskip("gammu", reason="python-gammu is not installed")
    from tests.test_gammu_driver import INBOX, deliver_parts, status_report, store

    phone = tmp_path / "dummy-phone"
    phone.mkdir()
    store(phone, INBOX, 1, deliver_parts(CITIZEN, "DISHUB jalan rusak")[0])
    store(phone, INBOX, 2, status_report(STRANGER, 200, 0))
    store(phone, INBOX, 3, deliver_parts(PARTIAL, "INFO " + "jalan rusak parah " * 12)[0])
    # the dummy phone accepts every send; a number python-gammu refuses makes the failing one
    failing = outqueue.enqueue(FAILING, "Balasan yang gagal", "manual", config=DEFAULTS)
    OutboundMessage.update(recipient=FAILING + "0" * 30).where(OutboundMessage.id == failing.id).execute()
    assert gammu
    running(
        f"[modem:dummy1]\ndriver = gammu\ndevice = {phone}\nconnection = none\nmodel = dummy\nreassembly_timeout = 1s\n"
    )
    wait_for_traffic(failing.id)
    assert_masked(caplog)


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("+6281211112222", "+62812****2222"),
        ("081211112222", "+62812****2222"),  # masked in one spelling, whatever the modem gave
        ("6281211112222", "+62812****2222"),
        ("TELKOMSEL", "TELKOMSEL"),  # a sender name is no personal number
        ("3636", "3636"),  # nor is a short code
        ("", ""),
        ("+62 812-1111-2222", "+62812****2222"),
        ("0812١١١١٢٢٢٢", "+62812****2222"),  # Arabic-Indic digits are still the number
        ("+999123456789012", "+99912******9012"),  # not a valid number, digits hidden anyway
    ],
)
def test_for_log(raw, shown):
    assert phone.for_log(raw) == shown


def test_the_demo_page_logs_the_injected_sender_masked(client, auth, caplog):
    caplog.set_level(logging.INFO, logger="modemd.web")
    auth.login("admin")
    response = client.post("/demo/", data={"modem": "sim1", "sender": "081211112222", "text": "INFO halo"})
    assert response.status_code == 302
    assert "injected an SMS from +62812****2222" in caplog.text
    assert "81211112222" not in caplog.text
