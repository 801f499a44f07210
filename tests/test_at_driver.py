"""The AT driver against the fake modem on a real pseudo-terminal."""

from __future__ import annotations

import logging
import os
import select
import shutil
import subprocess
import threading
import tty
from datetime import UTC, datetime, timedelta

import pytest
import serial
from fakemodem import FakeModem, wait_until
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modemd.drivers import create_driver
from modemd.drivers.at import ATDriver, parse_validity
from modemd.drivers.atline import ATLine, CommandTimeout
from modemd.drivers.base import (
    CmsError,
    IncomingSMS,
    ModemGone,
    NoNetwork,
    PinError,
    PortBusy,
    Resume,
    StatusReport,
)
from modemd.drivers.porthold import Holder, busy_message
from modemd.sms import segmentation, tpdu
from modemd.sms.reassembly import MISSING_MARKER

CITIZEN = "+6281234567890"
OFFICIAL = "+6281298765432"
LONG_TEXT = (
    "LAPOR Jalan desa Sukamaju rusak parah sejak musim hujan, lubang besar di depan SD Negeri 2 "
    "membahayakan anak sekolah dan pengendara motor. Mohon segera diperbaiki oleh Dinas PU. "
    "Terima kasih atas perhatian Bapak/Ibu."
)


def make_driver(fake: FakeModem, **settings: str) -> ATDriver:
    values = {"driver": "at", "device": fake.device, "command_timeout": "2", "sweep_interval": "3600"}
    values.update(settings)
    driver = create_driver("m1", values)
    assert isinstance(driver, ATDriver)
    return driver


def receive_until(driver: ATDriver, count: int, timeout: float = 5.0) -> list[IncomingSMS]:
    got: list[IncomingSMS] = []
    wait_until(lambda: got.extend(driver.receive()) or len(got) >= count, timeout)
    return got


def reports_until(driver: ATDriver, count: int, timeout: float = 5.0) -> list[StatusReport]:
    got: list[StatusReport] = []
    wait_until(lambda: got.extend(driver.status_reports()) or len(got) >= count, timeout)
    return got


@pytest.fixture
def modem():
    with FakeModem() as fake:
        yield fake


@pytest.fixture
def driver(modem: FakeModem):
    drv = make_driver(modem)
    drv.connect()
    yield drv
    drv.close()


# --------------------------------------------------------------------------
# connect and information


def test_connect_initialises_for_stored_indications(modem: FakeModem, driver: ATDriver):
    assert modem.settings.echo is False
    assert modem.settings.cmgf == 0
    assert modem.settings.cnmi == (2, 1, 0, 2, 0)  # +CMTI, never +CMT direct delivery
    assert driver.status_report_mode == "stored"
    assert modem.count("AT+CMGL=4") == 1  # the sweep at connect


def test_identity(modem: FakeModem, driver: ATDriver):
    identity = driver.identify()
    assert identity.manufacturer == "huawei"
    assert identity.model == "E173"
    assert identity.firmware == modem.firmware
    assert identity.imei == modem.imei
    assert identity.imsi == modem.imsi
    assert identity.operator == "TELKOMSEL"


@pytest.mark.parametrize(
    ("rssi", "registration", "dbm", "words"),
    [
        (20, "home", -73, "home"),
        (31, "roaming", -51, "roaming"),
        (99, "searching", None, "searching"),
        (0, "denied", -113, "denied"),
    ],
)
def test_signal(modem: FakeModem, driver: ATDriver, rssi, registration, dbm, words):
    modem.rssi = rssi
    modem.registration = registration
    info = driver.signal()
    assert info.dbm == dbm
    assert info.registration == words


def test_storage(modem: FakeModem, driver: ATDriver):
    modem.inject_sms(CITIZEN, "satu")
    modem.inject_sms(CITIZEN, "dua")
    info = driver.storage()
    assert (info.used, info.total) == (2, modem.capacity)


def test_init_never_resets_the_stick(modem: FakeModem):
    drv = make_driver(modem, init="AT+CFUN=1,1\nAT^CURC=0\nAT+CFUN = 16,1")
    drv.connect()
    drv.close()
    assert modem.count("AT+CFUN") == 0
    assert modem.count("AT^CURC=0") == 1


