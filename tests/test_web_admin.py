"""Administration pages: users, contacts and CSV, keywords, blocklist, audit log, outbox, dashboard, demo."""

from __future__ import annotations

import io
import json
import os
from datetime import timedelta

import pytest
from webfixtures import *  # noqa: F401,F403
from webfixtures import PASSWORD

from modemd.config import Config
from modemd.send import outqueue
from modemd.store.models import (
    AuditLog,
    BlockedNumber,
    Contact,
    ContactGroup,
    DaemonState,
    GroupMember,
    ModemStatus,
    OutboundMessage,
    User,
    utcnow,
)

DEFAULTS = Config.defaults()  # the schema's settings, no file

ADMIN_PAGES = [
    "/admin/users/",
    "/admin/users/new",
    "/admin/contacts/",
    "/admin/contacts/new",
    "/admin/keywords/",
    "/admin/blocklist/",
    "/admin/audit/",
    "/admin/contacts/export.csv",
]


def _body(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def admin(client, auth):
    auth.login("admin")
    return client


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_admin_pages_render_for_admin_only(client, auth, url):
    assert client.get(url).status_code == 302  # anonymous -> login
    auth.login("humas")
    assert client.get(url).status_code == 403
    auth.logout()
    auth.login("ketua")
    assert client.get(url).status_code == 403
    auth.logout()
    auth.login("admin")
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("url", ["/", "/outbox/", "/dashboard/", "/password", "/publik/"])
def test_common_pages_render_in_both_languages(client, auth, url):
    auth.login("humas")
    assert client.get(url).status_code == 200
    client.post("/lang/en", data={"next": "/"})
    page = client.get(url)
    assert page.status_code == 200 and 'lang="en"' in _body(page)


# --------------------------------------------------------------------------
# users


def test_create_user_with_random_password_shown_once(admin):
    response = admin.post(
        "/admin/users/new",
        data={
            "login": "kadis",
            "name": "Kepala <Dinas>",
            "role": "official",
            "phone": "0813 1111 2222",
            "sender_id": "DINAS",
            "active": "1",
        },
    )
    assert response.status_code == 200
    body = _body(response)
    user = User.by_login("kadis")
    assert user.phone == "+6281311112222" and user.sender_id == "DINAS" and user.name == "Kepala <Dinas>"
    import re

    password = re.search(r'<pre class="block" id="new-password">([^<]+)</pre>', body).group(1)
    assert user.check_password(password)
    assert "Kepala &lt;Dinas&gt;" in _body(admin.get("/admin/users/"))
    assert AuditLog.select().where(AuditLog.action == "user.create", AuditLog.actor == "admin").count() == 1


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("login", "<script>", "login"),
        ("login", "humas", "already exists"),
        ("role", "root", "Peran tidak dikenal"),
        ("phone", "12ab", "Nomor telepon notifikasi tidak sah"),
        ("sender_id", "TERLALUPANJANG", "ID pengirim paling banyak 8"),
        ("sender_id", "<b>", "ID pengirim paling banyak 8"),
        ("password", "short", "at least 8"),
    ],
)
def test_create_user_bad_input(admin, field, value, message):
    data = {"login": "baru", "name": "Baru", "role": "official", "phone": "", "sender_id": "", "active": "1"}
    data[field] = value
    response = admin.post("/admin/users/new", data=data)
    assert response.status_code == 400
    assert message in _body(response)
    assert "<script>" not in _body(response).split("<main>")[1]


def test_edit_user_and_keywords_owned_shown(admin, officials):
    dishub = officials["dishub"]
    page = _body(admin.get(f"/admin/users/{dishub.id}"))
    assert "DISHUB" in page
    listing = _body(admin.get("/admin/users/"))
    assert "DISHUB" in listing and "INFO" in listing
    response = admin.post(
        f"/admin/users/{dishub.id}",
        data={"name": "Kadishub", "role": "official", "phone": "081299998888", "sender_id": "-HUB", "active": "1"},
    )
    assert response.status_code == 302
    user = User.get_by_id(dishub.id)
    assert (user.name, user.phone, user.sender_id) == ("Kadishub", "+6281299998888", "HUB")
    assert admin.get("/admin/users/99999").status_code == 404


