"""Benchmark: the HTTP API. Accepted sends per second through POST /api/v1/messages with 20 concurrent
clients (goal: at least 500/s), and GET /api/v1/cases at 1,000,000 messages (goal: 95th percentile under 100 ms).

Run:  .venv/bin/python bench/bench_api.py [--messages 1000000] [--concurrency 20] [--sends 4000]
                                          [--requests 400] [--threads 8] [--keep | --reuse FOLDER]

Builds the centre of bench_web.py (SQLite, bulk inserts, not timed), adds two API tokens (an admin's
and an official's), serves it with the real ``modemd web`` (waitress, its own process) with
``[api] rate_limit = 0``, and fires the requests from keep-alive clients at once (GET /cases from one client
alone, then from --concurrency clients). Sends are measured
without and with an ``Idempotency-Key``; every answer must be 201. Webhook latency is not measured here.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_web import centre_from_arguments, free_port, report, start_server, stop  # noqa: E402

from modemd import apitokens  # noqa: E402
from modemd import config as config_module  # noqa: E402
from modemd.store import db  # noqa: E402
from modemd.store.models import ApiToken, User  # noqa: E402


def add_tokens(ini: Path) -> dict[str, str]:
    """Secrets of an admin's and an official's token with every scope (made again on each run)."""
    database = db.open_database(config_module.load(ini).database_url)
    ApiToken.delete().execute()
    secrets = {
        login: apitokens.create(
            f"bench-{login}", User.by_login(login), list(apitokens.SCOPES), expires=None, actor="bench"
        ).secret
        for login in ("admin", "off00")
    }
    database.close()
    return secrets


def no_rate_limit(ini: Path) -> None:
    text = ini.read_text(encoding="utf-8")
    if "[api]" not in text:
        ini.write_text(text + "\n[api]\nrate_limit = 0\n", encoding="utf-8")


class ApiClient:
    """One keep-alive connection sending a bearer token."""

    def __init__(self, port: int, secret: str):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": f"Bearer {secret}"}

    def request(self, method: str, path: str, body: dict | None = None, **headers) -> tuple[int, dict]:
        payload = json.dumps(body) if body is not None else None
        extra = {"Content-Type": "application/json"} if payload is not None else {}
        self.connection.request(method, path, body=payload, headers={**self.headers, **extra, **headers})
        response = self.connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")


def fire(port: int, secret: str, concurrency: int, total: int, make_request) -> tuple[list[float], float]:
    """``total`` requests from ``concurrency`` clients; (latencies, elapsed seconds). Stops on a wrong answer."""
    timings: list[float] = []
    lock = threading.Lock()
    counter = iter(range(total))
    errors: list[str] = []

    def worker() -> None:
        client = ApiClient(port, secret)
        mine = []
        for n in counter:
            method, path, body, headers, expected = make_request(n)
            started = time.perf_counter()
            status, answer = client.request(method, path, body, **headers)
            mine.append(time.perf_counter() - started)
            if status != expected:
                errors.append(f"{method} {path}: HTTP {status} {answer}")
        with lock:
            timings.extend(mine)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for future in [pool.submit(worker) for _ in range(concurrency)]:
            future.result()
    elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{len(errors)} failed requests, first: {errors[0]}")
    return timings, elapsed


def send(idempotent: bool):
    run = uuid.uuid4().hex[:8]

    def request(n: int):
        headers = {"Idempotency-Key": f"bench-{run}-{n}"} if idempotent else {}
        body = {"number": f"0812{10_000_000 + n:08d}", "text": f"Undangan rapat koordinasi nomor {n}"}
        return "POST", "/api/v1/messages", body, headers, 201

    return request


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=4000, help="POST /messages per measurement")
    parser.add_argument("--requests", type=int, default=400, help="requests per GET /cases variant")
    folder, ini, _own_cases, args = centre_from_arguments(parser, "modemd-bench-api-")
    no_rate_limit(ini)
    secrets = add_tokens(ini)
    port = free_port()
    server = start_server(ini, folder, port, args.threads)
    try:
        print(
            f"modemd web: {args.threads} waitress threads; {args.concurrency} concurrent clients; "
            f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (load generator on the same machine)"
        )
        admin, official = secrets["admin"], secrets["off00"]
        for name, idempotent in (("POST /messages", False), ("POST /messages + Idempotency-Key", True)):
            fire(port, admin, args.concurrency, args.concurrency, send(idempotent))  # warm-up
            timings, elapsed = fire(port, admin, args.concurrency, args.sends, send(idempotent))
            report(name, timings, elapsed)
            print(f"{'':34} accepted: {len(timings) / elapsed:.0f} sends/s (goal >= 500/s)")
        first = ApiClient(port, official).request("GET", "/api/v1/cases?limit=50")[1]
        middle = ApiClient(port, admin).request("GET", "/api/v1/cases?limit=200&updated_since=2020-01-01T00:00:00Z")[1]
        cursor = first["next_cursor"]
        variants = [
            ("GET /cases (admin, first page)", admin, "/api/v1/cases"),
            ("GET /cases (admin, next page)", admin, f"/api/v1/cases?cursor={middle['next_cursor']}"),
            ("GET /cases (admin, keyword=K03)", admin, "/api/v1/cases?keyword=K03"),
            ("GET /cases (admin, state=open)", admin, "/api/v1/cases?state=open"),
            ("GET /cases (official, first page)", official, "/api/v1/cases"),
            ("GET /cases (official, next page)", official, f"/api/v1/cases?cursor={cursor}"),
            ("GET /cases (official, updated_since)", official, "/api/v1/cases?updated_since=2026-01-01T00:00:00Z"),
        ]
        variants = [v for v in variants if not v[2].endswith("cursor=None")]  # a centre too small for page 2
        # one client alone (the latency of a page), then all of them at once (the machine's throughput)
        for clients in sorted({1, args.concurrency}):
            print(f"GET /cases with {clients} concurrent client(s):")
            for name, secret, path in variants:

                def request(_n: int, path=path):
                    return "GET", path, None, {}, 200

                fire(port, secret, clients, clients, request)  # warm-up
                timings, elapsed = fire(port, secret, clients, args.requests, request)
                report(name, timings, elapsed)
    finally:
        stop(server, folder, args.keep)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
