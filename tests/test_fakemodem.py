"""The fake modem itself, spoken to byte by byte through pyserial on its pty."""

from __future__ import annotations

import os
import re
import time

import pytest
import serial
from fakemodem import FakeModem

from modemd.sms import tpdu


class Terminal:
    """A raw pyserial connection to the fake, reading until a final result."""

    def __init__(self, device: str):
        self.port = serial.Serial(device, 115200, timeout=0.05)

    def close(self) -> None:
        self.port.close()

    def read_until(self, *endings: bytes, timeout: float = 3.0) -> bytes:
        data = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            data += self.port.read(256)
            if any(data.endswith(end) for end in endings) or FINAL.search(data):
                return data
        return data

    def read_lines(self, count: int, timeout: float = 3.0) -> list[str]:
        """The next ``count`` non-empty lines (unsolicited codes arrive without a final result)."""
        data = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            data += self.port.read(256)
            lines = [line for line in data.decode("latin-1").split("\r\n") if line]
            if len(lines) >= count and data.endswith(b"\r\n"):
                return lines
        return [line for line in data.decode("latin-1").split("\r\n") if line]

    def send(self, command: str) -> str:
        self.port.write(command.encode() + b"\r")
        return self.read_until(b"OK\r\n", b"ERROR\r\n", b"> ").decode("latin-1")


FINAL = re.compile(rb"\r\n\+CM[ES] ERROR: \d+\r\n$")


@pytest.fixture
def modem():
    with FakeModem() as fake:
        yield fake


@pytest.fixture
def term(modem: FakeModem):
    terminal = Terminal(modem.device)
    yield terminal
    terminal.close()


def test_device_is_a_symlink_to_a_pty(modem: FakeModem):
    assert os.path.islink(modem.device)
    assert os.path.realpath(modem.device).startswith("/dev/pts/")


def test_echo_until_ate0(term: Terminal):
    assert term.send("AT") == "AT\r\r\nOK\r\n"
    assert term.send("ATE0") == "ATE0\r\r\nOK\r\n"
    assert term.send("AT+CGMI") == "\r\nhuawei\r\n\r\nOK\r\n"


def test_unknown_command_is_error_and_cmee_gives_codes(modem: FakeModem, term: Terminal):
    term.send("ATE0")
    assert term.send("AT+MODE=2") == "\r\nERROR\r\n"
    modem.pin = "1234"
    modem.replug()  # a locked SIM again
    term.close()
    term.port = serial.Serial(modem.device, 115200, timeout=0.05)
    term.send("ATE0")
    assert "\r\nERROR\r\n" in term.send("AT+CMGL=4")
    term.send("AT+CMEE=1")
    assert "+CME ERROR: 11" in term.send("AT+CMGL=4")


def test_pin_unlock_and_wrong_pin_counts_down():
    fake = FakeModem(pin="4321")
    with fake:
        t = Terminal(fake.device)
        t.send("ATE0")
        t.send("AT+CMEE=1")
        assert "+CPIN: SIM PIN" in t.send("AT+CPIN?")
        assert "+CME ERROR: 16" in t.send('AT+CPIN="0000"')
        assert fake.pin_attempts_left == 2
        assert t.send('AT+CPIN="4321"').endswith("OK\r\n")
        assert "+CPIN: READY" in t.send("AT+CPIN?")
        t.close()


def test_message_reference_counts_up_and_wraps():
    fake = FakeModem(first_reference=254)
    with fake:
        t = Terminal(fake.device)
        t.send("ATE0")
        references = []
        for part in tpdu.encode_submit("+6281234567890", "x" * 400, concat_reference=9):
            assert t.send(f"AT+CMGS={part.tpdu_length}").endswith("> ")
            t.port.write(part.hex.encode() + b"\x1a")
            answer = t.read_until(b"OK\r\n").decode()
            references.append(int(answer.split("+CMGS:")[1].split()[0]))
        t.close()
    assert references == [254, 255, 0]
    assert [s.concat for s in fake.sent] == [(9, 3, 1), (9, 3, 2), (9, 3, 3)]
    assert "".join(s.text for s in fake.sent) == "x" * 400


def test_wrong_length_pdu_is_refused(modem: FakeModem, term: Terminal):
    term.send("ATE0")
    [part] = tpdu.encode_submit("+6281234567890", "halo")
    term.send(f"AT+CMGS={part.tpdu_length + 1}")
    term.port.write(part.hex.encode() + b"\x1a")
    assert "+CMS ERROR: 304" in term.read_until().decode()
    assert modem.sent == []


def test_cmti_only_when_cnmi_asks(modem: FakeModem, term: Terminal):
    term.send("ATE0")
    first = modem.inject_sms("+6281234567890", "tanpa indikasi")
    assert term.read_lines(1, timeout=0.3) == []
    term.send("AT+CNMI=2,1,0,2,0")
    [second] = modem.inject_sms("+6281234567890", "dengan indikasi")
    assert term.read_lines(1) == [f'+CMTI: "SM",{second}']
    listing = term.send("AT+CMGL=4")
    assert listing.count("+CMGL:") == 2
    assert f"+CMGL: {first[0]},0,," in listing  # listed while still unread


