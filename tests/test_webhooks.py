"""Webhooks: events queued with the change that causes them, posted by the daemon's own threads to a real
local HTTP receiver that answers well, slowly, with 500, with a redirect, or not at all."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest

from modemd import config as config_module
from modemd.config import ConfigError
from modemd.drivers.base import StatusReport
from modemd.jobs import broadcasts
from modemd.receive.keywords import KeywordError, load_keywords
from modemd.send import outbound, status_reports
from modemd.store.models import (
    AuditLog,
    Broadcast,
    Case,
    OutboundMessage,
    WebhookAttempt,
    WebhookDelivery,
    database_proxy,
    utcnow,
)
from modemd.webhooks import deliveries, dispatch, endpoints, events
from modemd.webhooks.dispatch import Dispatcher
from modemd.webhooks.post import Outcome
from tests.daemonharness import Conversation
from tests.fakemodem import wait_until
from tests.webhookreceiver import Receiver

SECRET = "rahasia-webhook-0123456789"
DISHUB_SECRET = "rahasia-dishub-0123456789"
CITIZEN = "081211112222"


@pytest.fixture
def receiver():
    running = Receiver(SECRET, DISHUB_SECRET).start()
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def no_endpoints_left():
    yield
    endpoints.use(endpoints.Endpoints())


def keywords_with_hook(url: str = "", secret: str = DISHUB_SECRET) -> str:
    hook = f"webhook = {url}\nwebhook_secret = {secret}\n" if url else ""
    return f"""
[INFO]
owner = humas
reply = Pesan #{{case}} tercatat.

