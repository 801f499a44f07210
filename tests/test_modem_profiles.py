"""Real device families (tests/fakeprofiles.py) against the AT driver and the whole daemon.

First one test per firmware quirk, each against the profile that has it; then
the same receive / route / send / delivery-report path run against every
profile. The driver must adapt by behaviour, so the quirk tests also run a
quirk on a device that is not the family known for it.
"""

from __future__ import annotations

import logging

import pytest
from fakemodem import FakeModem, Quirks, wait_until
from fakeprofiles import HUAWEI, PHONE, PROFILES, SIMCOM, WAVECOM, ZTE, Profile
from test_at_driver import make_driver as at_driver_for
from test_at_driver import receive_until

from modemd.config import Config
from modemd.drivers.at import ATDriver
from modemd.drivers.atline import ATLine, CommandTimeout
from modemd.drivers.base import ModemGone, Unsupported
from modemd.send import outqueue
from modemd.store.models import Case, InboundMessage, ModemStatus, OutboundMessage
from tests.test_daemon import Running

DEFAULTS = Config.defaults()  # the schema's settings, no file

CITIZEN = "+6281234567890"
OTHER_CITIZEN = "+6285711112222"


def make_driver(fake: FakeModem, **settings: str) -> ATDriver:
    return at_driver_for(fake, **{"command_timeout": "3", **settings})  # room for a few busy answers


@pytest.fixture
def started():
    """started(profile_or_fake, **overrides) -> a running fake, stopped after the test."""
    fakes: list[FakeModem] = []

    def start(what: Profile | FakeModem, **overrides) -> FakeModem:
        fake = what.fake(**overrides) if isinstance(what, Profile) else what
        fakes.append(fake.start())
        return fake

    yield start
    for fake in fakes:
        fake.stop()


# --------------------------------------------------------------------------
# Wavecom


def test_cpin_answer_without_ok_is_taken_after_a_short_wait(started):
    fake = started(WAVECOM, baudrate=None)
    driver = make_driver(fake)
    driver.connect()  # before: "no answer to AT+CPIN?" and reconnect with back-off, forever
    try:
        assert driver.identify().manufacturer == "WAVECOM MODEM"
        assert driver.send(CITIZEN, "Terima kasih") and fake.sent_texts() == [(CITIZEN, "Terima kasih")]
    finally:
        driver.close()


def test_a_pin_locked_sim_on_firmware_without_ok_after_cpin(started):
    fake = started(WAVECOM, baudrate=None, pin="2468")
    driver = make_driver(fake, pin="2468")
    driver.connect()
    driver.close()
    assert fake.pin_attempts_left == 3 and fake.count('AT+CPIN="2468"') == 1


def test_busy_515_after_power_on_is_waited_out_on_any_device(started):
    fake = started(FakeModem(quirks=Quirks(busy_after_power_on=4)))
    driver = make_driver(fake)
    driver.connect()  # before: "refused initialisation: +CME ERROR: 515"
    driver.close()
    assert fake.commands.count("AT") == 5  # four "please wait" answers, then OK


def test_storage_with_two_memories_when_three_are_refused(started):
    fake = started(WAVECOM, baudrate=None)
    fake.inject_sms(CITIZEN, "INFO disimpan", indicate=False)
    driver = make_driver(fake)
    driver.connect()  # before: AT+CPMS="SM","SM","SM" -> ERROR -> refused initialisation
    try:
        [message] = driver.receive()
        assert message.text == "INFO disimpan" and message.handle == (1,)  # Wavecom counts from 1
        assert driver.storage().total == 50
        driver.acknowledge(message)
        assert fake.sim == {}
    finally:
        driver.close()


def test_wind_lines_between_answers_stay_out_of_them(started):
    fake = started(WAVECOM, baudrate=None)
    driver = make_driver(fake)
    driver.connect()
    fake.add_noise("+WIND: 4", "+WIND: 7")
    try:
        identity = driver.identify()
        assert identity.firmware == "R7.46.0.201008"  # before: "4", the +WIND line taken as the answer
        assert identity.model == "MULTIBAND  900E  1800"
    finally:
        driver.close()


def test_indications_buffered_since_power_on_are_read_once(started):
    fake = started(WAVECOM, baudrate=None)
    fake.inject_sms(CITIZEN, "INFO sebelum modemd jalan")  # CNMI mode 0: held in the modem
    driver = make_driver(fake)
    driver.connect()  # AT+CNMI=2,1,0,2,0 flushes the held +CMTI
    try:
        [message] = receive_until(driver, 1)
        assert message.text == "INFO sebelum modemd jalan"
        assert wait_until(lambda: driver.receive() == [] and fake.count("AT+CMGR") == 0, 0.5)
    finally:
        driver.close()


def test_baudrate_auto_finds_a_modem_fixed_at_9600(started):
    fake = started(WAVECOM)
    fixed = make_driver(fake, baudrate="115200", command_timeout="1")
    with pytest.raises(ModemGone):
        fixed.connect()
    driver = make_driver(fake, baudrate="auto")
    driver.connect()
    try:
        assert driver._line is not None and driver._line.baudrate == 9600
        assert driver.identify().manufacturer == "WAVECOM MODEM"
    finally:
        driver.close()


