"""The operators' own messages and each modem's balance, as the administrator sees them in the web UI."""

from __future__ import annotations

from datetime import datetime

import pytest
from webfixtures import *  # noqa: F401,F403

from modemd.drivers.base import IncomingSMS
from modemd.receive import inbound
from modemd.run.health import save_status
from modemd.store.models import InboundMessage

URL = "/admin/operator-messages/"


def _body(response) -> str:
    return response.get_data(as_text=True)


def receive(sender: str, text: str, modem: str = "sim1") -> InboundMessage:
    """Store an SMS the way the worker does (the sender's kind is worked out on the way)."""
    message, _created = inbound.store(modem, IncomingSMS(sender=sender, text=text, smsc_time=None))
    return message


def test_operator_messages_are_listed_newest_first_with_their_modem_and_escaped(client, auth):
    receive("TELKOMSEL", "Masa aktif kartu Anda berakhir 05-12-2026. Isi ulang <b>sekarang</b>", modem="tsel1")
    receive("3636", "Sisa pulsa Anda Rp 4.500 <script>alert(1)</script>", modem="isat1")
    receive("081211112222", "INFO jam buka kantor?")  # a citizen: in the inbox, not here
    auth.login("admin")
    page = _body(client.get(URL))
    assert "Masa aktif kartu Anda" in page and "Sisa pulsa Anda Rp 4.500" in page
    assert page.index("Sisa pulsa") < page.index("Masa aktif kartu")  # newest first
    assert "tsel1" in page and "isat1" in page and "TELKOMSEL" in page and "3636" in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>sekarang</b>" not in page
    assert "jam buka kantor" not in page


@pytest.mark.parametrize("login, status", [("humas", 403), ("ketua", 403), ("admin", 200)])
def test_operator_messages_are_for_the_admin_only(client, auth, login, status):
    assert client.get(URL).status_code == 302  # anonymous -> login
    auth.login(login)
    assert client.get(URL).status_code == status


def test_operator_messages_are_paginated(client, auth):
    for n in range(53):
        receive("TELKOMSEL", f"promo nomor {n:02d}")
    auth.login("admin")
    first = _body(client.get(URL))
    assert "promo nomor 52" in first and "promo nomor 03" in first and "promo nomor 02" not in first
    before = min(m.id for m in InboundMessage.select().where(InboundMessage.text == "promo nomor 03"))
    assert f"before={before}" in first
    second = _body(client.get(f"{URL}?before={before}"))
    assert "promo nomor 02" in second and "promo nomor 00" in second and "promo nomor 03" not in second


def test_dashboard_links_to_operator_messages_with_the_count_of_new_ones(client, auth):
    receive("TELKOMSEL", "Masa aktif berakhir 05-12-2026")
    receive("3636", "Sisa pulsa Rp 4.500")
    auth.login("admin")
    dashboard = _body(client.get("/dashboard/"))
    assert URL in dashboard and "<strong>2</strong>pesan operator baru" in dashboard
    client.get(URL)  # seen
    assert "<strong>0</strong>pesan operator baru" in _body(client.get("/dashboard/"))
    receive("TELKOMSEL", "Promo baru")
    assert "<strong>1</strong>pesan operator baru" in _body(client.get("/dashboard/"))
    auth.logout()
    auth.login("humas")
    assert URL not in _body(client.get("/dashboard/"))  # officials have no use for it


def test_dashboard_shows_each_modems_balance_with_the_time_it_was_read_and_its_warnings(client, auth):
    save_status(
        "sim1",
        state="ready",
        balance="Sisa pulsa Rp 4.500 <i>aktif</i> s.d. 31-12-2026",
        balance_at=datetime(2026, 12, 1, 23, 30),
        balance_warning="low",
    )
    save_status("sim2", state="ready", balance=None)
    auth.login("admin")
    page = _body(client.get("/dashboard/"))
    assert "Sisa pulsa Rp 4.500 &lt;i&gt;aktif&lt;/i&gt; s.d. 31-12-2026" in page
    assert "dibaca 02-12-2026 06:30" in page  # the reading's time, in the centre's zone (WIB)
    assert "pulsa menipis" in page and "masa aktif segera habis" not in page
    client.post("/lang/en", data={"next": "/"})
    page = _body(client.get("/dashboard/"))
    assert "read 02-12-2026 06:30" in page and "credit low" in page
