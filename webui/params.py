"""Every number, id and date a request carries is read here, strictly.

``str.isdigit()`` accepts "²" and ``int()`` accepts "٣", "+5", " 7" and
"1_000"; a 30-digit id overflows the database driver. So: ASCII digits only,
within bounds, and anything else is a 400 (:func:`abort`), never a 500 further
down. Views call the ``arg_*``/``form_*`` readers; the ``parse_*`` functions
raise :class:`BadParameter` for code that wants to decide itself.
"""

from __future__ import annotations

import re
from datetime import date

from flask import abort, request

MAX_ID = 2**63 - 1  # the largest id every supported database stores
_DIGITS = re.compile(r"[0-9]{1,19}")  # ASCII only: [0-9], never \d
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
FIRST_YEAR, LAST_YEAR = 2000, 2099  # dates a centre works with; beyond them date arithmetic overflows


class BadParameter(ValueError):
    pass


def parse_int(text: str, minimum: int = 0, maximum: int = MAX_ID) -> int:
    if not isinstance(text, str) or not _DIGITS.fullmatch(text):
        raise BadParameter(f"expected a number, not {text[:20]!r}")
    value = int(text)
    if not minimum <= value <= maximum:
        raise BadParameter(f"expected a number from {minimum} to {maximum}")
    return value


def parse_id(text: str) -> int:
    """A row id: 1 .. 2**63-1, written in ASCII digits."""
    return parse_int(text, 1, MAX_ID)


def parse_date(text: str) -> date:
    """``YYYY-MM-DD`` in ASCII digits, a real day between 2000 and 2099."""
    match = _DATE.fullmatch(text) if isinstance(text, str) else None
    if not match:
        raise BadParameter("expected a date YYYY-MM-DD")
    year, month, day = (int(part) for part in match.groups())
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise BadParameter(f"expected a year from {FIRST_YEAR} to {LAST_YEAR}")
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise BadParameter(str(exc)) from None


def _or_400(parse, text: str, *bounds):
    try:
        return parse(text, *bounds)
    except BadParameter:
        abort(400)


def arg_id(name: str) -> int | None:
    """``?name=`` as an id; None when absent or empty; 400 when malformed."""
    text = request.args.get(name, "")
    return _or_400(parse_id, text) if text else None


def arg_int(name: str, default: int, minimum: int, maximum: int) -> int:
    text = request.args.get(name, "")
    return _or_400(parse_int, text, minimum, maximum) if text else default


def form_id(name: str) -> int | None:
    text = request.form.get(name, "").strip()
    return _or_400(parse_id, text) if text else None


def form_ids(name: str) -> set[int]:
    """Every ``name`` field of the form as ids (check boxes); 400 if any is malformed."""
    return {_or_400(parse_id, text) for text in request.form.getlist(name)}