def test_sim_capacity_and_sim_full():
    fake = FakeModem(capacity=2)
    with fake:
        assert len(fake.inject_sms("+6281234567890", "satu")) == 1
        assert len(fake.inject_sms("+6281234567890", "dua")) == 1
        assert fake.inject_sms("+6281234567890", "tiga") == []
        t = Terminal(fake.device)
        t.send("ATE0")
        assert '+CPMS: "SM",2,2' in t.send("AT+CPMS?")
        t.send("AT+CMGD=0")
        fake.set_sim_full()
        assert fake.inject_sms("+6281234567890", "empat") == []
        assert "+CMS ERROR: 322" in t.send("AT+CMGW=20")
        t.close()


def test_status_report_inline_or_stored(modem: FakeModem, term: Terminal):
    term.send("ATE0")
    term.send("AT+CNMI=2,1,0,1,0")
    modem.send_status_report(7, "+6281234567890")
    header, hex_pdu = term.read_lines(2)
    assert header.startswith("+CDS: ")
    report = tpdu.decode(hex_pdu)
    assert (report.reference, report.recipient, report.delivered) == (7, "+6281234567890", True)
    term.send("AT+CNMI=2,1,0,2,0")
    modem.send_status_report(8, "+6281234567890", status=0x46)
    [indication] = term.read_lines(1)
    assert indication.startswith('+CDSI: "SM",')


def test_send_faults_by_count_and_by_number(modem: FakeModem, term: Terminal):
    term.send("ATE0")
    modem.fail_next_sends(1, code=500)
    modem.fail_number("+6281111111111", code=38)

    def send(number: str) -> str:
        [part] = tpdu.encode_submit(number, "tes")
        term.send(f"AT+CMGS={part.tpdu_length}")
        term.port.write(part.hex.encode() + b"\x1a")
        return term.read_until(b"OK\r\n").decode()

    assert "+CMS ERROR: 500" in send("+6281234567890")
    assert "+CMGS: 0" in send("+6281234567890")
    assert "+CMS ERROR: 38" in send("+6281111111111")
    assert modem.sent_texts() == [("+6281234567890", "tes")]


def test_noise_between_answers(modem: FakeModem, term: Terminal):
    term.send("ATE0")
    modem.add_noise("^RSSI: 17", "RING")
    answer = term.send("AT+CSQ")
    assert answer == "\r\n^RSSI: 17\r\n\r\nRING\r\n\r\n+CSQ: 20,99\r\n\r\nOK\r\n"


def test_hang_swallows_commands_until_resume(modem: FakeModem, term: Terminal):
    term.send("ATE0")
    modem.hang()
    term.port.write(b"AT\r")
    assert term.read_until(b"OK\r\n", timeout=0.3) == b""
    modem.resume()
    assert term.send("AT") == "\r\nOK\r\n"
    assert modem.count("<hung>") == 1


def test_unplug_and_replug_at_the_same_path(modem: FakeModem, term: Terminal):
    modem.unplug()
    assert not os.path.exists(modem.device)
    with pytest.raises(serial.SerialException):
        for _ in range(20):
            term.port.read(1)
            term.port.write(b"AT\r")
    term.close()
    modem.replug()
    assert os.path.exists(modem.device)
    assert modem.plug_count == 2
    fresh = Terminal(modem.device)
    assert fresh.send("AT").endswith("OK\r\n")
    fresh.close()


def test_ussd_answer_encodings(modem: FakeModem, term: Terminal):
    term.send("ATE0")
    modem.ussd_encoding = "ucs2"
    term.port.write(b'AT+CUSD=1,"*888#",15\r')
    answer = term.read_until(b",72\r\n").decode()  # OK first, the network's answer later
    hex_text = re.search(r'\+CUSD: 0,"([0-9A-F]+)",72', answer).group(1)
    assert bytes.fromhex(hex_text).decode("utf-16-be") == modem.ussd_reply
    assert modem.ussd_requests == ["*888#"]


def test_command_counting(modem: FakeModem, term: Terminal):
    term.send("ATE0")
    term.send("AT+CSQ")
    term.send("at+csq")
    assert modem.count("AT+CSQ") == 2
    assert modem.count("ATE") == 1


def test_status_report_comes_from_the_smsc_of_the_modem(modem: FakeModem, term: Terminal):
    # Gammu SMSD pairs a report with its message by the SMSC too ("Failed to match SMSC")
    modem.smsc = "+6281100000"
    term.send("ATE0")
    term.send("AT+CNMI=2,1,0,1,0")
    modem.send_status_report(7, "+6281234567890")
    _header, hex_pdu = term.read_lines(2)
    assert tpdu.decode(hex_pdu).smsc == "+6281100000"


def test_times_of_commands_parts_and_stored_messages(modem: FakeModem, term: Terminal):
    before = time.monotonic()
    term.send("ATE0")
    term.send("AT+CSQ")
    [index] = modem.inject_sms("+6281234567890", "INFO halo", indicate=False)
    assert len(modem.command_times) == len(modem.commands) == 2
    assert before <= modem.command_times[0] <= modem.command_times[1] <= modem.sim[index].stored_at
    assert modem.sim[index].stored_at <= time.monotonic()