def test_disabling_a_user_ends_their_session(app, admin, officials):
    other = app.test_client()
    other.post("/login", data={"login": "ketua", "password": PASSWORD})
    assert other.get("/").status_code == 200
    admin.post(
        f"/admin/users/{officials['ketua'].id}",
        data={"name": "ketua", "role": "approver", "phone": "", "sender_id": "", "active": ""},
    )
    assert not User.by_login("ketua").active
    assert other.get("/").status_code == 302


def test_a_keyword_owner_cannot_be_disabled(admin, officials):
    # a disabled owner would make `modemd run` and `modemd web` refuse to start
    response = admin.post(
        f"/admin/users/{officials['dinkes'].id}",
        data={"name": "dinkes", "role": "official", "phone": "", "sender_id": "", "active": ""},
    )
    assert response.status_code == 400
    assert "pemilik kata kunci DINKES" in _body(response)
    assert User.by_login("dinkes").active


def test_admin_cannot_disable_or_demote_self(admin, officials):
    response = admin.post(
        f"/admin/users/{officials['admin'].id}", data={"name": "a", "role": "official", "active": "1"}
    )
    assert response.status_code == 400
    assert User.by_login("admin").role == "admin"


def test_reset_password_shows_a_new_one(admin, officials):
    old_token = User.by_login("humas").session_token
    response = admin.post(f"/admin/users/{officials['humas'].id}/password")
    assert response.status_code == 200
    assert User.by_login("humas").session_token != old_token
    assert not User.by_login("humas").check_password(PASSWORD)


# --------------------------------------------------------------------------
# contacts, groups, CSV


def test_contact_crud_with_groups(admin):
    admin.post("/admin/contacts/groups", data={"name": "Camat", "description": "semua camat"})
    group = ContactGroup.get(ContactGroup.name == "Camat")
    response = admin.post(
        "/admin/contacts/new",
        data={"name": "Pak <Camat>", "phone": "0812-1111-0001", "position": 'Camat "Kota"', "groups": [str(group.id)]},
    )
    assert response.status_code == 302
    contact = Contact.get(Contact.phone == "+6281211110001")
    assert GroupMember.select().where(GroupMember.contact == contact).count() == 1
    assert "Pak &lt;Camat&gt;" in _body(admin.get("/admin/contacts/"))
    duplicate = admin.post("/admin/contacts/new", data={"name": "Lagi", "phone": "+6281211110001"})
    assert duplicate.status_code == 400 and "sudah ada" in _body(duplicate)
    bad = admin.post("/admin/contacts/new", data={"name": "", "phone": "abc"})
    assert bad.status_code == 400
    admin.post(
        f"/admin/contacts/{contact.id}",
        data={"name": "Bu Camat", "phone": "081211110002", "position": "", "active": "1"},
    )
    contact = Contact.get_by_id(contact.id)
    assert contact.name == "Bu Camat" and contact.phone == "+6281211110002"
    assert GroupMember.select().count() == 0
    admin.post(f"/admin/contacts/{contact.id}/delete")
    assert Contact.select().count() == 0
    admin.post(f"/admin/contacts/groups/{group.id}/delete")
    assert ContactGroup.select().count() == 0


def _upload(admin, text: str, name: str = "kontak.csv", encoding: str = "utf-8"):
    return admin.post(
        "/admin/contacts/import",
        data={"file": (io.BytesIO(text.encode(encoding)), name)},
        content_type="multipart/form-data",
    )


