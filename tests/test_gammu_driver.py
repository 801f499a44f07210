"""The Gammu driver against Gammu's own ``dummy`` phone.

The dummy phone keeps its SMS storage in ``<device>/sms/<folder>/<location>``
files in Gammu's SMS backup format (folder 1 = SIM inbox, 2 = SIM outbox, ...),
so a test puts a message "on the SIM" by writing such a file with
``gammu.SaveSMSBackup``. Sending stores nothing there; what went out is read
back from libGammu's debug log, which records each encoded part.
"""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

gammu = pytest.importorskip("gammu", reason="python-gammu is not installed")

from modemd.drivers import create_driver  # noqa: E402
from modemd.drivers.base import (  # noqa: E402
    ModemError,
    ModemGone,
    PinError,
    PortBusy,
    SendFailed,
    Unsupported,
)
from modemd.drivers.gammu import SEND_ERROR_CAUSES, GammuDriver, convert_error, parse_validity, signal_dbm  # noqa: E402
from modemd.sms.reassembly import MISSING_MARKER  # noqa: E402

INBOX = 1
OUTBOX = 2
LONG_TEXT = "INFO " + " ".join(f"jalan desa nomor {n} rusak berat mohon diperbaiki" for n in range(8))


@pytest.fixture
def device(tmp_path: Path) -> Path:
    return tmp_path / "dummy-phone"


@pytest.fixture
def settings(device: Path, tmp_path: Path) -> dict[str, str]:
    device.mkdir()
    return {
        "driver": "gammu",
        "device": str(device),
        "connection": "none",
        "model": "dummy",
        "gammu_log": str(tmp_path / "gammu.log"),
    }


@pytest.fixture
def modem(settings):
    driver = create_driver("uji", settings)
    driver.connect()
    yield driver
    driver.close()


def store(device: Path, folder: int, location: int, message: dict) -> Path:
    """Put one message into the dummy phone's storage, as the network would."""
    path = device / "sms" / str(folder) / str(location)
    path.parent.mkdir(parents=True, exist_ok=True)
    gammu.SaveSMSBackup(str(path), [message])
    return path


def deliver_parts(sender: str, text: str, when: datetime | None = None) -> list[dict]:
    """SMS-DELIVER dictionaries for ``text``, split by Gammu as a phone would split it."""
    parts = gammu.EncodeSMS({"Class": -1, "Entries": [{"ID": "ConcatenatedAutoTextLong", "Buffer": text}]})
    when = when or datetime.now(UTC).replace(microsecond=0)
    for part in parts:
        part.update(
            Number=sender,
            Type="Deliver",
            State="UnRead",
            SMSC={"Number": "+6281100000"},
            DateTime=when,
        )
    return parts


def status_report(recipient: str, reference: int, status: int) -> dict:
    return {
        "Number": recipient,
        "Type": "Status_Report",
        "State": "UnRead",
        "SMSC": {"Number": "+6281100000"},
        "MessageReference": reference,
        "DeliveryStatus": status,
        "DateTime": datetime.now(UTC).replace(microsecond=0),
        "Text": "",
    }


def sent_parts(log_path: Path) -> list[str]:
    """The per-part blocks libGammu logged while encoding SMS-SUBMITs."""
    blocks = log_path.read_text(errors="replace").split("SMS Submit")[1:]
    return [block.split("Leaving GSM_SendSMS")[0] for block in blocks]


def concatenation_header(logged_part: str) -> tuple[int, int, int]:
    """(reference, total, sequence) from the hex dump of a logged UDH: 05 00 03 ref total seq."""
    # Gammu's hex dump prints each byte as "HH" plus the character when printable: "4AJ|".
    found = re.search(r"05 \|00 \|03 \|([0-9A-F]{2}).\|([0-9A-F]{2}).\|([0-9A-F]{2})", logged_part)
    assert found, "no 8-bit concatenation header in the logged part"
    reference, total, sequence = (int(group, 16) for group in found.groups())
    return reference, total, sequence


# --------------------------------------------------------------------------
# connecting and asking


def test_registry_builds_a_gammu_driver(settings):
    assert isinstance(create_driver("uji", settings), GammuDriver)


def test_identify_reports_what_the_phone_says(modem):
    identity = modem.identify()
    assert identity.manufacturer == "Gammu"
    assert identity.model == "Dummy"
    assert identity.imei == "999999999999999"
    assert identity.imsi == "994299429942994"
    assert identity.operator == "GammuT3l"
    assert identity.firmware


def test_signal_converts_gammu_percentage_to_dbm(modem):
    info = modem.signal()
    # The dummy phone says 42 %; 42 % of +CSQ's 0..31 is rssi 13, i.e. -113 + 2*13 dBm.
    assert info.dbm == -87
    assert info.registration == "home"
    assert info.operator == "GammuT3l"
    assert info.bars == 2


