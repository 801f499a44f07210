"""The monthly report for the Bupati, printed to PDF by Chromium: A4, the Pemda's name and logo, the
period, the figures, the charts and the 10 oldest open cases, on a few clean pages."""

from __future__ import annotations

import io
import re
from datetime import datetime

import pytest
from conftest import login, screenshot
from pypdf import PdfReader
from reportdata import generate

from modemd.store.models import Case

pytestmark = pytest.mark.browser

LOGO = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 48"><path d="M2 2h36v26c0 10-9 16-18 18C11 44 2 38 2 28z" '
    'fill="#0b6e3a" stroke="#d4a017" stroke-width="3"/></svg>'
)
NOVEMBER = "periode=rentang&dari=2026-11-01&sampai=2026-11-30"
A4_POINTS = (595.3, 841.9)


@pytest.fixture
def web_ini(tmp_path) -> str:
    from webfixtures import WEB_INI

    (tmp_path / "lambang.svg").write_text(LOGO)
    return WEB_INI.replace("[web]\n", "[web]\ntitle = Pemerintah Kabupaten Muara Enim\nlogo = lambang.svg\n")


@pytest.fixture
def november(officials):
    generate(7, datetime(2026, 10, 1), datetime(2026, 11, 30, 16), cases=400)


def test_the_monthly_report_prints_to_a_clean_a4_pdf(page, live_server, november):
    login(page, live_server, "admin")
    page.goto(f"{live_server}/laporan/cetak?{NOVEMBER}")
    assert page.evaluate("document.querySelector('.letterhead img.logo').naturalWidth") > 0  # the logo was served
    assert page.locator("svg.report-chart").count() == 4
    cases = int(page.locator('[data-figure="cases"] strong').inner_text())
    oldest = page.locator('table[data-table="kasus_terlama"] tbody tr').count()
    pdf = PdfReader(io.BytesIO(page.pdf(format="A4", print_background=True)))
    text = "\n".join(p.extract_text() for p in pdf.pages)
    flat = re.sub(r"\s+", " ", text)
    assert 2 <= len(pdf.pages) <= 4, f"{len(pdf.pages)} pages"
    width, height = (float(v) for v in pdf.pages[0].mediabox.upper_right)
    assert abs(width - A4_POINTS[0]) < 2 and abs(height - A4_POINTS[1]) < 2  # 210 x 297 mm
    assert "PEMERINTAH KABUPATEN MUARA ENIM" in flat.upper()
    assert "Laporan Layanan SMS kepada Bupati" in flat
    assert "Periode 01-11-2026 s.d. 30-11-2026" in flat
    assert "10 kasus terbuka paling lama" in flat
    assert "Sebaran waktu jawab" in flat and "SMS masuk per jam dan hari" in flat
    assert (
        cases
        == Case.select()
        .where(Case.opened_at >= datetime(2026, 10, 31, 17), Case.opened_at < datetime(2026, 11, 30, 17))
        .count()
    )
    assert f"{cases}kasus dibuka" in flat.replace(" ", "") or f"{cases} kasus dibuka" in flat
    assert oldest == 10
    assert "Unduh XLSX" not in flat and "Menu" not in flat  # no screen-only links or navigation on paper
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi, to look at (tests/artifacts)
    screenshot(page, "laporan-cetak")


def test_the_report_page_looks_right(page, live_server, november):
    login(page, live_server, "admin")
    page.goto(f"{live_server}/laporan/?{NOVEMBER}")
    assert page.locator("svg.report-chart").count() == 4
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scrolling
    screenshot(page, "laporan-pc")
    page.set_viewport_size({"width": 360, "height": 740})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    screenshot(page, "laporan-phone")
