"""What a person does in a real browser (headless Chromium): log in, answer, watch the state, on a phone too."""

from __future__ import annotations

import dataclasses
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import ARTIFACTS, login, screenshot

from modemd import drivers
from modemd.sms import segmentation
from modemd.store.models import Case, InboundMessage, ModemStatus, OutboundMessage, utcnow

pytestmark = pytest.mark.browser
DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshot-inbox.png"

COUNTER_TEXTS = [
    "",
    "a",
    "Halo",
    "x" * 160,
    "x" * 161,
    "x" * 306,
    "x" * 307,
    "€" * 80,
    "€" * 81,
    "a" + "{" * 76 + "b" * 77,
    "[tes] ~ ^ | \\ {ok}",
    "ç" + "y" * 69,
    "y" * 70 + "ç",
    "é" * 70,
    "Привет",
    "中文" * 35,
    "中文" * 36,
    "😀",
    "😀" * 35,
    "😀" * 36,
    "a😀" * 40,
    "x" * 66 + "😀" + "y" * 100,
    "tab\there\nbaris\r\n",
    "\f",
    "ÆØÅ æøå ß",
    "Jalan rusak di Jl. Merdeka № 5",
    "ł",
    "x" * 152 + "€",
    "x" * 153 + "€" + "x" * 10,
]


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_js_counter_matches_pdu_count(page, live_server):
    """The reply box's counter runs the same rules as modemd.sms.segmentation.count, texts with extension chars and emoji included."""
    page.goto(f"{live_server}/login")
    page.add_script_tag(url=f"{live_server}/static/smscount.js")
    for text in COUNTER_TEXTS:
        in_js = page.evaluate("text => window.modemdSmsCount(text)", text)
        assert in_js == dataclasses.asdict(segmentation.count(text)), f"differs for {text!r}"


def test_citizen_sms_routed_answered_sent_and_delivered(page, live_server, daemon, web_config):
    """An SMS arrives at the simulated modem, the daemon routes it, the official answers and sees sent then delivered."""
    drivers.inject_simulated(web_config.modems["sim1"].settings, "081277778888", "INFO kapan pasar malam dibuka?")
    login(page, live_server, "humas")
    deadline = time.monotonic() + 20
    while "pasar malam" not in page.inner_text("main"):
        assert time.monotonic() < deadline, "the routed message never showed up in the inbox"
        time.sleep(0.5)
        page.reload()
    assert page.locator(".case-item").first.inner_text().count("sisa 2j") == 1
    screenshot(page, "inbox")
    page.click("text=pasar malam")
    page.wait_for_selector("#reply-text")
    page.fill("#reply-text", "Mulai Sabtu jam 19.00. Terima kasih 🙏")
    counter = page.inner_text("#reply-counter")
    assert "Karakter khusus" in counter
    page.fill("#reply-text", "Mulai Sabtu jam 19.00. Terima kasih")
    counter = page.inner_text("#reply-counter")
    assert "Huruf biasa" in counter
    expected = segmentation.count("Mulai Sabtu jam 19.00. Terima kasih -PEMKAB")
    assert page.inner_text('[data-count="chars"]') == str(expected.chars)
    page.click("#reply-form button[type=submit]")
    page.wait_for_selector("text=Balasan masuk antrean kirim.")
    screenshot(page, "case")
    # from here on the page must not reload: a marker on window survives only without navigation
    page.evaluate("window.__still_same_page = true")
    reply = page.locator(".msg.out", has_text="Mulai Sabtu jam 19.00").locator(".state")
    page.evaluate("""() => {
        window.__seen_states = [];
        const el = [...document.querySelectorAll('.msg.out')].find(e => e.textContent.includes('Mulai Sabtu'));
        const state = el.querySelector('.state');
        window.__seen_states.push(state.dataset.state);
        new MutationObserver(() => window.__seen_states.push(state.dataset.state))
            .observe(state, {attributes: true, childList: true, characterData: true, subtree: true});
    }""")
    reply.filter(has_text="sampai").wait_for(timeout=40000)
    seen = page.evaluate("window.__seen_states")
    assert "sent" in seen and seen[-1] == "delivered", seen
    assert page.evaluate("window.__still_same_page") is True
    message = OutboundMessage.get(OutboundMessage.text == "Mulai Sabtu jam 19.00. Terima kasih -PEMKAB")
    assert message.state == "delivered" and message.recipient == "+6281277778888"
    assert Case.get_by_id(message.case_id).status == "answered"
    screenshot(page, "case-delivered")


def test_failed_reply_shows_its_reason_without_reload(page, live_server, make_case, web_config):
    """Without a daemon: the queue records the failure as the daemon would, the page follows, in plain words."""
    case = make_case("INFO", "INFO tes gagal")
    login(page, live_server, "humas")
    page.goto(f"{live_server}/cases/{case.id}")
    page.fill("#reply-text", "Balasan yang akan gagal")
    page.click("#reply-form button[type=submit]")
    page.wait_for_selector("text=Balasan masuk antrean kirim.")
    page.evaluate("window.__still_same_page = true")
    from modemd.send import outbound

    claimed = outbound.claim("pc", outbound.Eligibility.build("sim1", ["sim1"], None))
    outbound.record_failure(claimed, "+CMS ERROR: 1 <unassigned>", permanent=True, code=1, config=web_config)
    page.locator(".msg.out .state").filter(has_text="gagal").wait_for(timeout=15000)
    assert page.inner_text(".msg.out .reason") == "Nomor tujuan tidak dikenal"
    assert page.evaluate("window.__still_same_page") is True


