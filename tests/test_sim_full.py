"""A full SIM must never stop reception silently.

When the SIM's SMS storage is full the network holds new messages back, so
reception stops while the modem still sends and looks healthy. The real
daemon runs here against the fake AT modem on a pseudo-terminal (no mocks):
it warns once per episode, notes the state in ``ModemStatus``, empties the
SIM with its normal sweep, and the dashboard says "SIM penuh".
"""

from __future__ import annotations

import logging

import pytest
from webfixtures import PASSWORD

from modemd.config import Config
from modemd.run import worker as worker_module
from modemd.send import outqueue
from modemd.sms import tpdu
from modemd.store.models import Case, InboundMessage, ModemStatus, OutboundMessage
from tests.fakemodem import FakeModem, wait_until
from tests.test_daemon import Running

DEFAULTS = Config.defaults()  # the schema's settings, no file

CITIZEN = "+6281211112222"
WARNING_WORDS = "SIM full ("
CLEARED_WORDS = "the SIM has room again"


@pytest.fixture
def make_fake():
    """make_fake(capacity) -> a started FakeModem; stopped after the daemon (fixture order)."""
    fakes: list[FakeModem] = []

    def make(capacity: int) -> FakeModem:
        fake = FakeModem(capacity=capacity, status_report_delay=0.01).start()
        fakes.append(fake)
        return fake

    yield make
    for fake in fakes:
        fake.stop()


@pytest.fixture
def run_daemon(officials, write_config):
    started: list[Running] = []

    def start(fake: FakeModem, extra: str = "") -> Running:
        ini = (
            f"[modem:usb1]\ndriver = at\ndevice = {fake.device}\nsweep_interval = 5s\n"
            "[web]\nsecret_key_file = secret.key\n" + extra
        )
        running = Running(write_config(ini)).start()
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


def fill(fake: FakeModem, count: int) -> list[str]:
    """``count`` citizens' messages delivered before the daemon runs (no indication: nobody listens)."""
    texts = [f"INFO pertanyaan nomor {n}" for n in range(count)]
    for n, text in enumerate(texts):
        assert fake.inject_sms(f"+62812333300{n:02d}", text, indicate=False), "the SIM refused too early"
    return texts


def status() -> ModemStatus:
    return ModemStatus.get(ModemStatus.name == "usb1")


def messages(caplog, words: str, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if words in r.getMessage() and r.levelno == level]


def test_a_sim_full_at_connect_is_read_stored_deleted_and_the_warning_cleared(make_fake, run_daemon, caplog):
    caplog.set_level(logging.INFO)
    fake = make_fake(capacity=5)
    texts = fill(fake, 5)
    assert len(fake.sim) == fake.capacity
    run_daemon(fake)
    assert wait_until(lambda: InboundMessage.select().count() == 5 and fake.sim == {}, 15)
    assert sorted(m.text for m in InboundMessage.select()) == sorted(texts)
    assert Case.select().count() == 5  # stored and routed, not just deleted
    # the figures read at connect said full; the ones read right after the sweep say empty
    assert wait_until(lambda: status().storage_used == 0, 5)
    row = status()
    assert (row.storage_total, row.state, row.last_error) == (5, "ready", None)
    assert wait_until(lambda: messages(caplog, CLEARED_WORDS, logging.INFO), 5)
    [warning] = messages(caplog, WARNING_WORDS, logging.WARNING)
    assert "usb1" in warning and "5/5 SMS" in warning
    [cleared] = messages(caplog, CLEARED_WORDS, logging.INFO)
    assert "0/5 SMS" in cleared


def test_a_full_sim_refuses_deliveries_until_the_daemon_empties_it(make_fake, run_daemon):
    fake = make_fake(capacity=3)
    fill(fake, 3)
    assert fake.inject_sms(CITIZEN, "DISHUB lampu merah mati") == []  # the network cannot deliver
    assert len(fake.sim) == 3
    run_daemon(fake)
    assert wait_until(lambda: InboundMessage.select().count() == 3 and fake.sim == {}, 15)
    assert not InboundMessage.select().where(InboundMessage.sender == CITIZEN).exists()
    # the network tries again; now there is room
    assert fake.inject_sms(CITIZEN, "DISHUB lampu merah mati") != []
    assert wait_until(lambda: Case.select().where(Case.keyword == "DISHUB").exists(), 10)
    case = Case.get(Case.keyword == "DISHUB")
    assert case.citizen == CITIZEN
    # its acknowledgement left the modem (delivery reports are not the point here: on a 3-message SIM the
    # fake refuses a report while three others wait there for their batch)
    assert wait_until(
        lambda: (CITIZEN, f"Laporan #{case.id} diteruskan ke Dinas Perhubungan.") in fake.sent_texts(), 10
    )
    assert wait_until(
        lambda: OutboundMessage.get(OutboundMessage.recipient == CITIZEN).state in ("sent", "delivered"), 5
    )
    assert wait_until(lambda: fake.sim == {}, 5)