def test_smsc_setting_is_sent(modem: FakeModem):
    drv = make_driver(modem, smsc="+6281100001")
    drv.connect()
    drv.close()
    assert modem.smsc == "+6281100001"


# --------------------------------------------------------------------------
# sending


def test_send_single(modem: FakeModem, driver: ATDriver):
    references = driver.send(OFFICIAL, "Rapat koordinasi jam 09.00 di aula")
    assert references == [0]
    [sent] = modem.sent
    assert (sent.number, sent.text, sent.concat) == (OFFICIAL, "Rapat koordinasi jam 09.00 di aula", None)
    assert sent.status_report_requested
    assert tpdu.decode(sent.pdu).validity is not None


def test_send_multipart_with_udh(modem: FakeModem, driver: ATDriver):
    references = driver.send(OFFICIAL, LONG_TEXT, status_report=False)
    assert references == [0, 1]
    concats = [s.concat for s in modem.sent]
    reference = concats[0][0]
    assert concats == [(reference, 2, 1), (reference, 2, 2)]
    assert "".join(s.text for s in modem.sent) == LONG_TEXT
    assert not any(s.status_report_requested for s in modem.sent)
    # the next multipart message gets another concatenation reference
    driver.send(OFFICIAL, LONG_TEXT)
    assert modem.sent[2].concat[0] != reference


def test_a_long_message_cut_off_between_parts_goes_on_from_its_next_part(modem: FakeModem, driver: ATDriver):
    """The stick vanished after part 1: the error says which parts are out; the next attempt sends the
    rest under the same concatenation reference, so the phone joins them (tests/faults: stray parts)."""
    modem.unplug_during_send(part=1, before_answer=False, replug_after=None)
    with pytest.raises(ModemGone) as gone:
        driver.send(OFFICIAL, LONG_TEXT, resume=Resume(concat_reference=77))
    assert gone.value.sent_references == (0,) and not gone.value.maybe_sent
    modem.replug()
    driver.connect()
    assert driver.send(OFFICIAL, LONG_TEXT, resume=Resume(concat_reference=77, first_part=2)) == [1]
    assert [s.concat for s in modem.sent] == [(77, 2, 1), (77, 2, 2)]
    assert "".join(s.text for s in modem.sent) == LONG_TEXT


def test_a_modem_lost_inside_at_cmgs_says_the_part_may_be_out(modem: FakeModem, driver: ATDriver):
    modem.unplug_during_send(part=1, before_answer=True, replug_after=None)
    with pytest.raises(ModemGone) as gone:
        driver.send(OFFICIAL, "Rapat koordinasi jam 09.00 di aula")
    assert gone.value.maybe_sent and gone.value.sent_references == ()
    assert len(modem.sent) == 1  # the network has it; the daemon cannot know


def test_send_ucs2_multipart(modem: FakeModem, driver: ATDriver):
    text = "Terima kasih 🙏 laporan Anda sudah kami terima. " * 3
    references = driver.send(CITIZEN, text)
    assert len(references) == len(modem.sent) == segmentation.count(text).parts > 1
    assert "".join(s.text for s in modem.sent) == text


def test_validity_setting_goes_into_the_pdu(modem: FakeModem):
    drv = make_driver(modem, validity="12h")
    drv.connect()
    drv.send(CITIZEN, "halo")
    drv.close()
    assert tpdu.decode(modem.sent[0].pdu).validity == 720
    assert parse_validity("none") is None
    assert parse_validity("max") == "max"
    assert parse_validity("2d") == 2880


def test_duration_settings_accept_units_and_config_output(modem: FakeModem):
    drv = make_driver(modem, command_timeout="1.5", sweep_interval="5m", reassembly_timeout="1h", send_timeout="")
    assert (drv.command_timeout, drv.sweep_interval, drv.reassembler.timeout, drv.send_timeout) == (1.5, 300, 3600, 60)
    with pytest.raises(ValueError, match="duration"):
        make_driver(modem, command_timeout="soon")


