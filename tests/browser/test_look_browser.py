"""The look of the web UI in Chromium: a menu that never wraps, keyboard use, axe-core, and the README's screenshots.

``MODEMD_SCREENSHOTS=1 .venv/bin/python -m pytest tests/browser/test_look_browser.py -k screenshots``
rewrites docs/screenshots/*.png (the README's main pages and the guides' pictures); without it the same
tests only check that every page renders without horizontal scrolling.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import login
from webfixtures import WEB_INI

from modemd.receive.keywords import load_keywords
from modemd.run.daemon import keywords_json
from modemd.send.status_reports import UNDELIVERABLE_REASON
from modemd.store.models import (
    DaemonState,
    ModemStatus,
    OutboundMessage,
    User,
    WebhookAttempt,
    WebhookDelivery,
    audit,
    utcnow,
)

pytestmark = pytest.mark.browser
AXE = Path(__file__).resolve().parent / "node" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PC = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}
LOGO = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 48"><path d="M2 2h36v26c0 10-9 16-18 18C11 44 2 38 2 28z" '
    'fill="#0b6e3a" stroke="#d4a017" stroke-width="3"/><path d="M20 10l4 9h-8z" fill="#d4a017"/></svg>'
)


@pytest.fixture
def web_ini(tmp_path) -> str:
    (tmp_path / "lambang.svg").write_text(LOGO)
    return WEB_INI.replace("[web]\n", "[web]\ntitle = SMS Center Pemkab Banjarnegara\nlogo = lambang.svg\n")


@pytest.fixture
def centre(make_case, officials, make_user):
    """A few cases, replies and a modem, so that every page has something to show."""
    make_user("opr", "operator", name="Sri Wahyuni")
    User.update(name="Budi Santoso").where(User.login == "humas").execute()
    now = utcnow()
    cases = []
    for i, (keyword, text) in enumerate(
        (
            ("INFO", "INFO kapan pasar malam dibuka?\nTerima kasih."),
            ("DISHUB", "DISHUB lampu lalu lintas di simpang Sokaraja mati sejak pagi"),
            (None, "Selamat siang, mau tanya syarat membuat KTP elektronik"),
            ("INFO", "INFO " + "x" * 120),
        )
    ):
        case = make_case(
            keyword, text, citizen=f"+62812345678{i:02d}", received_at=now - timedelta(hours=i * 5, days=i)
        )
        audit("daemon", "case.open", case)
        cases.append(case)
    OutboundMessage.create(
        recipient=cases[0].citizen,
        text="Pasar malam dibuka Sabtu pukul 19.00.",
        kind="reply",
        case=cases[0],
        created_by=officials["humas"],
        state="delivered",
    )
    ModemStatus.create(
        name="modem1",
        driver="at",
        state="ready",
        signal_dbm=-71,
        operator="Telkomsel",
        errors=0,
        last_contact=now,
        updated_at=now,
        balance="Rp12.500",
        balance_at=now,
        queue_depth=0,
    )
    hook = WebhookDelivery.create(
        event_id="0b6e",
        event="case.opened",
        endpoint="keyword:DISHUB",
        url="https://dishub.banjarnegarakab.go.id/api/modemd/webhook-penerima",
        body="{}",
        state="failed",
        attempts=1,
        give_up_at=now,
        last_error="no answer within 10 s (given up after 1 attempts)",
    )
    WebhookAttempt.create(delivery=hook, at=now, url=hook.url, error="no answer within 10 s", duration_ms=10004)
    return cases


def _open(page, base: str, path: str) -> None:
    response = page.goto(f"{base}{path}")
    assert response.status == 200, path


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


# the header's parts: their boxes, and each top-level menu item's box
_HEADER_BOXES = """() => {
  const box = el => { const r = el.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, height: r.height}; };
  const visible = el => el.checkVisibility({visibilityProperty: true});  // false inside a closed <details>
  return {
    header: box(document.querySelector('header.top')),
    items: [...document.querySelectorAll('.nav-list > li')].filter(visible).map(li => ({text: li.innerText.trim(), ...box(li.firstElementChild)})),
    links: [...document.querySelectorAll('.nav-list a, .nav-list summary, .nav-list button')].filter(visible)
             .map(el => ({text: el.innerText.trim(), height: el.getBoundingClientRect().height})),
    toggle: visible(document.querySelector('.menu-toggle')),
  };
}"""


@pytest.mark.parametrize("user", ["admin", "ketua", "humas", "opr"])
def test_menu_never_wraps_on_a_pc_or_a_phone(browser, live_server, centre, user):
    context = browser.new_context(viewport=PC, locale="id-ID")
    page = context.new_page()
    login(page, live_server, user)
    _open(page, live_server, "/dashboard/")
    pc = page.evaluate(_HEADER_BOXES)
    assert not pc["toggle"], "no menu button on a PC: the menu is shown"
    assert pc["header"]["height"] <= 64, pc["header"]
    assert len({round(item["top"]) for item in pc["items"]}) == 1, pc["items"]  # one row
    assert len(pc["items"]) == (6 if user in ("admin", "ketua") else 5)  # the approver has Demo (demo = yes)
    assert all(link["height"] <= 44 for link in pc["links"]), pc["links"]  # no item's text on two lines
    assert _no_horizontal_scroll(page)

    page.set_viewport_size(PHONE)
    phone = page.evaluate(_HEADER_BOXES)
    assert phone["toggle"] and phone["items"] == [], "on a phone the menu hides behind its button"
    assert phone["header"]["height"] <= 64, phone["header"]  # brand, languages and the button on one row
    assert _no_horizontal_scroll(page)
    page.click(".menu-toggle")
    opened = page.evaluate(_HEADER_BOXES)
    assert len(opened["items"]) == len(pc["items"])
    assert all(link["height"] <= 44 for link in opened["links"]), opened["links"]
    tops = [item["top"] for item in opened["items"]]
    assert tops == sorted(tops) and len(set(tops)) == len(tops)  # one item a line, in order
    assert max(item["right"] for item in opened["items"]) <= PHONE["width"]
    context.close()


def test_menu_works_with_the_keyboard_and_without_javascript(browser, live_server, centre):
    for javascript in (True, False):
        context = browser.new_context(viewport=PHONE, locale="id-ID", java_script_enabled=javascript)
        page = context.new_page()
        login(page, live_server, "admin")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip"
        assert page.is_visible("a.skip")
        page.keyboard.press("Tab")  # the brand
        page.keyboard.press("Tab")  # the menu button
        assert page.evaluate("document.activeElement.className") == "menu-toggle"
        page.keyboard.press("Enter")
        assert page.is_visible("text=Kotak keluar")
        page.focus(".nav .group summary >> text=Admin")
        page.keyboard.press("Enter")
        page.click("a[href='/admin/users/']")
        page.wait_for_url(f"{live_server}/admin/users/")
        if javascript:  # Escape closes an open drop-down (menu.js)
            page.set_viewport_size(PC)
            page.focus(".nav .group summary >> text=Laporan")
            page.keyboard.press("Enter")
            assert page.is_visible("a[href='/rekap/']")
            page.keyboard.press("Escape")
            assert not page.is_visible("a[href='/rekap/']")
        context.close()


def test_a_drop_down_opened_right_after_the_phone_menu_stays_open(browser, live_server, centre):
    # the phone menu's "toggle" event is queued; when it arrives after the Admin drop-down inside it
    # was opened (a quick tap, a loaded phone), it must not close that drop-down again
    context = browser.new_context(viewport=PHONE, locale="id-ID")
    page = context.new_page()
    login(page, live_server, "admin")
    page.evaluate(
        """() => {
            document.querySelector('header.top details.menu').open = true;
            [...document.querySelectorAll('.nav .group summary')]
                .find((s) => s.textContent.includes('Admin')).parentElement.open = true;
        }"""
    )
    page.wait_for_timeout(200)  # let the queued toggle events run
    assert page.is_visible("a[href='/admin/users/']")
    page.click("a[href='/admin/users/']")
    page.wait_for_url(f"{live_server}/admin/users/")
    context.close()


MAIN_PAGES = (
    ("login", "/login"),
    ("inbox", "/"),
    ("case", "/cases/{case}"),
    ("outbox", "/outbox/"),
    ("dashboard", "/dashboard/"),
    ("siaran", "/siaran/"),
    ("rekap", "/rekap/"),
    ("users", "/admin/users/"),
    ("public", "/publik/"),
)


# the other pages, checked at PC size only
OTHER_PAGES = (
    ("contacts", "/admin/contacts/"),
    ("contact-new", "/admin/contacts/new"),
    ("keywords", "/admin/keywords/"),
    ("blocklist", "/admin/blocklist/"),
    ("audit", "/admin/audit/"),
    ("operator", "/admin/operator-messages/"),
    ("webhooks", "/admin/webhooks/"),
    ("user-new", "/admin/users/new"),
    ("password", "/password"),
    ("broadcast-new", "/siaran/baru"),
    ("templates", "/siaran/template"),
    ("demo", "/demo/"),
    ("publish", "/cases/{case}/publikasi"),
    ("not-found", "/cases/999999"),
    ("laporan", "/laporan/"),
    ("laporan-cetak", "/laporan/cetak"),
)
AXE_AT = ((PC, MAIN_PAGES + OTHER_PAGES), (PHONE, MAIN_PAGES))


@pytest.mark.skipif(
    not AXE.exists(), reason=f"{AXE} is missing: npm install --prefix tests/browser/node (scripts/test.sh does)"
)
def test_axe_finds_no_serious_problem(browser, live_server, centre):
    found = {}
    for size, pages in AXE_AT:
        # bypass_csp: the app's policy rightly refuses the injected script; the checks read the page as it is
        context = browser.new_context(viewport=size, locale="id-ID", bypass_csp=True)
        page = context.new_page()
        for name, path in pages:
            if name == "inbox":
                login(page, live_server, "admin")
            response = page.goto(f"{live_server}{path.format(case=centre[0].id)}")
            assert response.status == (404 if name == "not-found" else 200), path
            page.add_script_tag(path=str(AXE))
            result = page.evaluate(
                "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)}))"
            )
            serious = [v for v in result if v["impact"] in ("serious", "critical")]
            if serious:
                found[f"{name} {size['width']}"] = serious
        context.close()
    assert found == {}


def test_screenshots_of_the_main_pages(browser, live_server, centre):
    write = os.environ.get("MODEMD_SCREENSHOTS") == "1"
    if write:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("pc", PC), ("phone", PHONE)):
        context = browser.new_context(viewport=size, locale="id-ID", device_scale_factor=1)
        page = context.new_page()
        for name, path in MAIN_PAGES:
            if name == "inbox":
                login(page, live_server, "admin")
            _open(page, live_server, path.format(case=centre[0].id))
            assert _no_horizontal_scroll(page), f"{path} scrolls sideways at {size['width']} px"
            assert page.is_visible("header.top .brand >> text=SMS Center Pemkab Banjarnegara")
            if write:
                page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=label == "phone")
        context.close()


@pytest.fixture
def guide_scenes(centre, officials, web_config):
    """What the guides show beyond the main pages: a failed reply and a broadcast waiting for the Ketua."""
    from modemd.jobs import broadcasts
    from modemd.store.models import Contact, ContactGroup, GroupMember

    failed_case = centre[1]
    OutboundMessage.create(
        recipient=failed_case.citizen,
        text="Lampu sudah kami laporkan ke petugas.",
        kind="reply",
        case=failed_case,
        created_by=officials["dishub"],
        state="failed",
        attempts=4,
        failure_reason=UNDELIVERABLE_REASON,
    )
    failed_case.reply_failed_at = utcnow()
    failed_case.save()
    camat = ContactGroup.create(name="Camat", description="Camat se-kabupaten")
    for i, (name, position) in enumerate((("Agus Riyanto", "Camat Sokaraja"), ("Dewi Lestari", "Camat Bawang"))):
        contact = Contact.create(name=name, phone=f"+6281311100{i:02d}", position=position)
        GroupMember.create(group=camat, contact=contact)
    draft = broadcasts.draft(
        officials["humas"],
        "Rapat koordinasi penanganan banjir Senin 7 Desember pukul 08.00 di Pendopo Kabupaten.",
        title="Rapat koordinasi banjir",
        category="invitation",
        groups=[camat.id],
    )
    broadcasts.submit(draft, officials["humas"], web_config)
    # the table a running daemon publishes, so the keywords page shows it as on a live centre
    DaemonState.put("keywords", keywords_json(load_keywords(web_config.keywords_path)))
    DaemonState.put("keywords_loaded_at", utcnow().isoformat(timespec="seconds"))
    return {"failed": failed_case, "broadcast": draft}


# the guides' own pictures: (name, who logs in, path, the part shown on a PC or None for the screen, sizes);
# the administrator's pages are PC work (their wide tables are what the MAIN_PAGES tests do not cover)
BOTH = ("pc", "phone")
GUIDE_SHOTS = (
    ("balas", "humas", "/cases/{case}", "#reply-form", BOTH),
    ("balasan-gagal", "dishub", "/", "#reply-failed", BOTH),
    ("persetujuan", "ketua", "/siaran/{broadcast}", None, BOTH),
    ("kata-kunci", "admin", "/admin/keywords/", None, ("pc",)),
    ("kontak", "admin", "/admin/contacts/", None, ("pc",)),
    ("laporan", "ketua", "/laporan/", None, BOTH),
    ("token-api", "admin", "/admin/tokens/", None, ("pc",)),
)
# typographic quotes, as a phone's keyboard writes them: outside the GSM alphabet, so 70 characters per SMS
REPLY = "Pasar malam dibuka Sabtu pukul 19.00 di “alun-alun” Sokaraja. Terima kasih."


def test_screenshots_for_the_guides(browser, live_server, centre, guide_scenes):
    write = os.environ.get("MODEMD_SCREENSHOTS") == "1"
    ids = {"case": centre[0].id, "broadcast": guide_scenes["broadcast"].id}
    for label, size in (("pc", PC), ("phone", PHONE)):
        for name, user, path, part, sizes in GUIDE_SHOTS:
            if label not in sizes:
                continue
            context = browser.new_context(viewport=size, locale="id-ID", device_scale_factor=1)
            page = context.new_page()
            login(page, live_server, user)
            _open(page, live_server, path.format(**ids))
            if name == "balas":
                page.fill("#reply-text", REPLY)
                assert page.inner_text("[data-count=encoding]") == "Karakter khusus (SMS lebih pendek)"
            if name == "persetujuan":
                assert page.is_visible("button >> text=Setujui dan kirim ke 2 penerima")
            if name == "kata-kunci":
                # the file's place on an installed centre, not the test's temporary folder
                page.evaluate(
                    "for (const c of document.querySelectorAll('h2 code')) c.textContent = '/etc/modemd/keywords.ini'"
                )
            if part:
                assert page.is_visible(part), f"{part} missing on {path}"
            assert _no_horizontal_scroll(page), f"{path} scrolls sideways at {size['width']} px"
            if write:
                target = SCREENSHOTS / f"{name}-{label}.png"
                if part and label == "pc":
                    page.locator(part).screenshot(path=str(target))
                else:
                    page.screenshot(path=str(target), full_page=label == "phone")
            context.close()


def test_printout_keeps_the_centre_name_and_logo_and_drops_the_menu(page, live_server, centre):
    login(page, live_server, "admin")
    _open(page, live_server, "/rekap/")
    page.emulate_media(media="print")
    assert page.is_visible("header.top .brand >> text=SMS Center Pemkab Banjarnegara")
    assert page.is_visible("header.top img.logo")
    assert page.evaluate("document.querySelector('header.top img.logo').naturalWidth") > 0  # the file was served
    assert not page.is_visible(".menu") and not page.is_visible(".langs")


def test_citizen_text_in_the_page_font_and_only_it_breaks_anywhere(browser, live_server, centre):
    context = browser.new_context(viewport=PHONE, locale="id-ID")
    page = context.new_page()
    login(page, live_server, "admin")
    _open(page, live_server, f"/cases/{centre[3].id}")  # 120 letters without a space
    assert _no_horizontal_scroll(page)
    styles = page.evaluate("""() => {
      const of = sel => getComputedStyle(document.querySelector(sel));
      return {body: of('body').overflowWrap, bodyFont: of('body').fontFamily, text: of('.msg.in .original').overflowWrap,
              space: of('.msg.in .original').whiteSpace, font: of('.msg.in .original').fontFamily};
    }""")
    # short words (table headers, labels) are never split; the citizen's long unbroken text may be
    assert styles == {
        "body": "normal",
        "bodyFont": styles["bodyFont"],
        "text": "anywhere",
        "space": "pre-wrap",
        "font": styles["bodyFont"],
    }
    _open(page, live_server, f"/cases/{centre[0].id}")
    assert page.inner_text(".msg.in .original") == "INFO kapan pasar malam dibuka?\nTerima kasih."  # line break kept
    context.close()


def test_the_other_pages_do_not_scroll_sideways_on_a_phone(browser, live_server, centre):
    # an admin on a phone had to scroll the whole page sideways on the keyword, contact and audit lists
    context = browser.new_context(viewport=PHONE, locale="id-ID")
    page = context.new_page()
    login(page, live_server, "admin")
    wide = []
    for name, path in OTHER_PAGES:
        if name == "laporan-cetak":  # an A4 page for the printer, not for reading on a phone
            continue
        page.goto(f"{live_server}{path.format(case=centre[0].id)}")  # the not-found page answers 404
        if not _no_horizontal_scroll(page):
            wide.append(path)
    context.close()
    assert wide == []