def test_csv_import_keeps_valid_lines_and_reports_bad_ones(admin):
    text = (
        "name,phone,position,groups\n"
        "Camat A,081211110001,Camat,Camat|Kecamatan\n"
        "Salah Nomor,12345abc,,\n"
        ",081211110002,,\n"
        "Camat B,+62 812-1111-0003,Camat,Camat\n"
        "Dobel,0812 1111 0001,,\n"
        '"<script>alert(1)</script>",081211110004,,\n'
        "Terlalu,081211110005,a,b,c\n"
    )
    response = _upload(admin, text)
    body = _body(response)
    assert response.status_code == 200
    assert Contact.select().count() == 3
    assert "3 kontak baru" in body
    for line in (3, 4, 6, 8):
        assert f'<td data-label="Baris">{line}</td>' in body
    assert "<script>alert(1)</script>" not in body
    camat = ContactGroup.get(ContactGroup.name == "Camat")
    assert GroupMember.select().where(GroupMember.group == camat).count() == 2
    again = _upload(admin, "name,phone\nCamat A Baru,081211110001\n")
    assert "1 diperbarui" in _body(again)
    assert Contact.get(Contact.phone == "+6281211110001").name == "Camat A Baru"


@pytest.mark.parametrize(
    "text,message",
    [
        ("nama,telepon\nA,0812\n", "missing column"),
        ("name,phone,email\nA,081211110001,a@b\n", "unknown column"),
        ("", "empty"),
    ],
)
def test_csv_with_wrong_columns_is_refused(admin, text, message):
    response = _upload(admin, text)
    assert response.status_code == 400
    assert message in _body(response)
    assert Contact.select().count() == 0


def test_csv_semicolons_and_cp1252_and_no_file(admin):
    response = _upload(admin, "name;phone;position\nJosé;081211110009;Kabag\n", encoding="cp1252")
    assert response.status_code == 200
    assert Contact.get(Contact.phone == "+6281211110009").name == "José"
    assert admin.post("/admin/contacts/import", data={}, content_type="multipart/form-data").status_code == 302


def test_csv_export_reads_back_and_guards_formulas(admin):
    _upload(admin, 'name,phone,position,groups\n=HYPERLINK("x"),081211110001,@kabag,Grup A|Grup B\n')
    export = admin.get("/admin/contacts/export.csv")
    assert export.mimetype == "text/csv"
    text = _body(export).lstrip("\ufeff")
    assert "'=HYPERLINK" in text and "'@kabag" in text
    Contact.delete().execute()
    GroupMember.delete().execute()
    _upload(admin, text)
    contact = Contact.get(Contact.phone == "+6281211110001")
    assert contact.name == '=HYPERLINK("x")' and contact.position == "@kabag"
    assert GroupMember.select().where(GroupMember.contact == contact).count() == 2


# --------------------------------------------------------------------------
# keywords, blocklist, audit


def test_keywords_page_shows_daemon_table_file_problems_and_reload(admin, web_config):
    DaemonState.put(
        "keywords",
        json.dumps(
            [{"name": "INFO", "owner": "humas", "aliases": ["TANYA"], "description": "<i>umum</i>", "reply": "ok"}]
        ),
    )
    page = _body(admin.get("/admin/keywords/"))
    assert "TANYA" in page and "&lt;i&gt;umum&lt;/i&gt;" in page
    assert "Tidak ada masalah" in page
    path = web_config.keywords_path
    path.write_text(path.read_text() + "\n[JALAN]\nowner = nobody\n[X]\nowner = humas\n")
    os.utime(path, (utcnow().timestamp() + 5, utcnow().timestamp() + 5))
    page = _body(admin.get("/admin/keywords/"))
    assert "nobody" in page and 'id="keyword-problems"' in page
    admin.post("/admin/keywords/reload")
    assert DaemonState.read("reload_keywords")
    assert AuditLog.select().where(AuditLog.action == "keywords.reload").count() == 1


