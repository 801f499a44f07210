"""The inbox and the case page: visibility, replies, actions, and hostile SMS text."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from webfixtures import *  # noqa: F401,F403

from modemd.send import outbound
from modemd.store.models import AuditLog, Case, CaseNote, OutboundMessage, User, utcnow

HOSTILE = [
    '<script>alert("x")</script>',
    "<img src=x onerror=alert(1)>",
    "\"'><svg onload=alert(1)>",
    "INFO jalan 🚧 rusak 😡 di \"Jl. Merdeka\" & 'Pasar'",
]


def _body(response) -> str:
    return response.get_data(as_text=True)


# --------------------------------------------------------------------------
# who sees what


def test_official_sees_own_keyword_cases_only(client, auth, make_case):
    mine = make_case("INFO", "INFO kapan pasar buka")
    theirs = make_case("DISHUB", "DISHUB lampu mati")
    auth.login("humas")
    page = _body(client.get("/"))
    assert "kapan pasar buka" in page
    assert "lampu mati" not in page
    assert client.get(f"/cases/{mine.id}").status_code == 200
    assert client.get(f"/cases/{theirs.id}").status_code == 404
    assert client.post(f"/cases/{theirs.id}/reply", data={"text": "hai"}).status_code == 404
    assert client.get(f"/cases/{theirs.id}/replies.json").status_code == 404
    assert client.post(f"/cases/{theirs.id}/close").status_code == 404
    assert client.post(f"/cases/{theirs.id}/note", data={"text": "x"}).status_code == 404
    assert client.get("/cases/999999").status_code == 404


def test_case_assigned_to_an_official_is_visible_to_them(client, auth, make_case, officials):
    case = make_case("DISHUB", "DISHUB ini soal kesehatan", owner=officials["dinkes"])
    auth.login("dinkes")
    assert client.get(f"/cases/{case.id}").status_code == 200


def test_operator_sees_only_assigned_cases(client, auth, make_case, make_user):
    operator = make_user("op1", "operator")
    assigned = make_case("INFO", "INFO diteruskan", owner=operator)
    other = make_case("INFO", "INFO bukan untuk operator")
    auth.login("op1")
    assert client.get(f"/cases/{assigned.id}").status_code == 200
    assert client.get(f"/cases/{other.id}").status_code == 404
    assert "bukan untuk operator" not in _body(client.get("/"))


def test_admin_and_approver_see_everything_including_unrouted(client, auth, make_case):
    unrouted = make_case(None, "HALO siapa ini")
    make_case("DINKES", "DINKES puskesmas tutup")
    for login in ("admin", "ketua"):
        auth.login(login)
        page = _body(client.get("/"))
        assert "HALO siapa ini" in page and "puskesmas tutup" in page
        assert client.get(f"/cases/{unrouted.id}").status_code == 200
        filtered = _body(client.get("/?keyword=-"))
        assert "HALO siapa ini" in filtered and "puskesmas tutup" not in filtered
        auth.logout()


def test_official_cannot_use_unrouted_filter(client, auth, make_case):
    make_case(None, "HALO tanpa kata kunci")
    auth.login("humas")
    assert "tanpa kata kunci</p>" not in _body(client.get("/?keyword=-"))
    assert "HALO tanpa kata kunci" not in _body(client.get("/?keyword=-"))


# --------------------------------------------------------------------------
# inbox order, deadline, filters, search, pagination


def test_unanswered_first_overdue_highlighted_and_badge(client, auth, make_case):
    now = utcnow()
    answered = make_case(
        "INFO", "INFO sudah dijawab", received_at=now - timedelta(minutes=5), status="answered", answered_at=now
    )
    late = make_case("INFO", "INFO terlambat", received_at=now - timedelta(hours=4))
    fresh = make_case("INFO", "INFO baru masuk", received_at=now - timedelta(minutes=1))
    auth.login("humas")
    page = _body(client.get("/"))
    assert page.index("terlambat") < page.index("baru masuk") < page.index("sudah dijawab")
    assert 'class="case-item overdue"' in page
    assert "lewat 1j" in page  # 4 h old, deadline 3 h
    assert "sisa 2j 5" in page  # 2 h 59 m left
    assert '<span class="badge" title="belum dijawab">2</span>' in page
    assert answered.id and late.id and fresh.id


def test_filters_by_status_category_keyword_and_date(client, auth, make_case):
    make_case("INFO", "INFO pengaduan jalan", category="complaint")
    make_case("INFO", "INFO pertanyaan pajak", category="question", status="closed")
    old = make_case("DISHUB", "DISHUB lama sekali", received_at=utcnow() - timedelta(days=3))
    auth.login("admin")
    by_category = _body(client.get("/?category=complaint"))
    assert "pengaduan jalan" in by_category and "pertanyaan pajak" not in by_category
    by_status = _body(client.get("/?status=closed"))
    assert "pertanyaan pajak" in by_status and "pengaduan jalan" not in by_status
    by_keyword = _body(client.get("/?keyword=dishub"))
    assert "lama sekali" in by_keyword and "pengaduan jalan" not in by_keyword
    day = (old.opened_at + timedelta(hours=7)).date().isoformat()  # Asia/Jakarta
    by_date = _body(client.get(f"/?date={day}"))
    assert "lama sekali" in by_date and "pengaduan jalan" not in by_date


def test_bad_filter_values_are_ignored_or_explained(client, auth, make_case):
    make_case("INFO", "INFO tetap tampil")
    auth.login("admin")
    page = client.get("/?status=<b>&category=x'&date=kemarin&keyword=<script>")
    assert page.status_code == 200
    assert client.get("/?after=garbage").status_code == 400  # a made-up page link (tests/security/)
    body = _body(page)
    assert "Tanggal tidak dikenali" in body
    assert "<script>" not in body.split("<main>")[1].split("Saring dan cari")[0]


def test_search_by_number_text_and_case_id(client, auth, make_case):
    a = make_case("INFO", "INFO banjir di desa Sukamaju", citizen="+6281311112222")
    make_case("INFO", "INFO jembatan putus", citizen="+6285733334444")
    auth.login("humas")
    assert "Sukamaju" in _body(client.get("/?q=081311112222"))
    assert "jembatan" not in _body(client.get("/?q=081311112222"))
    assert "jembatan" in _body(client.get("/?q=jembatan"))
    assert "Sukamaju" not in _body(client.get("/?q=jembatan"))
    assert "Sukamaju" in _body(client.get(f"/?q=%23{a.id}"))
    assert "Sukamaju" in _body(client.get("/?q=1111"))
    assert client.get("/?q=%25_%27%22<>").status_code == 200


def test_keyset_pagination_walks_every_case_once(client, auth, make_case):
    now = utcnow()
    made = set()
    for n in range(60):
        made.add(make_case("INFO", f"INFO pesan nomor {n}", received_at=now - timedelta(minutes=n)).id)
    for n in range(60, 75):
        made.add(
            make_case(
                "INFO",
                f"INFO pesan nomor {n}",
                received_at=now - timedelta(minutes=n),
                status="answered",
                answered_at=now,
            ).id
        )
    auth.login("humas")
    seen: list[int] = []
    url = "/"
    import re

    for _ in range(5):
        body = _body(client.get(url))
        seen += [int(i) for i in re.findall(r'href="/cases/(\d+)"', body)]
        match = re.search(r'href="(/\?after=[^"]+)"', body)
        if not match:
            break
        url = match.group(1).replace("&amp;", "&")
    assert len(seen) == len(set(seen)) == 75
    assert set(seen) == made


# --------------------------------------------------------------------------
# case page and replies


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_sms_text_is_escaped_everywhere(client, auth, make_case, text):
    case = make_case("INFO", text, citizen="+6281234567890")
    auth.login("humas")
    for url in ("/", f"/cases/{case.id}"):
        body = _body(client.get(url))
        assert text not in body or "<" not in text
        assert "onerror=alert(1)>" not in body and "<script>alert" not in body and "<svg onload" not in body
    body = _body(client.get(f"/cases/{case.id}"))
    assert '<pre class="original">' in body
    from markupsafe import escape

    assert str(escape(text)) in body


def test_original_text_shown_exactly_with_whitespace(client, auth, make_case):
    text = "INFO  dua  spasi\nbaris kedua\n\ttab"
    case = make_case("INFO", text)
    auth.login("humas")
    assert f'<pre class="original">{text}</pre>' in _body(client.get(f"/cases/{case.id}"))


def test_reply_is_queued_with_sender_id_and_the_case_waits_for_it_to_be_sent(client, auth, make_case):
    case = make_case("DISHUB", "DISHUB lampu lalu lintas mati")
    auth.login("dishub")
    page = _body(client.get(f"/cases/{case.id}"))
    assert 'data-suffix=" -DISHUB"' in page
    response = client.post(f"/cases/{case.id}/reply", data={"text": "Segera kami perbaiki.\r\n"})
    assert response.status_code == 302
    message = OutboundMessage.get(OutboundMessage.case == case.id)
    assert message.text == "Segera kami perbaiki. -DISHUB"
    assert message.kind == "reply" and message.state == "pending" and message.recipient == case.citizen
    assert message.created_by.login == "dishub"
    case = Case.get_by_id(case.id)
    # queued is not answered (tests/test_answered.py): only the official's time is kept
    assert case.status == "open" and case.answered_at is None and case.replied_at is not None
    assert AuditLog.select().where(AuditLog.action == "case.reply", AuditLog.object_id == str(case.id)).count() == 1
    first_reply = case.replied_at
    client.post(f"/cases/{case.id}/reply", data={"text": "Sudah diperbaiki."})
    assert Case.get_by_id(case.id).replied_at == first_reply


def test_reply_without_own_sender_id_uses_the_configured_one(client, auth, make_case):
    case = make_case("INFO")
    auth.login("humas")
    client.post(f"/cases/{case.id}/reply", data={"text": "Terima kasih"})
    assert OutboundMessage.get(OutboundMessage.case == case.id).text == "Terima kasih -PEMKAB"


@pytest.mark.parametrize("text", ["", "   ", "\r\n\t"])
def test_empty_reply_is_refused(client, auth, make_case, text):
    case = make_case("INFO")
    auth.login("humas")
    response = client.post(f"/cases/{case.id}/reply", data={"text": text})
    assert response.status_code == 400
    assert "Balasan kosong" in _body(response)
    assert OutboundMessage.select().count() == 0
    assert Case.get_by_id(case.id).status == "open"


def test_two_thousand_character_reply_is_refused_and_kept_in_the_box(client, auth, make_case):
    case = make_case("INFO")
    auth.login("humas")
    text = "a" * 2000
    response = client.post(f"/cases/{case.id}/reply", data={"text": text})
    assert response.status_code == 400
    assert "terlalu panjang" in _body(response)
    assert text in _body(response)
    assert OutboundMessage.select().count() == 0


def test_long_reply_within_ten_parts_is_queued_as_parts(client, auth, make_case):
    case = make_case("INFO")
    auth.login("humas")
    client.post(f"/cases/{case.id}/reply", data={"text": "Jawaban panjang. " * 50})
    message = OutboundMessage.get(OutboundMessage.case == case.id)
    assert message.parts == 6 and message.encoding == "gsm7"


def test_reply_with_markup_and_emoji_is_stored_raw_and_shown_escaped(client, auth, make_case):
    case = make_case("INFO")
    auth.login("humas")
    client.post(f"/cases/{case.id}/reply", data={"text": "<b>ok</b> 👍"})
    message = OutboundMessage.get(OutboundMessage.case == case.id)
    assert message.text == "<b>ok</b> 👍 -PEMKAB" and message.encoding == "ucs2"
    body = _body(client.get(f"/cases/{case.id}"))
    assert "&lt;b&gt;ok&lt;/b&gt; 👍" in body and "<b>ok</b>" not in body


def test_reply_to_a_shortcode_sender_is_refused(client, auth, make_case):
    case = make_case("INFO", "INFO promo", citizen="3636")
    auth.login("humas")
    response = client.post(f"/cases/{case.id}/reply", data={"text": "halo"})
    assert response.status_code == 400
    assert "tidak dapat dibalas" in _body(response)


def test_reply_states_json_follows_the_queue(client, auth, make_case, web_config):
    case = make_case("INFO")
    auth.login("humas")
    client.post(f"/cases/{case.id}/reply", data={"text": "Baik"})
    data = client.get(f"/cases/{case.id}/replies.json").get_json()
    assert data["replies"][0]["state"] == "pending" and data["replies"][0]["final"] is False
    # the daemon's own records: a network outage (retried), then an unknown number (final)
    claimed = outbound.claim("pc", outbound.Eligibility.build("sim1", ["sim1"], None))
    outbound.record_failure(claimed, "+CMS ERROR: 38", permanent=False, code=38, config=web_config)
    retrying = client.get(f"/cases/{case.id}/replies.json").get_json()["replies"][0]
    assert retrying == {
        **retrying,
        "state": "pending",
        "final": False,
        "reason": "Jaringan operator sedang gangguan, akan dicoba lagi",
    }
    OutboundMessage.update(next_attempt_at=utcnow()).execute()
    claimed = outbound.claim("pc", outbound.Eligibility.build("sim1", ["sim1"], None))
    outbound.record_failure(claimed, "+CMS ERROR: 1", permanent=True, code=1, config=web_config)
    response = client.get(f"/cases/{case.id}/replies.json")
    assert response.headers["Cache-Control"] == "no-store"
    reply = response.get_json()["replies"][0]
    assert reply == {
        **reply,
        "state": "failed",
        "label": "gagal",
        "final": True,
        "reason": "Nomor tujuan tidak dikenal",
    }
    page = _body(client.get(f"/cases/{case.id}"))
    assert "Nomor tujuan tidak dikenal" in page and "CMS" not in page


def test_conversation_shows_messages_and_replies_in_time_order(client, auth, make_case):
    from modemd.store.models import InboundMessage

    start = utcnow() - timedelta(minutes=30)
    case = make_case("INFO", "INFO pertama", received_at=start)
    auth.login("humas")
    client.post(f"/cases/{case.id}/reply", data={"text": "balasan satu"})
    InboundMessage.create(modem="sim1", sender_raw=case.citizen, sender=case.citizen, text="INFO kedua", case=case)
    body = _body(client.get(f"/cases/{case.id}"))
    assert body.index("INFO pertama") < body.index("balasan satu") < body.index("INFO kedua")


# --------------------------------------------------------------------------
# case actions


def test_category_note_close_reopen_are_audited(client, auth, make_case):
    case = make_case("INFO")
    auth.login("humas")
    client.post(f"/cases/{case.id}/category", data={"category": "complaint"})
    assert Case.get_by_id(case.id).category == "complaint"
    assert client.post(f"/cases/{case.id}/category", data={"category": "<script>"}).status_code == 302
    assert Case.get_by_id(case.id).category == "complaint"
    client.post(f"/cases/{case.id}/note", data={"text": "<i>cek</i> ke lapangan 🚧"})
    assert CaseNote.get(CaseNote.case == case.id).text == "<i>cek</i> ke lapangan 🚧"
    assert "&lt;i&gt;cek&lt;/i&gt;" in _body(client.get(f"/cases/{case.id}"))
    client.post(f"/cases/{case.id}/note", data={"text": "  "})
    client.post(f"/cases/{case.id}/note", data={"text": "x" * 5000})
    assert CaseNote.select().count() == 1
    client.post(f"/cases/{case.id}/close")
    closed = Case.get_by_id(case.id)
    assert closed.status == "closed" and closed.closed_at is not None
    client.post(f"/cases/{case.id}/reopen")
    reopened = Case.get_by_id(case.id)
    assert reopened.status == "open" and reopened.closed_at is None and reopened.deadline_at > utcnow()
    actions = [a.action for a in AuditLog.select().where(AuditLog.object_type == "case").order_by(AuditLog.id)]
    assert actions == ["case.category", "case.note", "case.close", "case.reopen"]
    assert all(a.actor == "humas" for a in AuditLog.select().where(AuditLog.object_type == "case"))


def test_reassign_by_admin_moves_the_case(client, auth, make_case, officials):
    case = make_case(None, "LAMPU mati di jalan")
    auth.login("admin")
    client.post(f"/cases/{case.id}/assign", data={"keyword": "dishub", "owner": ""})
    moved = Case.get_by_id(case.id)
    assert moved.keyword == "DISHUB" and moved.owner.login == "dishub"
    client.post(f"/cases/{case.id}/assign", data={"keyword": "DISHUB", "owner": str(officials["dinkes"].id)})
    assert Case.get_by_id(case.id).owner.login == "dinkes"
    entry = AuditLog.select().where(AuditLog.action == "case.assign").order_by(AuditLog.id.desc()).get()
    assert json.loads(entry.detail)["new"] == {"keyword": "DISHUB", "owner": "dinkes"}
    client.post(f"/cases/{case.id}/assign", data={"keyword": "NOPE", "owner": ""})
    client.post(f"/cases/{case.id}/assign", data={"keyword": "", "owner": "abc"})
    client.post(f"/cases/{case.id}/assign", data={"keyword": "", "owner": "99999"})
    assert Case.get_by_id(case.id).owner.login == "dinkes"
    auth.logout()
    auth.login("dinkes")
    assert client.get(f"/cases/{case.id}").status_code == 200


def test_official_cannot_reassign(client, auth, make_case):
    case = make_case("INFO")
    auth.login("humas")
    assert client.post(f"/cases/{case.id}/assign", data={"keyword": "DISHUB"}).status_code == 403
    assert Case.get_by_id(case.id).keyword == "INFO"


def test_disabled_official_session_cannot_reply(client, auth, make_case):
    from modemd import users

    case = make_case("INFO")
    auth.login("humas")
    users.disable(User.by_login("humas"), actor="test")
    response = client.post(f"/cases/{case.id}/reply", data={"text": "masih bisa?"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert OutboundMessage.select().count() == 0


def test_reply_without_csrf_token_is_refused(csrf_client, auth, make_case):
    case = make_case("INFO")
    auth.login("humas", client=csrf_client)
    assert csrf_client.get(f"/cases/{case.id}").status_code == 200
    response = csrf_client.post(f"/cases/{case.id}/reply", data={"text": "tanpa token"})
    assert response.status_code == 400
    response = csrf_client.post(f"/cases/{case.id}/reply", data={"text": "token palsu", "csrf_token": "abc.def"})
    assert response.status_code == 400
    assert OutboundMessage.select().count() == 0


def test_badge_counts_own_keyword_and_assigned_cases_once(client, auth, make_case, officials):
    now = utcnow()
    make_case("INFO", "INFO milik humas", received_at=now - timedelta(hours=4))
    make_case("INFO", "INFO milik humas juga, dialihkan ke humas", owner=officials["humas"])
    make_case("DISHUB", "DISHUB dialihkan ke humas", owner=officials["humas"])
    make_case(None, "tanpa kata kunci dialihkan ke humas", owner=officials["humas"])
    make_case("DINKES", "DINKES bukan milik humas")
    make_case("INFO", "INFO sudah dijawab", status="answered", answered_at=now)
    auth.login("humas")
    assert '<span class="badge" title="belum dijawab">4</span>' in _body(client.get("/"))
    import re

    figures = [int(n) for n in re.findall(r"<strong[^>]*>(\d+)</strong>", _body(client.get("/dashboard/")))]
    assert figures[3:5] == [4, 1]  # open, overdue
    auth.logout()
    auth.login("admin")
    assert '<span class="badge" title="belum dijawab">5</span>' in _body(client.get("/"))


# --------------------------------------------------------------------------
# cost per page: the number of SQL queries does not grow with the rows shown


def _queries(client, path: str) -> int:
    from playhouse.test_utils import count_queries

    with count_queries() as counted:
        assert client.get(path).status_code == 200
    return counted.count


def test_pages_run_a_fixed_number_of_queries(client, auth, make_case, officials):
    from modemd.store.models import InboundMessage

    now = utcnow()

    def add_cases(n: int) -> list[Case]:
        made = []
        for i in range(n):
            case = make_case(
                "INFO",
                f"INFO pertama {i}",
                received_at=now - timedelta(minutes=i),
                status="open" if i % 2 else "answered",
            )
            InboundMessage.create(
                modem="sim1",
                sender_raw=case.citizen,
                sender=case.citizen,
                text=f"INFO terbaru {i}",
                received_at=now,
                route="case",
                keyword="INFO",
                case=case,
            )
            OutboundMessage.create(
                recipient=case.citizen, text="balasan", kind="reply", case=case, created_by=officials["humas"]
            )
            made.append(case)
        return made

    cases = add_cases(3)
    auth.login("humas")
    page = _body(client.get("/"))
    assert "INFO terbaru 2" in page and "INFO pertama 2" not in page  # each case shows its newest message
    # the server-side session and its user, cases whose reply failed (on top), open section, answered section,
    # the badge (own keyword, then assigned elsewhere), the page's corrected keywords; the case page also reads
    # its live publication and its corrected keywords; the dashboard's last two are the 30-day chart (one row
    # of day sums) and the oldest open cases
    counts = {"/": 8, f"/cases/{cases[0].id}": 11, "/dashboard/": 10}
    assert {path: _queries(client, path) for path in counts} == counts
    more = add_cases(12)
    counts[f"/cases/{more[-1].id}"] = counts.pop(f"/cases/{cases[0].id}")
    assert {path: _queries(client, path) for path in counts} == counts  # four times the rows, the same queries
    auth.logout()
    auth.login("admin")
    # the admin's dashboard also counts new operator messages
    assert {path: _queries(client, path) for path in ("/", "/dashboard/")} == {"/": 7, "/dashboard/": 12}


def test_a_keyword_corrected_by_the_router_is_marked_on_its_message(client, auth, web_config):
    """The official sees which word was read as the keyword, next to the citizen's text, which stays as sent."""
    from tests.daemonharness import Conversation

    chat = Conversation(web_config.path)
    corrected = chat.receive("081211112222", "DSHUB <b>jalan</b> rusak")
    joined = chat.receive("081211112222", "DISHUB sudah 3 hari")
    assert joined.case.id == corrected.case.id and not joined.corrected
    auth.login("dishub")
    page = _body(client.get(f"/cases/{corrected.case.id}"))
    assert page.count("kata kunci dikoreksi") == 1
    assert "kata kunci dikoreksi: DSHUB → DISHUB" in page
    assert (
        page.index("kata kunci dikoreksi")
        < page.index("DSHUB &lt;b&gt;jalan&lt;/b&gt; rusak")
        < page.index("DISHUB sudah 3 hari")
    )


def test_the_inbox_marks_a_case_opened_with_a_corrected_keyword(client, auth, web_config):
    from tests.daemonharness import Conversation

    chat = Conversation(web_config.path)
    corrected = chat.receive("081211112222", "DISHBU lampu mati")
    plain = chat.receive("085712345678", "DISHUB jalan rusak")
    auth.login("dishub")
    page = _body(client.get("/"))
    assert page.count("kata kunci dikoreksi") == 1
    items = page.split('class="case-item')
    [marked] = [item for item in items if "kata kunci dikoreksi" in item]
    assert f'/cases/{corrected.case.id}"' in marked and f'/cases/{plain.case.id}"' not in marked
