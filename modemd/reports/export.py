"""The report's tables as CSV (one table) and XLSX (one sheet per table), the same numbers as the page.

CSV cells that are text go through :func:`modemd.csvcells.spreadsheet_safe`
(an SMS-borne keyword or number never runs as a formula); numbers and dates
are written as they are (ISO dates). In the XLSX numbers are numbers, dates
and times real date cells, shares percentages; text cells are written as
strings, never as formulas.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.cell.cell import Cell

from modemd.csvcells import spreadsheet_safe

from .tables import Table

FORMATS = {"percent": "0.0%", "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm", "minutes": "0.0"}
SHEET_NAME_LENGTH = 31  # Excel's limit


def _csv_cell(value) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float):
        return round(value, 4) if isinstance(value, float) else value
    return spreadsheet_safe(str(value))


def to_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([column.key for column in table.columns])
    for row in table.rows:
        writer.writerow([_csv_cell(value) for value in row])
    return out.getvalue()


def to_xlsx(tables: Iterable[Table], words: Mapping[str, str] | None = None) -> bytes:
    """A workbook with one sheet per table (named by its key), headings from ``words``."""
    words = words or {}
    book = Workbook()
    book.remove(book.active)
    for table in tables:
        sheet = book.create_sheet(table.key[:SHEET_NAME_LENGTH])
        sheet.append([words.get(column.key, column.key) for column in table.columns])
        for row in table.rows:
            cells = []
            for column, value in zip(table.columns, row, strict=True):
                cell = Cell(sheet, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"  # never a formula, whatever the text starts with
                if column.kind in FORMATS and value is not None:
                    cell.number_format = FORMATS[column.kind]
                cells.append(cell)
            sheet.append(cells)
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