def test_keywords_page_shows_each_keywords_flow_and_agency_as_the_daemon_and_the_file_have_them(
    admin, web_config, write_config
):
    from modemd.receive.keywords import load_keywords
    from modemd.run.daemon import keywords_json

    web_config.keywords_path.write_text(
        "[ADUAN]\nowner = humas\nflow = verified\nagency = Inspektorat <Daerah>\n"
        "[INFO]\nowner = humas\nagency = Bagian Humas\n",
        encoding="utf-8",
    )
    DaemonState.put("keywords", keywords_json(load_keywords(web_config.keywords_path)))
    page = _body(admin.get("/admin/keywords/"))
    daemon_part, file_part = page.split("Isi berkas saat ini")
    for part in (daemon_part, file_part):
        assert "Inspektorat &lt;Daerah&gt;" in part and "Bagian Humas" in part  # escaped, in both tables
        assert part.count(">Lewat admin pusat</td>") == 1 and part.count(">Langsung</td>") == 1


def test_broken_keyword_file_falls_back_to_the_daemon_table_for_access(client, auth, web_config, make_case):
    DaemonState.put("keywords", json.dumps([{"name": "INFO", "owner": "humas"}]))
    web_config.keywords_path.write_text("this is not an ini file\n")
    case = make_case("INFO")
    auth.login("humas")
    assert client.get(f"/cases/{case.id}").status_code == 200


def test_blocklist_add_and_remove(admin):
    admin.post("/admin/blocklist/", data={"phone": "0812 9999 0000", "reason": "<b>spam</b>"})
    admin.post("/admin/blocklist/", data={"phone": "TELKOMSEL", "reason": "promo"})
    assert {b.phone for b in BlockedNumber.select()} == {"+6281299990000", "TELKOMSEL"}
    page = _body(admin.get("/admin/blocklist/"))
    assert "&lt;b&gt;spam&lt;/b&gt;" in page
    for bad in ("", "a b", "x" * 40):
        admin.post("/admin/blocklist/", data={"phone": bad})
    duplicate = admin.post("/admin/blocklist/", data={"phone": "+6281299990000"}, follow_redirects=True)
    assert "sudah diblokir" in _body(duplicate)
    assert BlockedNumber.select().count() == 2
    row = BlockedNumber.get(BlockedNumber.phone == "TELKOMSEL")
    admin.post(f"/admin/blocklist/{row.id}/delete")
    assert BlockedNumber.select().count() == 1


def test_audit_log_lists_and_filters(admin):
    admin.post("/admin/blocklist/", data={"phone": "081299990000"})
    page = _body(admin.get("/admin/audit/?actor=admin"))
    assert "blocklist.add" in page and "login" in page
    assert "blocklist.add" not in _body(admin.get("/admin/audit/?action=login"))
    assert admin.get("/admin/audit/?actor=<x>").status_code == 200
    assert admin.get("/admin/audit/?before=abc").status_code == 400  # a made-up page link (tests/security/)


# --------------------------------------------------------------------------
# outbox and dashboard