[DISHUB]
owner = dishub
{hook}"""


@pytest.fixture
def chat(officials, write_config):
    """chat(global_path, dishub_url=''): a routing conversation with the endpoints installed as the daemon does."""

    def make(path: str | None, dishub_url: str = "", receiver: Receiver | None = None, timeout: str = "5s"):
        api = f"[api]\nwebhook_url = {path}\nwebhook_secret = {SECRET}\nwebhook_timeout = {timeout}\n" if path else ""
        conversation = Conversation(write_config(api, keywords_with_hook(dishub_url)))
        endpoints.use(endpoints.from_config(conversation.config, conversation.table))
        return conversation

    return make


def deliver_all(dispatcher: Dispatcher) -> None:
    """One look, then wait until each lane finished its batch."""
    dispatcher.look()
    assert wait_until(lambda: not any(lane.busy for lane in dispatcher.lanes.values()), 15)


def dispatcher_for(chat, **kw) -> Dispatcher:
    return Dispatcher(endpoints.current, chat.config.api.webhook_timeout, poll=0.05, **kw)


# --------------------------------------------------------------------------
# Events, in the transaction of their change


def test_a_new_case_and_its_next_message_are_posted_signed_to_the_global_and_the_keyword_endpoint(chat, receiver):
    conversation = chat(receiver.url("/ok"), dishub_url=receiver.url("/ok?kw=dishub"))
    conversation.receive(CITIZEN, "DISHUB jalan rusak <b>di</b> Jl. Merdeka")
    conversation.receive(CITIZEN, "DISHUB sudah 3 hari")
    conversation.receive(CITIZEN, "INFO jam buka kantor?")
    assert receiver.received == []  # routing only queued them: nothing was posted inside receive
    rows = list(WebhookDelivery.select().order_by(WebhookDelivery.id))
    assert [(r.event, r.endpoint) for r in rows] == [
        ("case.opened", "api"),
        ("case.opened", "keyword:DISHUB"),
        ("case.message", "api"),
        ("case.message", "keyword:DISHUB"),
        ("case.opened", "api"),  # INFO has no webhook of its own
    ]
    assert rows[0].event_id == rows[1].event_id != rows[2].event_id

    deliver_all(dispatcher_for(conversation))

    assert len(receiver.received) == 5 and all(r.signed for r in receiver.received)
    first = json.loads(receiver.received[0].body)
    case = Case.get(Case.keyword == "DISHUB")
    assert first["type"] == "case.opened" and first["id"] == rows[0].event_id
    assert first["data"]["case"]["id"] == case.id and first["data"]["case"]["keyword"] == "DISHUB"
    assert first["data"]["case"]["citizen"] == "+62812****2222"  # masked: the number stays in the centre
    assert first["data"]["message"]["text"] == "DISHUB jalan rusak <b>di</b> Jl. Merdeka"
    assert receiver.received[0].headers["X-Modemd-Event"] == "case.opened"
    assert {r.state for r in WebhookDelivery.select()} == {"delivered"}
    attempt = WebhookAttempt.get(WebhookAttempt.delivery == rows[0].id)
    assert (attempt.status_code, attempt.error) == (204, None)


def test_a_receiver_refuses_a_body_changed_after_signing_or_signed_with_another_secret():
    from modemd.webhooks.signing import signature, verify

    body = b'{"id": "x"}'
    signed = signature(SECRET, 1_800_000_000, body)
    assert verify(SECRET, "1800000000", body, signed, now=1_800_000_010)
    assert not verify(SECRET, "1800000000", body + b" ", signed, now=1_800_000_010)
    assert not verify("another-secret-0123456789", "1800000000", body, signed, now=1_800_000_010)
    assert not verify(SECRET, "1800000001", body, signed, now=1_800_000_010)  # the timestamp is signed too
    assert not verify(SECRET, "1800000000", body, signed, now=1_800_000_000 + 3600)  # too old: a replay
    assert not verify(SECRET, "soon", body, signed)


def test_a_wrong_secret_is_an_attempt_the_receiver_refused(chat, receiver):
    conversation = chat(receiver.url("/ok"))
    receiver.secrets = ["the-receiver-has-another-secret"]
    conversation.receive(CITIZEN, "INFO halo")
    deliver_all(dispatcher_for(conversation))
    delivery = WebhookDelivery.get()
    assert (delivery.state, delivery.attempts, delivery.last_error) == ("pending", 1, "HTTP 401 Unauthorized")


def test_a_routing_rolled_back_queues_no_event(chat, receiver):
    from modemd.receive import inbound
    from tests.daemonharness import sms

    conversation = chat(receiver.url("/ok"))
    message, _ = inbound.store("sim1", sms(CITIZEN, "DISHUB jalan rusak"))
    with pytest.raises(RuntimeError), database_proxy.obj.atomic():
        conversation.router.apply(message)
        assert WebhookDelivery.select().count() == 1
        raise RuntimeError("the routing failed after the event was queued")
    assert WebhookDelivery.select().count() == 0 and Case.select().count() == 0


def test_without_endpoints_nothing_is_queued(chat):
    conversation = chat(None)
    conversation.receive(CITIZEN, "DISHUB jalan rusak")
    assert Case.select().count() == 1 and WebhookDelivery.select().count() == 0


def test_reply_sent_delivered_and_failed_each_post_an_event(chat, receiver):
    conversation = chat(receiver.url("/ok"))
    conversation.receive(CITIZEN, "DISHUB jalan rusak")
    case = Case.get()
    first = OutboundMessage.create(recipient="+6281211112222", text="Segera.", kind="reply", case=case, state="sending")
    outbound.record_sent(first, "sim1", [17])
    status_reports.handle("sim1", StatusReport(17, "+6281211112222", True, True, 0))
    second = OutboundMessage.create(recipient="+6281211112222", text="Lagi.", kind="reply", case=case, state="sending")
    outbound.record_failure(second, "the SIM has no credit", permanent=True, config=conversation.config)

    replies = [json.loads(r.body) for r in WebhookDelivery.select().where(WebhookDelivery.event == "reply.state")]
    assert [(d["data"]["reply"]["id"], d["data"]["reply"]["state"]) for d in replies] == [
        (first.id, "sent"),
        (first.id, "delivered"),
        (second.id, "failed"),
    ]
    assert replies[2]["data"]["reply"]["failure_reason"] == "the SIM has no credit"
    assert replies[0]["data"]["case"] == {"id": case.id, "keyword": "DISHUB", "status": "answered"}
    deliver_all(dispatcher_for(conversation))
    assert [json.loads(r.body)["type"] for r in receiver.received] == ["case.opened"] + ["reply.state"] * 3


def test_an_automatic_reply_sent_posts_no_event(chat, receiver):
    conversation = chat(receiver.url("/ok"))
    conversation.receive(CITIZEN, "INFO halo")
    acknowledgement = OutboundMessage.get(OutboundMessage.kind == "autoreply")
    OutboundMessage.update(state="sending").where(OutboundMessage.id == acknowledgement.id).execute()
    outbound.record_sent(OutboundMessage.get_by_id(acknowledgement.id), "sim1", [3])
    assert [r.event for r in WebhookDelivery.select()] == ["case.opened"]


def test_a_broadcast_done_posts_its_counts_to_the_global_endpoint(chat, receiver, officials):
    conversation = chat(receiver.url("/ok"), dishub_url=receiver.url("/ok?kw=dishub"))
    broadcast = Broadcast.create(
        title="Rapat", text="Rapat jam 9", created_by=officials["admin"], state="sending", queued_at=utcnow()
    )
    for number, state in (("+6281200000101", "delivered"), ("+6281200000102", "failed")):
        OutboundMessage.create(recipient=number, text="Rapat jam 9", kind="broadcast", broadcast=broadcast, state=state)
    assert broadcasts.finish() == [broadcast.id]
    [delivery] = WebhookDelivery.select()
    assert delivery.endpoint == "api"  # a broadcast belongs to no keyword
    data = json.loads(delivery.body)["data"]["broadcast"]
    assert data["id"] == broadcast.id and data["recipients"]["delivered"] == 1 and data["recipients"]["failed"] == 1
    deliver_all(dispatcher_for(conversation))
    assert json.loads(receiver.received[0].body)["type"] == "broadcast.done"


# --------------------------------------------------------------------------
# Endpoints that misbehave


def test_an_endpoint_answering_500_is_retried_with_growing_pauses_then_given_up(chat, receiver):
    conversation = chat(receiver.url("/error"))
    conversation.receive(CITIZEN, "INFO halo")
    deliver_all(dispatcher_for(conversation))
    delivery = WebhookDelivery.get()
    assert (delivery.state, delivery.attempts) == ("pending", 1)
    assert delivery.last_error == "HTTP 500 Internal Server Error"
    wait = delivery.next_attempt_at - delivery.last_attempt_at
    assert wait == timedelta(seconds=dispatch.BACKOFF_BASE)
    assert WebhookAttempt.get().status_code == 500
    # the pauses double up to an hour; after 24 hours the event is given up
    assert [dispatch.backoff(n) for n in (1, 2, 3, 4, 8, 20)] == [30, 60, 120, 240, 3600, 3600]
    failed = Outcome(500, "HTTP 500 Internal Server Error", 12)
    give_up = delivery.give_up_at
    assert give_up - delivery.created_at == timedelta(hours=24)
    # the 2nd attempt fails 10 minutes before the end: the next one (60 s later) still fits
    assert dispatch.record(delivery, receiver.url("/error"), failed, give_up - timedelta(minutes=10)) == "pending"
    # the 3rd fails 30 s before the end: the next one (120 s later) would be too late
    state = dispatch.record(WebhookDelivery.get(), receiver.url("/error"), failed, give_up - timedelta(seconds=30))
    delivery = WebhookDelivery.get()
    assert state == "failed" and delivery.state == "failed" and delivery.attempts == 3
    assert delivery.last_error == "HTTP 500 Internal Server Error (given up after 3 attempts)"
    assert WebhookAttempt.select().count() == 3
    assert len(receiver.on("/error")) == 1


def test_an_endpoint_that_does_not_answer_times_out(chat, receiver):
    conversation = chat(receiver.url("/hang"), timeout="0.5s")
    conversation.receive(CITIZEN, "INFO halo")
    deliver_all(dispatcher_for(conversation))
    attempt = WebhookAttempt.get()
    assert (attempt.status_code, attempt.error) == (None, "no answer within 0.5 s")
    assert attempt.duration_ms >= 500
    assert WebhookDelivery.get().state == "pending"


def test_a_slow_endpoint_within_the_timeout_is_delivered(chat, receiver):
    conversation = chat(receiver.url("/slow"), timeout="5s")
    conversation.receive(CITIZEN, "INFO halo")
    deliver_all(dispatcher_for(conversation))
    attempt = WebhookAttempt.get()
    assert (attempt.status_code, attempt.error) == (200, None) and attempt.duration_ms >= 300
    assert WebhookDelivery.get().state == "delivered"


def test_a_redirect_is_a_failure_and_is_not_followed(chat, receiver):
    conversation = chat(receiver.url("/redirect"))
    conversation.receive(CITIZEN, "INFO halo")
    deliver_all(dispatcher_for(conversation))
    attempt = WebhookAttempt.get()
    assert attempt.status_code == 302 and attempt.error == "redirect (HTTP 302 to /ok) not followed"
    assert receiver.on("/ok") == [] and WebhookDelivery.get().state == "pending"


def test_nothing_listening_is_connection_refused(chat, receiver):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    conversation = chat(f"http://127.0.0.1:{port}/gone")
    conversation.receive(CITIZEN, "INFO halo")
    deliver_all(dispatcher_for(conversation))
    assert WebhookAttempt.get().error == "connection refused (nothing listens at that address)"


def test_a_lane_keeps_its_connection_and_opens_another_when_the_server_closed_it(chat, receiver):
    conversation = chat(receiver.url("/ok"), dishub_url=receiver.url("/drop"))
    for n in range(3):
        conversation.receive(f"08121111{n:04d}", f"DISHUB laporan {n}")
    deliver_all(dispatcher_for(conversation))
    assert len({r.port for r in receiver.on("/ok")}) == 1  # three POSTs, one connection
    assert len(receiver.on("/drop")) == 3 and len({r.port for r in receiver.on("/drop")}) == 3
    assert {(d.state, d.attempts) for d in WebhookDelivery.select()} == {("delivered", 1)}


def test_a_dead_endpoint_does_not_delay_deliveries_to_a_healthy_one(chat, receiver):
    """DISHUB's endpoint hangs; every event for the global one arrives while DISHUB's first attempt still waits."""
    conversation = chat(receiver.url("/ok"), dishub_url=receiver.url("/hang"), timeout="30s")
    for n in range(5):
        conversation.receive(f"08121111{n:04d}", f"DISHUB laporan {n}")
    dispatcher = dispatcher_for(conversation)
    dispatcher.start()

    def delivered(endpoint: str) -> int:
        query = WebhookDelivery.select().where(WebhookDelivery.endpoint == endpoint)
        return query.where(WebhookDelivery.state == "delivered").count()

    try:
        assert wait_until(lambda: delivered("api") == 5, 15)
        # the dead endpoint got one request, which is still hanging: nothing of DISHUB's lane has finished
        assert receiver.started.get("/hang") == 1 and receiver.on("/hang") == []
        assert WebhookAttempt.select().join(WebhookDelivery).where(WebhookDelivery.endpoint == "api").count() == 5
        assert WebhookAttempt.select().count() == 5
        # ... and receiving goes on meanwhile: another SMS is routed and its event delivered
        conversation.receive(CITIZEN, "INFO masih bisa")
        assert wait_until(lambda: delivered("api") == 6, 15)
        assert receiver.on("/hang") == [] and delivered("keyword:DISHUB") == 0
    finally:
        receiver.release.set()
        dispatcher.stop()


def test_an_endpoint_removed_from_the_configuration_fails_its_deliveries_and_a_retry_queues_them_again(chat, receiver):
    conversation = chat(receiver.url("/ok"))
    conversation.receive(CITIZEN, "INFO halo")
    endpoints.use(endpoints.Endpoints())  # keywords.ini and [api] no longer name it
    deliver_all(dispatcher_for(conversation))
    delivery = WebhookDelivery.get()
    assert delivery.state == "failed" and delivery.last_error == dispatch.GONE and receiver.received == []

    endpoints.use(endpoints.from_config(conversation.config, conversation.table))
    assert deliveries.retry(None, "admin") == 1
    assert deliveries.retry(None, "admin") == 0  # nothing failed any more
    delivery = WebhookDelivery.get()
    assert delivery.state == "pending" and delivery.give_up_at > utcnow() + timedelta(hours=23)
    assert AuditLog.get(AuditLog.action == "webhook.retry").actor == "admin"
    deliver_all(dispatcher_for(conversation))
    assert WebhookDelivery.get().state == "delivered" and len(receiver.received) == 1


def test_the_daemon_starts_and_stops_the_dispatcher_with_the_endpoints_of_its_configuration(
    officials, write_config, receiver
):
    from modemd.drivers import inject_simulated
    from modemd.run.daemon import Daemon

    sim = "[modem:sim1]\ndriver = sim\ndevice = spool1\nsend_delay = 0\nreport_delay = 0\n"
    api = f"[api]\nwebhook_url = {receiver.url('/ok')}\nwebhook_secret = {SECRET}\n"
    config = config_module.load(write_config(sim + api, keywords_with_hook(receiver.url("/ok?dishub"))))
    daemon = Daemon(config, load_keywords(config.keywords_path), instance="test-pc")
    daemon.start()
    serving = threading.Thread(target=daemon.serve, daemon=True)
    serving.start()
    try:
        assert endpoints.current().names() == ["api", "keyword:DISHUB"]
        inject_simulated(config.modems["sim1"].settings, CITIZEN, "DISHUB jalan rusak")
        assert wait_until(lambda: len(receiver.on("/ok")) + len(receiver.on("/ok?dishub")) == 2, 15)
        assert all(r.signed for r in receiver.received)
    finally:
        daemon.stop()
        serving.join(5)


# --------------------------------------------------------------------------
# Configuration errors name file, line and key


@pytest.mark.parametrize(
    "lines, key, line, expected",
    [
        (
            "webhook_url = http://portal.example.go.id/hook\nwebhook_secret = " + SECRET,
            "webhook_url",
            8,
            "expected https://",
        ),
        ("webhook_url = ftp://x/hook\nwebhook_secret = " + SECRET, "webhook_url", 8, "expected a URL"),
        ("webhook_url = https://user:pw@x.go.id/\nwebhook_secret = " + SECRET, "webhook_url", 8, "no user or password"),
        ("webhook_url = https://x.go.id:99999/\nwebhook_secret = " + SECRET, "webhook_url", 8, "expected a URL"),
        ("webhook_url = https://x.go.id/hook", "webhook_secret", 8, "missing key webhook_secret"),
        ("webhook_url = https://x.go.id/hook\nwebhook_secret = pendek", "webhook_secret", 9, "at least 16"),
        ("webhook_timeout = sebentar", "webhook_timeout", 8, "expected a duration"),
    ],
)
def test_a_bad_api_webhook_setting_names_file_line_and_key(write_config, lines, key, line, expected):
    path = write_config("[web]\ntitle = x\n\n[api]\n" + lines + "\n")  # [api] is line 7 after [modemd]
    with pytest.raises(ConfigError) as caught:
        config_module.load(path)
    [problem] = caught.value.problems
    assert (problem.section, problem.key, problem.line) == ("api", key, line)
    assert problem.file == str(path) and expected in problem.message
    assert str(problem).startswith(f"{path}:{problem.line}: error: [api] {key}: ")


def test_plain_http_to_this_machine_is_allowed(write_config):
    for url in ("http://127.0.0.1:9000/hook", "http://localhost/hook", "http://[::1]:8000/x", "https://x.go.id/"):
        config = config_module.load(write_config(f"[api]\nwebhook_url = {url}\nwebhook_secret = {SECRET}\n"))
        assert config.api.webhook_url == url


@pytest.mark.parametrize(
    "hook, key, line, expected",
    [
        ("webhook = http://10.0.0.5/hook\nwebhook_secret = " + DISHUB_SECRET, "webhook", 3, "expected https://"),
        ("webhook = https://dishub.go.id/hook", "webhook_secret", 3, "missing key webhook_secret"),
        ("webhook = https://dishub.go.id/hook\nwebhook_secret = 123", "webhook_secret", 4, "at least 16"),
    ],
)
def test_a_bad_keyword_webhook_names_file_line_and_key(write_config, hook, key, line, expected):
    path = write_config("", f"[DISHUB]\nowner = dishub\n{hook}\n")
    keywords = path.parent / "keywords.ini"
    with pytest.raises(KeywordError) as caught:
        load_keywords(keywords)
    [problem] = caught.value.problems
    assert (problem.file, problem.section, problem.key) == (str(keywords), "DISHUB", key)
    assert problem.line == line and expected in problem.message


def test_the_keyword_webhook_secret_is_never_published_for_the_web_ui(write_config):
    from modemd.run.daemon import keywords_json

    path = write_config("", keywords_with_hook("https://dishub.go.id/hook"))
    table = load_keywords(path.parent / "keywords.ini")
    assert table.keywords["DISHUB"].webhook == "https://dishub.go.id/hook"
    assert DISHUB_SECRET not in keywords_json(table) and DISHUB_SECRET not in repr(table)


# --------------------------------------------------------------------------
# modemd webhooks


def test_the_cli_lists_each_attempt_as_json_and_retries_a_failed_delivery(chat, receiver, capsys):
    from modemd import cli

    conversation = chat(receiver.url("/error"))
    conversation.receive(CITIZEN, "INFO halo")
    deliver_all(dispatcher_for(conversation))
    WebhookDelivery.update(state="failed").execute()
    path = str(conversation.config.path)
    capsys.readouterr()

    assert cli.main(["-c", path, "webhooks", "list", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["event"], row["endpoint"], row["state"], row["attempts"]) == ("case.opened", "api", "failed", 1)
    [attempt] = row["attempt_log"]
    assert attempt["status_code"] == 500 and attempt["error"] == "HTTP 500 Internal Server Error"
    assert attempt["duration_ms"] >= 0 and attempt["at"].endswith("+07:00")  # the centre's time, with its offset

    assert cli.main(["-c", path, "webhooks", "retry", "999"]) == 1  # no such failed delivery
    assert cli.main(["-c", path, "webhooks", "retry"]) == 2  # ids or --all-failed
    assert cli.main(["-c", path, "webhooks", "retry", str(row["id"])]) == 0
    assert WebhookDelivery.get().state == "pending"
    assert AuditLog.get(AuditLog.action == "webhook.retry").actor == "cli"
    capsys.readouterr()
    assert cli.main(["-c", path, "webhooks"]) == 0
    table = capsys.readouterr().out
    assert "case.opened" in table and "500" in table and "pending" in table


def test_the_queue_works_the_same_on_each_database(any_db, receiver):
    """Queue, hand out, post, record, give up and retry on SQLite, PostgreSQL and MariaDB."""
    endpoints.use(endpoints.build(receiver.url("/error"), SECRET, []))
    with any_db.atomic():
        assert events.queue(events.BROADCAST_DONE, {"broadcast": {"id": 1}}, endpoints.current().for_all()) == 1
    dispatcher = Dispatcher(endpoints.current, 5.0)
    deliver_all(dispatcher)
    delivery = WebhookDelivery.get()
    assert (delivery.state, delivery.attempts, delivery.last_error) == ("pending", 1, "HTTP 500 Internal Server Error")
    assert dispatcher.look() == 0  # not due again before its pause
    last = Outcome(500, "HTTP 500 Internal Server Error", 5)
    assert dispatch.record(delivery, delivery.url, last, delivery.give_up_at) == "failed"
    assert deliveries.retry([delivery.id], "admin") == 1
    assert [d.state for d in deliveries.recent()] == ["pending"]
    assert [len(a) for a in deliveries.attempts_of([delivery.id]).values()] == [2]
    dispatcher.stop()


def test_the_latency_bench_in_short_every_case_arrives_signed_once():
    """bench/bench_webhooks.py with 10 cases (figures are the bench's business, not a test's)."""
    from bench.bench_webhooks import measure

    result = measure(cases=10, rate=50)
    assert result.complete and result.cases == 10 and len(result.latencies) == 10
    assert result.bad_signatures == 0 and result.most_attempts == 1