def test_fake_modem_at_a_fixed_rate_answers_garbage_at_another(started):
    fake = started(FakeModem(baudrate=9600))
    wrong = ATLine(fake.device, 115200)
    wrong.open()
    try:
        with pytest.raises(CommandTimeout):
            wrong.command("AT", timeout=0.5)
    finally:
        wrong.close()
    right = ATLine(fake.device, 9600)
    right.open()
    try:
        assert right.command("AT", timeout=2) == []
    finally:
        right.close()


# --------------------------------------------------------------------------
# Huawei


def test_huawei_status_lines_between_answers(started):
    fake = started(HUAWEI, status_report_delay=0.01)
    fake.add_noise("^RSSI:17", "^MODE:5,4")
    driver = make_driver(fake)
    driver.connect()
    try:
        assert driver.identify().firmware == "11.126.85.00.209"
        [reference] = driver.send(CITIZEN, "Balasan")
        assert wait_until(lambda: fake.count("AT+CMGD") == 0 and driver.status_reports() != [], 5)
        assert fake.sent[0].reference == reference
    finally:
        driver.close()


def test_ussd_refused_until_ussdmode_0(started):
    fake = started(HUAWEI)
    driver = make_driver(fake)
    driver.connect()
    try:
        assert driver.balance("*888#").startswith("Sisa pulsa")  # before: Unsupported (COMMAND NOT SUPPORT twice)
        assert fake.count("AT^USSDMODE=0") == 1 and fake.ussd_requests == ["*888#"]
    finally:
        driver.close()


def test_ussd_refused_for_good_is_unsupported(started):
    fake = started(FakeModem(quirks=Quirks(error_text="COMMAND NOT SUPPORT", ussd_needs_mode0=True)))
    fake._EXTENDED = {k: v for k, v in FakeModem._EXTENDED.items() if k != "^USSDMODE"}  # firmware without it
    driver = make_driver(fake)
    driver.connect()
    try:
        with pytest.raises(Unsupported, match="COMMAND NOT SUPPORT"):
            driver.balance("*888#")
    finally:
        driver.close()


# --------------------------------------------------------------------------
# Qualcomm / ZTE


def test_sim_busy_on_csca_and_smsc_wiped_by_csmp(started):
    fake = started(ZTE)
    driver = make_driver(fake, init="AT+CSMP=17,167,0,0")
    driver.connect()
    try:
        assert fake.smsc == ""  # the init line wiped it
        driver.send(CITIZEN, "Balasan")  # before: +CMS ERROR: 330
        assert fake.smsc == "+6281100000" and fake.sent_texts() == [(CITIZEN, "Balasan")]
        assert fake.count("AT+CSCA?") >= 4  # three SIM-busy answers, then the number
    finally:
        driver.close()


def test_smsc_setting_is_what_is_set_again(started):
    fake = started(ZTE)
    driver = make_driver(fake, smsc="+6281100000", init="AT+CSMP=17,167,0,0")
    driver.connect()
    try:
        driver.send(CITIZEN, "Balasan")
        assert fake.count('AT+CSCA="+6281100000",145') == 2  # at connect, and after the 330
    finally:
        driver.close()


def test_message_at_index_0_is_read_and_deleted(started):
    fake = started(ZTE)
    [index] = fake.inject_sms(CITIZEN, "INFO di slot nol", indicate=False)
    assert index == 0
    driver = make_driver(fake)
    driver.connect()
    try:
        [message] = driver.receive()
        assert message.handle == (0,)
        driver.acknowledge(message)
        assert fake.sim == {}
    finally:
        driver.close()


# --------------------------------------------------------------------------
# SIMCom


def test_sms_commands_refused_until_sms_ready(started):
    fake = started(SIMCOM)
    driver = make_driver(fake)
    driver.connect()  # before: AT+CMGF=0 -> ERROR -> refused initialisation
    try:
        assert fake.count("AT+CMGF=0") >= 2
        driver.send(CITIZEN, "Balasan")
        assert fake.sent_texts() == [(CITIZEN, "Balasan")]
        assert wait_until(lambda: any(e.line == "SMS Ready" for e in list(driver._line.events.queue)), 3)
    finally:
        driver.close()


def test_boot_lines_do_not_become_answers():
    # the line layer's tables decide, whatever command is in flight
    from modemd.drivers.atline import ALWAYS_UNSOLICITED, SOMETIMES_UNSOLICITED, _name_of

    for line in ("Call Ready", "SMS Ready", "RDY", "+WIND: 4"):
        assert _name_of(line) in ALWAYS_UNSOLICITED
    for line in ("+CPIN: READY", "+CFUN: 1"):
        assert _name_of(line) in SOMETIMES_UNSOLICITED


