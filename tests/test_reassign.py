"""A re-assigned case: the new owner hears at once, the citizen's deadline stays, figures follow the new keyword."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from webfixtures import *  # noqa: F401,F403

from modemd.store.models import Case, OutboundMessage, utcnow

INI = WEB_INI.replace("[web]\n", "[web]\nbase_url = https://sms.pemda.go.id\n")  # noqa: F405


@pytest.fixture
def web_ini():
    return INI


def texts_to(number: str) -> list[str]:
    return [
        m.text
        for m in OutboundMessage.select().where(
            OutboundMessage.recipient == number, OutboundMessage.kind == "notification"
        )
    ]


def test_the_new_owner_gets_an_sms_at_once_and_the_deadline_stays(client, auth, make_case, officials):
    received = utcnow() - timedelta(hours=1)
    case = make_case("DISHUB", "DISHUB sampah menumpuk", received_at=received)
    deadline = Case.get_by_id(case.id).deadline_at
    auth.login("admin")
    client.post(f"/cases/{case.id}/assign", data={"keyword": "INFO", "owner": ""})

    moved = Case.get_by_id(case.id)
    assert (moved.keyword, moved.owner.login, moved.deadline_at) == ("INFO", "humas", deadline)
    local = deadline.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo("Asia/Jakarta"))
    assert texts_to("+6281200000001") == [
        f"SMS #{case.id} (INFO) dialihkan kepada Anda, batas jawab {local:%d/%m %H.%M}. "
        f"Buka https://sms.pemda.go.id/cases/{case.id}"
    ]
    assert texts_to("+6281200000002") == []  # the old owner is not told
    message = OutboundMessage.get(OutboundMessage.recipient == "+6281200000001")
    assert message.expires_at is not None and message.expires_at <= message.created_at + timedelta(hours=1)
    auth.logout()
    auth.login("humas")
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert re.search(rf"Batas jawab: <time data-deadline>{local:%d-%m-%Y %H:%M}</time>", page)


def test_no_sms_when_the_owner_stays_has_no_phone_or_is_the_one_assigning(
    client, auth, make_case, officials, make_user
):
    case = make_case("DISHUB")
    no_phone = make_user("tanpahp", phone_number=None)
    auth.login("admin")
    client.post(f"/cases/{case.id}/assign", data={"keyword": "DISHUB", "owner": ""})  # same owner
    client.post(
        f"/cases/{case.id}/assign", data={"keyword": "DISHUB", "owner": str(officials["admin"].id)}
    )  # the admin takes it
    client.post(f"/cases/{case.id}/assign", data={"keyword": "", "owner": str(no_phone.id)})
    assert OutboundMessage.select().where(OutboundMessage.kind == "notification").count() == 0
    assert Case.get_by_id(case.id).owner.login == "tanpahp"


def test_dashboards_count_the_case_under_its_new_keyword_only(client, auth, make_case, officials):
    case = make_case("DISHUB", "DISHUB lampu mati")
    auth.login("admin")
    client.post(f"/cases/{case.id}/assign", data={"keyword": "INFO", "owner": ""})
    auth.logout()

    def figures(login: str) -> list[int]:
        auth.login(login)
        body = client.get("/dashboard/").get_data(as_text=True)
        auth.logout()
        return [int(n) for n in re.findall(r"<strong[^>]*>(\d+)</strong>", body)][:5]

    assert figures("dishub") == [0, 0, 0, 0, 0]  # received, opened, answered, open, overdue
    assert figures("humas") == [1, 1, 0, 1, 0]
