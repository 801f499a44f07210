"""The HTTP API on SQLite through Flask's test client: tokens, scopes, visibility, every endpoint, bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from apifixtures import *  # noqa: F401,F403  (make_token, bearer, ALL_SCOPES)
from apifixtures import bearer
from webfixtures import *  # noqa: F401,F403  (app, client, auth, make_case, ...)
from webfixtures import WEB_INI, csrf_token_from

from modemd.states import OutboundState
from modemd.store.models import (
    ApiToken,
    AuditLog,
    Broadcast,
    Case,
    Contact,
    ContactGroup,
    GroupMember,
    ModemStatus,
    OutboundMessage,
    OutboundPart,
    User,
    utcnow,
)

SEND = {"number": "081234567890", "text": "Rapat koordinasi besok jam 09.00"}


def post(client, path, secret, body, **headers):
    return client.post(f"/api/v1{path}", json=body, headers=bearer(secret, **headers))


def get(client, path, secret, **headers):
    return client.get(f"/api/v1{path}", headers=bearer(secret, **headers))


def audit_of(action: str) -> list[dict]:
    return [
        {"actor": a.actor, "object_id": a.object_id, **json.loads(a.detail)}
        for a in AuditLog.select().where(AuditLog.action == action).order_by(AuditLog.id)
    ]


# --------------------------------------------------------------------------
# Sending


def test_send_queues_one_sms_as_the_token_user_and_audits_the_token(client, make_token, officials):
    secret = make_token("humas", "send", name="e-office")
    answer = post(client, "/messages", secret, {**SEND, "modem": "sim1"})
    assert answer.status_code == 201, answer.json
    body = answer.json
    row = OutboundMessage.get_by_id(body["id"])
    assert (row.recipient, row.text, row.kind, row.preferred_modem) == (
        "+6281234567890",
        SEND["text"],
        "manual",
        "sim1",
    )
    assert row.created_by_id == officials["humas"].id
    assert body["state"] == "pending" and body["number"] == "+6281234567890" and body["parts"] == 1
    assert audit_of("api.send") == [
        {"actor": "humas", "object_id": str(row.id), "token": "e-office", "parts": 1, "encoding": "gsm7"}
    ]


def test_send_at_is_kept_in_utc_and_a_time_without_zone_is_refused(client, make_token):
    secret = make_token()
    later = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    answer = post(client, "/messages", secret, {**SEND, "send_at": later.astimezone().isoformat()})
    assert answer.status_code == 201
    assert OutboundMessage.get_by_id(answer.json["id"]).next_attempt_at == later.replace(tzinfo=None)
    naive = post(client, "/messages", secret, {**SEND, "send_at": "2030-01-01T10:00:00"})
    assert naive.status_code == 400 and naive.json["code"] == "invalid_field"
    assert naive.json["details"][0]["field"] == "body.send_at"


def test_message_state_and_parts(client, make_token):
    secret = make_token()
    message_id = post(client, "/messages", secret, {**SEND, "text": "x" * 200}).json["id"]
    row = OutboundMessage.get_by_id(message_id)
    row.state, row.sent_at, row.modem = OutboundState.SENT, utcnow(), "sim1"
    row.save()
    for sequence, state in ((1, "delivered"), (2, "sent")):
        OutboundPart.create(
            message=row, sequence=sequence, modem="sim1", reference=sequence, recipient=row.recipient, state=state
        )
    answer = get(client, f"/messages/{message_id}", secret).json
    assert answer["state"] == "sent" and answer["parts"] == 2 and answer["modem"] == "sim1"
    assert [(p["sequence"], p["state"]) for p in answer["part_states"]] == [(1, "delivered"), (2, "sent")]
    assert answer["send_at"] is None and answer["sent_at"].endswith("Z")


def test_a_message_of_another_user_is_not_found(client, make_token):
    admin = make_token("admin")
    message_id = post(client, "/messages", admin, SEND).json["id"]
    other = get(client, f"/messages/{message_id}", make_token("humas", "send"))
    assert other.status_code == 404 and other.json["code"] == "not_found"
    assert get(client, f"/messages/{message_id}", make_token("ketua", "send")).status_code == 200  # approvers see all
    assert get(client, "/messages/999999", admin).status_code == 404
    assert get(client, f"/messages/{2**40}", admin).status_code == 404  # no overflow in the database


# --------------------------------------------------------------------------
# Tokens: wrong, revoked, expired, of a disabled user, beyond scope; the session cookie


def test_no_token_and_a_wrong_token_are_401(client, make_token):
    make_token()
    missing = client.get("/api/v1/cases")
    assert missing.status_code == 401 and missing.json["code"] == "missing_token"
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    for header in ("Bearer mdt_not-a-token", "Basic YWRtaW46cmFoYXNpYQ==", "Bearer ", "mdt_x"):
        answer = client.get("/api/v1/cases", headers={"Authorization": header})
        assert answer.status_code == 401, header
        assert answer.json["code"] in ("invalid_token", "missing_token")


def test_revoked_expired_and_disabled_user_tokens_are_401(client, make_token, officials):
    from modemd import apitokens, users

    revoked, expired, disabled = make_token(name="r"), make_token(name="e"), make_token("dinkes", name="d")
    assert get(client, "/status", revoked).status_code == 200
    apitokens.revoke(apitokens.by_name("r"), actor="test")
    ApiToken.update(expires_at=utcnow() - timedelta(seconds=1)).where(ApiToken.name == "e").execute()
    users.disable(officials["dinkes"], owned_keywords=[])
    for secret, code in ((revoked, "revoked_token"), (expired, "expired_token"), (disabled, "disabled_user")):
        answer = post(client, "/messages", secret, SEND)
        assert (answer.status_code, answer.json["code"]) == (401, code)
    assert OutboundMessage.select().count() == 0


def test_a_token_beyond_its_scope_is_403_and_does_nothing(client, make_token, make_case):
    case = make_case("INFO")
    reader = make_token("humas", "cases:read")
    for answer in (
        post(client, "/messages", reader, SEND),
        post(client, f"/cases/{case.id}/replies", reader, {"text": "Siap"}),
        get(client, "/status", reader),
        post(client, "/broadcasts", reader, {"text": "x", "groups": [1]}),
    ):
        assert answer.status_code == 403 and answer.json["code"] == "scope"
    assert "cases:reply" in post(client, f"/cases/{case.id}/replies", reader, {"text": "Siap"}).json["message"]
    assert OutboundMessage.select().count() == 0


def test_last_use_and_caller_address_are_recorded(client, make_token):
    secret = make_token(name="monitor")
    client.get("/api/v1/status", headers=bearer(secret), environ_base={"REMOTE_ADDR": "10.1.2.3"})
    token = ApiToken.get(ApiToken.name == "monitor")
    assert token.last_address == "10.1.2.3" and token.last_used_at is not None


def test_a_browser_session_does_not_authenticate_the_api(client, auth):
    auth.login("admin")
    assert client.get("/").status_code == 200  # logged in to the web UI
    answer = client.post("/api/v1/messages", json=SEND)
    assert answer.status_code == 401 and answer.json["code"] == "missing_token"
    assert OutboundMessage.select().count() == 0


def test_csrf_stays_on_for_the_web_ui_and_off_for_token_calls(csrf_client, auth, make_token, make_case):
    case = make_case("INFO")
    assert post(csrf_client, "/messages", make_token(), SEND).status_code == 201  # no CSRF token needed
    auth.login("humas", client=csrf_client)
    refused = csrf_client.post(f"/cases/{case.id}/reply", data={"text": "tanpa token CSRF"})
    assert refused.status_code == 400
    page = csrf_client.get(f"/cases/{case.id}").get_data(as_text=True)
    accepted = csrf_client.post(
        f"/cases/{case.id}/reply", data={"text": "dengan token", "csrf_token": csrf_token_from(page)}
    )
    assert accepted.status_code == 302
    assert OutboundMessage.select().where(OutboundMessage.case == case).count() == 1


# --------------------------------------------------------------------------
# Cases: visibility, filters, keyset pages, detail, replies


def test_cases_follow_the_web_ui_visibility(client, make_token, make_case):
    info, dishub = make_case("INFO"), make_case("DISHUB", "DISHUB lampu mati")
    unrouted = make_case(None, "halo")
    humas = make_token("humas", "cases:read,cases:reply")
    listed = get(client, "/cases", humas).json
    assert [c["id"] for c in listed["cases"]] == [info.id]
    assert get(client, f"/cases/{dishub.id}", humas).status_code == 404  # another user's case id
    assert get(client, f"/cases/{unrouted.id}", humas).status_code == 404
    reply = post(client, f"/cases/{dishub.id}/replies", humas, {"text": "bukan kasus saya"})
    assert reply.status_code == 404 and OutboundMessage.select().count() == 0
    admin = get(client, "/cases", make_token("admin", "cases:read")).json
    assert {c["id"] for c in admin["cases"]} == {info.id, dishub.id, unrouted.id}


def test_case_pages_cover_every_case_once_in_order(client, make_token, make_case):
    start = utcnow() - timedelta(days=1)
    made = [make_case("INFO", received_at=start + timedelta(minutes=i // 2)) for i in range(11)]  # equal times in pairs
    secret = make_token("humas", "cases:read")
    seen, cursor, pages = [], None, 0
    while True:
        answer = get(client, "/cases?limit=3" + (f"&cursor={cursor}" if cursor else ""), secret).json
        seen += [c["id"] for c in answer["cases"]]
        pages += 1
        cursor = answer["next_cursor"]
        if cursor is None:
            break
    assert seen == [c.id for c in made] and pages == 4


def test_case_filters(client, make_token, make_case):
    old = make_case("INFO", received_at=utcnow() - timedelta(days=3))
    new_open = make_case("DISHUB", received_at=utcnow() - timedelta(hours=1))
    closed = make_case("DISHUB", status="closed", received_at=utcnow() - timedelta(hours=1))
    secret = make_token("admin", "cases:read")

    def ids(query: str) -> list[int]:
        answer = get(client, "/cases?" + query, secret)
        assert answer.status_code == 200, answer.json
        return [c["id"] for c in answer.json["cases"]]

    assert ids("keyword=dishub") == [new_open.id, closed.id]
    assert ids("state=closed") == [closed.id]
    since = (datetime.now(UTC) - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert old.id not in ids(f"updated_since={since}") and new_open.id in ids(f"updated_since={since}")
    for bad in ("state=lost", "limit=0", "limit=abc", "limit=201", "updated_since=yesterday", "cursor=%21%21"):
        answer = get(client, "/cases?" + bad, secret)
        assert (answer.status_code, answer.json["code"]) == (400, "invalid_field"), bad


def test_case_detail_has_messages_and_replies(client, make_token, make_case):
    case = make_case("DISHUB", "DISHUB lampu merah mati <b>")
    secret = make_token("dishub", "cases:read,cases:reply")
    post(client, f"/cases/{case.id}/replies", secret, {"text": "Segera diperbaiki"})
    detail = get(client, f"/cases/{case.id}", secret).json
    assert detail["keyword"] == "DISHUB" and detail["owner"] == "dishub" and detail["state"] == "open"
    assert [m["text"] for m in detail["messages"]] == ["DISHUB lampu merah mati <b>"]
    assert [(r["text"], r["state"]) for r in detail["replies"]] == [("Segera diperbaiki -DISHUB", "pending")]


def test_reply_uses_the_web_ui_rules_and_sender_id(client, make_token, make_case):
    case = make_case("DISHUB")
    secret = make_token("dishub", "cases:reply", name="lapor")
    answer = post(client, f"/cases/{case.id}/replies", secret, {"text": "Terima kasih, sudah kami tangani."})
    assert answer.status_code == 201
    row = OutboundMessage.get_by_id(answer.json["id"])
    assert row.text == "Terima kasih, sudah kami tangani. -DISHUB" and row.kind == "reply" and row.case_id == case.id
    assert Case.get_by_id(case.id).replied_at is not None
    [entry] = audit_of("case.reply")
    assert entry["actor"] == "dishub" and entry["token"] == "lapor"
    for text, code in (("   ", "empty_text"), ("kata " * 400, "too_long")):
        refused = post(client, f"/cases/{case.id}/replies", secret, {"text": text})
        assert (refused.status_code, refused.json["code"]) == (422, code)
    shortcode = make_case("DISHUB", citizen="3636")
    refused = post(client, f"/cases/{shortcode.id}/replies", secret, {"text": "halo"})
    assert (refused.status_code, refused.json["code"]) == (422, "unanswerable")
    assert OutboundMessage.select().count() == 1


# --------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize(
    "raw, code",
    [
        (b"{", "bad_json"),
        (b"", "bad_json"),
        (b"\xff\xfe", "bad_json"),
        (b"[1, 2]", "invalid_field"),
        (b'"text"', "invalid_field"),
        (b'{"number": 81234567890, "text": "x"}', "invalid_field"),
        (b'{"number": "081234567890", "text": ["x"]}', "invalid_field"),
        (b'{"number": "081234567890"}', "invalid_field"),
        (b'{"number": "081234567890", "text": "x", "modem": 1}', "invalid_field"),
        (b'{"number": "081234567890", "text": "x", "priority": 1}', "unknown_field"),
    ],
)
def test_malformed_bodies_are_400_and_send_nothing(client, make_token, raw, code):
    answer = client.post(
        "/api/v1/messages", data=raw, headers=bearer(make_token(), **{"Content-Type": "application/json"})
    )
    assert answer.status_code == 400 and answer.json["code"] == code, answer.json
    assert answer.json["message"]
    assert OutboundMessage.select().count() == 0


def test_unknown_field_is_named(client, make_token):
    answer = post(client, "/messages", make_token(), {**SEND, "priority": 1})
    assert answer.json["details"] == [{"field": "body.priority", "problem": "Extra inputs are not permitted"}]


@pytest.mark.parametrize("number", ["abc", "0812", "+1 555", "08123456789012345678", "０８１２３４５６７８９０x"])
def test_numbers_that_are_not_numbers_are_422(client, make_token, number):
    answer = post(client, "/messages", make_token(), {**SEND, "number": number})
    assert (answer.status_code, answer.json["code"]) == (422, "invalid_number")
    assert OutboundMessage.select().count() == 0


def test_text_beyond_ten_parts_empty_text_and_unknown_modem_are_422(client, make_token):
    secret = make_token()
    ten_parts, eleven_parts = "a" * (153 * 10), "a" * (153 * 10 + 1)
    assert post(client, "/messages", secret, {**SEND, "text": ten_parts}).status_code == 201
    for body, code in (
        ({**SEND, "text": eleven_parts}, "too_long"),
        ({**SEND, "text": "中" * (67 * 10 + 1)}, "too_long"),  # UCS-2: 67 per part
        ({**SEND, "text": " \n "}, "empty_text"),
        ({**SEND, "modem": "usb9"}, "unknown_modem"),
    ):
        answer = post(client, "/messages", secret, body)
        assert (answer.status_code, answer.json["code"]) == (422, code)
    assert OutboundMessage.select().count() == 1


def test_a_body_too_large_is_413(client, make_token):
    answer = post(client, "/messages", make_token(), {**SEND, "text": "x" * 70_000})
    assert (answer.status_code, answer.json["code"]) == (413, "too_large")


def test_unknown_paths_and_methods_answer_json(client, make_token):
    secret = make_token()
    assert get(client, "/nothing", secret).json["code"] == "not_found"
    assert get(client, "/cases/abc", secret).status_code == 404
    wrong = client.delete("/api/v1/messages", headers=bearer(secret))
    assert (wrong.status_code, wrong.json["code"]) == (405, "method_not_allowed")
    assert client.get("/no-such-page").mimetype == "text/html"  # the web UI keeps its pages


def test_messages_follow_accept_language(client, make_token):
    secret = make_token()
    english = post(client, "/messages", secret, {**SEND, "number": "abc"}, **{"Accept-Language": "en-US,en;q=0.9"})
    assert english.json["message"] == "The recipient number is not valid (e.g. 0812xxxxxxxx)."
    indonesian = post(client, "/messages", secret, {**SEND, "number": "abc"}, **{"Accept-Language": "id"})
    assert indonesian.json["message"] == "Nomor tujuan tidak sah (contoh: 0812xxxxxxxx)."


# --------------------------------------------------------------------------
# Idempotency


def test_a_retry_with_the_same_key_never_sends_twice(client, make_token):
    secret = make_token()
    first = post(client, "/messages", secret, SEND, **{"Idempotency-Key": "surat-2026-001"})
    again = post(client, "/messages", secret, SEND, **{"Idempotency-Key": "surat-2026-001"})
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert OutboundMessage.select().count() == 1
    other = post(client, "/messages", secret, {**SEND, "text": "lain"}, **{"Idempotency-Key": "surat-2026-001"})
    assert (other.status_code, other.json["code"]) == (409, "idempotency_conflict")
    assert OutboundMessage.select().count() == 1
    # keys belong to a token: another token's same key is another request
    assert (
        post(client, "/messages", make_token(), SEND, **{"Idempotency-Key": "surat-2026-001"}).json["id"]
        != first.json["id"]
    )


def test_a_refused_request_leaves_its_key_free(client, make_token):
    secret = make_token()
    refused = post(client, "/messages", secret, {**SEND, "number": "abc"}, **{"Idempotency-Key": "k1"})
    assert refused.status_code == 422
    assert post(client, "/messages", secret, SEND, **{"Idempotency-Key": "k1"}).status_code == 201


@pytest.mark.parametrize("key", ["", "x" * 129, "kunci dengan spasi"])
def test_a_malformed_idempotency_key_is_400(client, make_token, key):
    answer = post(client, "/messages", make_token(), SEND, **{"Idempotency-Key": key})
    assert (answer.status_code, answer.json["code"]) == (400, "invalid_field")
    assert OutboundMessage.select().count() == 0


def test_reply_retries_are_idempotent_too(client, make_token, make_case):
    case = make_case("INFO")
    secret = make_token("humas", "cases:reply")
    for _ in range(3):
        assert (
            post(client, f"/cases/{case.id}/replies", secret, {"text": "Siap"}, **{"Idempotency-Key": "r1"}).status_code
            == 201
        )
    assert OutboundMessage.select().where(OutboundMessage.case == case).count() == 1


# --------------------------------------------------------------------------
# Status, broadcasts


def test_status_lists_modems_and_queue_depth(client, make_token):
    ModemStatus.create(name="sim1", driver="sim", state="ready", operator="SIMULATED", signal_dbm=-71, queue_depth=2)
    secret = make_token()
    post(client, "/messages", secret, SEND)
    post(client, "/messages", secret, SEND)
    answer = get(client, "/status", make_token("humas", "status")).json
    assert answer["pending"] == 2 and answer["sending"] == 0
    assert [(m["name"], m["state"], m["signal_dbm"]) for m in answer["modems"]] == [("sim1", "ready", -71)]


def test_broadcast_draft_and_progress(client, make_token, officials):
    group = ContactGroup.create(name="Camat")
    contact = Contact.create(name="Camat A", phone="+6281200000101")
    GroupMember.create(group=group, contact=contact)
    secret = make_token("dishub", "broadcasts", name="e-office")
    answer = post(client, "/broadcasts", secret, {"text": "Rapat jam 9", "title": "Rapat", "groups": [group.id]})
    assert answer.status_code == 201, answer.json
    body = answer.json
    assert body["state"] == "draft" and body["progress"]["total"] == 0
    row = Broadcast.get_by_id(body["id"])
    assert row.created_by_id == officials["dishub"].id and row.approved_by_id is None
    assert audit_of("api.broadcast.draft")[0]["token"] == "e-office"
    assert get(client, f"/broadcasts/{row.id}", secret).json["id"] == row.id
    assert get(client, f"/broadcasts/{row.id}", make_token("humas", "broadcasts")).status_code == 404
    unknown = post(client, "/broadcasts", secret, {"text": "x", "groups": [9999]})
    assert (unknown.status_code, unknown.json["code"]) == (422, "invalid_broadcast")
    no_target = post(client, "/broadcasts", secret, {"text": "x"})
    assert no_target.status_code == 422
    User.create(login="op", role="operator")
    from modemd import apitokens

    operator = apitokens.create("op", User.by_login("op"), "broadcasts", expires=None, actor="t").secret
    refused = post(client, "/broadcasts", operator, {"text": "x", "groups": [group.id]})
    assert (refused.status_code, refused.json["code"]) == (403, "not_allowed")
    assert Broadcast.select().count() == 1


# --------------------------------------------------------------------------
# Rate limit


@pytest.fixture
def web_ini():
    return WEB_INI


class TestRateLimit:
    @pytest.fixture
    def web_ini(self):
        return WEB_INI + "\n[api]\nrate_limit = 60\nrate_burst = 2\n"

    def test_over_the_limit_is_429_with_retry_after(self, client, make_token):
        secret, other = make_token(name="busy"), make_token(name="calm")
        assert [get(client, "/status", secret).status_code for _ in range(2)] == [200, 200]
        limited = get(client, "/status", secret)
        assert (limited.status_code, limited.json["code"]) == (429, "rate_limited")
        assert limited.headers["Retry-After"] == "1"
        assert get(client, "/status", other).status_code == 200  # per token


def test_a_bug_is_a_json_500_without_internals(client, make_token, monkeypatch, caplog):
    from webui.api import status

    def broken(*_args, **_kwargs):
        raise RuntimeError("secret internals /var/lib/modemd")

    monkeypatch.setattr(status, "Status", broken)  # a stand-in for any bug in a handler
    answer = get(client, "/status", make_token())
    assert (answer.status_code, answer.json["code"]) == (500, "internal")
    assert "internals" not in answer.get_data(as_text=True)
    assert "RuntimeError" in caplog.text  # logged, with its traceback


def test_an_officials_pages_merge_own_keywords_and_assigned_cases_in_order(client, make_token, make_case, officials):
    start = utcnow() - timedelta(hours=5)
    own = [make_case("INFO", received_at=start + timedelta(hours=h)) for h in (0, 2, 4)]
    assigned = [make_case("DISHUB", owner=officials["humas"], received_at=start + timedelta(hours=h)) for h in (1, 3)]
    make_case("DISHUB", received_at=start)  # not humas's: never listed
    secret = make_token("humas", "cases:read")
    seen, cursor = [], None
    for _page in range(10):
        answer = get(client, "/cases?limit=2" + (f"&cursor={cursor}" if cursor else ""), secret).json
        seen += [case["id"] for case in answer["cases"]]
        cursor = answer["next_cursor"]
        if cursor is None:
            break
    assert seen == [own[0].id, assigned[0].id, own[1].id, assigned[1].id, own[2].id]


def test_rate_limiter_refills_at_its_pace():
    from webui.api.ratelimit import RateLimiter

    now = [0.0]
    limiter = RateLimiter(60, 2, clock=lambda: now[0])  # one a second, two at once
    assert [limiter.wait(1) for _ in range(3)] == [0.0, 0.0, 1.0]
    assert limiter.wait(2) == 0.0  # another token has its own bucket
    now[0] = 0.5
    assert limiter.wait(1) == pytest.approx(0.5)
    now[0] = 1.0
    assert limiter.wait(1) == 0.0
    assert RateLimiter(0, 1).wait(1) == 0.0  # rate_limit = 0: no limit


def test_group_commit_keeps_the_others_when_one_request_fails(sqlite_db):
    """Requests queued together share one commit; one that raises loses only its own writes."""
    import threading

    from modemd.store.models import DaemonState
    from webui.api.batching import GroupCommit

    writer, release = GroupCommit(), threading.Event()
    results: dict[str, object] = {}

    def work(name: str, fail: bool = False, wait: bool = False):
        def run():
            if wait:
                release.wait(10)  # holds the writer while the others queue up behind
            DaemonState.put(name, "x")
            if fail:
                raise ValueError(name)
            return name

        return run

    def submit(name: str, **kwargs):
        try:
            results[name] = writer.run(work(name, **kwargs))
        except ValueError as exc:
            results[name] = exc

    first = threading.Thread(target=submit, args=("first",), kwargs={"wait": True})
    first.start()
    others = [threading.Thread(target=submit, args=(n,), kwargs={"fail": n == "bad"}) for n in ("ok1", "bad", "ok2")]
    for thread in others:
        thread.start()
    release.set()
    for thread in [first, *others]:
        thread.join(10)
    assert results["first"] == "first" and results["ok1"] == "ok1" and results["ok2"] == "ok2"
    assert isinstance(results["bad"], ValueError)
    assert {row.key for row in DaemonState.select()} == {"first", "ok1", "ok2"}
