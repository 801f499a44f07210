"""The Gammu driver keeps a citizen's text as sent, whatever libGammu does to "~".

libGammu (1.45.1) treats "~" as its own escape character in UCS2 texts: its
PDU decoder writes U+007E as "~~" (and python-gammu, which copies ``Length``
units, then drops one unit off the end per "~"), and its encoder sends a lone
"~" as U+0001. Its GSM decoder leaves NULs and junk after an extension
character. These tests go through the real python-gammu and Gammu's ``dummy``
phone:

* inbound, a network PDU is decoded by libGammu's own PDU decoder
  (``gammu.DecodePDU``, the code libGammu's AT driver runs on ``+CMGL``, with
  python-gammu's same conversion to a dict) and the result put on the
  dummy's SIM, so the driver reads what it would read from a real modem;
* outbound, what libGammu encoded is read from its debug log (the UCS2 user
  data as a hex dump) and from the PDU the driver logs after checking it, and
  decoded with :mod:`modemd.sms.tpdu`.
"""

from __future__ import annotations

import binascii
import logging
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

gammu = pytest.importorskip("gammu", reason="python-gammu is not installed")

from modemd.drivers import create_driver  # noqa: E402
from modemd.drivers.base import SendFailed  # noqa: E402
from modemd.drivers.gammu import part_text  # noqa: E402
from modemd.sms import gsm7, segmentation, tpdu  # noqa: E402
from modemd.sms.reassembly import MISSING_MARKER  # noqa: E402

INBOX = 1
WHEN = datetime(2026, 11, 23, 2, 15, 0, tzinfo=UTC)


@pytest.fixture
def device(tmp_path: Path) -> Path:
    path = tmp_path / "dummy-phone"
    path.mkdir()
    return path


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "gammu.log"


@pytest.fixture
def modem(device, log_path):
    driver = create_driver(
        "uji",
        {"driver": "gammu", "device": str(device), "connection": "none", "model": "dummy", "gammu_log": str(log_path)},
    )
    driver.connect()
    yield driver
    driver.close()


def from_network(device: Path, first_location: int, sender: str, text: str, reference: int = 0) -> None:
    """Put ``text`` on the dummy's SIM as libGammu decodes it from the network's PDUs."""
    for location, hex_pdu in enumerate(
        tpdu.encode_deliver(sender, text, smsc_time=WHEN, concat_reference=reference), start=first_location
    ):
        part = gammu.DecodePDU(binascii.unhexlify(hex_pdu), True)
        part["State"] = "UnRead"
        path = device / "sms" / str(INBOX) / str(location)
        path.parent.mkdir(parents=True, exist_ok=True)
        gammu.SaveSMSBackup(str(path), [part])


def received(modem) -> dict[str, object]:
    return {message.sender: message for message in modem.receive()}


# --------------------------------------------------------------------------
# receiving


def test_libgammu_really_mangles_a_received_ucs2_tilde():
    # What the driver is up against: the decoder doubles "~" and loses the last character.
    [hex_pdu] = tpdu.encode_deliver("+6281234567890", "Jalan ~ rusak 😀 ç", smsc_time=WHEN)
    assert gammu.DecodePDU(binascii.unhexlify(hex_pdu), True)["Text"] == "Jalan ~~ rusak 😀 "


def test_received_ucs2_tilde_is_not_doubled_and_the_lost_end_is_marked(modem, device, caplog):
    from_network(device, 1, "+6281234567890", "Jalan ~ rusak 😀 ç")
    with caplog.at_level(logging.WARNING, logger="modemd.gammu"):
        [message] = modem.receive()
    # libGammu cut the last character ("ç") off: shown as missing, never silently dropped.
    assert message.text == "Jalan ~ rusak 😀 " + MISSING_MARKER
    assert message.incomplete
    assert "cut 1 UTF-16 unit" in caplog.text


def test_received_ucs2_ending_in_tilde_comes_back_whole(modem, device):
    from_network(device, 1, "+6281234567890", "Lapor 😀 sudah diperbaiki ~")
    from_network(device, 2, "+6281234567891", "Terima kasih 🙏")
    messages = received(modem)
    assert messages["+6281234567890"].text == "Lapor 😀 sudah diperbaiki ~"
    assert not messages["+6281234567890"].incomplete
    assert messages["+6281234567891"].text == "Terima kasih 🙏"
    assert not messages["+6281234567891"].incomplete


def test_received_multipart_ucs2_marks_each_cut_where_it_happened(modem, device):
    first = "Jalan ~ rusak 😀 " + "parah sekali " * 3 + "jalan desa "  # 67 UTF-16 units: exactly part 1
    second = "mohon segera ditangani 🙏"
    assert segmentation.split(first + second)[1] == [first, second]
    from_network(device, 1, "+6281234567890", first + second, reference=77)
    [message] = modem.receive()
    assert message.text == first[:-1] + MISSING_MARKER + second
    assert (message.parts_total, message.parts_received, message.incomplete) == (2, 2, True)
    assert message.concat_reference == 77