def test_the_dashboard_shows_a_sim_full_until_it_has_room(make_fake, run_daemon, monkeypatch, caplog):
    # a health check every half second instead of every 30 s, so that the end of the episode is seen soon
    monkeypatch.setattr(worker_module, "HEALTH_INTERVAL", 0.5)
    fake = make_fake(capacity=2)
    # a SIM full of stored outgoing drafts (a phone left them): no citizen's message, nothing the daemon deletes
    for n in range(2):
        fake.inject_pdu(tpdu.encode_submit("+6281200000001", f"draft {n}")[0].hex, indicate=False, stat=2)
    running = run_daemon(fake)
    assert wait_until(
        lambda: (
            ModemStatus.select()
            .where(ModemStatus.name == "usb1", ModemStatus.last_error.startswith("SIM full"))
            .exists()
        ),
        10,
    )
    assert len(fake.sim) == 2 and fake.inject_sms(CITIZEN, "INFO halo") == []  # still full: refused

    from webui import create_app

    client = create_app(config=running.config, test_config={"TESTING": True, "WTF_CSRF_ENABLED": False}).test_client()
    client.post("/login", data={"login": "humas", "password": PASSWORD})
    page = client.get("/dashboard/").get_data(as_text=True)
    assert "SIM penuh" in page and "SIM 2/2" in page
    assert "SIM full (2/2 SMS)" not in page  # the modem's own words are for the admin only (issue 15, words for people)
    client.post("/lang/en", data={"next": "/"})
    assert "SIM full</span>" in client.get("/dashboard/").get_data(as_text=True)

    with fake._lock:  # the fake's server thread reads the SIM under this lock
        fake.sim.clear()  # the technician deletes the drafts
    assert wait_until(lambda: status().last_error is None and status().storage_used == 0, 10)
    page = client.get("/dashboard/").get_data(as_text=True)
    assert "SIM full" not in page and "SIM 0/2" in page
    assert len(messages(caplog, WARNING_WORDS, logging.WARNING)) == 1  # once, over many health checks


def test_a_memory_full_answer_to_a_send_is_warned_and_cleared_by_the_storage_figures(
    make_fake, run_daemon, monkeypatch, caplog
):
    caplog.set_level(logging.INFO)
    monkeypatch.setattr(worker_module, "HEALTH_INTERVAL", 0.5)
    fake = make_fake(capacity=30)
    running = run_daemon(fake, "[sms]\nretry_intervals = 1s\n")
    assert wait_until(lambda: running.daemon.health.state("usb1") == "ready", 10)
    fake.fail_next_sends(1, code=322)
    message = outqueue.enqueue(CITIZEN, "balasan", "reply", config=running.config)
    assert wait_until(lambda: OutboundMessage.get_by_id(message.id).state in ("sent", "delivered"), 15)
    assert OutboundMessage.get_by_id(message.id).attempts == 2  # the 322 was a temporary failure
    assert wait_until(lambda: messages(caplog, CLEARED_WORDS, logging.INFO), 5)
    [warning] = messages(caplog, WARNING_WORDS, logging.WARNING)
    assert "+CMS ERROR: 322" in warning
    # the modem's own figures say there is room: the note is gone
    assert wait_until(lambda: status().last_error is None, 5)


def test_stored_status_reports_never_fill_a_small_sim_while_a_queue_drains(make_fake, run_daemon):
    """Reports stored on the SIM (+CDSI) are deleted before they can take all its slots, even while
    a queue drains (when reports are otherwise gathered for up to two seconds to share one commit)."""
    fake = make_fake(capacity=10)
    fake.part_delay = 0.05  # a fast modem: 20 sends a second, each followed by a stored report
    run_daemon(fake)
    ids = [outqueue.enqueue(CITIZEN, f"Balasan {n}", "reply", config=DEFAULTS).id for n in range(40)]
    done = wait_until(
        lambda: (
            OutboundMessage.select().where(OutboundMessage.id.in_(ids), OutboundMessage.state == "delivered").count()
            == len(ids)
        ),
        timeout=30,
    )
    late = [
        (m.id, m.state)
        for m in OutboundMessage.select().where(OutboundMessage.id.in_(ids), OutboundMessage.state != "delivered")
    ]
    assert done, f"reports lost for {late}"
