"""The verified flow in the web UI: the central admin's queue, the case-page moves, who sees what, /laporan/alur."""

from __future__ import annotations

import pytest
from webfixtures import *  # noqa: F401,F403

from modemd import config as config_module
from modemd.store.models import Case, CaseStep, OutboundMessage
from tests.daemonharness import Conversation
from tests.test_flow import VERIFIED_KEYWORDS
from tests.webfixtures import WEB_INI


@pytest.fixture
def web_config(write_config, officials, make_user):
    make_user("op_dishub", "operator", name="Operator Dishub", phone_number="081200000021", sender_id="DISHUB")
    make_user("op_dinkes", "operator", name="Operator Dinkes", phone_number="081200000022")
    return config_module.load(write_config(WEB_INI, keywords=VERIFIED_KEYWORDS))


@pytest.fixture
def new_case(web_config):
    chat = Conversation(web_config.path)
    chat.receive("081211112222", "DISHUB lampu merah mati <script>alert(1)</script>")
    return Case.get_by_id(chat.last.case.id)


def op(login: str) -> int:
    from modemd.store.models import User

    return User.by_login(login).id


def test_the_queue_is_the_admins_and_shows_the_new_case(client, auth, new_case):
    auth.login("admin")
    page = client.get("/alur")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Perlu verifikasi" in html and f"#{new_case.id}" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html  # the citizen's text, escaped
    auth.logout()
    for login in ("ketua", "dishub", "op_dishub"):
        auth.login(login)
        assert client.get("/alur").status_code == 403, login
        auth.logout()


def test_no_operator_or_keyword_owner_sees_an_unverified_case(client, auth, new_case):
    for login in ("op_dishub", "dishub"):
        auth.login(login)
        assert client.get(f"/cases/{new_case.id}").status_code == 404, login
        assert f"/cases/{new_case.id}" not in client.get("/").get_data(as_text=True), login
        auth.logout()
    auth.login("admin")
    done = client.post(
        f"/alur/{new_case.id}/verifikasi", data={"agency": "Dinas Perhubungan", "operator": op("op_dishub")}
    )
    assert done.status_code == 302
    auth.logout()
    auth.login("op_dishub")
    page = client.get(f"/cases/{new_case.id}")
    assert page.status_code == 200 and 'id="flow-answer"' in page.get_data(as_text=True)
    assert f"/cases/{new_case.id}" in client.get("/").get_data(as_text=True)
    auth.logout()
    auth.login("op_dinkes")
    assert client.get(f"/cases/{new_case.id}").status_code == 404
    auth.logout()
    auth.login("dishub")  # the keyword's owner is not part of the verified flow
    assert client.get(f"/cases/{new_case.id}").status_code == 404


def test_the_whole_flow_through_the_pages(client, auth, new_case):
    case_id = new_case.id
    auth.login("admin")
    client.post(f"/alur/{case_id}/verifikasi", data={"agency": "Dinas Perhubungan", "operator": op("op_dishub")})
    auth.logout()
    auth.login("op_dishub")
    # the ordinary reply box is refused for a verified case: nothing goes to the citizen unapproved
    refused = client.post(f"/cases/{case_id}/reply", data={"text": "langsung saja"})
    assert refused.status_code == 400 and "alur verifikasi" in refused.get_data(as_text=True)
    assert client.post(f"/alur/{case_id}/setujui").status_code == 403  # an operator approves nothing
    assert client.post(f"/alur/{case_id}/jawab", data={"text": "Lampu diganti besok."}).status_code == 302
    assert not OutboundMessage.select().where(OutboundMessage.kind == "reply").exists()
    auth.logout()
    auth.login("admin")
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'id="pending-answer">Lampu diganti besok.' in page and 'id="flow-approve"' in page
    assert client.post(f"/alur/{case_id}/kembalikan", data={"note": " "}).status_code == 400
    assert client.post(f"/alur/{case_id}/setujui").status_code == 302
    again = client.post(f"/alur/{case_id}/setujui")
    assert again.status_code == 400 and "tahap lain: disetujui, sedang dikirim" in again.get_data(as_text=True)
    (reply,) = OutboundMessage.select().where(OutboundMessage.kind == "reply")
    assert reply.text == "Lampu diganti besok. -DISHUB" and reply.recipient == "+6281211112222"
    stages = [s.stage for s in CaseStep.select().where(CaseStep.case == case_id).order_by(CaseStep.id)]
    assert stages == ["verify", "assigned", "review", "approved"]


def test_rejecting_without_a_reason_is_refused_with_words(client, auth, new_case):
    auth.login("admin")
    refused = client.post(f"/alur/{new_case.id}/tolak", data={"kind": "spam", "reason": ""})
    assert refused.status_code == 400 and "Tulis alasan penolakan." in refused.get_data(as_text=True)
    assert Case.get_by_id(new_case.id).stage == "verify"
    assert client.post(f"/alur/{new_case.id}/tolak", data={"kind": "spam", "reason": "iklan"}).status_code == 302
    assert Case.get_by_id(new_case.id).stage == "rejected"