@pytest.mark.parametrize(
    ("quality", "dbm"),
    [
        ({"SignalStrength": -71, "SignalPercent": 67}, -71),
        ({"SignalStrength": -1, "SignalPercent": 100}, -51),
        ({"SignalStrength": -1, "SignalPercent": 0}, -113),
        ({"SignalStrength": -1, "SignalPercent": -1}, None),
    ],
)
def test_signal_dbm(quality, dbm):
    assert signal_dbm(quality) == dbm


def test_storage_counts_stored_messages(modem, device):
    for location, part in enumerate(deliver_parts("+6281234567890", "INFO satu"), start=1):
        store(device, INBOX, location, part)
    store(device, INBOX, 2, deliver_parts("+6281234567890", "INFO dua")[0])
    usage = modem.storage()
    assert usage.used == 2
    assert usage.total >= usage.used


def test_balance_asks_by_ussd(modem):
    # The dummy phone answers every USSD code with "Reply for <code>".
    assert modem.balance("*888#") == "Reply for *888#"


# --------------------------------------------------------------------------
# errors at the boundary


def test_missing_device_directory_is_modem_gone(tmp_path):
    driver = GammuDriver("uji", {"device": str(tmp_path / "absent" / "phone"), "connection": "none", "model": "dummy"})
    with pytest.raises(ModemGone):
        driver.connect()
    driver.close()


def test_unknown_connection_type_is_a_modem_error_not_a_gammu_error(settings):
    driver = GammuDriver("uji", dict(settings, connection="carrier-pigeon", model=""))
    with pytest.raises(ModemError) as caught:
        driver.connect()
    assert not isinstance(caught.value, gammu.GSMError)
    assert isinstance(caught.value.__cause__, gammu.GSMError)


def test_calls_before_connect_say_modem_gone(settings):
    driver = GammuDriver("uji", settings)
    with pytest.raises(ModemGone):
        driver.signal()
    with pytest.raises(ModemGone):
        driver.send("+6281234567890", "halo")


def test_close_twice_is_harmless(modem):
    modem.close()
    modem.close()
    with pytest.raises(ModemGone):
        modem.receive()


def gsm_error(name: str) -> Exception:
    code = gammu.Errors[name]
    return getattr(gammu, name)({"Text": "from the test", "Where": "test", "Code": code})


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ERR_TIMEOUT", ModemGone),
        ("ERR_DEVICENOTEXIST", ModemGone),
        ("ERR_DEVICEOPENERROR", ModemGone),
        ("ERR_DEVICEBUSY", PortBusy),
        ("ERR_DEVICELOCKED", PortBusy),
        ("ERR_SECURITYERROR", PinError),
        ("ERR_NOTSUPPORTED", Unsupported),
        ("ERR_NOTIMPLEMENTED", Unsupported),
        ("ERR_FULL", ModemError),
    ],
)
def test_gammu_errors_map_to_modemd_errors(name, expected):
    converted = convert_error(gsm_error(name), "doing it")
    assert type(converted) is expected
    assert name in str(converted)


@pytest.mark.parametrize(
    ("name", "expected", "permanent"),
    [
        ("ERR_NETWORK_ERROR", SendFailed, False),
        ("ERR_INVALIDDATA", SendFailed, True),
        ("ERR_NOTSUPPORTED", SendFailed, False),  # the modem's trouble (27.005 303), not the message's
        ("ERR_TIMEOUT", ModemGone, None),
        ("ERR_DEVICEBUSY", PortBusy, None),
    ],
)
def test_errors_while_sending(name, expected, permanent):
    converted = convert_error(gsm_error(name), "sending", sending=True)
    assert type(converted) is expected
    if permanent is not None:
        assert converted.permanent is permanent
        assert converted.code == SEND_ERROR_CAUSES.get(name)  # a 3GPP cause, not libGammu's error number


def test_send_to_an_impossible_number_fails_permanently(modem):
    with pytest.raises(SendFailed) as caught:
        modem.send("1" * 80, "halo")
    assert caught.value.permanent


