"""Contacts as CSV: read an upload line by line (errors per line, valid lines kept), write an export.

Columns: ``name, phone, position, groups`` (groups separated by ``|``); the
header line is required, ``name`` and ``phone`` must be there, and an unknown
column is an error (it is usually a file meant for something else). Commas or
semicolons (Excel with Indonesian settings) both work.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from modemd.csvcells import spreadsheet_safe
from modemd.sms import phone

COLUMNS = ("name", "phone", "position", "groups")
REQUIRED = ("name", "phone")
GROUP_SEPARATOR = "|"
MAX_LINES = 20000


@dataclass
class ContactLine:
    line: int
    name: str
    phone: str  # E.164
    position: str = ""
    groups: list[str] = field(default_factory=list)


@dataclass
class ParseResult:
    lines: list[ContactLine] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, message)


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _clean(cell: str | None) -> str:
    text = (cell or "").strip()
    return text[1:] if text.startswith("'") else text  # our export's formula guard


def parse(text: str) -> ParseResult:
    result = ParseResult()
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        result.errors.append((1, "the file is empty"))
        return result
    except csv.Error as exc:
        result.errors.append((1, f"not a CSV file: {exc}"))
        return result
    unknown = [h for h in header if h not in COLUMNS]
    missing = [c for c in REQUIRED if c not in header]
    if unknown or missing:
        parts = []
        if missing:
            parts.append("missing column(s): " + ", ".join(missing))
        if unknown:
            parts.append("unknown column(s): " + ", ".join(repr(u) for u in unknown))
        result.errors.append((1, "; ".join(parts) + f" (expected: {', '.join(COLUMNS)})"))
        return result
    seen: dict[str, int] = {}
    try:
        for row in reader:
            number = reader.line_num
            if number > MAX_LINES + 1:
                result.errors.append((number, f"too many lines: at most {MAX_LINES} per file"))
                break
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header):
                result.errors.append((number, f"{len(row)} cells, the header has {len(header)}"))
                continue
            cells = {name: _clean(row[i]) if i < len(row) else "" for i, name in enumerate(header)}
            if not cells["name"]:
                result.errors.append((number, "the name is empty"))
                continue
            if len(cells["name"]) > 128 or len(cells.get("position", "")) > 128:
                result.errors.append((number, "name or position longer than 128 characters"))
                continue
            try:
                e164 = phone.normalize(cells["phone"])
            except phone.InvalidNumber as exc:
                result.errors.append((number, str(exc)))
                continue
            if e164 in seen:
                result.errors.append((number, f"{e164} is already on line {seen[e164]}"))
                continue
            seen[e164] = number
            groups = [g.strip() for g in cells.get("groups", "").split(GROUP_SEPARATOR) if g.strip()]
            if any(len(g) > 64 for g in groups):
                result.errors.append((number, "a group name is longer than 64 characters"))
                continue
            result.lines.append(ContactLine(number, cells["name"], e164, cells.get("position", ""), groups))
    except csv.Error as exc:
        result.errors.append((reader.line_num, f"cannot read this line: {exc}"))
    return result


def export(rows: list[tuple[str, str, str, list[str]]]) -> str:
    """(name, E.164 phone, position, groups) rows -> CSV text that reads back with :func:`parse`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for name, number, position, groups in rows:
        writer.writerow(
            [
                spreadsheet_safe(name),
                phone.local_format(number).replace("-", "").replace(" ", ""),
                spreadsheet_safe(position),
                spreadsheet_safe(GROUP_SEPARATOR.join(groups)),
            ]
        )
    return out.getvalue()