def test_reassigning_between_agencies_in_the_page(client, auth, new_case):
    auth.login("admin")
    client.post(f"/alur/{new_case.id}/verifikasi", data={"agency": "Dinas Perhubungan", "operator": op("op_dishub")})
    assert client.post(f"/alur/{new_case.id}/alihkan", data={"agency": "Dinas Kesehatan"}).status_code == 400
    moved = client.post(f"/alur/{new_case.id}/alihkan", data={"agency": "Dinas Kesehatan", "operator": op("op_dinkes")})
    assert moved.status_code == 302
    case = Case.get_by_id(new_case.id)
    assert (case.agency, case.owner_id) == ("Dinas Kesehatan", op("op_dinkes"))
    # the keyword/official re-assignment of direct cases would skip the flow: refused
    client.post(f"/cases/{new_case.id}/assign", data={"keyword": "INFO"})
    assert Case.get_by_id(new_case.id).keyword == "DISHUB"


def test_step_durations_page(client, auth, new_case):
    auth.login("admin")
    client.post(f"/alur/{new_case.id}/verifikasi", data={"agency": "Dinas Perhubungan", "operator": op("op_dishub")})
    page = client.get("/laporan/alur")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-agency="Dinas Perhubungan" data-stage="verify"' in html and 'data-count="1"' in html
    empty = client.get("/laporan/alur?dari=2020-01-01&sampai=2020-01-31").get_data(as_text=True)
    assert "Tidak ada tahap yang selesai" in empty
    reversed_range = client.get("/laporan/alur?dari=2020-02-01&sampai=2020-01-01")
    assert reversed_range.status_code == 400 and "periode dibalik" in reversed_range.get_data(as_text=True)
    assert client.get("/laporan/alur?dari=kemarin").status_code == 400
    auth.logout()
    auth.login("op_dishub")
    assert client.get("/laporan/alur").status_code == 403


def test_a_verified_case_is_neither_closed_nor_reopened_by_hand(client, auth, new_case):
    auth.login("admin")
    page = client.get(f"/cases/{new_case.id}").get_data(as_text=True)
    assert f'action="/cases/{new_case.id}/close"' not in page
    client.post(f"/cases/{new_case.id}/close")
    assert (Case.get_by_id(new_case.id).status, Case.get_by_id(new_case.id).stage) == ("open", "verify")
    client.post(f"/alur/{new_case.id}/tolak", data={"kind": "duplicate", "reason": "sama dengan #7"})
    client.post(f"/cases/{new_case.id}/reopen")
    assert (Case.get_by_id(new_case.id).status, Case.get_by_id(new_case.id).stage) == ("closed", "rejected")


def test_an_answer_longer_than_a_reply_may_be_is_refused_when_written(client, auth, new_case):
    auth.login("admin")
    client.post(f"/alur/{new_case.id}/verifikasi", data={"agency": "Dinas Perhubungan", "operator": op("op_dishub")})
    auth.logout()
    auth.login("op_dishub")
    refused = client.post(f"/alur/{new_case.id}/jawab", data={"text": "panjang " * 400})
    assert refused.status_code == 400 and "paling banyak 10 SMS" in refused.get_data(as_text=True)
    assert Case.get_by_id(new_case.id).stage == "assigned"


def test_the_operator_list_is_grouped_by_agency_and_another_agencys_operator_is_refused(client, auth, new_case):
    from modemd.store.models import User

    User.update(agency="Dinas Perhubungan").where(User.login == "op_dishub").execute()
    User.update(agency="Dinas <Kesehatan>").where(User.login == "op_dinkes").execute()
    auth.login("admin")
    page = client.get(f"/cases/{new_case.id}").get_data(as_text=True)
    form = page.split('id="flow-assign"')[1].split("</form>")[0]
    assert '<optgroup label="Dinas Perhubungan">' in form and '<optgroup label="Dinas &lt;Kesehatan&gt;">' in form
    assert form.index("Operator Dishub") > form.index('<optgroup label="Dinas Perhubungan">')
    refused = client.post(
        f"/alur/{new_case.id}/verifikasi", data={"agency": "Dinas Perhubungan", "operator": op("op_dinkes")}
    )
    assert refused.status_code == 400 and "bukan operator instansi itu" in refused.get_data(as_text=True)
    assert Case.get_by_id(new_case.id).stage == "verify"


def test_the_admin_gives_an_operator_an_agency_in_the_user_form(client, auth, web_config):
    from modemd.store.models import User

    auth.login("admin")
    user = User.by_login("op_dinkes")
    form = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert 'name="agency"' in form and '<option value="Dinas Kesehatan">' in form  # keywords.ini's agencies
    data = {"name": "Operator Dinkes", "role": "operator", "phone": "", "sender_id": "", "active": "1"}
    assert client.post(f"/admin/users/{user.id}", data={**data, "agency": " Dinas  Kesehatan "}).status_code == 302
    assert User.by_login("op_dinkes").agency == "Dinas Kesehatan"
    too_long = client.post(f"/admin/users/{user.id}", data={**data, "agency": "x" * 129})
    assert too_long.status_code == 400 and User.by_login("op_dinkes").agency == "Dinas Kesehatan"
    assert "Dinas Kesehatan" in client.get("/admin/users/").get_data(as_text=True)