def test_message_references_wrap():
    with FakeModem(first_reference=255) as fake:
        drv = make_driver(fake)
        drv.connect()
        assert drv.send(OFFICIAL, LONG_TEXT) == [255, 0]
        drv.close()


@pytest.mark.parametrize(("code", "permanent"), [(1, True), (38, False), (500, False), (322, False)])
def test_cms_errors(modem: FakeModem, driver: ATDriver, code: int, permanent: bool):
    modem.fail_next_sends(1, code=code)
    with pytest.raises(CmsError) as caught:
        driver.send(OFFICIAL, "halo")
    assert caught.value.code == code
    assert caught.value.permanent is permanent
    # the modem is fine: the next message goes
    assert driver.send(OFFICIAL, "halo lagi") == [0]
    assert modem.sent_texts() == [(OFFICIAL, "halo lagi")]


def test_cms_error_for_one_number_only(modem: FakeModem, driver: ATDriver):
    modem.fail_number("+6280000000000", code=1)
    with pytest.raises(CmsError) as caught:
        driver.send("+6280000000000", "halo")
    assert caught.value.permanent
    driver.send(OFFICIAL, "halo")
    assert modem.sent_texts() == [(OFFICIAL, "halo")]


# --------------------------------------------------------------------------
# status reports


def test_status_report_stored_via_cdsi(modem: FakeModem, driver: ATDriver):
    [reference] = driver.send(OFFICIAL, "halo")
    [report] = reports_until(driver, 1)
    assert driver.wakeup.is_set()
    assert (report.reference, report.recipient, report.delivered, report.final) == (reference, OFFICIAL, True, True)
    assert report.discharge_time.utcoffset() == timedelta(hours=7)
    assert report.smsc_time.tzinfo is not None
    memory, index = report.handle
    assert index in modem.sim
    driver.acknowledge(report)
    assert index not in modem.sim
    # a stored status report is not mistaken for a received message
    assert driver.receive() == []


def test_status_report_inline_via_cds_when_modem_cannot_store():
    with FakeModem(cnmi_ds_supported=(0, 1), status_report_status=0x46) as fake:
        drv = make_driver(fake)
        drv.connect()
        assert drv.status_report_mode == "inline"
        refs = drv.send(OFFICIAL, LONG_TEXT)
        reports = reports_until(drv, 2)
        assert sorted(r.reference for r in reports) == refs
        assert all(not r.delivered and r.final and r.status_code == 0x46 for r in reports)
        assert all(r.handle is None for r in reports)
        assert fake.sim == {}
        drv.acknowledge(reports[0])  # nothing stored, nothing to delete
        assert fake.count("AT+CMGD") == 0
        drv.close()


# --------------------------------------------------------------------------
# receiving


def test_receive_via_cmti(modem: FakeModem, driver: ATDriver):
    driver.wakeup.clear()
    [index] = modem.inject_sms(CITIZEN, "INFO jalan rusak")
    assert driver.wakeup.wait(5)
    [message] = receive_until(driver, 1)
    assert (message.sender, message.text, message.handle) == (CITIZEN, "INFO jalan rusak", (index,))
    assert message.smsc_time.utcoffset() == timedelta(hours=7)
    assert modem.count(f"AT+CMGR={index}") == 1
    assert modem.count("AT+CMGL") == 1  # only the sweep at connect
    assert index in modem.sim  # not deleted before acknowledge
    assert driver.receive() == []  # handed over once


def test_receive_via_sweep_at_connect(modem: FakeModem):
    indexes = modem.inject_sms(CITIZEN, "sudah di SIM sebelum modemd jalan")
    indexes += modem.inject_sms("+6285711112222", LONG_TEXT)
    drv = make_driver(modem)
    drv.connect()
    messages = drv.receive()
    drv.close()
    assert sorted(m.text for m in messages) == sorted(["sudah di SIM sebelum modemd jalan", LONG_TEXT])
    assert sorted(i for m in messages for i in m.handle) == sorted(indexes)
    assert modem.count("AT+CMGR") == 0


def test_sweep_finds_lost_indications(modem: FakeModem):
    drv = make_driver(modem, sweep_interval="0.2")
    drv.connect()
    assert drv.receive() == []
    modem.inject_sms(CITIZEN, "indikasi hilang", indicate=False)
    [message] = receive_until(drv, 1)
    drv.close()
    assert message.text == "indikasi hilang"
    assert modem.count("AT+CMGL=4") >= 2


