"""systemd's watchdog is fed only while every modem's worker gets on with its work.

The daemon runs in this process with the real sd_notify protocol: datagrams
on a Unix socket named by ``NOTIFY_SOCKET``, captured here as systemd would
receive them. A worker is made to hang for real: the fake AT modem stalls
like a stuck USB stick (it stops taking data), so the AT driver's next write
blocks. The watchdog must stop, ``STATUS=`` and the log must name the modem,
and once the stick moves again the watchdog must be fed again. A send that is
slow but within what the driver allows is not a hang.
"""

from __future__ import annotations

import logging
import socket
import threading
import time

import pytest

from modemd.config import Config
from modemd.run.progress import GRACE, Progress
from modemd.send import outqueue
from modemd.store.models import OutboundMessage
from tests.fakemodem import FakeModem, wait_until
from tests.test_daemon import Running

DEFAULTS = Config.defaults()  # the schema's settings, no file

CITIZEN = "081211112222"
#: WATCHDOG_USEC of the test: fed every 0.2 s while all is well
WATCHDOG_USEC = 400_000


class Datagrams:
    """What systemd would receive on NOTIFY_SOCKET, in order."""

    def __init__(self, path: str):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.1)
        self.messages: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._collect, daemon=True)
        self._thread.start()

    def _collect(self) -> None:
        while not self._stop.is_set():
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except TimeoutError:
                continue

    def since(self, mark: int) -> list[str]:
        return list(self.messages[mark:])

    def statuses(self, mark: int = 0) -> list[str]:
        return [
            line[len("STATUS=") :]
            for message in self.since(mark)
            for line in message.splitlines()
            if line.startswith("STATUS=")
        ]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(1)
        self.sock.close()


@pytest.fixture
def notify(monkeypatch, tmp_path):
    datagrams = Datagrams(str(tmp_path / "notify.sock"))
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify.sock"))
    monkeypatch.setenv("WATCHDOG_USEC", str(WATCHDOG_USEC))
    yield datagrams
    datagrams.close()


def stuck_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "stuck" in r.getMessage()]


def test_a_hung_worker_stops_the_watchdog_names_the_modem_and_recovers(officials, write_config, notify, caplog):
    caplog.set_level(logging.INFO, logger="modemd")
    with FakeModem(status_report_delay=0.01) as fake:
        ini = (
            f"[modem:usb1]\ndriver = at\ndevice = {fake.device}\ncommand_timeout = 0.5s\nsend_timeout = 1s\n"
            "sweep_interval = 1s\n"
        )
        running = Running(write_config(ini)).start()
        try:
            assert wait_until(lambda: running.daemon.health.state("usb1") == "ready", 10)
            assert wait_until(lambda: notify.since(0).count("WATCHDOG=1") >= 3, 10)  # fed while all is well

            fake.stall()  # the stick takes no more data: the driver's next write blocks
            message = outqueue.enqueue(CITIZEN, "pesan saat modem macet", "manual", config=DEFAULTS)
            assert wait_until(lambda: any("STUCK" in s and "usb1" in s for s in notify.statuses()), 30), (
                notify.statuses()
            )
            mark = len(notify.messages)
            # it stays stuck: several status refreshes later the watchdog has still not been fed
            assert wait_until(lambda: len(notify.statuses(mark)) >= 2, 30)
            assert "WATCHDOG=1" not in notify.since(mark)
            assert all("usb1 stuck" in s for s in notify.statuses(mark))
            [warning] = stuck_warnings(caplog)  # once per episode, not once per look
            assert "usb1" in warning

            fake.resume()
            assert wait_until(lambda: "WATCHDOG=1" in notify.since(mark), 30)
            assert wait_until(lambda: OutboundMessage.get_by_id(message.id).state in ("sent", "delivered"), 30)
            latest = len(notify.messages)
            assert wait_until(lambda: notify.statuses(latest), 30)
            assert "STUCK" not in notify.statuses(latest)[-1]
            assert "moves again" in caplog.text
            assert len(stuck_warnings(caplog)) == 1
        finally:
            fake.resume()
            running.stop()


def test_a_slow_send_within_its_limit_keeps_the_watchdog_fed(officials, write_config, notify, caplog):
    caplog.set_level(logging.INFO, logger="modemd")
    # an ordinary step may take 20 x 0.1 s here; this send takes 5 s, as its driver allows a send to
    ini = "[modem:sim1]\ndriver = sim\ndevice = spool1\nsend_delay = 5\nreport_delay = 0\ncommand_timeout = 0.1s\n"
    running = Running(write_config(ini)).start()
    try:
        assert wait_until(lambda: running.daemon.health.state("sim1") == "ready", 10)
        message = outqueue.enqueue(CITIZEN, "pesan lambat", "manual", config=DEFAULTS)
        assert wait_until(lambda: OutboundMessage.get_by_id(message.id).state == "sending", 10)
        mark = len(notify.messages)
        started = time.monotonic()
        assert wait_until(lambda: OutboundMessage.get_by_id(message.id).state in ("sent", "delivered"), 30)
        assert time.monotonic() - started > 3  # the send really was slower than an ordinary step may be
        during = notify.since(mark)
        assert during.count("WATCHDOG=1") >= 5
        assert not any("STUCK" in s for s in notify.statuses()), notify.statuses()
        assert stuck_warnings(caplog) == []
    finally:
        running.stop()


def test_progress_counts_a_step_stuck_only_past_its_allowance_and_the_grace():
    now = [100.0]
    progress = Progress("usb1", 10.0, clock=lambda: now[0])
    now[0] += 10.0 + GRACE
    assert progress.stuck() is None  # the whole allowance and the grace: still fine
    now[0] += 0.5
    stuck = progress.stuck()
    assert stuck is not None and str(stuck) == f"usb1 stuck starting for {10 + GRACE + 0.5:.0f} s"
    progress.step("sending message #7", 120.0)  # a new step starts its own allowance
    assert progress.stuck() is None
    now[0] += 121.0 + GRACE
    assert str(progress.stuck()) == f"usb1 stuck sending message #7 for {121 + GRACE:.0f} s"
