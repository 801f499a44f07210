"""The broadcast pages (/siaran) and the recap page (/rekap), through Flask's test client."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from webfixtures import *  # noqa: F401,F403
from webfixtures import WEB_INI

from modemd.config import Config
from modemd.jobs import broadcasts
from modemd.store.models import (
    BlockedNumber,
    Broadcast,
    Case,
    Contact,
    ContactGroup,
    GroupMember,
    InboundMessage,
    OutboundMessage,
    Template,
    utcnow,
)

DEFAULTS = Config.defaults()  # the schema's settings, no file


@pytest.fixture
def web_ini() -> str:
    return WEB_INI + "\n[notify]\nsignature = HUMAS\n"


@pytest.fixture
def groups(officials):
    camat = ContactGroup.create(name="Camat")
    kades = ContactGroup.create(name="Kepala Desa")
    for i in range(4):
        contact = Contact.create(name=f"Camat {i}", phone=f"+62813111100{i:02d}")
        GroupMember.create(group=camat, contact=contact)
        if i >= 2:  # two camat are also kepala desa: one SMS each
            GroupMember.create(group=kades, contact=contact)
    GroupMember.create(group=kades, contact=Contact.create(name="Kades <b>Maju</b>", phone="+6281311110099"))
    GroupMember.create(group=kades, contact=Contact.create(name="Salah", phone="12345"))
    BlockedNumber.create(phone="+6281311110099")
    return {"camat": camat, "kades": kades}


def text_of(response) -> str:
    return response.get_data(as_text=True)


def draft_via_form(client, chosen, text="Rapat koordinasi Senin 08.00", action="save", **extra):
    data = {
        "title": "Rapat",
        "category": "invitation",
        "text": text,
        "groups": [chosen["camat"].id, chosen["kades"].id],
        "contacts": "",
        "send_at": "",
        "action": action,
        **extra,
    }
    return client.post("/siaran/baru", data=data)


def test_draft_preview_submit_and_approve_through_the_pages(client, auth, groups):
    auth.login("admin")
    form = client.get("/siaran/baru")
    assert form.status_code == 200 and 'data-suffix=" -HUMAS"' in text_of(form)
    response = draft_via_form(client, groups, text="Rapat koordinasi\r\nSenin 08.00  ", action="submit")
    assert response.status_code == 302
    bc = Broadcast.get()
    assert bc.text == "Rapat koordinasi\nSenin 08.00" and bc.state == "pending"

    page = text_of(client.get(f"/siaran/{bc.id}"))
    assert "Rapat koordinasi\nSenin 08.00 -HUMAS" in page
    assert re.search(r'data-preview="recipients">4<', page)  # 4 camat, the 2 shared counted once
    assert re.search(r'data-preview="duplicates">2<', page)
    assert re.search(r'data-preview="total">4<', page)
    assert "Kades &lt;b&gt;Maju&lt;/b&gt;" in page and "<b>Maju</b>" not in page  # names are escaped
    assert "diblokir" in page and "tidak valid" in page
    assert "Setujui" not in page  # the admin is no approver

    auth.logout()
    auth.login("ketua")
    listing = text_of(client.get("/siaran/"))
    assert "Menunggu persetujuan Anda" in listing
    version = re.search(r'name="version" value="([0-9a-f]{64})"', text_of(client.get(f"/siaran/{bc.id}"))).group(1)
    response = client.post(f"/siaran/{bc.id}/setujui", data={"version": version}, follow_redirects=True)
    assert "disetujui untuk 4 penerima" in text_of(response)
    again = client.post(f"/siaran/{bc.id}/setujui", data={"version": version}, follow_redirects=True)
    assert "Siaran ini sudah disetujui." in text_of(again)
    assert Broadcast.get_by_id(bc.id).approved_by.login == "ketua"


def test_the_author_cannot_approve_their_own(client, auth, groups, officials):
    auth.login("ketua")
    draft_via_form(client, groups, action="submit")
    bc = Broadcast.get()
    page = text_of(client.get(f"/siaran/{bc.id}"))
    assert "Setujui dan kirim" not in page
    response = client.post(f"/siaran/{bc.id}/setujui", follow_redirects=True)
    assert "tidak dapat disetujui oleh pembuatnya sendiri" in text_of(response)
    assert Broadcast.get_by_id(bc.id).state == "pending"


def test_reject_needs_a_reason_and_the_reason_is_shown(client, auth, groups):
    auth.login("dishub")
    draft_via_form(client, groups, action="submit")
    bc = Broadcast.get()
    auth.logout()
    auth.login("ketua")
    assert "harus disertai alasan" in text_of(
        client.post(f"/siaran/{bc.id}/tolak", data={"reason": " "}, follow_redirects=True)
    )
    client.post(f"/siaran/{bc.id}/tolak", data={"reason": "Tanggal <salah>"})
    auth.logout()
    auth.login("dishub")
    page = text_of(client.get(f"/siaran/{bc.id}"))
    assert "Tanggal &lt;salah&gt;" in page and "ditolak" in page
    response = client.post(
        f"/siaran/{bc.id}/ubah",
        data={
            "title": "Rapat",
            "category": "invitation",
            "text": "Rapat Selasa 08.00",
            "groups": [groups["camat"].id],
            "contacts": "",
            "send_at": "",
            "action": "submit",
        },
        follow_redirects=True,
    )
    assert "diajukan untuk disetujui" in text_of(response)
    assert Broadcast.get_by_id(bc.id).state == "pending"


def test_bad_input_is_refused_with_the_form_kept(client, auth, groups):
    auth.login("admin")
    empty = ContactGroup.create(name="Kosong")
    cases = [
        ({"text": "   "}, "Teks pesan kosong"),
        ({"groups": []}, "Pilih sedikitnya satu grup atau kontak"),
        ({"groups": [], "contacts": "081399998888"}, "bukan kontak terdaftar"),
        ({"send_at": "besok"}, "Waktu kirim tidak valid"),
        ({"category": "gosip"}, "Kategori tidak dikenal"),
    ]
    for extra, message in cases:
        response = draft_via_form(client, groups, **extra)
        assert response.status_code == 400 and message in text_of(response), message
    assert Broadcast.select().count() == 0
    response = client.post(
        "/siaran/baru",
        data={"category": "information", "text": "Halo", "groups": [empty.id], "action": "submit"},
        follow_redirects=True,
    )
    assert "Tidak ada penerima" in text_of(response) and Broadcast.get().state == "draft"


def test_a_contact_by_number_and_a_local_send_time(client, auth, groups):
    auth.login("admin")
    response = draft_via_form(
        client, groups, groups=[], contacts="0813-1111-0000\n+6281311110001", send_at="2026-11-24T08:00"
    )
    assert response.status_code == 302
    bc = Broadcast.get()
    assert bc.send_at == datetime(2026, 11, 24, 1, 0)  # 08:00 WIB is 01:00 UTC
    assert broadcasts.preview(bc, config=DEFAULTS).count == 2
    edit = text_of(client.get(f"/siaran/{bc.id}/ubah"))
    assert 'value="2026-11-24T08:00"' in edit and "+6281311110000" in edit


def test_officials_see_only_their_own_and_operators_none(client, auth, groups, make_user):
    auth.login("dishub")
    draft_via_form(client, groups)
    mine = Broadcast.get()
    auth.logout()
    auth.login("humas")
    assert client.get(f"/siaran/{mine.id}").status_code == 404
    assert "Rapat" not in text_of(client.get("/siaran/"))
    auth.logout()
    make_user("opr", "operator")
    auth.login("opr")
    assert client.get("/siaran/").status_code == 403
    assert client.get("/siaran/baru").status_code == 403


def test_progress_retry_and_cancel_from_the_page(client, auth, groups, web_config, officials):
    bc = broadcasts.draft(officials["admin"], "Siaga banjir", groups=[groups["camat"].id])
    broadcasts.submit(bc, officials["admin"], web_config)
    broadcasts.approve(bc, officials["ketua"], web_config, version=broadcasts.content_of(bc, web_config).version)
    broadcasts.queue_broadcast(bc.id, web_config)
    rows = list(OutboundMessage.select().order_by(OutboundMessage.recipient))
    OutboundMessage.update(state="delivered", delivered_at=utcnow()).where(OutboundMessage.id == rows[0].id).execute()
    (
        OutboundMessage.update(state="failed", failure_reason="+CMS ERROR: 30", failure_code=30)
        .where(OutboundMessage.id == rows[1].id)
        .execute()
    )

    auth.login("admin")
    page = text_of(client.get(f"/siaran/{bc.id}"))
    assert '<progress max="4" value="2">' in page
    assert 'data-progress="failed"><strong>1</strong>' in page and 'data-progress="pending"><strong>2</strong>' in page
    assert 'http-equiv="refresh"' in page  # refreshes itself while sending
    failed = text_of(client.get(f"/siaran/{bc.id}?state=failed"))
    assert "Nomor tujuan tidak dikenal" in failed and "CMS" not in failed  # 24.011 cause 30, in plain words
    assert "0813-1111-0001" in failed and "0813-1111-0002" not in failed
    assert client.get(f"/siaran/{bc.id}/progres").get_json()["failed"] == 1

    assert "1 penerima yang gagal dikirim ulang" in text_of(
        client.post(f"/siaran/{bc.id}/ulang", follow_redirects=True)
    )
    cancelled = text_of(client.post(f"/siaran/{bc.id}/batalkan", data={"reason": "batal"}, follow_redirects=True))
    assert "3 SMS yang belum terkirim dibatalkan" in cancelled
    progress = broadcasts.progress(bc.id)
    assert (progress.delivered, progress.cancelled, progress.pending) == (1, 3, 0)


def test_templates_page(client, auth, groups):
    auth.login("admin")
    client.post("/siaran/template", data={"name": "Apel", "text": "Apel pagi <Senin>"})
    listing = text_of(client.get("/siaran/template"))
    assert "Apel pagi &lt;Senin&gt;" in listing
    template = Template.get()
    assert "Apel pagi &lt;Senin&gt;</textarea>" in text_of(client.get(f"/siaran/baru?template={template.id}"))
    client.post(f"/siaran/template/{template.id}/hapus")
    assert Template.select().count() == 0


def test_csrf_is_required_for_approval(csrf_client, groups, officials):
    from webfixtures import AuthActions

    bc = broadcasts.draft(officials["admin"], "Halo", groups=[groups["camat"].id])
    broadcasts.submit(bc, officials["admin"], config=DEFAULTS)
    AuthActions(csrf_client).login("ketua")
    assert csrf_client.post(f"/siaran/{bc.id}/setujui").status_code == 400
    assert Broadcast.get_by_id(bc.id).state == "pending"


# --------------------------------------------------------------------------
# Recap page


def _at(day: int, hour: int) -> datetime:
    return (
        datetime(2026, 11, day, hour, tzinfo=ZoneInfo("Asia/Jakarta")).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    )


def test_recap_page_shows_the_same_numbers_as_the_sms(client, auth, officials):
    for hour, answered in ((8, _at(23, 9)), (9, None)):
        case = Case.create(
            keyword="DISHUB",
            owner=officials["dishub"],
            citizen="+6281311112222",
            opened_at=_at(23, hour),
            deadline_at=_at(23, hour + 3),
            last_message_at=_at(23, hour),
            answered_at=answered,
        )
        InboundMessage.create(
            modem="sim",
            sender_raw=case.citizen,
            sender=case.citizen,
            text="DISHUB <script>",
            received_at=_at(23, hour),
            route="case",
            keyword="DISHUB",
            case=case,
        )
    auth.login("admin")
    page = text_of(client.get("/rekap/?tanggal=2026-11-23"))
    assert 'data-recap="received"><strong>2<' in page and 'data-recap="within"><strong>1<' in page
    assert 'data-recap="overdue"><strong>1<' in page
    assert (
        "Rekap SMS 22/11 17.00 s.d. 23/11 17.00: masuk 2 (2 kasus), dijawab 1, tepat waktu 1, terlambat 1."
        in html.unescape(page)
    )
    assert ">INFO<" in page  # configured keywords are listed even with nothing received
    csv_text = text_of(client.get("/rekap/csv?tanggal=2026-11-23"))
    assert "2026-11-23,DISHUB,2,2,1,1,1,0" in csv_text and csv_text.strip().endswith("2026-11-23,TOTAL,2,2,1,1,1,0")
    # a nonsense or future date shows the period now running instead of failing (after 17:00, tomorrow's)
    local_now = datetime.now(ZoneInfo("Asia/Jakarta"))
    today = (local_now.date() + timedelta(days=1 if local_now.hour >= 17 else 0)).isoformat()
    for bad in ("kemarin", "2999-01-01", "2026-02-30"):
        response = client.get(f"/rekap/?tanggal={bad}")
        assert response.status_code == 200 and f'name="tanggal" value="{today}"' in text_of(response)


def test_recap_is_not_for_operators(client, auth, make_user):
    make_user("opr", "operator")
    auth.login("opr")
    assert client.get("/rekap/").status_code == 403


def test_nav_links_to_both_pages(client, auth):
    auth.login("ketua")
    page = text_of(client.get("/siaran/"))
    assert 'href="/siaran/"' in page and 'href="/rekap/"' in page


def test_broadcast_list_filters_by_state(client, auth, groups, officials):
    broadcasts.draft(officials["admin"], "Draf satu", groups=[groups["camat"].id])
    second = broadcasts.draft(officials["admin"], "Diajukan dua", groups=[groups["camat"].id])
    broadcasts.submit(second, officials["admin"], config=DEFAULTS)
    auth.login("admin")
    page = text_of(client.get("/siaran/?state=pending"))
    assert "Diajukan dua" in page and "Draf satu" not in page