def test_hostile_sms_stays_inert_text(page, live_server, make_case):
    script = '<script>alert("xss")</script>'
    image = "<img src=x onerror=alert(1)>"
    first = make_case("INFO", f"INFO {script}")
    second = make_case("INFO", f"INFO {image} \"quoted\" 'single' 😡", citizen="+6285711112222")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    login(page, live_server, "humas")
    inbox = page.inner_text("main")
    assert script in inbox and image in inbox
    for case, text in ((first, script), (second, image)):
        page.goto(f"{live_server}/cases/{case.id}")
        assert text in page.inner_text("pre.original")
        assert page.locator("main img").count() == 0
        assert page.locator("main script").count() == 0
    page.goto(f"{live_server}/cases/{second.id}")
    page.fill("#reply-text", image)
    page.click("#reply-form button[type=submit]")
    page.wait_for_selector("text=Balasan masuk antrean kirim.")
    assert image in page.inner_text(".msg.out pre.original")
    page.wait_for_timeout(500)
    assert dialogs == []
    screenshot(page, "case-hostile")


def test_inbox_on_a_phone(browser, live_server, make_case):
    """360x740: no horizontal scrolling; overdue cases stand out; filters reachable."""
    now = utcnow()
    texts = [
        "INFO jalan berlubang di depan SDN 2, tolong segera diperbaiki sebelum ada korban",
        "INFO kapan pembagian bansos tahap dua?",
        "INFO https://contoh.example/sebuah-alamat-yang-sangat-panjang-tanpa-spasi-sama-sekali-0123456789",
        "INFO lampu PJU mati 😡😡😡 sudah seminggu",
    ]
    for n, text in enumerate(texts):
        make_case("INFO", text, citizen=f"+62812000011{n:02d}", received_at=now - timedelta(minutes=70 * n))
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True, locale="id-ID"
    )
    page = context.new_page()
    login(page, live_server, "humas")
    assert _no_horizontal_scroll(page)
    assert page.locator(".case-item.overdue").count() == 1
    shot = screenshot(page, "inbox-phone")
    if not DOCS_SCREENSHOT.exists() or os.environ.get("MODEMD_UPDATE_DOCS_SCREENSHOT"):
        # the README's picture; not rewritten on every run, so test runs leave the work tree clean
        DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(DOCS_SCREENSHOT))
    assert shot.stat().st_size > 0
    page.click("details.filters summary")  # the menu has its own summaries now
    page.fill("input[name=q]", "bansos")
    page.click("details.filters button[type=submit]")
    assert "bansos" in page.inner_text("main") and "PJU" not in page.inner_text("main")
    case = Case.select().order_by(Case.id).first()
    page.goto(f"{live_server}/cases/{case.id}")
    assert _no_horizontal_scroll(page)
    screenshot(page, "case-phone")
    context.close()


def test_main_pages_render_and_are_saved_as_screenshots(page, live_server, make_case):
    make_case("INFO", "INFO contoh pesan untuk tangkapan layar")
    ModemStatus.create(
        name="modem1",
        driver="at",
        state="ready",
        operator="TELKOMSEL",
        signal_dbm=-79,
        last_contact=utcnow(),
        manufacturer="Huawei",
        model="E173",
        balance="Sisa Pulsa Rp4.500. Masa Aktif s.d. 31-12-2026.",
        balance_at=utcnow(),
        balance_warning="low",
    )
    InboundMessage.create(
        modem="modem1",
        sender_raw="TELKOMSEL",
        sender="TELKOMSEL",
        sender_kind="alphanumeric",
        text="Masa aktif kartu Anda berakhir 31-12-2026. Isi ulang sekarang <b>di sini</b>.",
        route="unanswerable",
    )
    login(page, live_server, "admin")
    for name, path in (
        ("dashboard", "/dashboard/"),
        ("outbox", "/outbox/"),
        ("users", "/admin/users/"),
        ("contacts", "/admin/contacts/"),
        ("keywords", "/admin/keywords/"),
        ("audit", "/admin/audit/"),
        ("blocklist", "/admin/blocklist/"),
        ("operator-messages", "/admin/operator-messages/"),
        ("demo", "/demo/"),
        ("public", "/publik/"),
    ):
        response = page.goto(f"{live_server}{path}")
        assert response.status == 200, path
        screenshot(page, name)
    page.click(".langs button[title=English]")
    page.goto(f"{live_server}/dashboard/")
    assert "SMS received today" in page.inner_text("main")
    assert "credit low" in page.inner_text("main") and "Sisa Pulsa Rp4.500" in page.inner_text("main")
    page.click("a.operator-messages")
    assert "Isi ulang sekarang <b>di sini</b>." in page.inner_text("main")  # shown as text, not markup
    assert (ARTIFACTS / "dashboard.png").exists()


def test_demo_page_injects_and_the_daemon_routes_it(page, live_server, daemon):
    """The README's demo path: admin types a citizen's SMS, it arrives through the simulated modem."""
    login(page, live_server, "admin")
    page.goto(f"{live_server}/demo/")
    page.fill("input[name=sender]", "081299990000")
    page.fill("textarea[name=text]", "DISHUB lampu merah mati di perempatan")
    page.click("main button[type=submit]")
    page.wait_for_selector("text=SMS dikirim ke modem simulasi")
    deadline = time.monotonic() + 20
    while not Case.select().where(Case.keyword == "DISHUB").exists():
        assert time.monotonic() < deadline, "the daemon never routed the injected SMS"
        time.sleep(0.3)
    page.goto(f"{live_server}/")
    assert "lampu merah mati" in page.inner_text("main")
