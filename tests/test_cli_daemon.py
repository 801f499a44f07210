"""The daemon's commands as a technician runs them: send, outbox, inbox, status, simulate, probe, run.

Every command runs as a real ``modemd`` process. The crash tests kill a real
``modemd run`` with SIGKILL in the middle of receiving and sending, start it
again, and count: nothing lost, duplicates only where the outbox says "doubt".
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cli_run
import pytest

from modemd.config import Config
from modemd.drivers import inject_simulated
from modemd.store.models import Case, InboundMessage, OutboundMessage
from tests.fakemodem import FakeModem, wait_until

DEFAULTS = Config.defaults()  # the schema's settings, no file

ROOT = Path(__file__).resolve().parents[1]
MODEMD = [sys.executable, "-m", "modemd"]
CITIZEN = "081211112222"
SIM = "[modem:sim1]\ndriver = sim\ndevice = spool1\nsend_delay = 0\nreport_delay = 0\n"


def modemd(config: Path, *args: str, check: bool = False) -> subprocess.CompletedProcess:
    return cli_run.modemd(config, *args, check=check)


@pytest.fixture
def center(officials, write_config):
    """modemd.ini with one fast simulated modem, its users created."""
    return write_config(SIM)


# --------------------------------------------------------------------------
# send, outbox, inbox, status, simulate


def test_send_prints_the_id_and_outbox_lists_it(center):
    done = modemd(center, "send", "0812-1111-2222", "Halo <b>warga</b> 🙏", check=True)
    message = OutboundMessage.get_by_id(int(done.stdout))
    assert (message.recipient, message.text, message.kind, message.state) == (
        "+6281211112222",
        "Halo <b>warga</b> 🙏",
        "manual",
        "pending",
    )
    rows = json.loads(modemd(center, "outbox", "--status", "pending", "--json", check=True).stdout)
    [row] = rows
    assert row["id"] == message.id and row["number"] == "+6281211112222" and row["status"] == "pending"
    assert {"text", "keyword", "owner", "attempts", "parts", "created_at", "sent_at", "doubt"} <= set(row)
    assert json.loads(modemd(center, "outbox", "--status", "failed", "--json", check=True).stdout) == []
    table = modemd(center, "outbox", check=True).stdout
    assert "+6281211112222" in table and "pending" in table


def test_send_with_a_modem_records_the_preference(center):
    done = modemd(center, "send", CITIZEN, "lewat sim1", "--modem", "sim1", check=True)
    assert OutboundMessage.get_by_id(int(done.stdout)).preferred_modem == "sim1"


@pytest.mark.parametrize(
    "args, says",
    [
        (["12", "halo"], "not"),
        (["TELKOMSEL", "halo"], "letters"),
        ([CITIZEN, "   "], "empty"),
        ([CITIZEN, "halo", "--modem", "nope"], "no [modem:nope]"),
    ],
)
def test_send_refuses_bad_input_with_exit_status_2(center, args, says):
    done = modemd(center, "send", *args)
    assert done.returncode == 2 and says in done.stderr
    assert OutboundMessage.select().count() == 0


def test_inbox_lists_routed_messages_by_keyword(center):
    from tests.daemonharness import Conversation

    chat = Conversation(center)
    chat.receive(CITIZEN, "dishub: lampu mati")
    chat.receive("085712345678", "HALO")
    rows = json.loads(modemd(center, "inbox", "--keyword", "dishub", "--json", check=True).stdout)
    [row] = rows
    assert (row["number"], row["text"], row["keyword"], row["owner"], row["status"]) == (
        "+6281211112222",
        "dishub: lampu mati",
        "DISHUB",
        "dishub",
        "open",
    )
    assert {"id", "parts", "received_at", "case", "route"} <= set(row)
    unrouted = json.loads(modemd(center, "inbox", "--keyword", "unrouted", "--json", check=True).stdout)
    assert [r["text"] for r in unrouted] == ["HALO"]
    assert "lampu mati" in modemd(center, "inbox", check=True).stdout


def test_status_without_a_running_daemon_says_so(center):
    data = json.loads(modemd(center, "status", "--json", check=True).stdout)
    assert data["daemon"]["running"] is False
    assert data["modems"][0]["name"] == "sim1" and data["queue"]["pending"] == 0
    assert "NOT RUNNING" in modemd(center, "status", check=True).stdout


def test_simulate_puts_a_message_on_the_simulated_sim(center, tmp_path):
    done = modemd(center, "simulate", CITIZEN, "INFO jam buka?", check=True)
    assert "sim1" in done.stdout
    [file] = list((tmp_path / "spool1").glob("*.sms"))
    assert json.loads(file.read_text())["text"] == "INFO jam buka?"


def test_simulate_without_a_sim_modem_is_an_error(officials, write_config, tmp_path):
    config = write_config(f"[modem:usb]\ndriver = at\ndevice = {tmp_path / 'tty'}\n")
    done = modemd(config, "simulate", CITIZEN, "halo")
    assert done.returncode == 2 and "no driver = sim modem" in done.stderr
    done = modemd(config, "simulate", CITIZEN, "halo", "--modem", "usb")
    assert done.returncode == 2 and "not a driver = sim modem" in done.stderr


# --------------------------------------------------------------------------
# probe


def test_probe_a_simulated_modem(center):
    [result] = json.loads(modemd(center, "probe", "--json", check=True).stdout)
    assert result["ok"] and result["signal_dbm"] == -71 and result["bars"] == 4
    assert result["manufacturer"] == "modemd" and "storage" in result


def test_probe_the_fake_at_modem(officials, write_config):
    with FakeModem() as fake:
        config = write_config(f"[modem:usb1]\ndriver = at\ndevice = {fake.device}\n")
        done = modemd(config, "probe", check=True)
    assert "huawei E173" in done.stdout and "dBm" in done.stdout and "registration: home" in done.stdout
    assert "Sisa pulsa" in done.stdout  # the balance, by USSD


def test_probe_says_what_is_wrong_missing_device_wrong_pin_busy_port(officials, write_config, tmp_path):
    missing = write_config(f"[modem:usb1]\ndriver = at\ndevice = {tmp_path / 'ttyUSB9'}\n")
    done = modemd(missing, "probe")
    assert done.returncode == 1 and "no modem answers" in done.stdout and "plugged in" in done.stdout
    with FakeModem(pin="1234") as fake:
        wrong = write_config(f"[modem:usb1]\ndriver = at\ndevice = {fake.device}\npin = 9999\n")
        done = modemd(wrong, "probe", "--no-balance")
        assert done.returncode == 1 and "PIN" in done.stdout
    with FakeModem() as fake:
        config = write_config(f"[modem:usb1]\ndriver = at\ndevice = {fake.device}\n")
        holder = subprocess.Popen(
            [sys.executable, "-c", f"import time; f = open({fake.device!r}, 'rb'); time.sleep(30)"]
        )
        try:
            time.sleep(0.5)
            done = modemd(config, "probe", "--no-balance")
        finally:
            holder.kill()
            holder.wait()
    assert done.returncode == 1 and "in use by another program" in done.stdout


def test_a_pin_the_sim_refused_is_not_sent_again_by_the_next_probe_nor_by_the_daemon(officials, write_config):
    """Each probe by hand sent the wrong pin = once: three probes locked the SIM (only the PUK opens it then)."""
    with FakeModem(pin="1234") as fake:
        wrong = write_config(f"[modem:usb1]\ndriver = at\ndevice = {fake.device}\npin = 9999\n")
        first = modemd(wrong, "probe", "--no-balance")
        assert first.returncode == 1 and fake.count('AT+CPIN="') == 1
        for _ in range(2):
            again = modemd(wrong, "probe", "--no-balance")
            assert again.returncode == 1 and "not sent again" in again.stdout
        assert fake.count('AT+CPIN="') == 1 and fake.pin_attempts_left == 2
        right = write_config(f"[modem:usb1]\ndriver = at\ndevice = {fake.device}\npin = 1234\n")
        assert modemd(right, "probe", "--no-balance").returncode == 0  # the corrected pin = is sent


def test_a_probe_before_the_centre_is_set_up_makes_no_database_file(tmp_path):
    """Made by a probe run as root, a fresh SQLite file would be one the daemon's user cannot open."""
    (tmp_path / "keywords.ini").write_text("", encoding="utf-8")
    config = tmp_path / "modemd.ini"
    config.write_text("[modemd]\ndatabase = sqlite:///not-yet.db\nstate_dir = .\n[modem:sim1]\ndriver = sim\n")
    assert modemd(config, "probe", "--no-balance").returncode == 0
    assert not (tmp_path / "not-yet.db").exists()