def test_without_python_gammu_the_error_says_how_to_install_it(settings):
    # A child interpreter in which "import gammu" fails, as on a machine without it.
    script = (
        "import sys; sys.modules['gammu'] = None\n"
        "from modemd.drivers import create_driver\n"
        "from modemd.drivers.base import ModemError\n"
        f"driver = create_driver('uji', {settings!r})\n"
        "try:\n"
        "    driver.connect()\n"
        "except ModemError as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert "pip install 'modemd[gammu]'" in result.stdout
    assert "python3-gammu" in result.stdout


# --------------------------------------------------------------------------
# sending


def test_send_single_part(modem, settings):
    references = modem.send("+6281234567890", "Terima kasih, laporan Anda kami terima")
    # The dummy phone acknowledges every SMS with message reference 255.
    assert references == [255]
    parts = sent_parts(Path(settings["gammu_log"]))
    assert len(parts) == 1
    assert 'Recipient number "+6281234567890"' in parts[0]
    assert "7 bit SMS" in parts[0]
    assert "Terima kasih, laporan Anda kami terima" in parts[0]


def test_send_sets_maximum_validity_by_default(modem, settings):
    modem.send("+6281234567890", "halo")
    # TP-VP 0xFF: 63 weeks, the longest relative validity; not Gammu's 00 (5 minutes).
    assert "SMS validity ff" in sent_parts(Path(settings["gammu_log"]))[0]


def test_send_uses_configured_validity_and_smsc(settings):
    driver = GammuDriver("uji", dict(settings, validity="1D", smsc="+6281100000"))
    driver.connect()
    try:
        driver.send("+6281234567890", "halo")
    finally:
        driver.close()
    part = sent_parts(Path(settings["gammu_log"]))[0]
    assert "SMS validity a7" in part  # relative validity 167 = 24 hours
    assert 'SMSC number "+6281100000"' in part


def test_send_multipart_returns_one_reference_per_part(modem, settings):
    references = modem.send("+6281234567890", LONG_TEXT)
    parts = sent_parts(Path(settings["gammu_log"]))
    assert len(parts) == len(references) == 3
    assert all(0 <= reference <= 255 for reference in references)
    headers = [concatenation_header(part) for part in parts]
    assert [total for _, total, _ in headers] == [3, 3, 3]
    assert [sequence for _, _, sequence in headers] == [1, 2, 3]
    assert len({reference for reference, _, _ in headers}) == 1


def test_send_switches_to_ucs2_for_text_outside_gsm_alphabet(modem, settings):
    modem.send("+6281234567890", "Terima kasih \u263a")
    assert "Unicode SMS" in sent_parts(Path(settings["gammu_log"]))[0]


@pytest.mark.parametrize(
    ("setting", "gammu_form"),
    [
        ("max", "Max"),
        ("", "Max"),
        ("MAX", "Max"),
        ("na", "NA"),
        ("1d", "1D"),
        ("12h", "12H"),
        ("30", "30"),
        ("1440", "1440"),
    ],
)
def test_parse_validity(setting, gammu_form):
    assert parse_validity(setting) == gammu_form


@pytest.mark.parametrize("setting", ["forever", "0", "-1D", "1Y"])
def test_parse_validity_rejects_nonsense(setting):
    with pytest.raises(ValueError):
        parse_validity(setting)


# --------------------------------------------------------------------------
# receiving


def test_receive_single_message(modem, device):
    stamp = datetime(2026, 11, 23, 2, 15, 0, tzinfo=UTC)
    path = store(device, INBOX, 1, deliver_parts("+6281234567890", "DISHUB jalan rusak", stamp)[0])
    [message] = modem.receive()
    assert message.sender == "+6281234567890"
    assert message.text == "DISHUB jalan rusak"
    assert message.smsc_time == stamp
    assert message.smsc_time.tzinfo is not None
    assert message.smsc == "+6281100000"
    assert message.pdus == []  # python-gammu does not expose raw PDUs
    assert (message.parts_total, message.parts_received, message.incomplete) == (1, 1, False)
    assert path.exists(), "receive() must not delete anything"


def test_received_message_is_handed_over_once_per_connection(modem, device):
    store(device, INBOX, 1, deliver_parts("+6281234567890", "INFO halo")[0])
    assert len(modem.receive()) == 1
    assert modem.receive() == []


def test_unacknowledged_message_comes_back_after_reconnect(settings, device):
    store(device, INBOX, 1, deliver_parts("+6281234567890", "INFO halo")[0])
    first = create_driver("uji", settings)
    first.connect()
    assert [m.text for m in first.receive()] == ["INFO halo"]
    first.close()  # as if the daemon died before storing it
    second = create_driver("uji", settings)
    second.connect()
    try:
        assert [m.text for m in second.receive()] == ["INFO halo"]
    finally:
        second.close()


def test_acknowledge_deletes_the_message(modem, device):
    path = store(device, INBOX, 1, deliver_parts("+6281234567890", "INFO halo")[0])
    other = store(device, INBOX, 2, deliver_parts("+6281234567891", "INFO lain")[0])
    messages = {m.text: m for m in modem.receive()}
    modem.acknowledge(messages["INFO halo"])
    assert not path.exists()
    assert other.exists()
    assert modem.storage().used == 1


def test_multipart_message_is_linked_and_decoded(modem, device):
    parts = deliver_parts("+6281234567890", LONG_TEXT)
    assert len(parts) == 3
    # Stored out of order, with someone else's message in between.
    store(device, INBOX, 1, parts[2])
    store(device, INBOX, 2, deliver_parts("+6281299999999", "INFO pendek")[0])
    store(device, INBOX, 3, parts[0])
    store(device, INBOX, 4, parts[1])
    messages = {m.sender: m for m in modem.receive()}
    long_one = messages["+6281234567890"]
    assert long_one.text == LONG_TEXT
    assert (long_one.parts_total, long_one.parts_received, long_one.incomplete) == (3, 3, False)
    assert long_one.concat_reference == parts[0]["UDH"]["ID8bit"]
    assert messages["+6281299999999"].text == "INFO pendek"


def test_acknowledging_a_multipart_message_deletes_every_part(modem, device):
    paths = [store(device, INBOX, n, part) for n, part in enumerate(deliver_parts("+628123", LONG_TEXT), start=1)]
    [message] = modem.receive()
    modem.acknowledge(message)
    assert not any(path.exists() for path in paths)


def test_part_delivered_twice_is_read_once_and_deleted_with_the_rest(modem, device):
    parts = deliver_parts("+6281234567890", LONG_TEXT)
    paths = [store(device, INBOX, n, part) for n, part in enumerate([parts[0], parts[0], parts[1], parts[2]], start=1)]
    [message] = modem.receive()
    assert message.text == LONG_TEXT
    assert not message.incomplete
    assert len(message.handle) == 4
    modem.acknowledge(message)
    assert not any(path.exists() for path in paths)


def test_incomplete_multipart_waits_for_the_missing_part(modem, device):
    parts = deliver_parts("+6281234567890", LONG_TEXT)
    store(device, INBOX, 1, parts[0])
    store(device, INBOX, 2, parts[2])
    assert modem.receive() == []
    store(device, INBOX, 3, parts[1])
    [message] = modem.receive()
    assert message.text == LONG_TEXT
    assert not message.incomplete


def test_incomplete_multipart_is_handed_over_after_the_timeout(settings, device):
    parts = deliver_parts("+6281234567890", LONG_TEXT)
    store(device, INBOX, 1, parts[0])
    store(device, INBOX, 2, parts[2])
    driver = GammuDriver("uji", dict(settings, reassembly_timeout="0"))
    driver.connect()
    try:
        [message] = driver.receive()
    finally:
        driver.close()
    assert message.incomplete
    assert (message.parts_total, message.parts_received) == (3, 2)
    assert message.text == parts[0]["Text"] + MISSING_MARKER + parts[2]["Text"]
    assert len(message.handle) == 2


def test_incomplete_multipart_counts_its_age_from_the_smsc_time(modem, device):
    long_ago = datetime.now(UTC) - timedelta(hours=2)
    parts = deliver_parts("+6281234567890", LONG_TEXT, long_ago)
    store(device, INBOX, 1, parts[1])
    [message] = modem.receive()  # default timeout of 1800 s is long past
    assert message.incomplete
    assert message.text == MISSING_MARKER + parts[1]["Text"] + MISSING_MARKER


def test_outbox_copies_are_not_received(modem, device):
    copy = gammu.EncodeSMS({"Class": -1, "Entries": [{"ID": "ConcatenatedAutoTextLong", "Buffer": "draft"}]})[0]
    copy.update(Number="+6281234567890", SMSC={"Number": ""}, Type="Submit", State="Sent")
    path = store(device, OUTBOX, 1, copy)
    assert modem.receive() == []
    assert modem.status_reports() == []
    assert path.exists()


# --------------------------------------------------------------------------
# status reports


def test_status_report_is_read_and_acknowledged(modem, device):
    path = store(device, INBOX, 1, status_report("+6281234567890", 42, 0x00))
    assert modem.receive() == []
    [report] = modem.status_reports()
    assert report.reference == 42
    assert report.recipient == "+6281234567890"
    assert (report.delivered, report.final, report.status_code) == (True, True, 0)
    assert report.discharge_time is not None and report.discharge_time.tzinfo is not None
    assert modem.status_reports() == []
    modem.acknowledge(report)
    assert not path.exists()


@pytest.mark.parametrize(
    ("status", "delivered", "final"),
    [(0x00, True, True), (0x01, True, True), (0x21, False, False), (0x41, False, True), (0x64, False, True)],
)
def test_status_report_states(modem, device, status, delivered, final):
    store(device, INBOX, 1, status_report("+6281234567890", 9, status))
    [report] = modem.status_reports()
    assert (report.delivered, report.final, report.status_code) == (delivered, final, status)


def test_acknowledging_twice_is_harmless(modem, device):
    store(device, INBOX, 1, status_report("+6281234567890", 1, 0))
    [report] = modem.status_reports()
    modem.acknowledge(report)
    modem.acknowledge(report)
    assert modem.storage().used == 0