def test_multipart_out_of_order_with_another_message_between(modem: FakeModem, driver: ATDriver):
    parts = tpdu.encode_deliver(CITIZEN, LONG_TEXT + LONG_TEXT, concat_reference=77)
    assert len(parts) == 3
    third = modem.inject_pdu(parts[2])
    modem.inject_sms("+6285711112222", "INFO pesan lain di tengah")
    first = modem.inject_pdu(parts[0])
    second = modem.inject_pdu(parts[1])
    messages = receive_until(driver, 2)
    by_sender = {m.sender: m for m in messages}
    joined = by_sender[CITIZEN]
    assert joined.text == LONG_TEXT + LONG_TEXT
    assert (joined.parts_total, joined.parts_received, joined.incomplete) == (3, 3, False)
    assert joined.concat_reference == 77
    assert sorted(joined.handle) == sorted([first, second, third])
    assert joined.pdus == parts
    assert by_sender["+6285711112222"].text == "INFO pesan lain di tengah"


def test_incomplete_multipart_after_timeout(modem: FakeModem):
    now = [1000.0]
    drv = make_driver(modem, reassembly_timeout="600")
    drv.clock = lambda: now[0]
    drv.connect()
    parts = tpdu.encode_deliver(CITIZEN, LONG_TEXT + LONG_TEXT, concat_reference=5)
    modem.inject_pdu(parts[0])
    modem.inject_pdu(parts[2])
    early: list[IncomingSMS] = []
    assert wait_until(lambda: early.extend(drv.receive()) or modem.count("AT+CMGR") == 2)
    assert early == []
    now[0] += 599
    assert drv.receive() == []
    now[0] += 1
    [message] = drv.receive()
    drv.close()
    assert message.incomplete
    assert (message.parts_total, message.parts_received) == (3, 2)
    assert MISSING_MARKER in message.text
    assert len(message.handle) == 2


def test_malformed_pdu_handed_over_raw(modem: FakeModem, driver: ATDriver):
    broken = "07912618010000F0040C9126"  # a DELIVER cut short in the sender address
    index = modem.inject_pdu(broken)
    [message] = receive_until(driver, 1)
    assert message.decode_error
    assert message.pdus == [broken]
    assert message.text == ""
    assert message.handle == (index,)
    driver.acknowledge(message)
    assert index not in modem.sim


def test_acknowledge_deletes_only_what_was_handed_over(modem: FakeModem, driver: ATDriver):
    [a] = modem.inject_sms(CITIZEN, "pesan A")
    [b] = modem.inject_sms(CITIZEN, "pesan B")
    pending = modem.inject_pdu(tpdu.encode_deliver(CITIZEN, LONG_TEXT, concat_reference=9)[0])
    messages: list[IncomingSMS] = []
    assert wait_until(lambda: messages.extend(driver.receive()) or modem.count("AT+CMGR") == 3)
    messages += driver.receive()
    assert sorted(m.text for m in messages) == ["pesan A", "pesan B"]
    [message_a] = [m for m in messages if m.text == "pesan A"]
    driver.acknowledge(message_a)
    assert sorted(modem.sim) == sorted([b, pending])
    assert modem.count("AT+CMGD") == 1
    assert a not in modem.sim


def test_noise_lines_between_answers(modem: FakeModem, driver: ATDriver):
    modem.add_noise("^RSSI: 17", "^BOOT:20123,0,0,0,6", "RING", "+CREG: 1", "^MODE:5,4")
    assert driver.identify().imei == modem.imei
    assert driver.signal().registration == "home"
    assert driver.send(OFFICIAL, LONG_TEXT) == [0, 1]
    [index] = modem.inject_sms(CITIZEN, "INFO di tengah derau")
    [message] = receive_until(driver, 1)
    assert message.handle == (index,)
    assert len(reports_until(driver, 2)) == 2


