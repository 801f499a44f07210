"""Benchmarks of the daemon against the fake AT modem on a pseudo-terminal (prints figures).

Run:  .venv/bin/python bench/bench_daemon.py [busy] [latency] [send] [throughput] [memory]
      (all five when none is named; see --help for sizes)

* busy:       the share of the modem's time the daemon keeps it sending while draining a queue
              of 200, the fake modem taking a fixed time per part (goal: 97% or more);
* latency:    a message arriving at the modem (+CMTI) to its case existing in the database,
              median and 95th percentile, shipped defaults (goal: p95 under 0.2 s);
* send:       ``modemd send`` started to the fake modem receiving AT+CMGS (goal: under 1 s);
* throughput: inbound messages stored and routed per second, no modem (goal: over 1,000/s on SQLite);
* memory:     the resident memory of a ``modemd run`` process after 100,000 messages through a
              simulated modem.

Every figure comes from a fresh SQLite database with the daemon's settings
(WAL, synchronous=FULL, BEGIN IMMEDIATE).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from modemd import config as config_module
from modemd import users
from modemd.drivers.base import IncomingSMS
from modemd.receive import inbound
from modemd.receive.keywords import load_keywords
from modemd.receive.routing import Router
from modemd.run.daemon import Daemon
from modemd.send import outqueue
from modemd.store import db, migrations
from modemd.store.models import Case, InboundMessage, OutboundMessage
from tests.fakemodem import FakeModem, wait_until

KEYWORDS = """
[INFO]
owner = humas
aliases = HUMAS, TANYA
reply = Terima kasih. Pesan Anda tercatat dengan nomor #{case}.