def test_gsm_text_with_extension_characters_loses_gammus_trailing_junk():
    # From a modem, python-gammu copies Length (septets) characters: one too
    # many per extension character, so NULs and junk follow the text. The
    # dummy phone recomputes Length when it reads its SIM and cannot show
    # this, hence the part as libGammu's PDU decoder hands it over.
    text = "Harga {naik} ~50% € [RT 03]"
    [hex_pdu] = tpdu.encode_deliver("+6281234567890", text, smsc_time=WHEN)
    part = gammu.DecodePDU(binascii.unhexlify(hex_pdu), True)
    assert part["Text"].startswith(text + "\x00")
    assert part_text(part) == (text, 0)


def test_received_gsm_text_with_extension_characters_through_the_dummy(modem, device):
    text = "Harga {naik} ~50% € [RT 03]"
    from_network(device, 1, "+6281234567890", text)
    [message] = modem.receive()
    assert (message.text, message.incomplete) == (text, False)


def test_received_text_without_tilde_is_untouched(modem, device):
    from_network(device, 1, "+6281234567890", "Jalan rusak 😀 ç")
    [message] = modem.receive()
    assert (message.text, message.incomplete) == ("Jalan rusak 😀 ç", False)


# --------------------------------------------------------------------------
# sending


def logged_parts(log_path: Path) -> list[str]:
    blocks = log_path.read_text(errors="replace").split("SMS Submit")[1:]
    return [block.split("Leaving GSM_SendSMS")[0] for block in blocks]


def ucs2_user_data(logged_part: str) -> bytes:
    """The UCS2 user data libGammu encoded, from its hex dump: 16 bytes a line, 4 columns each."""
    found = re.search(r"Unicode SMS, length (\d+)\n\n", logged_part)
    assert found, "not a UCS2 part"
    size = 2 * int(found.group(1))
    data = bytearray()
    for line in logged_part[found.end() :].splitlines():
        for column in range(16):
            if len(data) == size:
                return bytes(data)
            data.append(int(line[4 * column : 4 * column + 2], 16))
    raise AssertionError("hex dump shorter than the announced length")


def checked_pdus(caplog) -> list[str]:
    return [record.args[-1] for record in caplog.records if "as Gammu encodes it" in record.msg]


def test_libgammu_really_sends_a_lone_ucs2_tilde_as_u0001():
    # What the driver is up against: Gammu's own split-and-encode of "ç~b".
    [part] = gammu.EncodeSMS({"Class": -1, "Entries": [{"ID": "ConcatenatedAutoTextLong", "Buffer": "ç~b"}]})
    part.update(Number="+628123", SMSC={"Location": 0, "Number": "", "Validity": "Max"})
    assert tpdu.decode(gammu.EncodePDU(part).hex()).text == "ç\x01b"


@pytest.mark.parametrize(
    "text",
    [
        "Terima kasih ~ laporan 😀 diterima",
        "ç~",
        "~ç",
        "Pak ~~ Camat ~|~ selesai 🙏",
    ],
)
def test_send_ucs2_tilde_goes_out_as_tilde(modem, log_path, caplog, text):
    with caplog.at_level(logging.DEBUG, logger="modemd.gammu"):
        modem.send("+6281234567890", text)
    [logged] = logged_parts(log_path)
    assert tpdu.decode_payload("ucs2", ucs2_user_data(logged)) == text
    [checked] = checked_pdus(caplog)
    assert tpdu.decode(checked).text == text


def test_send_long_ucs2_text_full_of_tildes_is_split_like_modemd_counts(modem, log_path, caplog):
    text = "Jadwal 😀 " + "~" * 150 + " selesai"
    with caplog.at_level(logging.DEBUG, logger="modemd.gammu"):
        references = modem.send("+6281234567890", text)
    logged = logged_parts(log_path)
    assert len(references) == len(logged) == segmentation.count(text).parts == 3
    decoded = [tpdu.decode(hex_pdu) for hex_pdu in checked_pdus(caplog)]
    assert "".join(tpdu.decode_payload("ucs2", ucs2_user_data(part)) for part in logged) == text
    assert "".join(part.text for part in decoded) == text
    assert [part.concat[1:] for part in decoded] == [(3, 1), (3, 2), (3, 3)]
    assert len({part.concat[0] for part in decoded}) == 1


def test_send_gsm_tilde_goes_out_as_the_extension_character(modem, log_path, caplog):
    # GSM 7-bit "~" (ESC 0x3D) was never broken in Gammu; pinned all the same.
    text = "Biaya ~Rp 5.000 {gratis} ~"
    with caplog.at_level(logging.DEBUG, logger="modemd.gammu"):
        modem.send("+6281234567890", text)
    [logged] = logged_parts(log_path)
    [ours] = tpdu.encode_submit("+6281234567890", text)
    septets = tpdu.decode(ours.hex).payload
    assert f"7 bit SMS, length {len(gsm7.pack_septets(list(septets)))}, {len(septets)}" in logged
    [checked] = checked_pdus(caplog)
    sent = tpdu.decode(checked)
    assert (sent.encoding, sent.text) == ("gsm7", text)


def test_a_text_gammu_would_still_alter_is_refused_not_sent(modem, log_path):
    # libGammu's encoder stops at a NUL; better no reply than a cut one.
    with pytest.raises(SendFailed) as caught:
        modem.send("+6281234567890", "Balasan ç\x00 akhir")
    assert caught.value.permanent
    assert logged_parts(log_path) == []