def test_ussd_balance(modem: FakeModem, driver: ATDriver):
    for encoding in ("plain", "gsm7", "ucs2"):
        modem.ussd_encoding = encoding
        assert driver.balance("*888#") == modem.ussd_reply
    assert modem.ussd_requests == ["*888#"] * 3


@pytest.mark.parametrize("reply", ["Pulsa 9", "Pulsa 10", "Sisa kuota 1.5GB"])
def test_ussd_packed_reply_lengths_around_septet_padding(modem: FakeModem, driver: ATDriver, reply: str):
    modem.ussd_encoding = "gsm7"
    modem.ussd_reply = reply
    assert driver.balance() == reply


def test_ussd_request_packed_for_huawei():
    with FakeModem(ussd_packed_requests=True, ussd_encoding="gsm7") as fake:
        drv = make_driver(fake)
        drv.connect()
        assert drv.balance("*123#") == fake.ussd_reply
        drv.close()
    assert fake.ussd_requests == ["*123#"]
    assert fake.count('AT+CUSD=1,"*123#"') == 1  # tried plain first, refused


@pytest.mark.parametrize("packed", [False, True])
def test_ussd_refused_for_want_of_a_network_is_no_network_not_unsupported(packed: bool):
    """After the PIN the stick searches for seconds; a USSD meanwhile gets +CME ERROR: 30."""
    with FakeModem(pin="1234", register_after_pin=1, ussd_packed_requests=packed) as fake:
        drv = make_driver(fake, pin="1234")
        drv.connect()
        try:
            assert drv.pin_entered and drv.signal().registration == "searching"
            with pytest.raises(NoNetwork, match=r"no network yet \(\+CME ERROR: 30"):
                drv.balance("*888#")
            assert wait_until(lambda: drv.signal().registration == "home", 10)
            assert drv.balance("*888#") == fake.ussd_reply
        finally:
            drv.close()
    assert fake.ussd_requests == ["*888#"]


# --------------------------------------------------------------------------
# failures: hang, unplug, PIN, port busy


def test_hang_then_reconnect(modem: FakeModem):
    drv = make_driver(modem, command_timeout="0.5", send_timeout="0.5")
    drv.connect()
    modem.hang()
    with pytest.raises(CommandTimeout):
        drv.send(OFFICIAL, "halo")
    assert isinstance(CommandTimeout("x"), ModemGone)
    drv.close()
    with pytest.raises(ModemGone):
        drv.connect()  # still hung
    modem.resume()
    drv.connect()
    assert drv.send(OFFICIAL, "setelah hang") == [0]
    drv.close()
    assert modem.sent_texts() == [(OFFICIAL, "setelah hang")]


def test_unplug_then_replug(modem: FakeModem):
    drv = make_driver(modem)
    drv.connect()
    modem.unplug()
    with pytest.raises(ModemGone):
        drv.signal()
    drv.close()
    with pytest.raises(ModemGone, match="does not exist"):
        drv.connect()
    modem.replug()
    drv.connect()
    assert drv.send(OFFICIAL, "setelah colok ulang") == [0]
    drv.close()
    assert modem.sent_texts() == [(OFFICIAL, "setelah colok ulang")]


def test_pin_required_and_given():
    with FakeModem(pin="2468") as fake:
        drv = make_driver(fake, pin="2468")
        drv.connect()
        assert drv.identify().imsi == fake.imsi
        drv.close()
        assert fake.count('AT+CPIN="2468"') == 1


def test_pin_missing_or_wrong_is_pin_error_without_retry(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG, logger="modemd")
    with FakeModem(pin="2468") as fake:
        with pytest.raises(PinError, match="needs a PIN"):
            make_driver(fake).connect()
        with pytest.raises(PinError, match="refused the PIN") as caught:
            make_driver(fake, pin="9753").connect()
        assert fake.pin_attempts_left == 2  # one attempt only: three wrong PINs lock the SIM
        assert fake.count('AT+CPIN="') == 1
    # the PIN stays out of error messages and logs
    assert "9753" not in str(caught.value)
    driver_log = "\n".join(r.getMessage() for r in caplog.records if r.name == "modemd.at")
    assert "AT+CPIN=<hidden>" in driver_log
    assert "9753" not in driver_log


