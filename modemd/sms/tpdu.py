"""The TPDU codec (3GPP TS 23.040): SMS-SUBMIT, SMS-DELIVER and SMS-STATUS-REPORT.

What it does:

* :func:`encode_submit` -- SMS-SUBMIT PDUs for ``AT+CMGS`` in PDU mode, cut
  as :func:`modemd.sms.segmentation.split` cuts, with a concatenation UDH (8- or
  16-bit reference), TP-VP and the DCS of the text's encoding.
* :func:`decode` -- SMS-DELIVER, SMS-STATUS-REPORT and SMS-SUBMIT PDUs.
* :func:`encode_deliver` / :func:`encode_status_report` -- what a network would
  send us; the simulated modem (``driver = sim``), fake modems and tests use
  them.

:func:`decode` raises :class:`~modemd.sms.errors.PduError` (a ``ValueError``)
for anything malformed or truncated and nothing else. It is lenient in two
places where being strict would only lose a citizen's text: octets after the
user data are ignored, and a UCS2 payload that is not valid UTF-16 decodes
with U+FFFD.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from .errors import InvalidNumber, PduError
from .gsm7 import is_gsm7, pack_septets, septets_to_text, to_septets, unpack_septets
from .segmentation import split

__all__ = [
    "SubmitPdu",
    "DeliverPdu",
    "StatusReportPdu",
    "SubmitDecoded",
    "encode_submit",
    "encode_deliver",
    "encode_status_report",
    "decode",
    "decode_payload",
    "status_delivered",
    "status_final",
]


# --------------------------------------------------------------------------
# Addresses

_BCD_DIGITS = "0123456789*#abc"  # nibble 0xF is the filler


def _bcd_encode(digits: str) -> bytes:
    nibbles = [_BCD_DIGITS.index(d) for d in digits]
    if len(nibbles) % 2:
        nibbles.append(0xF)
    return bytes(nibbles[i] | (nibbles[i + 1] << 4) for i in range(0, len(nibbles), 2))


def _bcd_decode(data: bytes, ndigits: int) -> str:
    out: list[str] = []
    for octet in data:
        for nibble in (octet & 0x0F, octet >> 4):
            if len(out) < ndigits and nibble != 0xF:
                out.append(_BCD_DIGITS[nibble])
    return "".join(out)


def _split_number(number: str, what: str) -> tuple[int, str]:
    """(type of address, digits) for a dialable number; alphanumeric is refused."""
    international = number.startswith("+")
    digits = number[1:] if international else number
    if not digits or not all(d in "0123456789*#" for d in digits):
        raise InvalidNumber(f"{what} {number!r} is not a phone number (digits, optionally after '+')")
    if len(digits) > 20:
        raise InvalidNumber(f"{what} {number!r} has {len(digits)} digits, at most 20 fit")
    return (0x91 if international else 0x81), digits


def _encode_address(number: str, what: str, *, allow_alphanumeric: bool = False) -> bytes:
    """TP-DA / TP-OA / TP-RA: digit count, type of address, BCD digits."""
    try:
        toa, digits = _split_number(number, what)
    except InvalidNumber:
        if not (allow_alphanumeric and number and is_gsm7(number)):
            raise
        septets = to_septets(number)
        if len(septets) > 11:
            raise InvalidNumber(f"{what} {number!r} is longer than 11 GSM characters") from None
        packed = pack_septets(septets)
        # The length counts useful semi-octets of the packed septets.
        return bytes([(len(septets) * 7 + 3) // 4, 0xD0]) + packed
    return bytes([len(digits), toa]) + _bcd_encode(digits)


def _encode_smsc(smsc: str | None) -> bytes:
    if not smsc:
        return b"\x00"  # use the SMSC stored on the SIM
    toa, digits = _split_number(smsc, "SMSC")
    body = bytes([toa]) + _bcd_encode(digits)
    return bytes([len(body)]) + body


_TON_NAMES = {1: "international", 2: "national", 5: "alphanumeric"}


# --------------------------------------------------------------------------
# Timestamps (TP-SCTS, TP-DT, absolute TP-VP)


# Two-digit years: 90-99 are 1990-1999 (old phones and published examples), 00-89 are 2000-2089.
_CENTURY_PIVOT = 90


def _swap_bcd(value: int) -> int:
    return (value % 10) << 4 | (value // 10)


def _encode_timestamp(when: datetime, what: str) -> bytes:
    offset = when.utcoffset()
    if offset is None:
        raise PduError(f"{what} must be timezone-aware, got {when!r}")
    if not 1900 + _CENTURY_PIVOT <= when.year < 2000 + _CENTURY_PIVOT:
        raise PduError(f"{what} year {when.year} does not fit two digits (1990-2089)")
    seconds = int(offset.total_seconds())
    if seconds % 900 or abs(seconds) // 900 > 79:
        raise PduError(f"{what} UTC offset {offset} is not a whole number of quarter hours up to 19:45")
    quarters = abs(seconds) // 900
    zone = _swap_bcd(quarters) | (0x08 if seconds < 0 else 0)
    fields = (when.year % 100, when.month, when.day, when.hour, when.minute, when.second)
    return bytes(_swap_bcd(v) for v in fields) + bytes([zone])


def _decode_timestamp(data: bytes, where: str) -> datetime:
    digits = []
    for i, octet in enumerate(data[:6]):
        low, high = octet & 0x0F, octet >> 4
        if low > 9 or high > 9:
            raise PduError(f"{where}: octet {i} ({octet:02X}) is not two decimal digits")
        digits.append(low * 10 + high)
    zone = data[6]
    tens, units = zone & 0x07, zone >> 4
    if units > 9:
        raise PduError(f"{where}: time zone octet {zone:02X} is not decimal")
    quarters = tens * 10 + units
    sign = -1 if zone & 0x08 else 1
    year, month, day, hour, minute, second = digits
    try:
        tz = timezone(timedelta(minutes=sign * 15 * quarters))
        century = 1900 if year >= _CENTURY_PIVOT else 2000
        return datetime(century + year, month, day, hour, minute, second, tzinfo=tz)
    except ValueError as exc:
        raise PduError(f"{where}: invalid date/time {data.hex().upper()}: {exc}") from None


# --------------------------------------------------------------------------
# Validity period (TS 23.040 9.2.3.12.1)


def _relative_vp_minutes(vp: int) -> int:
    if vp <= 143:
        return (vp + 1) * 5
    if vp <= 167:
        return 12 * 60 + (vp - 143) * 30
    if vp <= 196:
        return (vp - 166) * 24 * 60
    return (vp - 192) * 7 * 24 * 60


def _relative_vp(minutes: int) -> int:
    """The shortest relative TP-VP lasting at least ``minutes`` (capped at 63 weeks)."""
    if minutes <= 0:
        raise PduError(f"validity must be a positive number of minutes, got {minutes}")
    for vp in range(256):
        if _relative_vp_minutes(vp) >= minutes:
            return vp
    return 255


# --------------------------------------------------------------------------
# Data coding scheme (TS 23.038 4)


def _dcs_encoding(dcs: int) -> str:
    """The payload's encoding. Reserved values fall back to GSM 7-bit as 23.038 says; compressed
    text (23.042) is kept as 8-bit octets, since nobody implements the compression."""
    group = dcs >> 4
    if group <= 0x7:  # general data coding, with or without automatic deletion
        if dcs & 0x20:
            return "8bit"
        return {0: "gsm7", 1: "8bit", 2: "ucs2"}.get((dcs >> 2) & 0x03, "gsm7")
    if group == 0xE:  # message waiting indication, UCS2
        return "ucs2"
    if group == 0xF:  # data coding / message class
        return "8bit" if dcs & 0x04 else "gsm7"
    return "gsm7"


def decode_payload(encoding: str, payload: bytes) -> str:
    """Text of a part's payload as kept in ``DeliverPdu.payload``.

    Exposed so that reassembly can decode contiguous parts together: phones
    sometimes cut a surrogate pair or an escape pair between two parts.
    """
    if encoding == "gsm7":
        return septets_to_text(payload)
    if encoding == "ucs2":
        return payload.decode("utf-16-be", errors="replace")
    return payload.hex().upper()


# --------------------------------------------------------------------------
# Decoded forms


@dataclass
class SubmitPdu:
    hex: str  # full PDU for AT+CMGS in PDU mode, SMSC octets included
    tpdu_length: int  # the <length> of AT+CMGS=<length>: octets after the SMSC part


@dataclass
class DeliverPdu:
    """A decoded SMS-DELIVER (one part of a message)."""

    sender: str
    sender_type: str  # international | national | unknown | alphanumeric
    text: str
    encoding: str  # gsm7 | ucs2 | 8bit (text is then the payload in hex)
    smsc: str
    smsc_time: datetime
    concat: tuple[int, int, int] | None  # (reference, total, sequence)
    pid: int
    dcs: int
    # gsm7: one septet value per byte; ucs2: UTF-16-BE octets; 8bit: raw octets. UDH excluded.
    payload: bytes = b""
    udh: bytes = b""  # the user data header as received, without its length octet
    hex: str = ""  # the PDU given to decode() (upper case, no spaces): nothing the citizen sent is lost


@dataclass
class StatusReportPdu:
    """A decoded SMS-STATUS-REPORT."""

    reference: int  # TP-MR of the submitted part this reports on
    recipient: str
    status: int  # TP-ST
    delivered: bool
    final: bool
    smsc_time: datetime
    discharge_time: datetime
    smsc: str


@dataclass
class SubmitDecoded:
    """A decoded SMS-SUBMIT: what a phone, Gammu or our driver handed the network."""

    recipient: str
    recipient_type: str
    text: str
    encoding: str
    concat: tuple[int, int, int] | None
    message_reference: int
    status_report_requested: bool
    # None (no TP-VP), minutes (relative), a datetime (absolute) or "enhanced:<hex>".
    validity: int | datetime | str | None
    smsc: str
    pid: int
    dcs: int
    reject_duplicates: bool = False
    payload: bytes = b""
    udh: bytes = b""


def status_delivered(status: int) -> bool:
    """TS 23.040 9.2.3.15: 0x00-0x1F, short message transaction completed."""
    return status <= 0x1F


def status_final(status: int) -> bool:
    """False only for 0x20-0x3F, temporary error with the SMSC still trying."""
    return not 0x20 <= status <= 0x3F


# --------------------------------------------------------------------------
# Decoding


class _Reader:
    """Walks the PDU octets and names the field that ran out."""

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise PduError(
                f"truncated at octet {self.pos}: {what} needs {n} octet(s), {len(self.data) - self.pos} left"
            )
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def octet(self, what: str) -> int:
        return self.take(1, what)[0]


def _read_smsc(reader: _Reader) -> str:
    length = reader.octet("SMSC length")
    if length == 0:
        return ""
    body = reader.take(length, "SMSC address")
    toa, digits = body[0], body[1:]
    number = _bcd_decode(digits, 2 * len(digits))
    return ("+" + number) if (toa >> 4) & 0x07 == 1 and number else number


def _read_address(reader: _Reader, what: str) -> tuple[str, str]:
    ndigits = reader.octet(f"{what} length")
    toa = reader.octet(f"{what} type")
    body = reader.take((ndigits + 1) // 2, what)
    ton = (toa >> 4) & 0x07
    kind = _TON_NAMES.get(ton, "unknown")
    if kind == "alphanumeric":
        septets = unpack_septets(body, ndigits * 4 // 7)
        return septets_to_text(septets), kind
    digits = _bcd_decode(body, ndigits)
    return (("+" + digits) if kind == "international" and digits else digits), kind


def _parse_udh(udh: bytes) -> tuple[int, int, int] | None:
    """Concatenation (reference, total, sequence) from the information elements, if any."""
    concat = None
    i = 0
    while i < len(udh):
        if i + 2 > len(udh):
            raise PduError(f"user data header: information element at {i} has no length octet")
        iei, length = udh[i], udh[i + 1]
        data = udh[i + 2 : i + 2 + length]
        if len(data) < length:
            raise PduError(f"user data header: element {iei:02X} at {i} says {length} octets, {len(data)} left")
        if iei == 0x00 and length == 3:
            ref, total, seq = data[0], data[1], data[2]
        elif iei == 0x08 and length == 4:
            ref, total, seq = (data[0] << 8) | data[1], data[2], data[3]
        else:
            ref = total = seq = 0
        # 23.040 9.2.3.24.1: an element with a zero or impossible count is ignored.
        if total and 1 <= seq <= total:
            concat = (ref, total, seq)
        i += 2 + length
    return concat


def _read_user_data(reader: _Reader, udhi: bool, encoding: str) -> tuple[bytes, bytes, tuple[int, int, int] | None]:
    """(udh without its length octet, payload, concat) from TP-UDL and TP-UD."""
    udl = reader.octet("user data length")
    octets = (udl * 7 + 7) // 8 if encoding == "gsm7" else udl
    ud = reader.take(octets, "user data")  # anything after it is ignored on purpose
    udh_octets = 0
    udh = b""
    if udhi:
        if not ud:
            raise PduError("user data header indicated but user data is empty")
        udh_octets = ud[0] + 1
        if udh_octets > len(ud):
            raise PduError(f"user data header length {ud[0]} exceeds the {len(ud)} octets of user data")
        udh = ud[1:udh_octets]
    concat = _parse_udh(udh)
    if encoding == "gsm7":
        header_septets = (udh_octets * 8 + 6) // 7
        nseptets = udl - header_septets
        if nseptets < 0:
            raise PduError(f"user data length {udl} septets is shorter than its {udh_octets}-octet header")
        fill = header_septets * 7 - udh_octets * 8
        payload = unpack_septets(ud[udh_octets:], nseptets, fill)
    else:
        payload = ud[udh_octets:]
    return udh, payload, concat


def _decode_deliver(reader: _Reader, first: int, smsc: str) -> DeliverPdu:
    sender, sender_type = _read_address(reader, "originating address")
    pid = reader.octet("protocol identifier")
    dcs = reader.octet("data coding scheme")
    smsc_time = _decode_timestamp(reader.take(7, "service centre time stamp"), "service centre time stamp")
    encoding = _dcs_encoding(dcs)
    udh, payload, concat = _read_user_data(reader, bool(first & 0x40), encoding)
    return DeliverPdu(
        sender=sender,
        sender_type=sender_type,
        text=decode_payload(encoding, payload),
        encoding=encoding,
        smsc=smsc,
        smsc_time=smsc_time,
        concat=concat,
        pid=pid,
        dcs=dcs,
        payload=payload,
        udh=udh,
    )


def _decode_status_report(reader: _Reader, smsc: str) -> StatusReportPdu:
    reference = reader.octet("message reference")
    recipient, _ = _read_address(reader, "recipient address")
    smsc_time = _decode_timestamp(reader.take(7, "service centre time stamp"), "service centre time stamp")
    discharge = _decode_timestamp(reader.take(7, "discharge time"), "discharge time")
    status = reader.octet("status")
    # Optional parameters (PI, PID, DCS, UD) follow; nothing here needs them.
    return StatusReportPdu(
        reference=reference,
        recipient=recipient,
        status=status,
        delivered=status_delivered(status),
        final=status_final(status),
        smsc_time=smsc_time,
        discharge_time=discharge,
        smsc=smsc,
    )


def _decode_submit(reader: _Reader, first: int, smsc: str) -> SubmitDecoded:
    reference = reader.octet("message reference")
    recipient, recipient_type = _read_address(reader, "destination address")
    pid = reader.octet("protocol identifier")
    dcs = reader.octet("data coding scheme")
    vpf = (first >> 3) & 0x03
    validity: int | datetime | str | None = None
    if vpf == 0b10:
        validity = _relative_vp_minutes(reader.octet("validity period"))
    elif vpf == 0b11:
        validity = _decode_timestamp(reader.take(7, "validity period"), "absolute validity period")
    elif vpf == 0b01:
        validity = "enhanced:" + reader.take(7, "validity period").hex().upper()
    encoding = _dcs_encoding(dcs)
    udh, payload, concat = _read_user_data(reader, bool(first & 0x40), encoding)
    return SubmitDecoded(
        recipient=recipient,
        recipient_type=recipient_type,
        text=decode_payload(encoding, payload),
        encoding=encoding,
        concat=concat,
        message_reference=reference,
        status_report_requested=bool(first & 0x20),
        validity=validity,
        smsc=smsc,
        pid=pid,
        dcs=dcs,
        reject_duplicates=bool(first & 0x04),
        payload=payload,
        udh=udh,
    )


def _has_smsc_field(data: bytes, tpdu_length: int) -> bool:
    if len(data) == tpdu_length:
        return False
    if data and len(data) == tpdu_length + 1 + data[0]:
        return True
    raise PduError(f"the modem announced {tpdu_length} TPDU octets, the PDU has {len(data)} octets in all")


def decode(
    hex_pdu: str, *, with_smsc: bool = True, tpdu_length: int | None = None
) -> DeliverPdu | StatusReportPdu | SubmitDecoded:
    """Decode a PDU in hex as a modem lists it (``+CMGL``/``+CMGR``/``+CMT``/``+CDS``).

    ``with_smsc=False`` for PDUs without the leading SMSC field. Better, pass
    the ``<length>`` the modem printed before the PDU as ``tpdu_length``: it
    counts the octets after the SMSC field, which tells whether there is one
    (modems differ on ``+CDS``). Raises :class:`PduError` only.
    """
    if not isinstance(hex_pdu, str):
        raise PduError(f"PDU must be a hex string, got {type(hex_pdu).__name__}")
    cleaned = "".join(hex_pdu.split())
    if len(cleaned) % 2:
        raise PduError(f"PDU has an odd number of hex digits ({len(cleaned)})")
    try:
        data = bytes.fromhex(cleaned)
    except ValueError:
        raise PduError("PDU is not hexadecimal") from None
    if tpdu_length is not None:
        with_smsc = _has_smsc_field(data, tpdu_length)
    reader = _Reader(data)
    smsc = _read_smsc(reader) if with_smsc else ""
    first = reader.octet("first octet")
    mti = first & 0x03
    if mti == 0b00:
        deliver = _decode_deliver(reader, first, smsc)
        deliver.hex = cleaned.upper()
        return deliver
    if mti == 0b10:
        return _decode_status_report(reader, smsc)
    if mti == 0b01:
        return _decode_submit(reader, first, smsc)
    raise PduError(f"first octet {first:02X} at {reader.pos - 1}: message type 3 is reserved")


# --------------------------------------------------------------------------
# Encoding


def _user_data(encoding: str, segment: str, udh: bytes) -> tuple[int, bytes]:
    """(TP-UDL, TP-UD) for one part; ``udh`` includes its length octet (or is empty)."""
    if encoding == "gsm7":
        septets = to_septets(segment)
        header_septets = (len(udh) * 8 + 6) // 7
        fill = header_septets * 7 - len(udh) * 8
        return header_septets + len(septets), udh + pack_septets(septets, fill)
    try:
        body = udh + segment.encode("utf-16-be")
    except UnicodeEncodeError as exc:
        raise PduError(f"text has a lone surrogate at {exc.start}: not a character, cannot be sent") from None
    return len(body), body


def _concat_udh(reference: int, total: int, sequence: int, ref16: bool) -> bytes:
    if total == 1:
        return b""
    if ref16:
        return bytes([6, 0x08, 4, reference >> 8, reference & 0xFF, total, sequence])
    return bytes([5, 0x00, 3, reference, total, sequence])


def _check_reference(reference: int, ref16: bool) -> None:
    limit = 0xFFFF if ref16 else 0xFF
    if not 0 <= reference <= limit:
        raise PduError(f"concatenation reference {reference} outside 0..{limit}")


def _parts(text: str, ref16: bool) -> tuple[str, list[str]]:
    encoding, segments = split(text, ref16=ref16)
    if len(segments) > 255:
        raise PduError(f"text needs {len(segments)} parts, at most 255 can be concatenated")
    return encoding, segments


def encode_submit(
    number: str,
    text: str,
    *,
    status_report: bool = False,
    validity: str | int | None = "max",
    concat_reference: int = 0,
    ref16: bool = False,
    smsc: str | None = None,
    message_reference: int = 0,
) -> list[SubmitPdu]:
    """SMS-SUBMIT PDUs for ``text`` to ``number``, one per part.

    ``validity``: "max" (63 weeks), minutes (rounded up to the next relative
    TP-VP step) or None (no TP-VP). Part *i* gets message reference
    ``message_reference + i`` modulo 256 (most modems substitute their own).
    """
    destination = _encode_address(number, "recipient")
    _check_reference(concat_reference, ref16)
    if not 0 <= message_reference <= 255:
        raise PduError(f"message reference {message_reference} outside 0..255")
    if validity == "max":
        vp: bytes = b"\xff"
    elif validity is None:
        vp = b""
    elif isinstance(validity, int) and not isinstance(validity, bool):
        vp = bytes([_relative_vp(validity)])
    else:
        raise PduError(f"validity must be 'max', minutes or None, got {validity!r}")
    smsc_part = _encode_smsc(smsc)
    encoding, segments = _parts(text, ref16)
    dcs = 0x00 if encoding == "gsm7" else 0x08
    pdus: list[SubmitPdu] = []
    for index, segment in enumerate(segments):
        udh = _concat_udh(concat_reference, len(segments), index + 1, ref16)
        first = 0x01 | (0x10 if vp else 0) | (0x20 if status_report else 0) | (0x40 if udh else 0)
        udl, ud = _user_data(encoding, segment, udh)
        tpdu = (
            bytes([first, (message_reference + index) & 0xFF])
            + destination
            + bytes([0x00, dcs])
            + vp
            + bytes([udl])
            + ud
        )
        pdus.append(SubmitPdu(hex=(smsc_part + tpdu).hex().upper(), tpdu_length=len(tpdu)))
    return pdus


def _default_smsc_time() -> datetime:
    return datetime.now(timezone(timedelta(hours=7))).replace(microsecond=0)


def encode_deliver(
    sender: str,
    text: str,
    *,
    smsc_time: datetime | None = None,
    smsc: str = "+62816124",
    concat_reference: int = 0,
    ref16: bool = False,
) -> list[str]:
    """SMS-DELIVER PDUs (hex, SMSC included) as a network would hand them to a modem.

    ``sender`` "+62..." is international, other digits unknown type, and any
    other GSM text (at most 11 characters) an alphanumeric sender.
    """
    origin = _encode_address(sender, "sender", allow_alphanumeric=True)
    _check_reference(concat_reference, ref16)
    stamp = _encode_timestamp(smsc_time or _default_smsc_time(), "smsc_time")
    smsc_part = _encode_smsc(smsc)
    encoding, segments = _parts(text, ref16)
    dcs = 0x00 if encoding == "gsm7" else 0x08
    pdus: list[str] = []
    for index, segment in enumerate(segments):
        udh = _concat_udh(concat_reference, len(segments), index + 1, ref16)
        first = 0x04 | (0x40 if udh else 0)  # TP-MMS set: no more messages waiting
        udl, ud = _user_data(encoding, segment, udh)
        tpdu = bytes([first]) + origin + bytes([0x00, dcs]) + stamp + bytes([udl]) + ud
        pdus.append((smsc_part + tpdu).hex().upper())
    return pdus


def encode_status_report(
    reference: int,
    recipient: str,
    *,
    status: int = 0,
    smsc_time: datetime,
    discharge_time: datetime,
    smsc: str = "+62816124",
) -> str:
    """An SMS-STATUS-REPORT (hex, SMSC included) for the part with TP-MR ``reference``."""
    if not 0 <= reference <= 255:
        raise PduError(f"message reference {reference} outside 0..255")
    if not 0 <= status <= 255:
        raise PduError(f"status {status} outside 0..255")
    tpdu = (
        bytes([0x06, reference])  # SMS-STATUS-REPORT, TP-MMS set
        + _encode_address(recipient, "recipient")
        + _encode_timestamp(smsc_time, "smsc_time")
        + _encode_timestamp(discharge_time, "discharge_time")
        + bytes([status])
    )
    return (_encode_smsc(smsc) + tpdu).hex().upper()