def test_probe_right_after_the_pin_waits_for_the_network_and_reads_the_balance(officials, write_config):
    """A SIM with a PIN: the stick searches for the network for seconds after it; the probe waits for it."""
    with FakeModem(pin="1234", register_after_pin=3) as fake:
        config = write_config(f"[modem:usb1]\ndriver = at\ndevice = {fake.device}\npin = 1234\n")
        done = modemd(config, "probe", check=True)
    assert "waiting up to 30 s for it to register" in done.stderr
    assert "registration: home, operator TELKOMSEL" in done.stdout
    assert "balance:      Sisa pulsa Anda Rp 12.345" in done.stdout


def test_probe_says_no_network_yet_when_the_ussd_is_refused_for_want_of_one(officials, write_config):
    with FakeModem(registration="not registered") as fake:
        config = write_config(f"[modem:usb1]\ndriver = at\ndevice = {fake.device}\n")
        [result] = json.loads(modemd(config, "probe", "--json", check=True).stdout)
    assert result["registration"] == "not registered"
    assert result["balance"].startswith("no network yet") and "+CME ERROR: 30" in result["balance"]
    assert "not supported" not in result["balance"]


def test_probe_asks_the_running_daemon_that_holds_the_port(officials, write_config, tmp_path):
    with FakeModem(ussd_reply="Sisa pulsa Rp 7.500. Aktif s/d 15-03-2027") as fake:
        config = write_config(f"[modem:usb1]\ndriver = at\ndevice = {fake.device}\n")
        daemon = start_daemon(config, tmp_path)
        try:
            from modemd.store.models import ModemStatus

            assert wait_until(
                lambda: ModemStatus.select().where(ModemStatus.name == "usb1", ModemStatus.state == "ready").exists(),
                30,
            )
            done = modemd(config, "probe")
            asked = modemd(config, "probe", "--json", "--no-balance")
        finally:
            daemon.terminate()
            daemon.wait(30)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "answered by the running daemon" in done.stdout and "in use by another program" not in done.stdout
    assert "huawei E173" in done.stdout and "registration: home" in done.stdout
    assert "balance:      Sisa pulsa Rp 7.500" in done.stdout
    assert "the running daemon holds the port; asking it" in done.stderr
    [result] = json.loads(asked.stdout)
    assert result["ok"] and result["answered_by"] == "daemon" and "balance" not in result
    assert result["imei"] == "358880041234567" and result["storage"]["total"] == 30


