"""A SIM's credit (pulsa) and active period, read from the operator's USSD reply, and when to warn.

Indonesian operators answer a balance code (``*888#``, ``*123#``...) in free
text that differs per operator and changes with their promotions::

    Sisa Pulsa Rp12.345. Masa Aktif s.d. 31-12-2026. Info promo *363#     (Telkomsel)
    Pulsa Rp4.725 Aktif s/d 12/10/2026. Tenggang s/d 11/11/2026            (Indosat)
    Pulsa Anda Rp 10.000, aktif s.d 15-Mar-2027                            (XL)

:func:`parse` is tolerant: the amount is the one after the word *pulsa*
(else the first ``Rp``/``IDR`` amount), thousands separated by ``.`` or ``,``,
an optional decimal part (``Rp 10.550,00``) or ``rb`` (ribu); the active date
is the first date after *aktif* / *berlaku* (not the grace period, *masa
tenggang*, that follows it), as ``31-12-2026``, ``31/12/26``, ``2026-12-31``
or ``12 Jan 2027`` (Indonesian or English month names). Only ASCII digits are
read: a reply that does not say a figure plainly gives ``None``, never a guess.

:func:`warnings` says which problems a reading shows: credit below the
``balance_low`` mark, or an active period that ends within :data:`ACTIVE_WARN`.
The worker warns once per episode: the problems already warned about are kept
in ``ModemStatus.balance_warning`` (so a restart does not warn again), and a
problem that cleared and comes back is a new episode.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum

#: an active period ending this soon (or already ended) is warned about
ACTIVE_WARN = timedelta(days=7)


class BalanceProblem(str, Enum):  # noqa: UP042 (str() and format() of a StrEnum differ: kept as written)
    LOW = "low"  # credit below [modem:NAME] balance_low
    EXPIRING = "expiring"  # the SIM's active period ends within ACTIVE_WARN


@dataclass(frozen=True)
class Balance:
    """What an operator's reply says: credit in rupiah and the last active day, each None when unclear."""

    amount: int | None
    active_until: date | None


# digits with "." or "," between them, not part of a code (*888#); "rb" (ribu) means thousands
_AMOUNT = r"(?<![*#0-9])([0-9](?:[0-9]|[.,](?=[0-9]))*)(?:\s*(rb|ribu|k)(?![a-z]))?"
_CURRENCY = r"(?:rp|idr)\s*\.?\s*"
# the amount named "pulsa": "Sisa pulsa Anda Rp 12.345", "Pulsa: Rp5.000", "Pulsa utama 7500"
# (only such filler words between, so that "cek pulsa ketik *888#" names no amount)
_PULSA_FILLER = r"(?:\s*(?:anda|kamu|utama|reguler|regular|saat\s+ini|adalah|sebesar|sisa|tersisa|[:=]))*\s*"
_PULSA_AMOUNT = re.compile(r"\bpulsa\b" + _PULSA_FILLER + "(?:" + _CURRENCY + ")?" + _AMOUNT, re.IGNORECASE | re.ASCII)
_ANY_AMOUNT = re.compile(_CURRENCY + _AMOUNT, re.IGNORECASE | re.ASCII)
_ACTIVE_WORD = re.compile(r"\b(?:aktif|active|berlaku|valid)\b", re.IGNORECASE | re.ASCII)
_UNTIL_WORD = re.compile(r"(?:\bs\s*[./]\s*d\b\.?|\bsd\b|\bhingga\b|\bsampai\b|\buntil\b)", re.IGNORECASE | re.ASCII)

_MONTHS = {
    "jan": 1,
    "feb": 2,
    "peb": 2,
    "mar": 3,
    "apr": 4,
    "mei": 5,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "agu": 8,
    "agt": 8,
    "ags": 8,
    "aug": 8,
    "sep": 9,
    "okt": 10,
    "oct": 10,
    "nov": 11,
    "nop": 11,
    "des": 12,
    "dec": 12,
}
_NUMERIC_DATE = re.compile(r"\b([0-9]{1,2})[-/.]([0-9]{1,2})[-/.]([0-9]{4}|[0-9]{2})\b", re.ASCII)
_ISO_DATE = re.compile(r"\b([0-9]{4})-([0-9]{2})-([0-9]{2})\b", re.ASCII)
_NAMED_DATE = re.compile(
    r"\b([0-9]{1,2})[\s\-/.]*([a-z]{3})[a-z]*\.?[\s\-/.]*([0-9]{4}|[0-9]{2})\b", re.IGNORECASE | re.ASCII
)
#: how far after "aktif" the date may stand ("Masa aktif kartu Anda s/d tanggal 20 Des 2026")
_DATE_REACH = 45


def parse(text: str | None) -> Balance:
    """Credit and active date from an operator's reply; see the module docstring."""
    text = text or ""
    return Balance(_amount(text), _active_until(text))


def _amount(text: str) -> int | None:
    match = _PULSA_AMOUNT.search(text) or _ANY_AMOUNT.search(text)
    if match is None:
        return None
    digits, thousands = match.group(1), match.group(2)
    # thousands come in groups of three: a last group of one or two digits is cents ("10.550,00")
    digits = re.sub(r"[.,][0-9]{1,2}$", "", digits)
    value = int(re.sub(r"[.,]", "", digits))
    return value * 1000 if thousands else value


def _active_until(text: str) -> date | None:
    for word in (_ACTIVE_WORD, _UNTIL_WORD):
        for match in word.finditer(text):
            found = _first_date(text[match.end() : match.end() + _DATE_REACH])
            if found is not None:
                return found
    return None


def _first_date(text: str) -> date | None:
    candidates = []
    for pattern, order in ((_ISO_DATE, "ymd"), (_NUMERIC_DATE, "dmy"), (_NAMED_DATE, "dmy")):
        match = pattern.search(text)
        if match is not None:
            candidates.append((match.start(), match, order))
    for _start, match, order in sorted(candidates, key=lambda c: c[0]):
        found = _date_of(match, order)
        if found is not None:
            return found
    return None


def _date_of(match: re.Match, order: str) -> date | None:
    first, second, third = match.groups()
    if order == "ymd":
        year, month, day = int(first), int(second), int(third)
    else:
        day, year = int(first), int(third)
        month = int(second) if second.isdigit() else _MONTHS.get(second.lower(), 0)
        if year < 100:
            year += 2000
    try:
        return date(year, month, day)
    except ValueError:
        return None


def warnings(balance: Balance, low: int, today: date) -> frozenset[BalanceProblem]:
    """The problems a reading shows: credit below ``low`` rupiah (0 = no mark), an active period ending soon."""
    found = set()
    if low and balance.amount is not None and balance.amount < low:
        found.add(BalanceProblem.LOW)
    if balance.active_until is not None and balance.active_until - today <= ACTIVE_WARN:
        found.add(BalanceProblem.EXPIRING)
    return frozenset(found)


def rupiah(amount: int) -> str:
    """12345 -> "Rp 12.345", the way Indonesians write it."""
    return "Rp " + f"{amount:,}".replace(",", ".")


def encode_problems(problems: frozenset[BalanceProblem] | set[BalanceProblem]) -> str | None:
    """The ModemStatus.balance_warning column: problems warned about, sorted words, or NULL for none."""
    return ",".join(sorted(p.value for p in problems)) or None


def decode_problems(value: str | None) -> frozenset[BalanceProblem]:
    known = {p.value for p in BalanceProblem}
    return frozenset(BalanceProblem(word) for word in (value or "").split(",") if word in known)
