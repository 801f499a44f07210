"""The reports page (/laporan): who sees what, the period and filters as asked, exports with the page's
numbers, and bad input answered with a clear error or a safe result."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from webfixtures import *  # noqa: F401,F403

from modemd.cases.assignment import reassign
from modemd.store.models import Case, InboundMessage, OutboundMessage, User, utcnow

KEYWORDS_WITH_AGENCIES = """
[INFO]
owner = humas
aliases = HUMAS, TANYA
agency = Bagian Humas

[DISHUB]
owner = dishub
aliases = PERHUBUNGAN
agency = Dinas Perhubungan

[DINKES]
owner = dinkes
agency = Dinas Kesehatan
"""


@pytest.fixture
def web_config(write_config, officials, web_ini):
    from modemd import config as config_module

    return config_module.load(write_config(web_ini, KEYWORDS_WITH_AGENCIES))


def _recent() -> str:
    """The last three local days (Jakarta, the default zone): a case of some hours ago is in it at any hour."""
    today = datetime.now(ZoneInfo("Asia/Jakarta")).date()
    return f"periode=rentang&dari={today - timedelta(days=2)}&sampai={today}"


RECENT = _recent()


def _figure(body: str, name: str) -> int:
    match = re.search(rf'data-figure="{name}"><strong>([^<]+)</strong>', body)
    assert match, f"no figure {name}"
    return int(match.group(1))


def _table_rows(body: str, key: str) -> list[list[str]]:
    table = re.search(rf'data-table="{key}">(.*?)</table>', body, re.S)
    assert table, f"no table {key}"
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)
    cells = [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)] for row in rows]
    return [row for row in cells if row]


def _some_cases(make_case, now: datetime):
    answered = make_case("DISHUB", received_at=now - timedelta(hours=5))
    Case.update(status="answered", answered_at=now - timedelta(hours=4)).where(Case.id == answered.id).execute()
    late = make_case("DISHUB", citizen="+6281200001111", received_at=now - timedelta(hours=6))
    Case.update(status="answered", answered_at=now - timedelta(hours=1)).where(Case.id == late.id).execute()
    make_case("DINKES", citizen="+6281200002222", received_at=now - timedelta(minutes=30))
    make_case("INFO", citizen="+6281200002222", received_at=now - timedelta(minutes=20))
    return answered, late


def _page_with_cases(client, auth, make_case, login: str) -> str:
    """The report of the last days, as ``login`` sees it, over the cases of :func:`_some_cases`."""
    _some_cases(make_case, utcnow())
    auth.login(login)
    return client.get("/laporan/?" + RECENT).get_data(as_text=True)


def test_admin_sees_every_case_and_the_agencies(client, auth, make_case):
    body = _page_with_cases(client, auth, make_case, "admin")
    assert _figure(body, "cases") == 4 and _figure(body, "received") == 4
    assert _figure(body, "answered") == 2 and _figure(body, "within") == 1 and _figure(body, "late") == 1
    assert _figure(body, "open") == 2 and _figure(body, "repeat") == 1
    agencies = {row[0]: row for row in _table_rows(body, "per_dinas")}
    assert agencies["Dinas Perhubungan"][2] == "2" and agencies["Dinas Kesehatan"][2] == "1"
    assert "<svg" in body and 'role="img"' in body
    assert "+6281200002222" not in body and "+62812****2222" in body  # repeat senders are masked


def test_an_official_sees_only_their_keywords(client, auth, make_case):
    body = _page_with_cases(client, auth, make_case, "dishub")
    assert _figure(body, "cases") == 2 and _figure(body, "received") == 2
    assert [row[0] for row in _table_rows(body, "per_kata_kunci")] == ["DISHUB"]
    assert "DINKES</td>" not in body


def test_an_operator_gets_no_report(client, auth, make_user):
    make_user("op1", "operator")
    auth.login("op1")
    assert client.get("/laporan/").status_code == 403


def test_the_navigation_and_the_recap_link_here(client, auth):
    auth.login("admin")
    assert 'href="/laporan/"' in client.get("/rekap/").get_data(as_text=True)
    assert 'id="to-reports"' in client.get("/rekap/").get_data(as_text=True)


def test_filters_by_agency_category_and_modem(client, auth, make_case):
    now = utcnow()
    _some_cases(make_case, now)
    make_case("DINKES", citizen="+6281200003333", received_at=now - timedelta(minutes=10), category="complaint")
    auth.login("admin")
    body = client.get("/laporan/?" + RECENT + "&dinas=Dinas+Kesehatan").get_data(as_text=True)
    assert _figure(body, "cases") == 2
    body = client.get("/laporan/?" + RECENT + "&kategori=complaint").get_data(as_text=True)
    assert _figure(body, "cases") == 1
    body = client.get("/laporan/?" + RECENT + "&modem=sim1").get_data(as_text=True)
    assert _figure(body, "cases") == 5
    body = client.get("/laporan/?" + RECENT + "&modem=lain").get_data(as_text=True)
    assert _figure(body, "cases") == 0
    body = client.get("/laporan/?" + RECENT + "&dinas=Dinas+Tak+Ada").get_data(as_text=True)
    assert _figure(body, "cases") == 0  # an unknown agency matches nothing, not everything


def test_csv_and_xlsx_carry_the_page_numbers(client, auth, make_case):
    now = utcnow()
    _some_cases(make_case, now)
    auth.login("admin")
    page = client.get("/laporan/?" + RECENT).get_data(as_text=True)
    answer = client.get("/laporan/xlsx?" + RECENT)
    assert answer.status_code == 200
    book = load_workbook(io.BytesIO(answer.data))
    assert {"ringkasan", "per_kata_kunci", "per_dinas", "per_hari", "waktu_jawab", "jam_hari", "kasus_terlama"} <= set(
        book.sheetnames
    )
    keywords = book["per_kata_kunci"]
    header = [cell.value for cell in keywords[1]]
    rows = {row[0]: dict(zip(header, row, strict=True)) for row in keywords.iter_rows(min_row=2, values_only=True)}
    page_rows = {row[0]: row for row in _table_rows(page, "per_kata_kunci")}
    assert set(rows) == set(page_rows)
    for name, row in rows.items():
        assert isinstance(row["Kasus"], int) and str(row["Kasus"]) == page_rows[name][3]
    days = book["per_hari"]
    assert isinstance(days["A2"].value, datetime) and days["A2"].number_format == "yyyy-mm-dd"  # a date cell
    oldest = book["kasus_terlama"]
    assert isinstance(oldest["D2"].value, datetime)
    summary = {row[0]: row[1] for row in book["ringkasan"].iter_rows(min_row=2, values_only=True)}
    assert summary["Kasus"] == _figure(page, "cases") and summary["SMS masuk"] == _figure(page, "received")
    text = client.get("/laporan/csv/per_kata_kunci?" + RECENT).get_data(as_text=True)
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0][:4] == ["kata_kunci", "dinas", "sms_masuk", "kasus"]
    assert {line[0]: line[3] for line in lines[1:]} == {k: v[3] for k, v in page_rows.items()}
    assert client.get("/laporan/csv/tidak_ada?" + RECENT).status_code == 404


def test_a_formula_in_a_keyword_does_not_run_in_a_spreadsheet(client, auth, make_case):
    """A case whose stored keyword came from a hostile source: the CSV makes it text, the XLSX a string."""
    make_case("=HYPERLINK", received_at=utcnow() - timedelta(minutes=5))
    auth.login("admin")
    text = client.get("/laporan/csv/per_kata_kunci?" + RECENT).get_data(as_text=True)
    assert "'=HYPERLINK" in text
    book = load_workbook(io.BytesIO(client.get("/laporan/xlsx?" + RECENT).data))
    cells = [row[0] for row in book["per_kata_kunci"].iter_rows(min_row=2)]
    assert any(c.value == "=HYPERLINK" and c.data_type == "s" for c in cells)


# -- bad input


def test_a_period_with_no_data(client, auth):
    auth.login("admin")
    answer = client.get("/laporan/?periode=rentang&dari=2001-01-01&sampai=2001-01-31")
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert _figure(body, "cases") == 0 and _figure(body, "received") == 0
    assert 'data-figure="median"><strong>-</strong>' in body
    assert "Tidak ada data pada periode ini." in body
    book = load_workbook(io.BytesIO(client.get("/laporan/xlsx?periode=rentang&dari=2001-01-01&sampai=2001-01-31").data))
    assert book["per_hari"].max_row == 32  # a heading and 31 days, each 0


def test_a_reversed_range_is_turned_round_and_said(client, auth, make_case):
    make_case("INFO", received_at=datetime(2026, 3, 10, 3))
    auth.login("admin")
    body = client.get("/laporan/?periode=rentang&dari=2026-03-31&sampai=2026-03-01").get_data(as_text=True)
    assert 'id="reversed"' in body and "01-03-2026 s.d. 31-03-2026" in body
    assert _figure(body, "cases") == 1


def test_a_year_with_a_leap_day(client, auth, make_case):
    make_case("INFO", received_at=datetime(2024, 2, 29, 3))  # 10.00 in Jakarta
    auth.login("admin")
    book = load_workbook(io.BytesIO(client.get("/laporan/xlsx?periode=tahun&tahun=2024").data))
    days = {row[0].date(): row[2] for row in book["per_hari"].iter_rows(min_row=2, values_only=True)}
    assert len(days) == 366 and days[date(2024, 2, 29)] == 1
    body = client.get("/laporan/?periode=tahun&tahun=2024").get_data(as_text=True)
    # the previous period is as long: 2022-12-31 .. 2023-12-31
    assert _figure(body, "cases") == 1 and "366 hari sebelumnya" in body


def test_a_keyword_renamed_mid_period_counts_under_its_new_name(client, auth, make_case, write_config, app):
    """DISHUB became PERHUB, with DISHUB kept as an alias: old and new cases are one line, one agency."""
    now = utcnow()
    make_case("DISHUB", received_at=now - timedelta(hours=2))
    make_case("PERHUB", citizen="+6281200004444", received_at=now - timedelta(hours=1), owner=User.by_login("dishub"))
    (app.config["MODEMD"].keywords_path).write_text(
        KEYWORDS_WITH_AGENCIES.replace("[DISHUB]", "[PERHUB]").replace("aliases = PERHUBUNGAN", "aliases = DISHUB"),
        encoding="utf-8",
    )
    auth.login("admin")
    body = client.get("/laporan/?" + RECENT).get_data(as_text=True)
    lines = {row[0]: row for row in _table_rows(body, "per_kata_kunci")}
    assert "DISHUB" not in lines and lines["PERHUB"][3] == "2" and lines["PERHUB"][1] == "Dinas Perhubungan"
    body = client.get("/laporan/?" + RECENT + "&kata_kunci=PERHUB").get_data(as_text=True)
    assert _figure(body, "cases") == 2


def test_a_keyword_renamed_without_an_alias_keeps_its_old_line(client, auth, make_case, app):
    now = utcnow()
    make_case("DISHUB", received_at=now - timedelta(hours=2))
    (app.config["MODEMD"].keywords_path).write_text(
        KEYWORDS_WITH_AGENCIES.replace("[DISHUB]", "[PERHUB]"), encoding="utf-8"
    )
    auth.login("admin")
    body = client.get("/laporan/?" + RECENT).get_data(as_text=True)
    lines = {row[0]: row for row in _table_rows(body, "per_kata_kunci")}
    assert lines["DISHUB"][3] == "1" and _figure(body, "cases") == 1  # nothing lost, no agency claimed


def test_a_case_reassigned_between_agencies_counts_at_the_new_one(client, auth, make_case, web_config):
    case = make_case("DISHUB", received_at=utcnow() - timedelta(hours=1))
    auth.login("admin")
    before = {row[0]: row for row in _table_rows(client.get("/laporan/?" + RECENT).get_data(as_text=True), "per_dinas")}
    assert before["Dinas Perhubungan"][2] == "1"
    reassign(case, "DINKES", User.by_login("dinkes"), "admin", web_config)
    body = client.get("/laporan/?" + RECENT).get_data(as_text=True)
    after = {row[0]: row for row in _table_rows(body, "per_dinas")}
    assert (
        "Dinas Perhubungan" not in after and after["Dinas Kesehatan"][2] == "1" and after["Dinas Kesehatan"][1] == "1"
    )
    assert _figure(body, "cases") == 1


@pytest.mark.parametrize(
    "query",
    [
        "periode=abad",
        "periode=rentang&dari=2026-02-30",
        "periode=rentang&dari=26-01-01",
        "periode=rentang&sampai=2026-01-01%27%20OR%201=1",
        "periode=rentang&dari=%EF%BC%92026-01-01",  # a full-width digit
        "periode=tahun&tahun=1999",
        "periode=tahun&tahun=%D9%A3",  # an Arabic-Indic digit
        "periode=tahun&tahun=99999999999999999999999",
        "kategori=spam",
        "kata_kunci=DISHUB%27--",
        "kata_kunci=" + "A" * 21,
        "modem=%3Cscript%3E",
        "dinas=" + "x" * 200,
        "dinas=a%00b",
    ],
)
def test_hostile_parameters_are_a_400(client, auth, query):
    auth.login("admin")
    assert client.get(f"/laporan/?{query}").status_code == 400
    assert client.get(f"/laporan/xlsx?{query}").status_code == 400


def test_sms_text_in_a_keyword_is_escaped(client, auth, make_case):
    make_case("<b>X</b>", received_at=utcnow() - timedelta(minutes=5))
    auth.login("admin")
    body = client.get("/laporan/?" + RECENT).get_data(as_text=True)
    assert "<b>X</b>" not in body and "&lt;b&gt;X&lt;/b&gt;" in body


def test_replies_failed_are_counted(client, auth, make_case):
    case = make_case("INFO", received_at=utcnow() - timedelta(minutes=50))
    OutboundMessage.create(recipient=case.citizen, text="x", kind="reply", state="failed", case=case)
    InboundMessage.create(
        modem="sim1", sender_raw="TELKOMSEL", sender="TELKOMSEL", sender_kind="alphanumeric", text="pulsa"
    )
    auth.login("admin")
    body = client.get("/laporan/?" + RECENT).get_data(as_text=True)
    assert _figure(body, "failed") == 1 and _figure(body, "received") == 2


def test_a_table_added_at_the_extension_point_is_on_the_page_and_in_the_exports(client, auth, monkeypatch):
    from modemd.reports import tables

    def flow_steps(context):
        return tables.Table("langkah_alur", (tables.Column("dinas", "text"), tables.Column("kasus")), [("Dinas X", 7)])

    monkeypatch.setattr(tables, "EXTRA_TABLES", [flow_steps])
    auth.login("admin")
    body = client.get("/laporan/?" + RECENT).get_data(as_text=True)
    assert _table_rows(body, "langkah_alur") == [["Dinas X", "7"]]
    assert "langkah_alur" in load_workbook(io.BytesIO(client.get("/laporan/xlsx?" + RECENT).data)).sheetnames
    assert "Dinas X,7" in client.get("/laporan/csv/langkah_alur?" + RECENT).get_data(as_text=True)


def test_a_new_sms_or_an_audited_change_is_counted_at_once_despite_the_cache(client, auth, make_case, web_config):
    case = make_case("DISHUB", received_at=utcnow() - timedelta(hours=1))
    auth.login("admin")
    assert _figure(client.get("/laporan/?" + RECENT).get_data(as_text=True), "cases") == 1
    make_case("INFO", citizen="+6281200005555", received_at=utcnow() - timedelta(minutes=5))
    assert _figure(client.get("/laporan/?" + RECENT).get_data(as_text=True), "cases") == 2
    reassign(case, "DINKES", User.by_login("dinkes"), "admin", web_config)  # audited: a new audit row
    agencies = {r[0]: r for r in _table_rows(client.get("/laporan/?" + RECENT).get_data(as_text=True), "per_dinas")}
    assert "Dinas Perhubungan" not in agencies


def test_the_complaint_flow_steps_are_a_table_of_the_admins_report_and_of_its_exports(client, auth):
    from modemd.store.models import CaseStep

    case = Case.create(keyword="DISHUB", citizen="+6281211112222", deadline_at=utcnow(), flow="verified")
    ended = utcnow() - timedelta(hours=2)
    for stage, agency, minutes in (("verify", "", 10), ("assigned", "Dinas Perhubungan", 30), ("assigned", "", 90)):
        CaseStep.create(
            case=case,
            stage=stage,
            agency=agency,
            actor="admin",
            entered_at=ended - timedelta(minutes=minutes),
            left_at=ended,
            seconds=minutes * 60,
        )
    auth.login("admin")
    body = client.get("/laporan/?" + RECENT).get_data(as_text=True)
    assert sorted(_table_rows(body, "langkah_alur")) == [
        ["(tanpa dinas)", "di operator instansi", "1", "90.0"],
        ["(tanpa dinas)", "perlu verifikasi", "1", "10.0"],
        ["Dinas Perhubungan", "di operator instansi", "1", "30.0"],
    ]
    assert "/laporan/alur?dari=" in body
    assert "langkah_alur" in load_workbook(io.BytesIO(client.get("/laporan/xlsx?" + RECENT).data)).sheetnames
    narrowed = client.get("/laporan/?kata_kunci=DISHUB&" + RECENT).get_data(as_text=True)
    assert 'data-table="langkah_alur"' not in narrowed  # the central admin's view of all agencies only
    auth.logout()
    auth.login("dishub")
    own = client.get("/laporan/?" + RECENT).get_data(as_text=True)
    assert 'data-table="langkah_alur"' not in own and "/laporan/alur" not in own
