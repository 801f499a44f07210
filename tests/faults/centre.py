"""A whole SMS Center for a fault case: configuration on disk, `modemd run` as a real process.

The fake modems (tests/fakemodem.py) live in the test process, so they see
every byte and keep every message across daemon crashes; the daemon is a
separate ``modemd run`` process that a case may stop with SIGTERM, freeze
with SIGSTOP or kill with SIGKILL at any moment.

Sizes come from :func:`sized`: CI-sized by default, the issue's full sizes
with ``MODEMD_FAULT_SCALE=full`` (``bench/faults_long.sh``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from modemd.config import Config
from modemd.send import outqueue
from modemd.store.models import InboundMessage, OutboundMessage
from tests.fakemodem import FakeModem, wait_until

ROOT = Path(__file__).resolve().parents[2]
MODEMD = [sys.executable, "-m", "modemd"]
SCALE_ENV = "MODEMD_FAULT_SCALE"
CITIZEN_PREFIX = "+62812"

#: keyword that opens a case and sends no automatic reply: inbound accounting stays inbound only
QUIET_KEYWORD = "DINKES"

#: [sms] settings every case shares: fast retries, no resting modem (a case may override any)
SMS_SETTINGS = {"retry_intervals": "1s, 2s, 3s", "max_attempts": "12", "modem_rest_after": "1000"}
#: no notifications of officials: the outbound queue holds only what the case queued
NOTIFY_INI = "[notify]\nhourly = no\ndaily = no\ndeadline_alert = no\n"


def centre_ini(modems: str, extra: str = "", **sms: object) -> str:
    """modemd.ini text: SQLite in the config's folder, ``modems``, [sms] (SMS_SETTINGS with ``sms``), ``extra``."""
    values = {**SMS_SETTINGS, **{k: str(v) for k, v in sms.items()}}
    return (
        "[modemd]\ndatabase = sqlite:///modemd.db\nstate_dir = .\nlog_level = info\n"
        + modems
        + "[sms]\n"
        + "".join(f"{k} = {v}\n" for k, v in values.items())
        + NOTIFY_INI
        + extra
    )


def full_size() -> bool:
    return os.environ.get(SCALE_ENV, "ci").strip().lower() == "full"


def sized(ci: float, full: float) -> float:
    """The CI-sized figure, or the issue's full one under MODEMD_FAULT_SCALE=full."""
    return full if full_size() else ci


def citizen(n: int) -> str:
    return f"{CITIZEN_PREFIX}{n:08d}"


def queue(count: int, text: str = "Jawaban nomor {n} untuk warga", first: int = 0) -> list[int]:
    """Queue ``count`` messages, each to its own citizen (text formatted with ``n``); their ids."""
    defaults = Config.defaults()
    return [
        outqueue.enqueue(citizen(first + n), text.format(n=first + n), "manual", config=defaults).id
        for n in range(count)
    ]


def inject(fake: FakeModem, count: int, first: int = 0, **options) -> list[tuple[str, str]]:
    """The network delivers ``count`` SMS to ``fake`` (to a keyword that sends no reply); (sender, text) each."""
    messages = [(citizen(90_000 + first + n), f"{QUIET_KEYWORD} laporan warga nomor {first + n}") for n in range(count)]
    for sender, text in messages:
        fake.inject_sms(sender, text, **options)
    return messages


def sent_count() -> int:
    """Outbound rows the network took (sent or delivered)."""
    return OutboundMessage.select().where(OutboundMessage.state.in_(("sent", "delivered"))).count()


def at_modem(name: str, device: str, **settings: object) -> str:
    """A ``[modem:NAME]`` section for the AT driver; short timeouts so a hang is noticed within a case."""
    values = {"driver": "at", "device": device, "command_timeout": "3s", "send_timeout": "10s", **settings}
    return f"[modem:{name}]\n" + "".join(f"{k} = {v}\n" for k, v in values.items())


