"""The centre's identity, words for people and the dashboard's trend, chart and oldest cases (issue 15)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from webfixtures import *  # noqa: F401,F403
from webfixtures import WEB_INI

from modemd import config as config_module
from modemd.store.models import ModemStatus, OutboundMessage, User, audit, utcnow

JAKARTA = ZoneInfo("Asia/Jakarta")  # the default [modemd] timezone
LOGO = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle cx="5" cy="5" r="4" fill="#080"/></svg>'


@pytest.fixture
def web_ini(tmp_path) -> str:
    (tmp_path / "lambang.svg").write_text(LOGO)
    return WEB_INI.replace("[web]\n", "[web]\ntitle = SMS Center Pemkab Banjarnegara\nlogo = lambang.svg\n")


def _body(response) -> str:
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_title_and_logo_on_login_public_and_inner_pages(client, auth):
    for path in ("/login", "/publik/"):
        page = _body(client.get(path))
        assert "<title>" in page and "SMS Center Pemkab Banjarnegara</title>" in page
        assert page.count('src="/logo"') == 2  # the header and the large emblem above the form or the list
        assert 'rel="icon" href="/static/favicon.svg"' in page
    auth.login("humas")
    page = _body(client.get("/dashboard/"))
    assert "<title>Dasbor · SMS Center Pemkab Banjarnegara</title>" in page and 'src="/logo"' in page


def test_logo_is_served_from_the_configured_file_without_login(client):
    response = client.get("/logo")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert response.get_data(as_text=True) == LOGO
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]  # an SVG cannot run inline script


def test_no_logo_no_image_and_a_default_title(write_config, officials):
    from webui import create_app

    app = create_app(
        config_module.load(write_config(WEB_INI)), test_config={"TESTING": True, "WTF_CSRF_ENABLED": False}
    )
    client = app.test_client()
    page = _body(client.get("/login"))
    assert "<title>Masuk · SMS Center</title>" in page and "/logo" not in page
    assert client.get("/logo").status_code == 404


def test_a_missing_logo_file_shows_no_broken_image(client, web_config):
    (web_config.folder / "lambang.svg").unlink()
    page = _body(client.get("/login"))
    assert "/logo" not in page and "SMS Center Pemkab Banjarnegara" in page
    assert client.get("/logo").status_code == 404


@pytest.mark.parametrize("value", ["lambang.exe", "../secret.key", "lambang"])
def test_logo_must_be_an_image_file(write_config, value):
    path = write_config(WEB_INI.replace("[web]\n", f"[web]\nlogo = {value}\n"))
    with pytest.raises(config_module.ConfigError) as error:
        config_module.load(path)
    assert "[web] logo" in str(error.value) and "expected an image file" in str(error.value)


def test_admin_menu_is_grouped_and_others_do_not_get_it(client, auth):
    auth.login("admin")
    page = _body(client.get("/admin/users/"))
    nav = page.split('<nav class="nav"')[1].split("</nav>")[0]
    top_level = re.sub(r'<details class="group">.*?</details>', "GROUP", nav, flags=re.S)
    assert (
        top_level.count("<li") == 6 and top_level.count("GROUP") == 3
    )  # inbox, outbox, broadcasts; reports, admin, account
    assert 'class="current"' in nav.split(">Admin<")[0].rsplit("<summary", 1)[1]  # the admin group shows where we are
    for href in ("/admin/users/", "/admin/contacts/", "/admin/keywords/", "/admin/blocklist/", "/admin/audit/"):
        assert f'href="{href}"' in nav
    auth.logout()
    auth.login("humas")
    assert "/admin/users/" not in _body(client.get("/"))


def test_case_history_and_owner_in_words(client, auth, make_case, officials):
    User.update(name="Budi Santoso").where(User.login == "humas").execute()
    case = make_case("INFO", "INFO jalan\nrusak <b>parah</b>")
    audit("daemon", "case.open", case)
    audit("humas", "case.close", case)
    OutboundMessage.create(
        recipient=case.citizen, text="Sudah kami teruskan.", kind="reply", case=case, created_by=officials["humas"]
    )
    auth.login("admin")
    assert "· Budi Santoso</td>" in _body(client.get("/outbox/"))
    page = _body(client.get(f"/cases/{case.id}"))
    assert '<div class="meta"><span>Budi Santoso</span>' in page  # the reply's author
    assert "Dibuka otomatis oleh sistem" in page and "Budi Santoso menutup kasus" in page
    assert "daemon" not in page and "case.open" not in page and "case.close" not in page
    assert '<span class="owner">Budi Santoso</span> <small>(humas)</small>' in page
    assert "INFO jalan\nrusak &lt;b&gt;parah&lt;/b&gt;</pre>" in page  # line break kept, markup escaped
    assert "GSM 7-bit" not in page and "Pengodean" not in page and "Huruf biasa" in page


def test_dashboard_speaks_plainly_about_modem_trouble(client, auth):
    ModemStatus.create(
        name="modem1",
        driver="at",
        state="error",
        errors=3,
        last_error="+CMS ERROR: 500 <sim>",
        registration="denied",
        last_contact=utcnow(),
        updated_at=utcnow(),
    )
    auth.login("humas")
    page = _body(client.get("/dashboard/"))
    assert "Galat" not in page and "galat" not in page and "CMS ERROR" not in page and "daemon" not in page
    assert "bermasalah" in page and "3 kali" in page and "ditolak jaringan" in page and "denied" not in page
    auth.logout()
    auth.login("admin")
    # the administrator still gets the code, in small print, escaped
    assert "<code>+CMS ERROR: 500 &lt;sim&gt;</code>" in _body(client.get("/dashboard/"))


def _local_midday(days_ago: int):
    """Noon in Jakarta ``days_ago`` days before today, as naive UTC (the test does not depend on the hour it runs)."""
    today = datetime.now(JAKARTA).date() - timedelta(days=days_ago)
    return datetime.combine(today, time(12), tzinfo=JAKARTA).astimezone(UTC).replace(tzinfo=None)


def test_dashboard_trend_chart_and_oldest_cases(client, auth, make_case):
    now = utcnow()
    for days_ago, count in ((1, 4), (2, 2), (3, 1), (10, 5), (40, 9)):
        for i in range(count):
            make_case(
                "INFO",
                f"INFO lama {days_ago}/{i}",
                received_at=_local_midday(days_ago) - timedelta(minutes=i),
                status="answered",
            )
    oldest = make_case("INFO", "INFO paling lama", received_at=_local_midday(2) - timedelta(hours=1))
    make_case("INFO", "INFO baru", received_at=now)
    make_case("DISHUB", "DISHUB bukan untuk humas", received_at=_local_midday(5))
    auth.login("humas")
    page = _body(client.get("/dashboard/"))
    # yesterday: 4 cases; the 7 days before today: 4 + 3 (with the oldest open one) + 1 = 8 / 7 = 1.1 (Indonesian comma)
    assert "kemarin 4 · rata-rata 7 hari 1,1" in page
    table = page.split('<table class="sr-only">')[1].split("</table>")[0]
    counts = [int(n) for n in re.findall(r"<td>\d\d-\d\d-\d{4}</td><td>(\d+)</td>", table)]
    assert (
        len(counts) == 30 and counts[-1] == 1 and counts[-2] == 4 and sum(counts) == 1 + 4 + 3 + 1 + 5
    )  # not 40 days ago
    assert page.count("<rect ") == 30 and 'role="img"' in page
    oldest_list = page.split('<ol class="oldest">')[1].split("</ol>")[0]
    assert oldest_list.index(f"#{oldest.id} ") < oldest_list.index("#") + 5  # the longest waiting first
    assert "bukan untuk humas" not in page and oldest_list.count("<li>") == 2  # DISHUB's case is not humas's
