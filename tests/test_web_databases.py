"""The web UI's queries on every supported database: SQLite, PostgreSQL and MariaDB.

The server kinds run when MODEMD_TEST_POSTGRES_URL / MODEMD_TEST_MYSQL_URL are set.
"""

from __future__ import annotations

import re
from datetime import timedelta

from webfixtures import PASSWORD, WEB_INI

from modemd import config as config_module
from modemd import users
from modemd.send import outbound
from modemd.store.models import Case, InboundMessage, OutboundMessage, utcnow


def test_pages_and_actions_on_each_database(any_db, write_config, monkeypatch):
    config = config_module.load(write_config(WEB_INI))
    from webui import create_app, inbox

    monkeypatch.setattr(inbox, "PAGE_SIZE", 6)  # several pages out of 20 cases, crossing open -> answered

    humas = users.create_user("humas", "official", PASSWORD)
    users.create_user("dishub", "official", PASSWORD)
    users.create_user("admin", "admin", PASSWORD)
    now = utcnow()
    cases = []
    for n in range(40):
        keyword = "INFO" if n % 2 else "DISHUB"
        case = Case.create(
            keyword=keyword,
            citizen=f"+6281200001{n:03d}",
            opened_at=now - timedelta(minutes=n),
            deadline_at=now + timedelta(hours=3) - timedelta(minutes=20 * n),
            last_message_at=now,
            status="open" if n < 30 else "answered",
            answered_at=None if n < 30 else now,
        )
        InboundMessage.create(
            modem="sim1",
            sender_raw=case.citizen,
            sender=case.citizen,
            case=case,
            text=f"{keyword} pesan {n} 😀 <b>",
            keyword=keyword,
            route="new",
        )
        cases.append(case)
    app = create_app(config=config, test_config={"WTF_CSRF_ENABLED": False})
    client = app.test_client()
    client.post("/login", data={"login": "humas", "password": PASSWORD})
    body = client.get("/").get_data(as_text=True)
    assert '<span class="badge" title="belum dijawab">15</span>' in body
    assert "DISHUB pesan" not in body and "INFO pesan 29 😀 &lt;b&gt;" in body
    seen: list[str] = []
    page = body
    while True:
        seen += re.findall(r'href="/cases/(\d+)"', page)
        match = re.search(r'href="/\?after=([^"&]+)"', page)
        if not match:
            break
        page = client.get(f"/?after={match.group(1)}").get_data(as_text=True)
    assert len(seen) == len(set(seen)) == 20
    assert "pesan 3 " in client.get("/?q=pesan 3 ").get_data(as_text=True)
    assert client.get("/?q=081200001001").status_code == 200
    info_case = cases[1]
    assert client.get(f"/cases/{info_case.id}").status_code == 200
    assert client.get(f"/cases/{cases[0].id}").status_code == 404
    client.post(f"/cases/{info_case.id}/reply", data={"text": "Baik 👍"})
    assert OutboundMessage.get(OutboundMessage.case == info_case.id).text == "Baik 👍 -PEMKAB"
    assert client.get(f"/cases/{info_case.id}/replies.json").get_json()["replies"][0]["state"] == "pending"

    def open_count() -> int:
        dashboard = client.get("/dashboard/").get_data(as_text=True)
        return [int(n) for n in re.findall(r"<strong[^>]*>(\d+)</strong>", dashboard)][3]

    assert open_count() == 15  # a queued reply does not answer the case (modemd/cases/answers.py)
    outbound.record_sent(outbound.claim("pc", outbound.Eligibility.build("sim1", ["sim1"], None)), "sim1", [3])
    assert open_count() == 14  # open INFO cases left once the reply is sent
    client.post(f"/cases/{cases[3].id}/reply", data={"text": "Ke nomor yang salah"})
    outbound.record_failure(
        outbound.claim("pc", outbound.Eligibility.build("sim1", ["sim1"], None)),
        "+CMS ERROR: 1",
        permanent=True,
        code=1,
        config=config,
    )
    failed_on_top = client.get("/").get_data(as_text=True)
    block = failed_on_top[failed_on_top.index('id="reply-failed"') : failed_on_top.index("</section>")]
    assert f'href="/cases/{cases[3].id}"' in block and "Nomor tujuan tidak dikenal" in block
    client.post("/logout")
    client.post("/login", data={"login": "admin", "password": PASSWORD})
    for url in (
        "/",
        "/?keyword=-",
        "/outbox/",
        "/dashboard/",
        "/admin/users/",
        "/admin/contacts/",
        "/admin/audit/",
        "/admin/keywords/",
        "/admin/blocklist/",
        "/publik/",
    ):
        assert client.get(url).status_code == 200, url
    assert humas.id
