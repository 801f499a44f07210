"""The daemon running for real: worker threads, the dispatcher, routing and the queue.

Against the simulated modem (a spool directory, send_delay 0) and against
the fake AT modem on a pseudo-terminal (``tests/fakemodem.py``) with the real
AT driver. Faults: +CMS ERROR on every send, a wrong number, an unplugged
modem in the middle of a queue of 200, an absent modem, a keywords.ini with
errors.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from modemd import config as config_module
from modemd.config import Config
from modemd.drivers import inject_simulated
from modemd.receive.keywords import load_keywords
from modemd.run.daemon import Daemon
from modemd.send import outqueue
from modemd.store.models import Case, DaemonState, InboundMessage, ModemStatus, OutboundMessage, OutboundPart, utcnow
from tests.fakemodem import FakeModem, wait_until

DEFAULTS = Config.defaults()  # the schema's settings, no file

CITIZEN = "081211112222"
E164 = "+6281211112222"
ROOT = Path(__file__).resolve().parents[1]

SIM = "[modem:sim1]\ndriver = sim\ndevice = spool1\nsend_delay = 0\nreport_delay = 0\n"


class Running:
    """A daemon started in this process (signals are the main thread's, so serve() runs in a thread)."""

    def __init__(self, config_path: Path):
        self.config = config_module.load(config_path)
        self.daemon = Daemon(self.config, load_keywords(self.config.keywords_path), instance="test-pc")
        self.serving = threading.Thread(target=self.daemon.serve, name="daemon-main", daemon=True)

    def start(self) -> Running:
        self.daemon.start()
        self.serving.start()
        return self

    def stop(self) -> None:
        self.daemon.stop()
        self.serving.join(5)

    def settings(self, modem: str = "sim1") -> dict[str, str]:
        return self.config.modems[modem].settings

    def inject(self, sender: str, text: str, modem: str = "sim1") -> None:
        inject_simulated(self.settings(modem), sender, text)

    def sent_log(self, modem: str = "sim1") -> list[dict]:
        path = Path(self.settings(modem)["device"]) / "sent.log"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture
def run_daemon(officials, write_config):
    started: list[Running] = []

    def start(ini: str = SIM, keywords: str | None = None) -> Running:
        path = write_config(ini) if keywords is None else write_config(ini, keywords)
        running = Running(path).start()
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


def states(*ids: int) -> list[str]:
    return [OutboundMessage.get_by_id(i).state for i in ids]


# --------------------------------------------------------------------------
# the simulated modem


def test_a_citizens_sms_becomes_a_case_and_the_acknowledgement_is_delivered(run_daemon):
    running = run_daemon()
    running.inject(CITIZEN, "DISHUB jalan rusak di Jl. Merdeka")
    assert wait_until(lambda: OutboundMessage.select().where(OutboundMessage.state == "delivered").exists(), 10)
    case = Case.get()
    assert (case.keyword, case.citizen) == ("DISHUB", E164)
    message = InboundMessage.get()
    assert (message.text, message.route, message.modem) == ("DISHUB jalan rusak di Jl. Merdeka", "case", "sim1")
    assert not list(Path(running.settings()["device"]).glob("*.sms"))  # deleted from the SIM once stored
    [sent] = running.sent_log()
    assert sent["number"] == E164 and sent["text"] == f"Laporan #{case.id} diteruskan ke Dinas Perhubungan."
    reply = OutboundMessage.get()
    assert (reply.modem, reply.attempts, reply.parts) == ("sim1", 1, 1)
    assert OutboundPart.get().state == "delivered"


def test_a_message_queued_by_another_process_is_sent(run_daemon, tmp_path):
    running = run_daemon()
    script = (
        "import sys; from modemd.store import db; from modemd.send import outqueue; from modemd.config import Config; "
        "db.open_database(sys.argv[1]); "
        "print(outqueue.enqueue('085712345678', 'Balasan dari web', 'reply', config=Config.defaults()).id)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, running.config.database_url],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    message_id = int(done.stdout)
    assert wait_until(lambda: OutboundMessage.get_by_id(message_id).state in ("sent", "delivered"), 10)
    assert [s["text"] for s in running.sent_log()] == ["Balasan dari web"]


def test_a_clean_stop_says_at_once_that_this_daemon_no_longer_runs_but_another_still_does(run_daemon):
    """modemd db restore refused for 30 s after `systemctl stop modemd`: the heartbeat only went stale."""
    from modemd.commands.status import daemon_heartbeat

    running = run_daemon()
    assert wait_until(lambda: daemon_heartbeat()[0], 10)
    running.stop()
    assert daemon_heartbeat()[0] is False  # at once, not 30 s later
    assert daemon_heartbeat()[1] is not None  # the last beat is still shown
    DaemonState.put("daemon_heartbeat.pc2", utcnow().isoformat())  # a daemon on another PC beats on
    assert daemon_heartbeat()[0] is True


def test_health_heartbeat_and_keywords_are_published(run_daemon):
    running = run_daemon()
    assert wait_until(
        lambda: ModemStatus.select().where(ModemStatus.name == "sim1", ModemStatus.signal_dbm == -71).exists(), 10
    )
    status = ModemStatus.get(ModemStatus.name == "sim1")
    assert (status.state, status.driver, status.manufacturer) == ("ready", "sim", "modemd")
    assert status.last_contact is not None and status.storage_total is not None
    assert wait_until(lambda: DaemonState.read("daemon_heartbeat"), 10)
    published = json.loads(DaemonState.read("keywords"))
    assert [k["name"] for k in published] == ["DINKES", "DISHUB", "INFO"]
    assert published[2]["aliases"] == ["HUMAS", "TANYA"] and published[2]["owner"] == "humas"
    assert DaemonState.read("keywords_loaded_at")
    assert running.daemon.status_line().startswith("1 modem, 0 queued")


def test_keywords_reload_on_request_and_a_broken_file_keeps_the_old_table(run_daemon, tmp_path, caplog):
    running = run_daemon()
    keywords = running.config.keywords_path
    keywords.write_text(keywords.read_text() + "\n[PDAM]\nowner = humas\n", encoding="utf-8")
    DaemonState.put("reload_keywords", "2026-11-23T10:00:00")  # what the web UI's button writes
    assert wait_until(lambda: "PDAM" in DaemonState.read("keywords"), 10)
    assert running.daemon.keywords().find("pdam") is not None
    keywords.write_text("[RUSAK\nowner\n[X]\nowner = nobody\n", encoding="utf-8")
    DaemonState.put("reload_keywords", "2026-11-23T10:05:00")
    assert wait_until(lambda: "still using the 4 keyword(s)" in caplog.text, 10)
    assert running.daemon.keywords().find("PDAM") is not None
    # SIGHUP does the same as the button
    keywords.write_text("[SAMPAH]\nowner = humas\n", encoding="utf-8")
    running.daemon.reload_requested.set()
    assert wait_until(lambda: running.daemon.keywords().names() == ["SAMPAH"], 10)


def test_an_unknown_owner_in_keywords_ini_is_refused_on_reload(run_daemon, caplog):
    running = run_daemon()
    running.config.keywords_path.write_text("[PDAM]\nowner = siapa\n", encoding="utf-8")
    assert running.daemon.reload_keywords() is False
    assert "is not a user" in caplog.text
    assert running.daemon.keywords().names() == ["DINKES", "DISHUB", "INFO"]


def test_a_wrong_number_fails_at_once_and_the_rest_is_sent(run_daemon):
    run_daemon(SIM + "fail_numbers = +6285712345678\n")
    bad = outqueue.enqueue("085712345678", "ke nomor salah", "reply", config=DEFAULTS)
    good = [outqueue.enqueue(CITIZEN, f"pesan {n}", "reply", config=DEFAULTS) for n in range(5)]
    assert wait_until(lambda: all(s in ("sent", "delivered") for s in states(*(m.id for m in good))), 10)
    failed = OutboundMessage.get_by_id(bad.id)
    assert failed.state == "failed" and failed.attempts == 1 and "+CMS ERROR: 1" in failed.failure_reason


def test_an_officials_reply_answers_the_case_only_when_the_daemon_has_sent_it(run_daemon, officials):
    from webui.replies import send_reply

    wrong = "+6285712345678"
    running = run_daemon(SIM + f"fail_numbers = {wrong}\n")
    running.inject(CITIZEN, "DISHUB jalan rusak")
    running.inject(wrong, "DISHUB lampu mati")
    assert wait_until(
        lambda: (
            Case.select().count() == 2
            and not OutboundMessage.select().where(OutboundMessage.state.in_(("pending", "sending"))).exists()
        ),
        10,
    )
    good, bad = Case.get(Case.citizen == E164), Case.get(Case.citizen == wrong)
    replies = [send_reply(case, officials["dishub"], "Segera kami tangani.", running.config) for case in (good, bad)]
    assert wait_until(lambda: all(states(r.id)[0] in ("sent", "delivered", "failed") for r in replies), 10)
    good, bad = Case.get_by_id(good.id), Case.get_by_id(bad.id)
    assert good.status == "answered" and good.answered_at >= good.replied_at and good.reply_failed_at is None
    assert (bad.status, bad.answered_at) == ("open", None) and bad.reply_failed_at is not None
    assert OutboundMessage.get_by_id(replies[1].id).failure_code == 1  # unassigned number, from the sim driver


def test_a_failing_modem_rests_and_its_traffic_moves_to_the_other(run_daemon):
    ini = (
        SIM + "failure_rate = 1\n"  # sim2 is the slower one: sim1 surely gets (and fails) its share first
        "[modem:sim2]\ndriver = sim\ndevice = spool2\nsend_delay = 0.1\nreport_delay = 0\n"
        "[sms]\nmodem_rest_after = 2\nmodem_rest = 10m\nretry_intervals = 1s\nmax_attempts = 10\n"
    )
    running = run_daemon(ini)
    ids = [outqueue.enqueue(CITIZEN, f"pesan {n}", "reply", config=DEFAULTS).id for n in range(10)]
    assert wait_until(lambda: all(s in ("sent", "delivered") for s in states(*ids)), 20)
    assert {OutboundMessage.get_by_id(i).modem for i in ids} == {"sim2"}
    assert len(running.sent_log("sim2")) == 10 and running.sent_log("sim1") == []
    assert wait_until(lambda: ModemStatus.get(ModemStatus.name == "sim1").state == "resting", 5)
    assert running.daemon.health.state("sim1") == "resting"


def test_an_absent_modem_does_not_stop_the_others(run_daemon, tmp_path):
    ini = SIM + f"[modem:usb]\ndriver = at\ndevice = {tmp_path / 'no-such-tty'}\n"
    running = run_daemon(ini)
    running.inject(CITIZEN, "INFO jam buka?")
    assert wait_until(lambda: OutboundMessage.select().where(OutboundMessage.state == "delivered").exists(), 10)
    assert wait_until(lambda: ModemStatus.get_or_none(ModemStatus.name == "usb") is not None, 5)
    usb = ModemStatus.get(ModemStatus.name == "usb")
    assert usb.state == "absent" and usb.last_error
    assert OutboundMessage.get().modem == "sim1"


def test_a_modems_rate_limit_spaces_its_sends(run_daemon):
    run_daemon(SIM + "rate_limit = 120\n")  # per minute: one every 0.5 s
    ids = [outqueue.enqueue(CITIZEN, f"pesan {n}", "reply", config=DEFAULTS).id for n in range(4)]
    assert wait_until(lambda: all(s in ("sent", "delivered") for s in states(*ids)), 20)
    times = sorted(OutboundMessage.get_by_id(i).sent_at for i in ids)
    gaps = [(later - earlier).total_seconds() for earlier, later in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 0.45, gaps


def test_operator_routing_between_two_modems(run_daemon):
    ini = (
        SIM + "[modem:sim2]\ndriver = sim\ndevice = spool2\nsend_delay = 0\nreport_delay = 0\n"
        "[routing]\ntelkomsel = sim1\nindosat = sim2\n"
    )
    run_daemon(ini)
    tsel = [outqueue.enqueue(CITIZEN, f"tsel {n}", "reply", config=DEFAULTS).id for n in range(3)]
    isat = [outqueue.enqueue("085712345678", f"isat {n}", "reply", config=DEFAULTS).id for n in range(3)]
    assert wait_until(lambda: all(s != "pending" and s != "sending" for s in states(*tsel, *isat)), 10)
    assert {OutboundMessage.get_by_id(i).modem for i in tsel} == {"sim1"}
    assert {OutboundMessage.get_by_id(i).modem for i in isat} == {"sim2"}


def test_a_long_reply_goes_as_one_concatenated_message(run_daemon):
    running = run_daemon()
    text = "Jalan di desa Anda sudah dijadwalkan untuk diperbaiki minggu depan oleh Dinas PU. " * 3
    message = outqueue.enqueue(CITIZEN, text, "reply", config=DEFAULTS)
    assert wait_until(lambda: OutboundMessage.get_by_id(message.id).state == "delivered", 10)
    assert OutboundMessage.get_by_id(message.id).parts == 2
    assert OutboundPart.select().where(OutboundPart.message == message.id).count() == 2
    [sent] = running.sent_log()
    assert sent["text"] == text and sent["parts"] == 2


# --------------------------------------------------------------------------
# the fake AT modem on a pseudo-terminal


@pytest.fixture
def fake():
    with FakeModem(status_report_delay=0.01) as modem:
        yield modem


def at_ini(fake: FakeModem, extra: str = "") -> str:
    return f"[modem:usb1]\ndriver = at\ndevice = {fake.device}\nsweep_interval = 5s\n" + extra


def test_at_modem_receive_route_reply_and_delivery_report(run_daemon, fake):
    run_daemon(at_ini(fake))
    assert wait_until(
        lambda: ModemStatus.select().where(ModemStatus.name == "usb1", ModemStatus.state == "ready").exists(), 10
    )
    fake.inject_sms("+6281211112222", "dishub#lampu merah mati")
    assert wait_until(lambda: OutboundMessage.select().where(OutboundMessage.state == "delivered").exists(), 10)
    case = Case.get()
    assert fake.sent_texts() == [(E164, f"Laporan #{case.id} diteruskan ke Dinas Perhubungan.")]
    assert fake.sim == {}  # deleted after storing
    status = ModemStatus.get(ModemStatus.name == "usb1")
    assert status.manufacturer.lower() == "huawei" and status.signal_dbm is not None


def test_at_modem_answering_cms_500_to_every_send_loses_nothing(run_daemon, fake):
    fake.fail_next_sends(1000, code=500)
    ini = at_ini(fake, "[sms]\nretry_intervals = 1s\nmax_attempts = 3\nmodem_rest_after = 50\n")
    running = run_daemon(ini)
    ids = [outqueue.enqueue(CITIZEN, f"pesan {n}", "reply", config=running.config).id for n in range(5)]
    assert wait_until(lambda: all(s == "failed" for s in states(*ids)), 30)
    for message_id in ids:
        row = OutboundMessage.get_by_id(message_id)
        assert row.attempts == 3 and "+CMS ERROR: 500" in row.failure_reason
    assert fake.sent == []


def test_at_modem_network_out_of_order_is_retried_and_the_citizen_gets_the_answer(run_daemon, fake):
    # +CMS ERROR: 38 "Network out of order" (TS 24.011 E.2) is the network's trouble, not the message's
    fake.fail_next_sends(2, code=38)
    ini = at_ini(fake, "[sms]\nretry_intervals = 1s\nmax_attempts = 4\nmodem_rest_after = 50\n")
    running = run_daemon(ini)
    message = outqueue.enqueue(CITIZEN, "jawaban untuk warga", "reply", config=running.config)
    assert wait_until(lambda: states(message.id) == ["sent"] or states(message.id) == ["delivered"], 30)
    assert OutboundMessage.get_by_id(message.id).attempts == 3
    assert fake.sent_texts() == [(E164, "jawaban untuk warga")]


def test_at_modem_unplugged_for_a_while_in_the_middle_of_a_queue_of_200(run_daemon, fake):
    ini = at_ini(fake, "[sms]\nretry_intervals = 1s\nmax_attempts = 10\n")
    running = run_daemon(ini)
    ids = [outqueue.enqueue(CITIZEN, f"pesan nomor {n}", "reply", config=DEFAULTS).id for n in range(200)]
    assert wait_until(lambda: len(fake.sent) >= 50, 30)
    fake.unplug()
    assert wait_until(lambda: running.daemon.health.state("usb1") == "absent", 10)
    time.sleep(3)  # unplugged for a while (the minute, shortened); the queue just waits
    fake.replug()
    assert wait_until(lambda: all(s in ("sent", "delivered") for s in states(*ids)), 60)
    texts = [text for _, text in fake.sent_texts()]
    assert set(texts) == {f"pesan nomor {n}" for n in range(200)}  # every one left the modem
    # at most the one message in the modem's hands at the unplug can have gone twice
    assert len(texts) - len(set(texts)) <= 1
    assert OutboundMessage.select().where(OutboundMessage.state == "sending").count() == 0


def test_at_modem_absent_at_start_is_picked_up_when_plugged_in(run_daemon, fake, caplog):
    caplog.set_level(logging.INFO)
    fake.unplug()
    running = run_daemon(at_ini(fake))
    message = outqueue.enqueue(CITIZEN, "menunggu modem", "reply", config=DEFAULTS)
    assert wait_until(lambda: running.daemon.health.state("usb1") == "absent", 10)
    fake.replug()
    assert wait_until(lambda: OutboundMessage.get_by_id(message.id).state in ("sent", "delivered"), 20)
    assert "cannot use the modem" in caplog.text


def test_a_refused_pin_is_never_sent_again_not_by_the_reconnects_nor_after_a_restart(run_daemon):
    # the worker reconnected with back-off (1, 2, 4 s …) and each new driver sent the same wrong PIN:
    # the third try locked the SIM, and only the PUK opens it then
    with FakeModem(pin="2468") as fake:
        ini = at_ini(fake, "pin = 9753\n")
        first = run_daemon(ini)
        assert wait_until(lambda: fake.count('AT+CPIN="') == 1, 10)
        # the worker's reconnects come at 1 s, 2 s and 4 s: give it time for three of them
        assert wait_until(lambda: fake.count("AT+CPIN?") >= 4, 15)
        assert fake.count('AT+CPIN="') == 1 and fake.pin_attempts_left == 2
        status = ModemStatus.get(ModemStatus.name == "usb1")
        assert status.state == "error" and "not sent again" in (status.last_error or "")
        assert "9753" not in (DaemonState.read("pin_refused.usb1") or "")  # a fingerprint, not the PIN
        first.stop()
        second = run_daemon(ini)  # a restart (systemd, a power cut) must not try it again either
        assert wait_until(lambda: fake.count("AT+CPIN?") >= 6, 15)
        assert fake.count('AT+CPIN="') == 1 and fake.pin_attempts_left == 2
        second.stop()
        run_daemon(at_ini(fake, "pin = 2468\n"))  # the technician corrects pin =
        assert wait_until(
            lambda: ModemStatus.select().where(ModemStatus.name == "usb1", ModemStatus.state == "ready").exists(), 15
        )
        assert fake.count('AT+CPIN="') == 2 and fake.pin_attempts_left == 3