def test_probe_does_not_ask_a_daemon_that_does_not_hold_the_port(officials, write_config, tmp_path):
    """The daemon runs, but another program holds the port (the worker is 'absent'): say who holds it."""
    with FakeModem() as fake:
        config = write_config(f"[modem:usb1]\ndriver = at\ndevice = {fake.device}\n")
        holder = subprocess.Popen(
            [sys.executable, "-c", f"import time; f = open({fake.device!r}, 'rb'); time.sleep(60)"]
        )
        daemon = start_daemon(config, tmp_path)
        try:
            from modemd.store.models import ModemStatus

            assert wait_until(
                lambda: ModemStatus.select().where(ModemStatus.name == "usb1", ModemStatus.state == "absent").exists(),
                30,
            )
            done = modemd(config, "probe", "--no-balance")
        finally:
            daemon.terminate()
            daemon.wait(30)
            holder.kill()
            holder.wait()
    assert done.returncode == 1 and "in use by another program" in done.stdout and "asking" not in done.stderr


def test_probe_unknown_modem_name(center):
    done = modemd(center, "probe", "--modem", "nope")
    assert done.returncode == 2 and "no [modem:nope]" in done.stderr


# --------------------------------------------------------------------------
# modemd run: signals and crashes


def start_daemon(config: Path, tmp_path: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    log = open(tmp_path / "daemon.log", "ab")
    return subprocess.Popen(
        [*MODEMD, "--config", str(config), "run", "--instance", "pc1"],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
    )


def sent_log(spool: Path) -> list[dict]:
    path = spool / "sent.log"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_sigterm_finishes_the_send_in_progress_and_leaves_the_queue_consistent(officials, write_config, tmp_path):
    config = write_config("[modem:sim1]\ndriver = sim\ndevice = spool1\nsend_delay = 0.3\nreport_delay = 0\n")
    for n in range(20):
        modemd(config, "send", CITIZEN, f"pesan {n}", check=True)
    daemon = start_daemon(config, tmp_path)
    assert wait_until(lambda: len(sent_log(tmp_path / "spool1")) >= 3, 30)
    daemon.send_signal(signal.SIGTERM)
    assert daemon.wait(30) == 0
    assert OutboundMessage.select().where(OutboundMessage.state == "sending").count() == 0
    sent = {r["text"] for r in sent_log(tmp_path / "spool1")}
    for message in OutboundMessage.select():
        assert (message.text in sent) == (message.state in ("sent", "delivered")), message.text
    assert "stopped" in (tmp_path / "daemon.log").read_text()


def test_sighup_reloads_keywords(officials, write_config, tmp_path):
    config = write_config(SIM)
    daemon = start_daemon(config, tmp_path)
    try:
        from modemd.store.models import DaemonState

        assert wait_until(lambda: DaemonState.read("keywords") is not None, 20)
        (tmp_path / "keywords.ini").write_text("[PDAM]\nowner = humas\nreply = Laporan air #{case}.\n")
        daemon.send_signal(signal.SIGHUP)
        assert wait_until(lambda: "PDAM" in (DaemonState.read("keywords") or ""), 20)
        inject_simulated({"driver": "sim", "device": str(tmp_path / "spool1")}, CITIZEN, "pdam air mati")
        assert wait_until(lambda: Case.select().where(Case.keyword == "PDAM").exists(), 20)
        status = json.loads(modemd(config, "status", "--json", check=True).stdout)
        assert status["daemon"]["running"] is True and status["modems"][0]["state"] == "ready"
    finally:
        daemon.terminate()
        daemon.wait(30)


def test_kill_9_at_any_moment_loses_no_inbound_and_no_outbound(officials, write_config, tmp_path):
    config = write_config("[modem:sim1]\ndriver = sim\ndevice = spool1\nsend_delay = 0.02\nreport_delay = 0\n")
    spool = tmp_path / "spool1"
    settings = {"driver": "sim", "device": str(spool)}
    texts_in = [f"INFO pertanyaan nomor {n}" for n in range(60)]
    out_ids = [int(modemd(config, "send", CITIZEN, f"balasan {n}", check=True).stdout) for n in range(60)]
    for text in texts_in[:30]:
        inject_simulated(settings, CITIZEN, text)
    for kill_after in (0.8, 1.3, 0.5):
        daemon = start_daemon(config, tmp_path)
        time.sleep(kill_after)  # somewhere in the middle of receiving and sending
        os.kill(daemon.pid, signal.SIGKILL)
        daemon.wait()
        if kill_after == 0.8:
            for text in texts_in[30:]:
                inject_simulated(settings, CITIZEN, text)
    daemon = start_daemon(config, tmp_path)
    try:
        assert wait_until(lambda: InboundMessage.select().count() >= 60 and not list(spool.glob("*.sms")), 60)
        assert wait_until(lambda: all(OutboundMessage.get_by_id(i).state in ("sent", "delivered") for i in out_ids), 60)
    finally:
        daemon.terminate()
        daemon.wait(30)
    stored = [m.text for m in InboundMessage.select()]
    assert sorted(stored) == sorted(texts_in)  # every message once
    sent = [r["text"] for r in sent_log(spool) if r["text"].startswith("balasan")]
    assert set(sent) == {f"balasan {n}" for n in range(60)}
    twice = {text for text in sent if sent.count(text) > 1}
    in_doubt = {m.text for m in OutboundMessage.select().where(OutboundMessage.doubt == True)}  # noqa: E712 (a peewee expression)
    assert twice <= in_doubt  # a message sent twice is one the outbox marks as in doubt


def test_systemd_hears_ready_status_watchdog_and_stopping(officials, write_config, tmp_path):
    import socket

    config = write_config(SIM)
    address = str(tmp_path / "notify.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(address)
    listener.settimeout(20)
    daemon = start_daemon(config, tmp_path, {"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "2000000"})
    heard: list[str] = []
    try:
        while not ({"READY=1", "WATCHDOG=1"} <= set(heard) and any(h.startswith("STATUS=") for h in heard)):
            heard.extend(listener.recv(4096).decode().split("\n"))
        daemon.send_signal(signal.SIGTERM)
        while "STOPPING=1" not in heard:
            heard.extend(listener.recv(4096).decode().split("\n"))
        assert daemon.wait(30) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
        listener.close()
    status = next(h for h in heard if h.startswith("STATUS="))
    assert "modem" in status and "queued" in status


def test_two_daemons_on_one_postgresql_send_each_message_once(postgres_url, write_config, tmp_path):
    """The centre that outgrew one PC: two `modemd run` on two 'PCs' (instances), one server database."""
    from modemd import users
    from modemd.store import db as db_module
    from modemd.store import migrations
    from tests.conftest import _reset

    database = db_module.open_database(postgres_url)
    _reset(database)
    migrations.upgrade(database)
    try:
        for login in ("humas", "dishub", "dinkes"):
            users.create_user(login, "official", "rahasia-123")
        configs = []
        for pc in ("a", "b"):  # each PC has its own modem
            path = tmp_path / f"pc-{pc}.ini"
            path.write_text(
                f"[modemd]\ndatabase = {postgres_url}\nstate_dir = .\nkeywords = keywords.ini\n"
                f"[modem:sim-{pc}]\ndriver = sim\ndevice = spool-{pc}\nsend_delay = 0.05\nreport_delay = 0\n"
            )
            configs.append(path)
        write_config("")  # keywords.ini beside them
        from modemd.send import outqueue

        ids = [outqueue.enqueue(CITIZEN, f"pesan {n}", "manual", config=DEFAULTS).id for n in range(150)]
        daemons = [
            subprocess.Popen(
                [*MODEMD, "--config", str(path), "run", "--instance", path.stem],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for path in configs
        ]
        try:
            assert wait_until(
                lambda: (
                    OutboundMessage.select()
                    .where(OutboundMessage.id.in_(ids), OutboundMessage.state.in_(("sent", "delivered")))
                    .count()
                    == 150
                ),
                90,
            )
        finally:
            for daemon in daemons:
                daemon.terminate()
                daemon.wait(30)
        by_pc = {pc: [r["text"] for r in sent_log(tmp_path / f"spool-{pc}")] for pc in ("a", "b")}
        assert sorted(by_pc["a"] + by_pc["b"]) == sorted(f"pesan {n}" for n in range(150))  # each exactly once
        assert by_pc["a"] and by_pc["b"]  # and both PCs did their share
        claimed = {m.claimed_at is not None for m in OutboundMessage.select()}
        assert claimed == {True}
    finally:
        _reset(database)
        database.close()
