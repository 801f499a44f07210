"""The outbound queue: claiming (also by several daemons at once), priorities, retries, expiry, recovery, routing."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from modemd import config as config_module
from modemd.config import Config
from modemd.send import outbound, outqueue
from modemd.send.outbound import Eligibility
from modemd.store.models import AuditLog, OutboundMessage, OutboundPart, utcnow

DEFAULTS = Config.defaults()  # the schema's settings, no file

TELKOMSEL = "081211112222"
INDOSAT = "085712345678"
XL = "081712345678"


@pytest.fixture
def config(write_config):
    return config_module.load(
        write_config(
            "[sms]\nretry_intervals = 1m, 5m, 15m\nmax_attempts = 4\n"
            "[modem:m1]\ndriver = sim\n[modem:m2]\ndriver = sim\n"
            "[routing]\ntelkomsel = m1\nindosat = m2\n"
        )
    )


def alone(name: str = "m1") -> Eligibility:
    return Eligibility.build(name, {name}, {})


def test_claim_takes_replies_before_broadcasts_and_marks_the_row_sending(any_db):
    later = outqueue.enqueue(TELKOMSEL, "siaran", "broadcast", config=DEFAULTS)
    first = outqueue.enqueue(INDOSAT, "jawaban", "reply", config=DEFAULTS)
    second = outqueue.enqueue(XL, "otomatis", "autoreply", config=DEFAULTS)
    order = [outbound.claim("pc1", alone()).id for _ in range(3)]
    assert order == [first.id, second.id, later.id]
    assert outbound.claim("pc1", alone()) is None
    row = OutboundMessage.get_by_id(first.id)
    assert (row.state, row.claimed_by, row.modem) == ("sending", "pc1", "m1")


def test_rows_not_yet_due_wait(any_db):
    outqueue.enqueue(TELKOMSEL, "nanti", "reply", send_at=utcnow() + timedelta(minutes=5), config=DEFAULTS)
    assert outbound.claim("pc1", alone()) is None
    assert not outbound.has_due(alone())
    assert outbound.claim("pc1", alone(), now=utcnow() + timedelta(minutes=6)) is not None


def test_several_daemons_claiming_at_once_take_each_row_exactly_once(any_db):
    ids = {
        outqueue.enqueue(TELKOMSEL, f"pesan {n}", "broadcast" if n % 2 else "reply", config=DEFAULTS).id
        for n in range(120)
    }
    taken: list[list[int]] = [[] for _ in range(6)]
    start = threading.Barrier(6)

    def daemon(slot: int) -> None:
        start.wait()
        while (message := outbound.claim(f"pc{slot}", alone(f"m{slot}"))) is not None:
            taken[slot].append(message.id)
        any_db.close()  # this thread's connection

    threads = [threading.Thread(target=daemon, args=(slot,)) for slot in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [i for slot in taken for i in slot]
    assert sorted(every) == sorted(ids)  # nothing lost, nothing twice
    assert OutboundMessage.select().where(OutboundMessage.state == "sending").count() == 120


def test_sent_parts_keep_their_references(any_db):
    message = outqueue.enqueue(TELKOMSEL, "x" * 300, "reply", config=DEFAULTS)
    claimed = outbound.claim("pc1", alone())
    outbound.record_sent(claimed, "m1", [254, 255, 0])
    row = OutboundMessage.get_by_id(message.id)
    assert (row.state, row.attempts, row.parts, row.claimed_by) == ("sent", 1, 3, None)
    parts = [(p.sequence, p.reference, p.state, p.recipient) for p in row.part_rows.order_by(OutboundPart.sequence)]
    assert parts == [
        (1, 254, "sent", "+6281211112222"),
        (2, 255, "sent", "+6281211112222"),
        (3, 0, "sent", "+6281211112222"),
    ]


def test_a_long_message_cut_off_keeps_its_parts_out_and_records_the_rest_later(any_db):
    """The modem vanished after part 1 of 3, inside AT+CMGS of part 2: part 1 is kept (the next attempt
    goes on after it), the row is pending again and in doubt (part 2 may be out)."""
    message = outqueue.enqueue(TELKOMSEL, "x" * 400, "reply", config=DEFAULTS)
    message = outbound.claim("pc1", alone())
    state = outbound.record_failure(
        message,
        "modem m1 stopped answering",
        permanent=False,
        config=DEFAULTS,
        retry_now=True,
        doubt=True,
        parts_sent=("m1", [41], 1),
    )
    assert state == "pending" and OutboundMessage.get_by_id(message.id).doubt
    assert [(p.sequence, p.reference) for p in outbound.earlier_parts(message)] == [(1, 41)]
    again = outbound.claim("pc1", alone())
    outbound.record_sent(again, "m1", [42, 43], first_part=2)
    row = OutboundMessage.get_by_id(message.id)
    assert (row.state, row.parts, row.doubt) == ("sent", 3, True)
    assert [(p.sequence, p.reference) for p in outbound.earlier_parts(row)] == [(1, 41), (2, 42), (3, 43)]


def test_a_resend_whole_replaces_the_parts_of_the_cut_off_attempt(any_db):
    """A modem whose driver cannot go on from a part (Gammu) sends the message whole: the old part rows go."""
    message = outqueue.enqueue(TELKOMSEL, "x" * 400, "reply", config=DEFAULTS)
    message = outbound.claim("pc1", alone())
    outbound.record_failure(
        message, "gone", permanent=False, config=DEFAULTS, retry_now=True, parts_sent=("m1", [7], 1)
    )
    outbound.record_sent(outbound.claim("pc1", alone()), "m2", [8, 9, 10])
    assert [(p.modem, p.reference) for p in outbound.earlier_parts(message)] == [("m2", 8), ("m2", 9), ("m2", 10)]
    assert not OutboundMessage.get_by_id(message.id).doubt


def test_retries_follow_the_intervals_then_fail_after_max_attempts(sqlite_db, config):
    message = outqueue.enqueue(TELKOMSEL, "coba", "reply", config=config)
    moment = utcnow()
    waits = []
    for attempt in range(4):
        claimed = outbound.claim("pc1", alone(), now=moment)
        assert claimed is not None, attempt
        state = outbound.record_failure(claimed, "+CMS ERROR: 500", permanent=False, config=config, now=moment)
        row = OutboundMessage.get_by_id(message.id)
        waits.append((state, row.next_attempt_at - moment))
        moment = row.next_attempt_at
    assert waits[:3] == [
        ("pending", timedelta(minutes=1)),
        ("pending", timedelta(minutes=5)),
        ("pending", timedelta(minutes=15)),
    ]
    assert waits[3][0] == "failed"
    row = OutboundMessage.get_by_id(message.id)
    assert row.attempts == 4 and "gave up after 4 attempts" in row.failure_reason


def test_last_interval_repeats():
    assert [outbound.retry_delay([60, 300], n) for n in (1, 2, 3, 9)] == [60, 300, 300, 300]
    assert outbound.retry_delay([], 1) == 60


def test_permanent_error_fails_at_once(sqlite_db, config):
    message = outqueue.enqueue(TELKOMSEL, "salah nomor", "reply", config=config)
    claimed = outbound.claim("pc1", alone())
    assert outbound.record_failure(claimed, "+CMS ERROR: 38", permanent=True, config=config) == "failed"
    row = OutboundMessage.get_by_id(message.id)
    assert (row.state, row.attempts, row.failure_reason) == ("failed", 1, "+CMS ERROR: 38")


def test_a_failing_message_does_not_hold_up_the_ones_behind_it(sqlite_db, config):
    bad = outqueue.enqueue(TELKOMSEL, "gagal terus", "reply", config=config)
    good = outqueue.enqueue(TELKOMSEL, "berhasil", "reply", config=config)
    claimed = outbound.claim("pc1", alone())
    assert claimed.id == bad.id
    outbound.record_failure(claimed, "+CMS ERROR: 500", permanent=False, config=config)
    assert outbound.claim("pc1", alone()).id == good.id


def test_expired_messages_fail_instead_of_arriving_late(sqlite_db, config):
    old = outqueue.enqueue(TELKOMSEL, "basi", "reply", config=config)
    fresh = outqueue.enqueue(TELKOMSEL, "baru", "reply", config=config)
    OutboundMessage.update(expires_at=utcnow() - timedelta(seconds=1)).where(OutboundMessage.id == old.id).execute()
    assert outbound.expire() == 1
    assert OutboundMessage.get_by_id(old.id).state == "failed"
    assert "expired" in OutboundMessage.get_by_id(old.id).failure_reason
    assert OutboundMessage.get_by_id(fresh.id).state == "pending"


def test_a_retry_that_would_come_after_the_expiry_fails_now(sqlite_db, config):
    message = outqueue.enqueue(TELKOMSEL, "hampir basi", "reply", config=config)
    OutboundMessage.update(expires_at=utcnow() + timedelta(seconds=30)).where(
        OutboundMessage.id == message.id
    ).execute()
    claimed = outbound.claim("pc1", alone())
    assert outbound.record_failure(claimed, "+CMS ERROR: 500", permanent=False, config=config) == "failed"
    assert "expired" in OutboundMessage.get_by_id(message.id).failure_reason


def test_rows_left_sending_by_a_crash_of_this_instance_come_back_in_doubt(any_db):
    mine = outqueue.enqueue(TELKOMSEL, "punyaku", "reply", config=DEFAULTS)
    theirs = outqueue.enqueue(INDOSAT, "punya pc lain", "reply", config=DEFAULTS)
    outbound.claim("pc1", alone())
    outbound.claim("pc2", alone("m2"))
    assert outbound.recover("pc1") == 1
    row = OutboundMessage.get_by_id(mine.id)
    assert (row.state, row.doubt, row.claimed_by) == ("pending", True, None)
    assert OutboundMessage.get_by_id(theirs.id).state == "sending"  # another daemon is still sending it
    entry = AuditLog.get(AuditLog.action == "outbound.recovered")
    assert entry.object_id == str(mine.id)
    assert outbound.recover("pc1") == 0


def test_a_resend_in_doubt_cut_off_by_another_crash_fails_instead_of_going_a_third_time(any_db):
    """kill -9 twice while the same message was in the modem: at most one resend in doubt, then a person decides."""
    message = outqueue.enqueue(TELKOMSEL, "sekali saja", "broadcast", config=DEFAULTS)
    outbound.claim("pc1", alone())
    assert outbound.recover("pc1") == 1  # first crash: sent again, in doubt
    assert outbound.claim("pc1", alone()).id == message.id  # the resend is in the modem ...
    assert outbound.recover("pc1") == 1  # ... when the daemon dies again
    row = OutboundMessage.get_by_id(message.id)
    assert (row.state, row.doubt, row.claimed_by) == ("failed", True, None)
    assert row.failure_reason.startswith(outbound.IN_DOUBT_REASON)
    assert outbound.claim("pc1", alone()) is None  # nothing is sent a third time
    entries = AuditLog.select().where(AuditLog.action == "outbound.recovered").order_by(AuditLog.id)
    assert [e.object_id for e in entries] == [str(message.id)] * 2


def test_a_resend_in_doubt_interrupted_inside_at_cmgs_again_fails(sqlite_db, config):
    message = outqueue.enqueue(TELKOMSEL, "modem hilang dua kali", "reply", config=DEFAULTS)
    first = outbound.claim("pc1", alone())
    gone = "modem m1 stopped answering: unplugged"
    assert outbound.record_failure(first, gone, permanent=False, config=config, retry_now=True, doubt=True) == "pending"
    again = outbound.claim("pc1", alone())
    assert outbound.record_failure(again, gone, permanent=False, config=config, retry_now=True, doubt=True) == "failed"
    row = OutboundMessage.get_by_id(message.id)
    assert row.failure_reason.startswith(outbound.IN_DOUBT_REASON) and gone in row.failure_reason


def test_a_doubted_message_whose_retry_fails_plainly_is_still_retried(sqlite_db, config):
    """The cap is on sends that may have reached the network twice, not on ordinary retries."""
    outqueue.enqueue(TELKOMSEL, "ragu lalu gagal biasa", "reply", config=DEFAULTS)
    first = outbound.claim("pc1", alone())
    outbound.record_failure(first, "modem m1 stopped answering", permanent=False, config=config, doubt=True)
    OutboundMessage.update(next_attempt_at=utcnow()).execute()
    again = outbound.claim("pc1", alone())
    assert outbound.record_failure(again, "+CMS ERROR: 42", permanent=False, config=config, code=42) == "pending"


def test_routing_sends_an_operators_numbers_through_its_own_sim(sqlite_db, config):
    both = {"m1", "m2"}
    ids = {
        name: outqueue.enqueue(number, name, "reply", config=DEFAULTS).id
        for name, number in (("tsel", TELKOMSEL), ("isat", INDOSAT), ("xl", XL))
    }
    m1 = Eligibility.build("m1", both, config.routing)
    m2 = Eligibility.build("m2", both, config.routing)
    claimed_by_m1 = {outbound.claim("pc", m1).id, outbound.claim("pc", m1).id}
    assert claimed_by_m1 == {ids["tsel"], ids["xl"]}  # XL has no rule: any modem
    assert outbound.claim("pc", m1) is None
    assert outbound.claim("pc", m2).id == ids["isat"]


def test_routing_falls_back_to_any_healthy_modem(sqlite_db, config):
    message = outqueue.enqueue(INDOSAT, "m2 sedang istirahat", "reply", config=DEFAULTS)
    assert outbound.claim("pc", Eligibility.build("m1", {"m1", "m2"}, config.routing)) is None
    taken = outbound.claim("pc", Eligibility.build("m1", {"m1"}, config.routing))
    assert taken.id == message.id


def test_a_preferred_modem_is_used_while_it_is_healthy(sqlite_db, config):
    message = outqueue.enqueue(TELKOMSEL, "lewat m2", "manual", preferred_modem="m2", config=DEFAULTS)
    assert outbound.claim("pc", Eligibility.build("m1", {"m1", "m2"}, config.routing)) is None
    assert outbound.claim("pc", Eligibility.build("m2", {"m1", "m2"}, config.routing)).id == message.id
    other = outqueue.enqueue(TELKOMSEL, "m2 mati", "manual", preferred_modem="m2", config=DEFAULTS)
    assert outbound.claim("pc", Eligibility.build("m1", {"m1"}, config.routing)).id == other.id


def test_queue_depth_counts_what_a_modem_may_send(sqlite_db, config):
    outqueue.enqueue(TELKOMSEL, "a", "reply", config=DEFAULTS)
    outqueue.enqueue(INDOSAT, "b", "reply", config=DEFAULTS)
    assert outbound.depth() == 2
    assert outbound.depth(Eligibility.build("m1", {"m1", "m2"}, config.routing)) == 1


def test_enqueue_wakes_listeners_in_this_process(sqlite_db):
    woken = threading.Event()
    outqueue.add_listener(woken)
    try:
        before = outqueue.newest_id()
        outqueue.enqueue(TELKOMSEL, "halo", "reply", config=DEFAULTS)
        assert woken.is_set()
        assert outqueue.newest_id() > before
    finally:
        outqueue.remove_listener(woken)
