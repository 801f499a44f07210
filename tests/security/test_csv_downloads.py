"""Issue 10, item 11: CSV downloads are never cached, and no cell of any CSV runs as a formula.

Both downloads (contacts, recap) hold data officials must not leave in a
browser or proxy cache; both writers go through one guard that writes a cell
starting like a spreadsheet formula (= + - @, a tab, a carriage return) as text.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from webfixtures import *  # noqa: F401,F403

from modemd.jobs.recap import NO_KEYWORD
from modemd.store.models import Contact
from webui.admin import contacts_csv

HOSTILE = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1", "\t@cmd"]


@pytest.fixture
def admin(client, auth):
    auth.login("admin")
    return client


@pytest.mark.parametrize("url", ["/admin/contacts/export.csv", "/rekap/csv"])
def test_csv_downloads_are_not_stored_by_browsers_or_proxies(admin, url):
    response = admin.get(url)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "no-store" in response.headers.get("Cache-Control", "")


@pytest.mark.parametrize("cell", HOSTILE)
def test_the_one_guard_writes_formula_like_cells_as_text(cell):
    from modemd.csvcells import spreadsheet_safe

    assert spreadsheet_safe(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["-", "Camat", "0812", "kata - kunci", ""])
def test_the_guard_leaves_plain_cells_alone(cell):
    from modemd.csvcells import spreadsheet_safe

    assert spreadsheet_safe(cell) == cell


def test_recap_csv_guards_a_keyword_starting_with_a_tab_or_carriage_return(admin, make_case):
    day = datetime(2026, 11, 23, 3, 0)  # 10:00 in Jakarta
    for keyword in ("\t=1+1", "\r=1+1", "@SUM(1)"):
        make_case(keyword, "x", received_at=day)
    make_case(None, "tanpa kata kunci", received_at=day)
    text = admin.get("/rekap/csv?tanggal=2026-11-23").get_data(as_text=True)
    cells = [row[1] for row in csv.reader(io.StringIO(text, newline=""))]
    for keyword in ("\t=1+1", "\r=1+1", "@SUM(1)"):
        assert "'" + keyword in cells
        assert keyword not in cells
    assert NO_KEYWORD in cells  # the "no keyword" line is not a formula and stays as it is


def test_contacts_csv_guards_every_hostile_cell_and_reads_back(admin):
    for number, name in enumerate(HOSTILE, start=1):
        Contact.create(name=name, phone=f"+62812111100{number:02d}", position=name)
    text = admin.get("/admin/contacts/export.csv").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text, newline="")))[1:]
    assert sorted(row[0] for row in rows) == sorted("'" + name for name in HOSTILE)
    assert sorted(row[2] for row in rows) == sorted("'" + name for name in HOSTILE)
    parsed = contacts_csv.parse(text)
    assert not parsed.errors
    assert sorted(line.name for line in parsed.lines) == sorted(HOSTILE)