[DISHUB]
owner = dishub
reply = Laporan #{case} diteruskan ke Dinas Perhubungan.
"""


def make_center(folder: Path, modems: str = "") -> config_module.Config:
    (folder / "keywords.ini").write_text(KEYWORDS, encoding="utf-8")
    (folder / "modemd.ini").write_text(
        "[modemd]\ndatabase = sqlite:///modemd.db\nstate_dir = .\nlog_level = warning\n" + modems, encoding="utf-8"
    )
    config = config_module.load(folder / "modemd.ini")
    database = db.open_database(config.database_url)
    migrations.upgrade(database)
    for login in ("humas", "dishub"):
        users.create_user(login, "official", "rahasia-123")
    return config


def start_daemon(config) -> Daemon:
    daemon = Daemon(config, load_keywords(config.keywords_path), instance="bench")
    daemon.start()
    return daemon


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def at_section(device: str) -> str:
    return f"[modem:usb1]\ndriver = at\ndevice = {device}\n"


def bench_busy(messages: int, part_delay: float) -> None:
    with tempfile.TemporaryDirectory() as tmp, FakeModem(part_delay=part_delay) as fake:
        config = make_center(Path(tmp), at_section(fake.device) + "[sms]\nstatus_report = yes\n")
        daemon = start_daemon(config)
        try:
            wait_until(lambda: daemon.health.state("usb1") == "ready", 20)
            time.sleep(1.0)  # let the first health check pass
            start = time.perf_counter()
            with db.database_proxy.obj.atomic():
                for n in range(messages):
                    outqueue.enqueue("081211112222", f"Jawaban nomor {n} untuk warga", "reply", config=config)
            wait_until(lambda: len(fake.sent) >= messages, messages * part_delay * 3 + 30, interval=0.005)
            elapsed = time.perf_counter() - start
            busy = len(fake.sent) * part_delay
            print(
                f"busy: {len(fake.sent)} single-part messages, {part_delay:.2f} s per part on the modem: "
                f"drained in {elapsed:.2f} s; modem busy {100 * busy / elapsed:.1f}% of the time "
                f"(worker inside driver.send {100 * daemon.workers[0].busy_seconds / elapsed:.1f}%)"
            )
        finally:
            daemon.stop()


def bench_latency(samples: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, FakeModem() as fake:
        config = make_center(Path(tmp), at_section(fake.device))  # shipped defaults otherwise
        daemon = start_daemon(config)
        try:
            wait_until(lambda: daemon.health.state("usb1") == "ready", 20)
            time.sleep(1.0)
            times = []
            for n in range(samples):
                before = Case.select().count()
                sender = f"+628121111{n:04d}"
                start = time.perf_counter()
                fake.inject_sms(sender, f"DISHUB jalan rusak nomor {n}")
                wait_until(lambda: Case.select().count() > before, 10, interval=0.001)
                times.append(time.perf_counter() - start)
                wait_until(lambda: len(fake.sent) > n, 10)  # let the acknowledgement go, as in real life
            print(
                f"latency: +CMTI to case stored, {samples} messages: median {1000 * statistics.median(times):.0f} ms, "
                f"p95 {1000 * percentile(times, 0.95):.0f} ms, max {1000 * max(times):.0f} ms"
            )
        finally:
            daemon.stop()


def bench_send(samples: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, FakeModem() as fake:
        config = make_center(Path(tmp), at_section(fake.device))
        daemon = start_daemon(config)
        try:
            wait_until(lambda: daemon.health.state("usb1") == "ready", 20)
            time.sleep(1.0)
            whole, after_commit = [], []
            for n in range(samples):
                before = fake.count("AT+CMGS=")
                start = time.perf_counter()
                done = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "modemd",
                        "--config",
                        str(config.path),
                        "send",
                        "081211112222",
                        f"Pesan {n}",
                    ],
                    capture_output=True,
                    text=True,
                    cwd=ROOT,
                )
                returned = time.perf_counter()
                assert done.returncode == 0, done.stderr
                wait_until(lambda: fake.count("AT+CMGS=") > before, 10, interval=0.001)
                end = time.perf_counter()
                whole.append(end - start)
                after_commit.append(end - returned)
            print(
                f"send: `modemd send` started to AT+CMGS, {samples} runs: "
                f"median {1000 * statistics.median(whole):.0f} ms, "
                f"max {1000 * max(whole):.0f} ms; of which after the command returned (queued, committed): "
                f"median {1000 * statistics.median(after_commit):.0f} ms, max {1000 * max(after_commit):.0f} ms"
            )
        finally:
            daemon.stop()


def bench_throughput(messages: int) -> None:
    for batch_size in (1, 100):
        with tempfile.TemporaryDirectory() as tmp:
            config = make_center(Path(tmp))
            table = load_keywords(config.keywords_path)
            router = Router(config, lambda: table)
            now = datetime.now(UTC)
            batch = [
                IncomingSMS(
                    sender=f"+62812{n % 5000:08d}",
                    text=("DISHUB" if n % 3 else "HALO") + f" pesan {n}",
                    smsc_time=now,
                    pdus=["00" * 40],
                )
                for n in range(messages)
            ]
            start, cpu = time.perf_counter(), time.process_time()
            for first in range(0, messages, batch_size):
                inbound.store_batch("usb1", batch[first : first + batch_size], router)  # as the worker does
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
            how = (
                "one commit per message (arriving one by one)"
                if batch_size == 1
                else f"one commit per {batch_size} (a burst handed over by one receive())"
            )
            print(
                f"throughput: {messages} messages stored and routed (cases, acknowledgements, rate limit), {how}: "
                f"{elapsed:.2f} s, {messages / elapsed:.0f}/s on SQLite with synchronous=FULL "
                f"({messages / cpu:.0f} per CPU-second of this process, {1e6 * cpu / messages:.0f} µs CPU per message; "
                f"load average {os.getloadavg()[0]:.1f}) "
                f"({InboundMessage.select().count()} stored, {OutboundMessage.select().count()} replies queued)"
            )
            db.database_proxy.obj.close()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def bench_memory(messages: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = make_center(
            folder,
            "[modem:sim1]\ndriver = sim\ndevice = spool\nsend_delay = 0\nreport_delay = 0\n"
            "[sms]\nautoreply_limit = 1\n",
        )
        daemon = subprocess.Popen(
            [sys.executable, "-m", "modemd", "--config", str(config.path), "run"], cwd=ROOT, stderr=subprocess.DEVNULL
        )
        try:
            wait_until(lambda: InboundMessage.select().count() >= 0 and (folder / "spool").exists(), 20)
            time.sleep(2)
            print(f"memory: modemd run at start: {rss_kib(daemon.pid) / 1024:.1f} MiB")
            from modemd.drivers.sim import inject

            step = 1000
            start = time.perf_counter()
            for done in range(0, messages, step):
                for n in range(done, done + step):
                    inject(folder / "spool", f"+62812{n % 20000:08d}", f"DISHUB laporan {n}")
                wait_until(lambda: InboundMessage.select().count() >= done + step, 120, interval=0.05)
                if (done + step) % (messages // 5) == 0:
                    print(
                        f"memory: after {done + step} messages: {rss_kib(daemon.pid) / 1024:.1f} MiB "
                        f"({(done + step) / (time.perf_counter() - start):.0f} msg/s through the simulated SIM)",
                        flush=True,
                    )
        finally:
            daemon.terminate()
            daemon.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "which", nargs="*", metavar="BENCH", help="busy, latency, send, throughput, memory (default: all)"
    )
    parser.add_argument("--queue", type=int, default=200, help="messages to drain for 'busy' (200)")
    parser.add_argument("--part-delay", type=float, default=0.5, help="fake modem seconds per part for 'busy' (0.5)")
    parser.add_argument("--samples", type=int, default=50, help="samples for 'latency' and 'send' (50)")
    parser.add_argument("--inbound", type=int, default=5000, help="messages for 'throughput' (5000)")
    parser.add_argument("--memory-messages", type=int, default=100_000, help="messages for 'memory' (100000)")
    args = parser.parse_args()
    every = ["busy", "latency", "send", "throughput", "memory"]
    which = args.which or every
    unknown = [name for name in which if name not in every]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)} (expected: {', '.join(every)})")
    for name in which:
        if name == "busy":
            bench_busy(args.queue, args.part_delay)
        elif name == "latency":
            bench_latency(args.samples)
        elif name == "send":
            bench_send(args.samples)
        elif name == "throughput":
            bench_throughput(args.inbound)
        elif name == "memory":
            bench_memory(args.memory_messages)
        sys.stdout.flush()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
