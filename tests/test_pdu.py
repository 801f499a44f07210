"""Table-driven tests of the TPDU codec (modemd.sms.tpdu) against known PDUs and its own round trips."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from modemd.sms import tpdu
from modemd.sms.errors import InvalidNumber, PduError
from modemd.sms.tpdu import DeliverPdu, StatusReportPdu, SubmitDecoded

WIB = timezone(timedelta(hours=7))  # Western Indonesia
WITA = timezone(timedelta(hours=8))
WIT = timezone(timedelta(hours=9))


def tz(minutes: int) -> timezone:
    return timezone(timedelta(minutes=minutes))


# --------------------------------------------------------------------------
# Known SMS-DELIVER PDUs.
# The first is the classic example in the GSM 03.40 tutorials (dreamfabric "SMS
# and the PDU format"); the TZ octet 08 is "-00". The others were produced by
# python-gammu 3.5.1 (gammu.EncodePDU(..., "Deliver")) or by hand from TS 23.040
# and cross-checked with gammu.DecodePDU.

KNOWN_DELIVER = [
    pytest.param(
        "07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07",
        dict(
            sender="+31641600986",
            sender_type="international",
            text="How are you?",
            encoding="gsm7",
            smsc="+31624000000",
            smsc_time=datetime(2002, 8, 26, 19, 37, 41, tzinfo=tz(0)),
            concat=None,
        ),
        id="dreamfabric-how-are-you",
    ),
    pytest.param(
        # gammu.EncodePDU Deliver: "hi" from +628123456789; Gammu writes TZ 00.
        "059126181642000C9126183254769800004250607080900002E834",
        dict(
            sender="+628123456789",
            sender_type="international",
            text="hi",
            encoding="gsm7",
            smsc="+62816124",
            smsc_time=datetime(2024, 5, 6, 7, 8, 9, tzinfo=tz(0)),
            concat=None,
        ),
        id="gammu-hi",
    ),
    pytest.param(
        # Same with TZ octet 82 = +28 quarters = +07:00 (WIB); national type 0xA1.
        "0591261816420404A1802100004250607080908205E8309BFD06",
        dict(
            sender="0812",
            sender_type="national",
            text="hallo",
            encoding="gsm7",
            smsc="+62816124",
            smsc_time=datetime(2024, 5, 6, 7, 8, 9, tzinfo=WIB),
            concat=None,
        ),
        id="national-wib",
    ),
    pytest.param(
        # TZ octet 29: low nibble 9 = sign bit + tens 1, high nibble 2 -> -12 quarters = -03:00.
        "0591261816420404A1802100004250607080902905E8309BFD06",
        dict(smsc_time=datetime(2024, 5, 6, 7, 8, 9, tzinfo=tz(-180)), text="hallo"),
        id="negative-offset",
    ),
    pytest.param(
        # Alphanumeric sender "TELKOMSEL" (9 chars -> 16 semi-octets), UCS2 "Hai 😀".
        "0591261816420410D0D42273F96C4E8B4C0008425060708090820A004800610069D83DDE00",
        dict(
            sender="TELKOMSEL",
            sender_type="alphanumeric",
            text="Hai😀",
            encoding="ucs2",
            smsc_time=datetime(2024, 5, 6, 7, 8, 9, tzinfo=WIB),
        ),
        id="alphanumeric-ucs2-emoji",
    ),
]


KNOWN_DELIVER += [
    pytest.param(
        # dreamfabric's SMS-DELIVER: sender type C8 (subscriber number, not international), 1999.
        "07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37",
        dict(
            sender="27838890001",
            sender_type="unknown",
            text="hellohello",
            smsc="+27381000015",
            smsc_time=datetime(1999, 3, 29, 15, 16, 59, tzinfo=tz(120)),
        ),
        id="dreamfabric-hellohello",
    ),
    pytest.param(
        # Diafaan's alphanumeric example: 13 semi-octets of packed septets = 7 characters.
        "0791448720003023240DD0E474D81C0EBB010000111011315214000BE474D81C0EBB5DE3771B",
        dict(
            sender="diafaan",
            sender_type="alphanumeric",
            text="diafaan.com",
            smsc="+447802000332",
            smsc_time=datetime(2011, 1, 11, 13, 25, 41, tzinfo=tz(0)),
        ),
        id="diafaan-alphanumeric",
    ),
    pytest.param(
        # TP-RP set in the first octet (24): reply path, nothing else changes.
        "07911326040000F0240B911326880736F40000111081017362401654747A0E4ACF41F4329E0E6A97E7F3F0B90C8A01",
        dict(
            sender="+31628870634",
            text="This is text message 1",
            smsc_time=datetime(2011, 1, 18, 10, 37, 26, tzinfo=tz(60)),
        ),
        id="reply-path",
    ),
    pytest.param(
        # UCS2 with an emoji as a surrogate pair (D83D DE00), checked with gammu.DecodePDU.
        "0791947122720000040C919471262514240008708012415383800C0048006500790020D83DDE00",
        dict(
            sender="+491762524142",
            text="Hey 😀",
            encoding="ucs2",
            smsc="+491722270000",
            smsc_time=datetime(2007, 8, 21, 14, 35, 38, tzinfo=tz(120)),
        ),
        id="ucs2-emoji",
    ),
]


@pytest.mark.parametrize("hex_pdu, expected", KNOWN_DELIVER)
def test_decode_known_deliver(hex_pdu: str, expected: dict) -> None:
    decoded = tpdu.decode(hex_pdu)
    assert isinstance(decoded, DeliverPdu)
    for name, value in expected.items():
        assert getattr(decoded, name) == value, name
    if "smsc_time" in expected:
        assert decoded.smsc_time.utcoffset() == expected["smsc_time"].utcoffset()


def test_decode_known_submit_with_relative_validity() -> None:
    # The SMS-SUBMIT example of the same tutorial: TP-VP AA = 4 days.
    decoded = tpdu.decode("0011000B916407281553F80000AA0AE8329BFD4697D9EC37")
    assert isinstance(decoded, SubmitDecoded)
    assert decoded.recipient == "+46708251358"
    assert decoded.text == "hellohello"
    assert decoded.validity == 4 * 24 * 60
    assert decoded.status_report_requested is False
    assert decoded.concat is None


def test_encode_submit_matches_known_pdu() -> None:
    # The tutorial's submit with TP-VP 4 days (5760 minutes) and no UDH.
    [part] = tpdu.encode_submit("+46708251358", "hellohello", validity=5760)
    assert part.hex == "0011000B916407281553F80000AA0AE8329BFD4697D9EC37"
    assert part.tpdu_length == 23


def test_encode_submit_matches_gammu_bytes() -> None:
    # gammu.EncodePDU of "hi" to +628123456789, SMSC +62816124, Validity "Max", Type "Status_Report".
    [part] = tpdu.encode_submit("+628123456789", "hi", smsc="+62816124", status_report=True)
    assert part.hex == "05912618164231000C912618325476980000FF02E834"
    assert part.tpdu_length == 16


# --------------------------------------------------------------------------
# Submit encoding


def test_concatenated_submit_parts_decode_back() -> None:
    text = "Laporan jalan rusak di Jl. Merdeka {RT 03} € " * 12
    parts = tpdu.encode_submit("+6281234567890", text, concat_reference=0xAB, status_report=True)
    decoded = [tpdu.decode(p.hex) for p in parts]
    assert all(isinstance(d, SubmitDecoded) for d in decoded)
    assert [d.concat for d in decoded] == [(0xAB, len(parts), i + 1) for i in range(len(parts))]
    assert "".join(d.text for d in decoded) == text
    assert all(d.status_report_requested for d in decoded)
    assert [d.message_reference for d in decoded] == list(range(len(parts)))
    for part in parts:
        smsc_octets = 1 + int(part.hex[:2], 16)
        assert part.tpdu_length == len(part.hex) // 2 - smsc_octets


def test_sixteen_bit_reference_round_trips() -> None:
    parts = tpdu.encode_submit("+6281234", "ç" * 200, concat_reference=0xBEEF, ref16=True)
    decoded = [tpdu.decode(p.hex) for p in parts]
    assert [d.concat for d in decoded] == [(0xBEEF, 4, 1), (0xBEEF, 4, 2), (0xBEEF, 4, 3), (0xBEEF, 4, 4)]
    assert decoded[0].udh[:2] == bytes([0x08, 0x04])


@pytest.mark.parametrize(
    "number, toa, recipient",
    [("+628123456789", "91", "+628123456789"), ("08123456789", "81", "08123456789"), ("123", "81", "123")],
)
def test_number_types(number: str, toa: str, recipient: str) -> None:
    [part] = tpdu.encode_submit(number, "x")
    assert part.hex[8:10] == toa
    assert tpdu.decode(part.hex).recipient == recipient


@pytest.mark.parametrize("number", ["", "+", "PEMKOT", "0812-345", "+62 812", "1" * 21])
def test_invalid_numbers_are_refused(number: str) -> None:
    with pytest.raises(InvalidNumber):
        tpdu.encode_submit(number, "x")


@pytest.mark.parametrize(
    "validity, vp_hex, minutes",
    [
        ("max", "FF", 63 * 7 * 24 * 60),
        (5, "00", 5),
        (6, "01", 10),
        (720, "8F", 720),
        (721, "90", 750),
        (24 * 60, "A7", 24 * 60),
        (3 * 24 * 60, "A9", 3 * 24 * 60),
        (30 * 24 * 60, "C4", 30 * 24 * 60),
        (31 * 24 * 60, "C5", 5 * 7 * 24 * 60),
        (10**9, "FF", 63 * 7 * 24 * 60),
    ],
)
def test_validity_is_rounded_up_to_the_next_step(validity, vp_hex: str, minutes: int) -> None:
    [part] = tpdu.encode_submit("+6281", "x", validity=validity)
    assert part.hex[-6:-4] == vp_hex
    assert tpdu.decode(part.hex).validity == minutes


def test_no_validity_leaves_out_tp_vp() -> None:
    [part] = tpdu.encode_submit("+6281", "x", validity=None)
    decoded = tpdu.decode(part.hex)
    assert decoded.validity is None
    assert int(part.hex[2:4], 16) & 0x18 == 0


@pytest.mark.parametrize("validity", [0, -5, "forever", 1.5, True])
def test_bad_validity_is_refused(validity) -> None:
    with pytest.raises(PduError):
        tpdu.encode_submit("+6281", "x", validity=validity)


@pytest.mark.parametrize("reference, ref16", [(256, False), (-1, False), (65536, True)])
def test_bad_concat_reference_is_refused(reference: int, ref16: bool) -> None:
    with pytest.raises(PduError):
        tpdu.encode_submit("+6281", "x" * 200, concat_reference=reference, ref16=ref16)


def test_smsc_is_encoded_and_decoded() -> None:
    [part] = tpdu.encode_submit("+6281", "x", smsc="+62816124")
    assert part.hex.startswith("059126181642")
    assert tpdu.decode(part.hex).smsc == "+62816124"


# --------------------------------------------------------------------------
# Deliver encoding (for fake modems) and time stamps


@pytest.mark.parametrize("zone", [WIB, WITA, WIT, tz(0), tz(-210), tz(345), tz(-12 * 60), tz(19 * 60 + 45)])
@pytest.mark.parametrize("year", [1990, 1999, 2000, 2025, 2089])
def test_deliver_round_trip_keeps_time_zone(zone: timezone, year: int) -> None:
    when = datetime(year, 12, 31, 23, 59, 58, tzinfo=zone)
    [hex_pdu] = tpdu.encode_deliver("+6281234567", "Tes", smsc_time=when)
    decoded = tpdu.decode(hex_pdu)
    assert decoded.smsc_time == when
    assert decoded.smsc_time.utcoffset() == when.utcoffset()


@pytest.mark.parametrize(
    "when",
    [
        datetime(2025, 1, 1),  # naive
        datetime(1989, 12, 31, tzinfo=WIB),  # year does not fit
        datetime(2090, 1, 1, tzinfo=WIB),
        datetime(2025, 1, 1, tzinfo=tz(10)),  # not a quarter hour
        datetime(2025, 1, 1, tzinfo=tz(20 * 60)),  # beyond 79 quarters
    ],
)
def test_unencodable_time_stamps_are_refused(when: datetime) -> None:
    with pytest.raises(PduError):
        tpdu.encode_deliver("+6281", "x", smsc_time=when)


def test_alphanumeric_sender_round_trips() -> None:
    [hex_pdu] = tpdu.encode_deliver("PEMKAB", "Info", smsc_time=datetime(2025, 1, 2, 3, 4, 5, tzinfo=WIB))
    decoded = tpdu.decode(hex_pdu)
    assert (decoded.sender, decoded.sender_type) == ("PEMKAB", "alphanumeric")


def test_multipart_deliver_round_trip() -> None:
    text = "DISHUB lampu lalu lintas mati 😡 " * 5
    hexes = tpdu.encode_deliver("+6281234", text, concat_reference=7, smsc_time=datetime(2025, 1, 2, tzinfo=WIB))
    decoded = [tpdu.decode(h) for h in hexes]
    assert [d.concat for d in decoded] == [(7, len(hexes), i + 1) for i in range(len(hexes))]
    assert "".join(d.text for d in decoded) == text


def test_eight_bit_data_decodes_as_hex() -> None:
    tpdu_hex = "040A91261832547600044250607080908204DEADBEEF"
    decoded = tpdu.decode("00" + tpdu_hex)
    assert (decoded.encoding, decoded.text, decoded.smsc) == ("8bit", "DEADBEEF", "")


def test_decode_without_smsc_field() -> None:
    [hex_pdu] = tpdu.encode_deliver("+6281", "tanpa SMSC", smsc_time=datetime(2025, 1, 2, tzinfo=WIB))
    smsc_octets = 1 + int(hex_pdu[:2], 16)
    decoded = tpdu.decode(hex_pdu[2 * smsc_octets :], with_smsc=False)
    assert decoded.text == "tanpa SMSC"
    assert decoded.smsc == ""


# --------------------------------------------------------------------------
# Status reports (TS 23.040 9.2.3.15)


@pytest.mark.parametrize(
    "status, delivered, final",
    [
        (0x00, True, True),  # received by the SME
        (0x01, True, True),  # forwarded, delivery not confirmed
        (0x02, True, True),  # replaced by the SC
        (0x1F, True, True),
        (0x20, False, False),  # congestion, still trying
        (0x25, False, False),
        (0x3F, False, False),
        (0x40, False, True),  # remote procedure error, permanent
        (0x41, False, True),  # incompatible destination
        (0x5F, False, True),
        (0x60, False, True),  # congestion, SC gave up
        (0x7F, False, True),
        (0x80, False, True),  # reserved values: treated as failed
        (0xFF, False, True),
    ],
)
def test_status_report_classification(status: int, delivered: bool, final: bool) -> None:
    sent = datetime(2025, 3, 4, 10, 0, 0, tzinfo=WIB)
    done = datetime(2025, 3, 4, 10, 0, 7, tzinfo=WIB)
    hex_pdu = tpdu.encode_status_report(42, "+6281234567", status=status, smsc_time=sent, discharge_time=done)
    report = tpdu.decode(hex_pdu)
    assert isinstance(report, StatusReportPdu)
    assert (report.reference, report.recipient, report.status) == (42, "+6281234567", status)
    assert (report.delivered, report.final) == (delivered, final)
    assert (report.smsc_time, report.discharge_time, report.smsc) == (sent, done, "+62816124")


def test_status_report_with_optional_parameters_decodes() -> None:
    # TP-PI 03 (PID and DCS present) after TP-ST, as some networks send.
    sent, done = datetime(2025, 1, 1, tzinfo=WIB), datetime(2025, 1, 2, tzinfo=WIB)
    base = tpdu.encode_status_report(9, "08123", status=0x30, smsc_time=sent, discharge_time=done)
    report = tpdu.decode(base + "030000")
    assert (report.reference, report.recipient, report.final) == (9, "08123", False)


# --------------------------------------------------------------------------
# Malformed input: always PduError, with a message saying where


@pytest.mark.parametrize(
    "hex_pdu, fragment",
    [
        ("", "SMSC length"),
        ("0", "odd number"),
        ("zz", "not hexadecimal"),
        ("00", "first octet"),
        ("0003", "reserved"),
        ("0004", "originating address length"),
        ("00040B91", "originating address"),
        ("00040B911346610089F600", "data coding scheme"),
        ("00040B911346610089F60000", "service centre time stamp"),
        ("00040B911346610089F600002080629173140", "odd number"),
        ("00040B911346610089F6000020806291731408", "user data length"),
        ("00040B911346610089F60000208062917314080CC8F7", "user data"),
        ("00040B911346610089F600002A806291731408", "not two decimal digits"),
        ("00040B911346610089F60000201362917314080CC8F71D14969741F977FD07", "invalid date"),
        ("00440B911346610089F6000020806291731408020A00", "header length"),
        ("00440B911346610089F6000820806291731408050400030405", "element 00"),
        ("0006", "message reference"),
        ("00060105", "recipient address"),
    ],
)
def test_malformed_pdus_raise_pdu_error(hex_pdu: str, fragment: str) -> None:
    with pytest.raises(PduError, match=fragment):
        tpdu.decode(hex_pdu)


def test_non_string_input_raises_pdu_error() -> None:
    with pytest.raises(PduError):
        tpdu.decode(b"0011")  # type: ignore[arg-type]


def test_trailing_octets_after_user_data_are_ignored() -> None:
    base = "07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07"
    assert tpdu.decode(base + "FFFF").text == "How are you?"


def test_lone_surrogate_in_ucs2_becomes_replacement_character() -> None:
    tpdu_hex = "040A912618325476000842506070809082040041D83D"
    assert tpdu.decode("00" + tpdu_hex).text == "A\ufffd"


def test_lone_surrogate_in_text_to_send_is_refused() -> None:
    with pytest.raises(PduError, match="lone surrogate"):
        tpdu.encode_submit("+6281", "ok \ud83d then")


def test_tpdu_length_tells_whether_the_smsc_field_is_there() -> None:
    sent = datetime(2025, 3, 4, 10, 0, 0, tzinfo=WIB)
    with_smsc = tpdu.encode_status_report(5, "+6281", smsc_time=sent, discharge_time=sent)
    smsc_octets = 1 + int(with_smsc[:2], 16)
    tpdu_hex = with_smsc[2 * smsc_octets :]
    length = len(tpdu_hex) // 2
    assert tpdu.decode(with_smsc, tpdu_length=length).smsc == "+62816124"
    assert tpdu.decode(tpdu_hex, tpdu_length=length).reference == 5  # "+CDS: 25" without the SMSC
    assert tpdu.decode(tpdu_hex, with_smsc=True, tpdu_length=length).smsc == ""
    with pytest.raises(PduError, match="announced"):
        tpdu.decode(tpdu_hex[:-2], tpdu_length=length)


def test_whitespace_inside_hex_is_ignored() -> None:
    assert tpdu.decode(" 0011000B91 6407281553F8 0000AA0AE8329BFD4697D9EC37\r\n").text == "hellohello"
