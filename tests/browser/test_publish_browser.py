"""Publishing a case in a real browser: choose, edit the wording, preview, publish, read the public page (issue 10)."""

from __future__ import annotations

import pytest
from conftest import login, screenshot

from modemd.store.models import InboundMessage, OutboundMessage, utcnow

pytestmark = pytest.mark.browser


def test_owner_publishes_an_edited_snapshot_after_a_preview(page, live_server, make_case, officials):
    case = make_case("INFO", "INFO kapan pasar buka? NIK 3201234567890001", citizen="+6281234567890")
    OutboundMessage.create(
        recipient=case.citizen, text="Terima kasih, tercatat.", kind="autoreply", state="delivered", case=case
    )
    OutboundMessage.create(
        recipient=case.citizen,
        text="Pasar buka jam 7 pagi. -HUMAS",
        kind="reply",
        state="delivered",
        case=case,
        created_by=officials["humas"],
    )
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    login(page, live_server, "humas")
    page.goto(f"{live_server}/cases/{case.id}")
    page.click("#publish-link")
    # only the staff reply is offered as an answer, never the acknowledgement
    answers = page.locator("#publish-form input[name=answer]")
    assert answers.count() == 1
    page.fill("textarea[name=question_text]", "Kapan pasar buka? <img src=x onerror=alert(1)>")
    page.click("#publish-form button[type=submit]")

    preview = page.locator("#publication-preview")
    assert preview.locator("[data-published=question]").inner_text() == "Kapan pasar buka? <img src=x onerror=alert(1)>"
    assert preview.locator("[data-published=answer]").inner_text() == "Pasar buka jam 7 pagi. -HUMAS"
    assert "+62812****7890" in preview.inner_text()
    assert "NIK 3201234567890001" in page.inner_text("#original-question")  # the original, beside the edit
    screenshot(page, "publish-preview")
    page.click("#publish-button")
    page.wait_for_selector("#published-pill")

    # the citizen texts again after publication: it must not appear
    InboundMessage.create(
        modem="sim1",
        sender_raw=case.citizen,
        sender=case.citizen,
        received_at=utcnow(),
        route="case",
        keyword="INFO",
        case=case,
        text="INFO sebarkan hoaks ini",
    )
    page.goto(f"{live_server}/publik/")
    public = page.inner_text("main")
    assert "Kapan pasar buka? <img src=x onerror=alert(1)>" in public
    assert "Pasar buka jam 7 pagi. -HUMAS" in public and "+62812****7890" in public
    assert "hoaks" not in public and "3201234567890001" not in public and "Terima kasih, tercatat." not in public
    assert page.locator("main img").count() == 0
    screenshot(page, "public-page")
    assert dialogs == []