def test_port_held_by_another_process_is_port_busy(modem: FakeModem, tmp_path):
    # a process named like the usual culprit, holding the port open
    impostor = tmp_path / "ModemManager"
    shutil.copy(shutil.which("sleep"), impostor)
    fd = os.open(modem.device, os.O_RDWR | os.O_NOCTTY)
    holder = subprocess.Popen([str(impostor), "30"], stdin=fd)
    os.close(fd)
    try:
        with pytest.raises(PortBusy) as caught:
            make_driver(modem).connect()
    finally:
        holder.kill()
        holder.wait()
    text = str(caught.value)
    assert f"ModemManager (pid {holder.pid})" in text
    assert "systemctl stop ModemManager" in text
    assert 'ID_MM_DEVICE_IGNORE}="1"' in text
    drv = make_driver(modem)
    drv.connect()  # free again
    drv.close()


def test_same_port_twice_in_one_process_is_port_busy(modem: FakeModem, driver: ATDriver):
    second = make_driver(modem)
    with pytest.raises(PortBusy, match="locked"):
        second.connect()
    assert driver.signal().dbm == -73  # the first one is undisturbed


def test_slow_modem_does_not_block_the_network_side():
    with FakeModem(part_delay=1.0) as fake:
        drv = make_driver(fake)
        drv.connect()
        sending = threading.Thread(target=drv.send, args=(OFFICIAL, "pelan"))
        sending.start()
        assert wait_until(lambda: fake.count("AT+CMGS") == 1)
        injected = fake.inject_sms(CITIZEN, "masuk saat modem sibuk")
        sent_meanwhile = list(fake.sent)  # the part is recorded only when its delay is over
        sending.join(5)
        [message] = receive_until(drv, 1)
        drv.close()
    assert sent_meanwhile == []
    assert message.handle == tuple(injected)
    assert fake.sent_texts() == [(OFFICIAL, "pelan")]


def test_busy_message_for_another_program():
    text = busy_message("/dev/ttyUSB0", [Holder(4242, "gammu")])
    assert "gammu (pid 4242)" in text
    assert "ModemManager" not in text


def test_loop_url_opens():
    line = ATLine("loop://")
    line.open()
    try:
        assert line.is_open
        # loop:// hands our own command back: an echo, never an answer
        with pytest.raises(CommandTimeout):
            line.command("AT", timeout=0.2)
    finally:
        line.close()
    drv = ATDriver("loop", {"device": "loop://", "command_timeout": "0.2"})
    with pytest.raises(ModemGone):
        drv.connect()
    drv.close()


def test_spy_url_logs_the_conversation(modem: FakeModem, tmp_path):
    log_file = tmp_path / "spy.txt"
    drv = ATDriver("spy", {"device": f"spy://{modem.device}?file={log_file}", "command_timeout": "2"})
    drv.connect()
    assert drv.identify().model == "E173"
    drv.close()
    assert "AT+CGMM" in log_file.read_text()


def test_wakeup_is_shared_with_the_worker(modem: FakeModem):
    wakeup = threading.Event()
    drv = ATDriver("m1", {"device": modem.device}, wakeup)
    drv.connect()
    modem.inject_sms(CITIZEN, "bangun")
    assert wakeup.wait(5)
    drv.close()


def test_connect_cancels_a_prompt_left_behind(modem: FakeModem):
    stray = serial.Serial(modem.device, 115200, timeout=0.5)
    stray.write(b"AT+CMGS=20\r")
    assert stray.read_until(b"> ").endswith(b"> ")
    stray.close()
    drv = make_driver(modem)
    drv.connect()
    assert drv.send(OFFICIAL, "setelah prompt yatim") == [0]
    drv.close()
    assert modem.sent_texts() == [(OFFICIAL, "setelah prompt yatim")]


# --------------------------------------------------------------------------
# the line layer on a bare pty, with answers crafted byte by byte


@pytest.fixture
def bare_pty():
    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    os.close(slave)
    yield master, path
    os.close(master)


def read_command(master: int) -> bytes:
    data = b""
    while not data.endswith(b"\r"):
        select.select([master], [], [], 2)
        data += os.read(master, 100)
    return data


