"""The one formula guard for every CSV modemd writes (contacts export, recap).

A spreadsheet runs a cell that starts with ``= + - @`` as a formula, and
Excel also after a leading tab or carriage return (CSV injection). Such a
cell is written with a leading apostrophe, which spreadsheets show as text;
the contacts import strips it again. A lone ``-`` (the recap's "no keyword"
line) is not a formula and stays as it is.
"""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: str) -> str:
    """``cell`` as a spreadsheet will show it: as text, never as a formula."""
    return "'" + cell if cell.startswith(FORMULA_START) and cell != "-" else cell