class Daemon:
    """One ``modemd run`` process; ``log`` collects its stderr across restarts."""

    def __init__(self, config: Path, instance: str = "pc1", log: Path | None = None):
        self.config = config
        self.instance = instance
        self.log = log or config.parent / f"daemon-{instance}.log"
        self.process: subprocess.Popen | None = None
        self.starts = 0
        self.kills = 0

    def start(self) -> Daemon:
        assert self.process is None or self.process.poll() is not None, "already running"
        with open(self.log, "ab") as log:
            log.write(f"---- start {self.starts + 1} ----\n".encode())
            self.process = subprocess.Popen(
                [*MODEMD, "--config", str(self.config), "run", "--instance", self.instance],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.starts += 1
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill9(self) -> None:
        """SIGKILL: no cleanup at all, as a crash or the OOM killer."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)
        self.kills += 1

    def freeze(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def stop(self) -> int | None:
        """SIGTERM and wait; a daemon that does not stop in 60 s is killed and the test fails."""
        if self.process is None or self.process.poll() is not None:
            return None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(30)
            raise AssertionError(f"modemd run did not stop within 60 s on SIGTERM; see {self.log}") from None

    def assert_alive(self) -> None:
        """Fail at once, with its log, when the daemon exited on its own (a refused config, a crash)."""
        if self.process is not None and self.process.poll() is not None and self.process.returncode != -9:
            raise AssertionError(
                f"modemd run ({self.instance}) exited {self.process.returncode}:\n{self.log_text()[-3000:]}"
            )

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def __enter__(self) -> Daemon:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self.running:
            self.process.send_signal(signal.SIGCONT)  # type: ignore[union-attr]
            self.stop()


def until_sent(fake: FakeModem, parts: int, daemon: Daemon, timeout: float = 60.0) -> None:
    """Wait until the modem took ``parts`` parts (the fault strikes in the middle of the work)."""
    assert wait_until(lambda: len(fake.sent) >= parts, timeout), daemon.log_text()[-2000:]


def fault_during_a_queue(
    config: Path,
    fake: FakeModem,
    messages: int,
    fault: Callable[[], object],
    repair: Callable[[], object],
    seconds: float,
    inbound: int = 0,
) -> tuple[Daemon, list[tuple[str, str]]]:
    """Queue ``messages``, start the daemon, strike with ``fault`` once a quarter went, deliver ``inbound``
    SMS meanwhile, ``repair`` after ``seconds``, and wait until all is settled. Returns the daemon (stopped)
    and the inbound messages delivered."""
    queue(messages)
    with Daemon(config) as daemon:
        until_sent(fake, messages // 4, daemon)
        fault()
        expected = inject(fake, inbound)
        time.sleep(seconds)
        assert len(fake.sent) < messages, "the queue drained before the fault ended: nothing was tested"
        repair()
        settle(expected_inbound=inbound, timeout=seconds + 120, daemons=(daemon,))
    return daemon, expected


def unfinished() -> int:
    """Outbound rows not yet in a final state."""
    return (
        OutboundMessage.select()
        .where(OutboundMessage.state.not_in(("sent", "delivered", "failed", "cancelled")))
        .count()
    )


def settle(
    expected_inbound: int = 0,
    timeout: float = 120.0,
    also: Callable[[], bool] | None = None,
    daemons: tuple[Daemon, ...] = (),
) -> None:
    """Wait until every outbound row is final and ``expected_inbound`` messages are stored."""

    def done() -> bool:
        for daemon in daemons:
            daemon.assert_alive()
        return (
            unfinished() == 0 and InboundMessage.select().count() >= expected_inbound and (also is None or bool(also()))
        )

    if not wait_until(done, timeout, interval=0.2):
        logs = "\n".join(d.log_text()[-3000:] for d in daemons)
        raise AssertionError(
            f"not settled in {timeout:.0f} s: {unfinished()} outbound unfinished, "
            f"{InboundMessage.select().count()}/{expected_inbound} inbound stored\n{logs}"
        )


def pause(seconds: float) -> None:
    time.sleep(seconds)
