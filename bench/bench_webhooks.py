"""Webhook delivery latency: a case created by the daemon to its ``case.opened`` POST arriving (prints figures).

Run:  .venv/bin/python bench/bench_webhooks.py [--cases 200] [--rate 20]

A real ``Daemon`` (worker, router, webhook dispatcher) runs on a simulated
modem and a fresh SQLite file with the daemon's settings; citizens' SMS are
put on the simulated SIM at ``--rate`` per second, each from another number,
so each opens a case. A local HTTP receiver (http.server, answering 204 at
once) checks each POST's signature and notes when it arrived. The latency of
one case is that moment minus the case's ``opened_at`` (written in the routing
transaction that queued the event), both read from this machine's clock.
Goal: p95 under 1 s with a healthy receiver.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_daemon import make_center, percentile, start_daemon  # noqa: E402
from modemd.drivers import inject_simulated  # noqa: E402
from modemd.store.models import Case, WebhookDelivery  # noqa: E402
from modemd.webhooks.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify  # noqa: E402
from tests.fakemodem import wait_until  # noqa: E402

SECRET = "bench-webhook-secret-0123456789"


class Receiver:
    """Notes the arrival time of each case.opened event by case id; counts bad signatures."""

    def __init__(self):
        self.arrived: dict[int, float] = {}
        self.bad_signatures = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                moment = time.time()
                if not verify(SECRET, self.headers.get(TIMESTAMP_HEADER), body, self.headers.get(SIGNATURE_HEADER)):
                    receiver.bad_signatures += 1
                event = json.loads(body)
                if event["type"] == "case.opened":
                    receiver.arrived.setdefault(event["data"]["case"]["id"], moment)
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@dataclass
class Measured:
    cases: int  # cases opened
    latencies: list[float]  # seconds, case opened -> its event received, one per case received
    bad_signatures: int
    most_attempts: int
    complete: bool  # every case's event arrived in time


def measure(cases: int, rate: float) -> Measured:
    """Run the daemon and the receiver; put ``cases`` SMS on the simulated SIM at ``rate`` per second."""
    receiver = Receiver()
    with tempfile.TemporaryDirectory() as folder:
        sim = "[modem:sim1]\ndriver = sim\ndevice = spool1\nsend_delay = 0\nreport_delay = 0\n"
        api = f"[api]\nwebhook_url = {receiver.url}\nwebhook_secret = {SECRET}\n"
        config = make_center(Path(folder), sim + api)
        daemon = start_daemon(config)
        serving = threading.Thread(target=daemon.serve, daemon=True)
        serving.start()
        settings = config.modems["sim1"].settings
        try:
            started = time.monotonic()
            for n in range(cases):
                inject_simulated(settings, f"0812{n:08d}", f"INFO pertanyaan nomor {n}")
                time.sleep(max(0.0, started + (n + 1) / rate - time.monotonic()))
            done = wait_until(lambda: len(receiver.arrived) >= cases, 120, 0.05)
            opened = {case.id: case.opened_at for case in Case.select(Case.id, Case.opened_at)}
        finally:
            daemon.stop()
            serving.join(5)
            receiver.server.shutdown()
            receiver.server.server_close()
        latencies = [
            receiver.arrived[case_id] - opened_at.replace(tzinfo=UTC).timestamp()
            for case_id, opened_at in opened.items()
            if case_id in receiver.arrived
        ]
        attempts = [d.attempts for d in WebhookDelivery.select(WebhookDelivery.attempts)]
    return Measured(len(opened), latencies, receiver.bad_signatures, max(attempts, default=0), done)


def bench_latency(cases: int, rate: float) -> None:
    result = measure(cases, rate)
    latencies = result.latencies
    print(f"webhook latency, case created -> POST received ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)")
    print(
        f"  cases opened: {result.cases}, events received: {len(latencies)}{'' if result.complete else ' (TIMED OUT)'}"
    )
    print(f"  injected at {rate:g}/s; bad signatures: {result.bad_signatures}; most attempts: {result.most_attempts}")
    print(f"  load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    if latencies:
        print(
            f"  p50 {percentile(latencies, 0.5) * 1000:.0f} ms   p95 {percentile(latencies, 0.95) * 1000:.0f} ms"
            f"   max {max(latencies) * 1000:.0f} ms   (goal: p95 < 1000 ms)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=200, help="citizens' SMS, each opening a case (200)")
    parser.add_argument("--rate", type=float, default=20.0, help="SMS put on the simulated SIM per second (20)")
    args = parser.parse_args()
    bench_latency(args.cases, args.rate)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