def test_outbox_retry_failed_and_cancel_pending(admin, officials):
    failed = outqueue.enqueue("081211112222", "gagal", "manual", config=DEFAULTS)
    failed.state, failed.attempts, failed.failure_reason, failed.failure_code = "failed", 4, "+CMS ERROR: 500", 500
    failed.save()
    pending = outqueue.enqueue("081211113333", "tunggu", "manual", config=DEFAULTS)
    sent = outqueue.enqueue("081211114444", "sudah", "manual", config=DEFAULTS)
    sent.state = "sent"
    sent.save()
    page = _body(admin.get("/outbox/"))
    # the reason in plain words, never the modem's code (TS 27.005 500: unknown error)
    assert "Gangguan yang tidak dikenal" in page and "CMS" not in page and "Kirim ulang" in page and "Batalkan" in page
    admin.post(f"/outbox/{failed.id}/retry")
    retried = OutboundMessage.get_by_id(failed.id)
    assert retried.state == "pending" and retried.attempts == 0 and retried.next_attempt_at <= utcnow()
    assert (retried.failure_reason, retried.failure_code) == (None, None)
    admin.post(f"/outbox/{pending.id}/cancel")
    assert OutboundMessage.get_by_id(pending.id).state == "cancelled"
    admin.post(f"/outbox/{sent.id}/retry")
    admin.post(f"/outbox/{sent.id}/cancel")
    assert OutboundMessage.get_by_id(sent.id).state == "sent"
    assert admin.post("/outbox/99999/retry").status_code == 404
    assert {a.action for a in AuditLog.select().where(AuditLog.object_type == "outboundmessage")} == {
        "outbound.retry",
        "outbound.cancel",
    }
    assert "tunggu" not in _body(admin.get("/outbox/?state=sent"))


def test_outbox_of_an_official_shows_own_messages_and_no_actions(client, auth, officials):
    outqueue.enqueue("081211112222", "punya humas", "reply", created_by=officials["humas"], config=DEFAULTS)
    outqueue.enqueue("081211112223", "punya dishub", "reply", created_by=officials["dishub"], config=DEFAULTS)
    auth.login("humas")
    page = _body(client.get("/outbox/"))
    assert "punya humas" in page and "punya dishub" not in page and "Batalkan" not in page
    message = OutboundMessage.get(OutboundMessage.text == "punya humas")
    assert client.post(f"/outbox/{message.id}/cancel").status_code == 403


def test_dashboard_figures_and_modems(client, auth, make_case):
    now = utcnow()
    make_case("INFO", "INFO telat", received_at=now - timedelta(hours=5))
    make_case("INFO", "INFO dijawab", status="answered", answered_at=now)
    make_case("DISHUB", "DISHUB bukan milik humas", received_at=now - timedelta(hours=5))
    outqueue.enqueue("081211112222", "antre", "manual", config=DEFAULTS)
    ModemStatus.create(
        name="modem1",
        driver="at",
        state="ready",
        operator="TELKOMSEL <x>",
        signal_dbm=-75,
        last_contact=now,
        errors=2,
        last_error="CME 10 <sim>",
    )
    auth.login("humas")
    page = _body(client.get("/dashboard/"))
    # no modem codes in front of officials (issue 15); the admin sees them escaped (test_web_look.py)
    assert "TELKOMSEL &lt;x&gt;" in page and "CME 10" not in page and "2 kali" in page
    assert page.count('<i class="on">') == 4  # -75 dBm: 4 bars
    import re

    figures = [int(n) for n in re.findall(r"<strong[^>]*>(\d+)</strong>", page)]
    # received, opened today (only the answered one is from today), answered, open, overdue, queue, failed
    assert figures[2:7] == [1, 1, 1, 1, 0]


# --------------------------------------------------------------------------
# demo


def test_demo_injects_into_the_simulated_modem(admin, web_config):
    page = admin.get("/demo/")
    assert page.status_code == 200 and "sim1" in _body(page)
    response = admin.post("/demo/", data={"modem": "sim1", "sender": "081234567890", "text": "INFO <b>halo</b> 👋"})
    assert response.status_code == 302
    spool = web_config.modems["sim1"].settings["device"]
    files = [os.path.join(root, name) for root, _d, names in os.walk(spool) for name in names]
    assert files, "nothing was written into the sim modem's spool directory"
    assert any("halo" in open(f, encoding="utf-8", errors="replace").read() for f in files)
    bad = admin.post("/demo/", data={"modem": "modem9", "sender": "a b", "text": ""})
    assert bad.status_code == 400