# --------------------------------------------------------------------------
# a phone in modem mode


def test_phone_sends_and_says_once_that_it_cannot_receive(started, caplog):
    caplog.set_level(logging.WARNING, logger="modemd.at")
    fake = started(PHONE)
    for _ in range(2):  # the worker makes a new driver at every reconnect
        driver = make_driver(fake)
        driver.connect()  # before: AT+CPMS refused -> refused initialisation
        try:
            assert driver.receive() == []
            with pytest.raises(Unsupported):
                driver.storage()
            driver.send(CITIZEN, "Balasan")
        finally:
            driver.close()
    assert [t for _, t in fake.sent_texts()] == ["Balasan", "Balasan"]
    said = [r.getMessage() for r in caplog.records if "cannot receive" in r.getMessage()]
    assert len(said) == 1 and "can send SMS but cannot receive them" in said[0]
    assert fake.count("AT+CMGL") == 0


# --------------------------------------------------------------------------
# an unknown device with a known habit


@pytest.mark.parametrize(
    "quirks, settings",
    [
        (Quirks(cpin_final_ok=False), {}),
        (Quirks(busy_after_power_on=2), {}),
        (Quirks(cpms_memories=2), {}),
        (Quirks(cpms_memories=1), {}),
        (Quirks(sms_ready_after=1.0, sms_ready_line="SMS Ready"), {}),
        (Quirks(csca_busy_reads=2, csmp_clears_smsc=True), {"init": "AT+CSMP=17,167,0,0"}),
        (Quirks(error_text="COMMAND NOT SUPPORT", periodic_lines=("^RSSI:20",), periodic_interval=0.05), {}),
        (Quirks(cpms_memories=0, cnmi_supported=False), {}),
    ],
    ids=[
        "no-ok-after-cpin",
        "busy-515",
        "two-memories",
        "one-memory",
        "sms-ready",
        "smsc-wiped",
        "vendor-error-and-status-lines",
        "no-storage",
    ],
)
def test_an_unknown_device_with_a_known_habit(started, quirks, settings):
    fake = started(FakeModem(manufacturer="ACME", model="GSM-1", imei="490154203237518", quirks=quirks))
    driver = make_driver(fake, **settings)
    driver.connect()
    try:
        driver.send(CITIZEN, "Balasan")
        assert fake.sent_texts() == [(CITIZEN, "Balasan")]
        fake.inject_sms(OTHER_CITIZEN, "INFO dari perangkat baru")
        got = receive_until(driver, 1, timeout=2 if quirks.cpms_memories else 0.5)
        assert [m.text for m in got] == (["INFO dari perangkat baru"] if quirks.cpms_memories else [])
    finally:
        driver.close()


# --------------------------------------------------------------------------
# the whole path, every family


def at_ini(fake: FakeModem, profile: Profile) -> str:
    lines = [
        "[modem:usb1]",
        "driver = at",
        f"device = {fake.device}",
        "sweep_interval = 5s",
        *(f"{key} = {value}" for key, value in profile.settings.items()),
        "[sms]",
        "retry_intervals = 1s",
    ]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
def test_receive_route_send_and_delivery_report(profile: Profile, officials, write_config, caplog):
    caplog.set_level(logging.INFO)
    fake = profile.fake(status_report_delay=0.01).start()
    running = None
    try:
        if profile.can_receive:
            fake.inject_sms(CITIZEN, "DISHUB lampu merah mati")  # arrives before modemd runs
        running = Running(write_config(at_ini(fake, profile))).start()
        assert wait_until(
            lambda: ModemStatus.select().where(ModemStatus.name == "usb1", ModemStatus.state == "ready").exists(), 20
        )
        if profile.can_receive:
            fake.inject_sms(OTHER_CITIZEN, "INFO puskesmas tutup")  # arrives while it runs
            assert wait_until(
                lambda: OutboundMessage.select().where(OutboundMessage.state == "delivered").count() == 2, 20
            )
            assert sorted(c.keyword for c in Case.select()) == ["DISHUB", "INFO"]
            assert sorted(m.text for m in InboundMessage.select()) == [
                "DISHUB lampu merah mati",
                "INFO puskesmas tutup",
            ]
            assert sorted(n for n, _ in fake.sent_texts()) == [CITIZEN, OTHER_CITIZEN]
            assert wait_until(lambda: fake.sim == {}, 10)  # messages and reports deleted once stored
        else:
            reply = outqueue.enqueue("081234567890", "Jawaban untuk warga", "reply", config=DEFAULTS)
            assert wait_until(lambda: OutboundMessage.get_by_id(reply.id).state == "sent", 20)
            assert fake.sent_texts() == [(CITIZEN, "Jawaban untuk warga")]
            assert caplog.text.count("can send SMS but cannot receive them") == 1
        status = ModemStatus.get(ModemStatus.name == "usb1")
        assert status.manufacturer == profile.identity["manufacturer"]
        assert "no answer to" not in caplog.text
    finally:
        if running is not None:
            running.stop()
        fake.stop()
