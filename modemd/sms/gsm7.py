"""The GSM 03.38 default alphabet (3GPP TS 23.038 6.2.1) and septet packing.

* :data:`DEFAULT_ALPHABET` -- index = septet value; 0x1B is the escape to
  :data:`EXTENSION_TABLE`, not a character. An extension character costs two
  septets (escape + code): :data:`CHAR_TO_SEPTETS` holds each character's
  septets, which is also what the segment counter charges for it.
* :func:`is_gsm7` -- whether a text can go as GSM 7-bit (else UCS2).
* :func:`to_septets` / :func:`septets_to_text` -- text to septet values and
  back. Decoding is lenient as 23.038 asks: an escape before an unknown code
  shows the basic character, a dangling escape at the end shows a space.
* :func:`pack_septets` / :func:`unpack_septets` -- septets packed LSB first,
  after the fill bits that align them behind a user data header.
* :func:`pack_gsm7` / :func:`unpack_gsm7` -- packed text with no header and no
  stated length, as USSD carries it.
"""

from __future__ import annotations

from .errors import PduError

__all__ = [
    "DEFAULT_ALPHABET",
    "EXTENSION_TABLE",
    "CHAR_TO_SEPTETS",
    "is_gsm7",
    "to_septets",
    "septets_to_text",
    "pack_septets",
    "unpack_septets",
    "pack_gsm7",
    "unpack_gsm7",
]

# Index = septet value. 0x1B is the escape to the extension table, not a character.
DEFAULT_ALPHABET = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_ESC = 0x1B
EXTENSION_TABLE = {
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}

CHAR_TO_SEPTETS: dict[str, tuple[int, ...]] = {c: (i,) for i, c in enumerate(DEFAULT_ALPHABET) if i != _ESC}
CHAR_TO_SEPTETS.update({c: (_ESC, code) for code, c in EXTENSION_TABLE.items()})


def is_gsm7(text: str) -> bool:
    """True when every character of ``text`` is in the GSM 7-bit alphabet (basic or extension)."""
    return all(c in CHAR_TO_SEPTETS for c in text)


def to_septets(text: str) -> list[int]:
    """Septet values of ``text`` (extension characters as escape + code); PduError names a non-GSM character."""
    out: list[int] = []
    for position, char in enumerate(text):
        try:
            out.extend(CHAR_TO_SEPTETS[char])
        except KeyError:
            raise PduError(f"character {char!r} at {position} is not in the GSM 7-bit alphabet") from None
    return out


def septets_to_text(septets: bytes | list[int]) -> str:
    """Septet values to text. An escape before an unknown code shows the basic
    character (TS 23.038 6.2.1.1); a dangling escape at the end shows a space."""
    chars: list[str] = []
    i = 0
    while i < len(septets):
        value = septets[i] & 0x7F
        if value == _ESC:
            if i + 1 >= len(septets):
                chars.append(" ")
                break
            nxt = septets[i + 1] & 0x7F
            if nxt == _ESC:
                chars.append(" ")
            else:
                chars.append(EXTENSION_TABLE.get(nxt, DEFAULT_ALPHABET[nxt]))
            i += 2
            continue
        chars.append(DEFAULT_ALPHABET[value])
        i += 1
    return "".join(chars)


def pack_septets(septets: list[int], fill_bits: int = 0) -> bytes:
    """Pack septets LSB first, after ``fill_bits`` zero bits (the padding after a UDH)."""
    bits = 0
    for i, septet in enumerate(septets):
        bits |= septet << (fill_bits + 7 * i)
    total_bits = fill_bits + 7 * len(septets)
    return bits.to_bytes((total_bits + 7) // 8, "little")


def unpack_septets(data: bytes, n: int, fill_bits: int = 0) -> bytes:
    """``n`` septet values (one per byte) packed in ``data`` after ``fill_bits`` bits."""
    bits = int.from_bytes(data, "little") >> fill_bits
    return bytes((bits >> (7 * i)) & 0x7F for i in range(n))


def pack_gsm7(text: str) -> bytes:
    """``text`` as packed GSM 7-bit octets with no header (USSD requests and answers)."""
    return pack_septets(to_septets(text))


def unpack_gsm7(data: bytes) -> str:
    """Text of packed GSM 7-bit octets with no header and no stated length (USSD).

    When the septets fill the last octet exactly, a trailing CR is padding,
    not a character (TS 23.038 6.1.2.3.1); a trailing @ (zero bits) likewise.
    """
    septets = unpack_septets(data, len(data) * 8 // 7)
    if len(data) % 7 == 0 and septets and septets[-1] in (0x00, 0x0D):
        septets = septets[:-1]
    return septets_to_text(septets)
