"""How many SMS parts a text needs, and where it is cut (3GPP TS 23.040 9.2.3.24.1).

:func:`count` and :func:`split` decide the encoding (GSM 7-bit when every
character is in the default alphabet or its extension table, else UCS2) and
cut the text into parts: 160 septets / 70 UTF-16 units in a single part,
153 / 67 per part of a long message (the concatenation header takes 6 octets;
152 / 66 with a 16-bit reference). :func:`modemd.sms.tpdu.encode_submit`
sends exactly these parts, so the count the officials see is what leaves.

A part boundary never cuts an *atom*: a character (so escape pairs and
surrogate pairs stay whole) with the combining marks after it (up to
``_MAX_ATOM_UNITS``), or a flag's two regional indicators -- as Gammu does, so
each part shows whole letters and flags even where reassembly fails.

webui/static/smscount.js is this module in JavaScript, for the reply box;
tests/test_smscount_js.py compares the two on thousands of texts under node,
so a change here needs the same change there.
"""

from __future__ import annotations

from dataclasses import dataclass

from .gsm7 import CHAR_TO_SEPTETS, is_gsm7

__all__ = ["SmsCount", "count", "split"]


_GSM7_SINGLE = 160
_UCS2_SINGLE = 70  # UTF-16 code units
_MAX_ATOM_UNITS = 8  # longest letter-plus-marks kept in one part


def _udh_concat_octets(ref16: bool) -> int:
    # UDHL + IE id + IE length + ref (1 or 2) + total + sequence
    return 7 if ref16 else 6


def _per_part(encoding: str, multipart: bool, ref16: bool) -> int:
    if not multipart:
        return _GSM7_SINGLE if encoding == "gsm7" else _UCS2_SINGLE
    free_octets = 140 - _udh_concat_octets(ref16)
    return free_octets * 8 // 7 if encoding == "gsm7" else free_octets // 2


def _char_units(char: str, encoding: str) -> int:
    if encoding == "gsm7":
        return len(CHAR_TO_SEPTETS[char])
    return 2 if ord(char) > 0xFFFF else 1


@dataclass(frozen=True)
class SmsCount:
    """What the web UI shows under the reply box, and how many parts the queue sends."""

    encoding: str  # "gsm7" | "ucs2"
    chars: int  # code points; an emoji is 1
    units: int  # septets (gsm7, extension characters 2) or UTF-16 code units (ucs2)
    parts: int  # SMS parts needed
    per_part: int  # capacity of each part in units
    remaining: int  # units left in the last part


def _is_regional_indicator(char: str) -> bool:
    return "\U0001f1e6" <= char <= "\U0001f1ff"


# The combining diacritical mark blocks (the ranges Gammu also keeps with their
# letter); plain code point ranges so that the web UI's counter can use the same.
_COMBINING_RANGES = (
    ("\u0300", "\u036f"),
    ("\u1ab0", "\u1aff"),
    ("\u1dc0", "\u1dff"),
    ("\u20d0", "\u20ff"),
    ("\ufe20", "\ufe2f"),
)


def _is_combining_mark(char: str) -> bool:
    return any(low <= char <= high for low, high in _COMBINING_RANGES)


def _atoms(text: str, encoding: str) -> list[tuple[int, int]]:
    """(start index, units) of the pieces a part boundary may not cut: a
    character (so escape and surrogate pairs stay whole) with the combining
    marks after it, or a flag's two regional indicators -- as Gammu does, so
    each part shows whole letters and flags even where reassembly fails."""
    atoms: list[tuple[int, int]] = []
    i = 0
    while i < len(text):
        end = i + 1
        if _is_regional_indicator(text[i]) and end < len(text) and _is_regional_indicator(text[end]):
            end += 1
        units = sum(_char_units(c, encoding) for c in text[i:end])
        # Marks stay with their letter; a runaway string of marks may still be cut.
        while end < len(text) and _is_combining_mark(text[end]) and units < _MAX_ATOM_UNITS:
            units += _char_units(text[end], encoding)
            end += 1
        atoms.append((i, units))
        i = end
    return atoms


def _segments(text: str, encoding: str, ref16: bool) -> tuple[int, list[str], list[int]]:
    atoms = _atoms(text, encoding)
    total = sum(units for _, units in atoms)
    if total <= _per_part(encoding, False, ref16):
        return _per_part(encoding, False, ref16), [text], [total]
    capacity = _per_part(encoding, True, ref16)
    segments: list[str] = []
    used_units: list[int] = []
    start = used = 0
    for i, cost in atoms:
        if used and used + cost > capacity:
            segments.append(text[start:i])
            used_units.append(used)
            start, used = i, 0
        used += cost
    segments.append(text[start:])
    used_units.append(used)
    return capacity, segments, used_units


def count(text: str, *, ref16: bool = False) -> SmsCount:
    """Encoding, size and number of parts of ``text`` as :func:`encode_submit` will send it."""
    encoding = "gsm7" if is_gsm7(text) else "ucs2"
    per_part, segments, used = _segments(text, encoding, ref16)
    return SmsCount(
        encoding=encoding,
        chars=len(text),
        units=sum(used),
        parts=len(segments),
        per_part=per_part,
        remaining=per_part - used[-1],
    )


def split(text: str, *, ref16: bool = False) -> tuple[str, list[str]]:
    """(encoding, segments): the text of each part. An empty text is one empty part."""
    encoding = "gsm7" if is_gsm7(text) else "ucs2"
    return encoding, _segments(text, encoding, ref16)[1]
