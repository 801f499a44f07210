"""The verified flow in a real browser: the admin's queue, verification, the operator's answer, approval."""

from __future__ import annotations

import pytest
from conftest import login, screenshot

from modemd import config as config_module
from modemd.store.models import Case, OutboundMessage
from tests.daemonharness import Conversation
from tests.test_flow import VERIFIED_KEYWORDS
from tests.webfixtures import WEB_INI

pytestmark = pytest.mark.browser


@pytest.fixture
def web_config(write_config, officials, make_user):
    make_user("op_dishub", "operator", name="Sari (Dishub)", phone_number="081200000021", sender_id="DISHUB")
    return config_module.load(write_config(WEB_INI, keywords=VERIFIED_KEYWORDS))


def logout(page, base: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/login")


def test_a_complaint_goes_from_the_queue_to_the_operator_and_back_to_the_citizen(page, live_server, web_config):
    chat = Conversation(web_config.path)
    chat.receive("081211112222", "DISHUB lampu merah mati <b>tolong</b>")
    case_id = chat.last.case.id

    login(page, live_server, "admin")
    page.goto(f"{live_server}/alur")
    queue = page.locator("#queue-verify")
    assert f"#{case_id}" in queue.inner_text() and "<b>tolong</b>" in queue.inner_text()  # shown as text
    page.click(f"#queue-verify a[href='/cases/{case_id}#flow']")
    page.select_option("#flow-assign select[name=operator]", label="Sari (Dishub) (op_dishub)")
    page.fill("#flow-assign input[name=agency]", "Dinas Perhubungan")
    page.click("#flow-assign button[type=submit]")
    page.wait_for_selector("#flow [data-stage=assigned]")
    logout(page, live_server)

    login(page, live_server, "op_dishub")
    page.goto(f"{live_server}/cases/{case_id}")
    assert page.locator("#reply-form").count() == 0  # no direct reply box: the answer goes to the admin
    page.fill("#flow-answer-text", "Lampu diganti besok pagi.")
    page.click("#flow-answer button[type=submit]")
    page.wait_for_selector("#flow [data-stage=review]")
    logout(page, live_server)

    login(page, live_server, "admin")
    page.goto(f"{live_server}/cases/{case_id}")
    assert page.inner_text("#pending-answer") == "Lampu diganti besok pagi."
    screenshot(page, "flow-approve")
    page.click("#flow-approve button[type=submit]")
    page.wait_for_selector("#flow [data-stage=approved]")
    steps = page.inner_text("#flow-steps")
    assert "perlu verifikasi" in steps and "di operator instansi" in steps and "Sari (Dishub)" in steps
    (reply,) = OutboundMessage.select().where(OutboundMessage.kind == "reply")
    assert reply.text == "Lampu diganti besok pagi. -DISHUB"
    assert Case.get_by_id(case_id).stage == "approved"
