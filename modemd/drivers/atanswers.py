"""Reading the information lines of AT answers: shared by the AT driver and ``modemd detect``.

Pure functions over the lines :meth:`ATLine.command` returns; no I/O.
"""

from __future__ import annotations

import re

from .base import StorageInfo


def info_value(lines: list[str]) -> str:
    """The value in an identity answer (AT+CGMI, +CGMM, +CGMR, +CGSN), with any ``+CGMI:`` style label cut."""
    for line in lines:
        text = re.sub(r"^(\+?[A-Z]+:\s*|Manufacturer:\s*|Model:\s*|Revision:\s*)", "", line).strip()
        if text:
            return text.strip('"')
    return ""


def sim_state(lines: list[str]) -> str:
    """``READY``, ``SIM PIN``, ... from an AT+CPIN? answer."""
    for line in lines:
        if line.upper().startswith("+CPIN:"):
            return line.split(":", 1)[1].strip().upper()
    return "READY"  # some modems answer a bare OK


def storage_figures(lines: list[str]) -> StorageInfo | None:
    """Used and total of the first memory in an AT+CPMS? answer; None when it gives none (a phone)."""
    for line in lines:
        match = re.match(r'\+CPMS:\s*"?\w*"?\s*,\s*(\d+)\s*,\s*(\d+)', line)
        if match:
            return StorageInfo(used=int(match.group(1)), total=int(match.group(2)))
    return None


def quoted(lines: list[str], pattern: str) -> str:
    """The first group of ``pattern`` in the first line it matches, else ""."""
    for line in lines:
        match = re.match(pattern, line)
        if match:
            return match.group(1)
    return ""