def test_demo_is_absent_unless_enabled(write_config, officials):
    from modemd import config as config_module
    from webui import create_app

    app = create_app(
        config=config_module.load(write_config("[web]\nsecret_key_file = secret.key\n")),
        test_config={"WTF_CSRF_ENABLED": False},
    )
    client = app.test_client()
    client.post("/login", data={"login": "admin", "password": PASSWORD})
    assert client.get("/demo/").status_code == 404
    assert "/demo/" not in _body(client.get("/"))


EVIL = "<script>alert('x')</script> \"quoted\" 'single' <img src=x onerror=alert(2)> 😀"


def _assert_escaped(body: str) -> None:
    main = body.split("<main>", 1)[1]
    assert "<script>alert" not in main and "<img src=x" not in main
    assert "&lt;script&gt;alert(" in main


@pytest.mark.parametrize(
    "post,data,show",
    [
        ("/admin/users/new", {"login": "evil", "name": EVIL, "role": "official", "active": "1"}, "/admin/users/"),
        ("/admin/contacts/new", {"name": EVIL, "phone": "081211110001", "position": EVIL}, "/admin/contacts/"),
        ("/admin/contacts/groups", {"name": EVIL[:64], "description": EVIL}, "/admin/contacts/"),
        ("/admin/blocklist/", {"phone": "081211110002", "reason": EVIL}, "/admin/blocklist/"),
    ],
)
def test_markup_in_every_form_field_is_stored_and_shown_inert(admin, post, data, show):
    admin.post(post, data=data)
    _assert_escaped(_body(admin.get(show)))


@pytest.mark.parametrize(
    "url", ["/?q=" + EVIL, "/outbox/?state=" + EVIL, "/admin/audit/?actor=" + EVIL[:60], "/admin/contacts/?q=" + EVIL]
)
def test_markup_in_query_strings_is_escaped(admin, url):
    response = admin.get(url)
    assert response.status_code == 200
    main = _body(response).split("<main>", 1)[1]
    assert "<script>alert" not in main and "<img src=x" not in main


def test_markup_in_a_refused_form_is_shown_back_inert(admin):
    response = admin.post("/demo/", data={"modem": "sim9", "sender": EVIL[:20], "text": EVIL})
    assert response.status_code == 400
    _assert_escaped(_body(response))
    response = admin.post("/admin/users/new", data={"login": "<x>", "name": EVIL, "role": "official"})
    assert response.status_code == 400
    _assert_escaped(_body(response))


def test_markup_in_note_and_reply_fields(admin, make_case):
    case = make_case("INFO")
    admin.post(f"/cases/{case.id}/note", data={"text": EVIL})
    admin.post(f"/cases/{case.id}/reply", data={"text": EVIL})
    _assert_escaped(_body(admin.get(f"/cases/{case.id}")))
    _assert_escaped(_body(admin.get("/outbox/")))


def test_dashboard_counts_today_for_the_official_and_for_the_admin(client, auth, make_case, officials):
    from modemd.store.models import InboundMessage

    first = make_case("INFO", "INFO satu")
    InboundMessage.create(
        modem="sim1", sender_raw=first.citizen, sender=first.citizen, text="INFO satu lagi", case=first
    )
    make_case("INFO", "INFO dua", status="answered", answered_at=utcnow())
    make_case("DISHUB", "DISHUB bukan milik humas")
    make_case("DINKES", "DINKES dialihkan ke humas", owner=officials["humas"])
    InboundMessage.create(modem="sim1", sender_raw="3636", sender="3636", text="promo tanpa kasus")
    import re

    def figures():
        return [int(n) for n in re.findall(r"<strong[^>]*>(\d+)</strong>", _body(client.get("/dashboard/")))]

    auth.login("humas")
    received, opened, answered, open_, overdue = figures()[:5]
    assert (received, opened, answered, open_, overdue) == (4, 3, 1, 2, 0)
    auth.logout()
    auth.login("admin")
    received, opened, answered, open_, overdue = figures()[:5]
    assert (received, opened, answered, open_, overdue) == (6, 4, 1, 3, 0)