def test_line_layer_keeps_unsolicited_codes_out_of_answers(bare_pty):
    master, path = bare_pty
    report = tpdu.encode_status_report(
        3,
        OFFICIAL,
        smsc_time=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        discharge_time=datetime(2026, 1, 2, 3, 4, 9, tzinfo=UTC),
    )
    line = ATLine(path)
    line.open()
    try:
        answer: list[str] = []
        worker = threading.Thread(target=lambda: answer.extend(line.command("AT+CREG?", timeout=3)))
        worker.start()
        assert read_command(master) == b"AT+CREG?\r"
        # one chunk, unsolicited codes in the middle, a +CDS with its PDU line, and a partial write
        os.write(
            master,
            (
                f'\r\n^RSSI: 17\r\n\r\n+CMTI: "SM",4\r\n\r\n+CDS: 24\r\n{report}\r\n\r\n+CREG: 0,5\r\n\r\nRING\r\n\r\nO'
            ).encode(),
        )
        os.write(master, b"K\r\n")
        worker.join(5)
        assert answer == ["+CREG: 0,5"]
        events = [line.events.get(timeout=1) for _ in range(4)]
        assert [e.line for e in events] == ["^RSSI: 17", '+CMTI: "SM",4', "+CDS: 24", "RING"]
        assert events[2].pdu == report
        assert line.events.empty()

        # the "> " prompt has no line end; the +CMGS answer follows the PDU
        sent: list[str] = []
        worker = threading.Thread(
            target=lambda: sent.extend(line.command_with_prompt("AT+CMGS=9", "00AABB", timeout=3, final_timeout=3))
        )
        worker.start()
        assert read_command(master) == b"AT+CMGS=9\r"
        os.write(master, b"\r\n> ")
        data = b""
        while not data.endswith(b"\x1a"):
            select.select([master], [], [], 2)
            data += os.read(master, 100)
        assert data == b"00AABB\x1a"
        os.write(master, b"\r\n+CMGS: 17\r\n\r\nOK\r\n")
        worker.join(5)
        assert sent == ["+CMGS: 17"]

        # errors end a command and carry the modem's code
        failure: list[BaseException] = []

        def failing() -> None:
            try:
                line.command("AT+CMGD=1", timeout=3)
            except CmsError as exc:
                failure.append(exc)

        worker = threading.Thread(target=failing)
        worker.start()
        read_command(master)
        os.write(master, b"\r\n+CMS ERROR: 321\r\n")
        worker.join(5)
        assert [getattr(e, "code", None) for e in failure] == [321]
    finally:
        line.close()


URCS = ["^RSSI: 17", '+CMTI: "SM",4', "RING", "+CREG: 1", "^BOOT:20123,0,0,0,6", '+CUSD: 0,"Sisa pulsa",15']


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    answer=st.lists(st.sampled_from(["+CPMS: 1,30,1,30,1,30", "+XTEST: 1,2", "huawei", "358880041234567"]), max_size=3),
    noise=st.lists(st.sampled_from(URCS), max_size=4),
    positions=st.lists(st.integers(min_value=0, max_value=4), max_size=4),
    cuts=st.lists(st.integers(min_value=1, max_value=200), max_size=8),
)
def test_line_layer_survives_any_chunking(bare_pty, answer, noise, positions, cuts):
    master, path = bare_pty
    lines = list(answer)
    for urc, position in zip(noise, positions + [0] * len(noise), strict=False):
        lines.insert(min(position, len(lines)), urc)
    stream = "".join(f"\r\n{line}\r\n" for line in lines + ["OK"]).encode()
    line = ATLine(path)
    line.open()
    try:
        got: list[str] = []
        worker = threading.Thread(target=lambda: got.extend(line.command("AT+XTEST", timeout=3)))
        worker.start()
        read_command(master)
        start = 0
        for cut in sorted(set(cuts)) + [len(stream)]:
            if cut > start:
                os.write(master, stream[start:cut])
                start = cut
        worker.join(5)
        events = []
        while not line.events.empty():
            events.append(line.events.get_nowait().line)
    finally:
        line.close()
    assert got == answer
    assert events == [text for text in lines if text in URCS]
