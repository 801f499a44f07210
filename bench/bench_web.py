"""Benchmark: inbox, case and dashboard pages with 1,000,000 messages (goal: 95th percentile under 150 ms).

Run:  .venv/bin/python bench/bench_web.py [--officials 10] [--cases-per-official 2000]
                                          [--messages 1000000] [--concurrency 20] [--requests 400]

Builds a SQLite centre in a temporary folder with bulk inserts (not timed),
serves it with the real ``modemd web`` (waitress, its own process, so the
load generator does not share its interpreter lock), logs in, and fires
``--requests`` requests per page from ``--concurrency`` keep-alive clients at
once. Prints the median, the 95th percentile and the throughput per page.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from modemd import config as config_module  # noqa: E402
from modemd import users
from modemd.store import db, migrations  # noqa: E402
from modemd.store.models import Case, InboundMessage, OutboundMessage, utcnow  # noqa: E402

PASSWORD = "bench-password-1"
BATCH = 2000
WORDS = (
    "jalan",
    "rusak",
    "lampu",
    "mati",
    "banjir",
    "sampah",
    "pasar",
    "bansos",
    "puskesmas",
    "sekolah",
    "izin",
    "pajak",
    "air",
    "listrik",
    "jembatan",
    "macet",
    "parkir",
    "KTP",
    "desa",
    "kapan",
)


def build(folder: Path, officials: int, cases_per_official: int, messages: int) -> tuple[Path, list[int]]:
    keywords = "".join(f"[K{n:02d}]\nowner = off{n:02d}\ndescription = Dinas {n}\n\n" for n in range(officials))
    (folder / "keywords.ini").write_text(keywords, encoding="utf-8")
    ini = folder / "modemd.ini"
    ini.write_text(
        "[modemd]\ndatabase = sqlite:///modemd.db\nstate_dir = .\nlog_level = warning\n"
        "[web]\nsecret_key_file = secret.key\n",
        encoding="utf-8",
    )
    config = config_module.load(ini)
    database = db.open_database(config.database_url)
    migrations.upgrade(database)
    owners = [users.create_user(f"off{n:02d}", "official", PASSWORD, actor="bench") for n in range(officials)]
    users.create_user("admin", "admin", PASSWORD, actor="bench")
    rng = random.Random(5)
    now = utcnow()
    started = time.perf_counter()
    rows = []
    for n, owner in enumerate(owners):
        for i in range(cases_per_official):
            age = timedelta(minutes=rng.randint(0, 60 * 24 * 60))
            opened = now - age
            status = "open" if i % 10 == 0 else ("answered" if i % 10 < 7 else "closed")
            rows.append(
                (
                    f"K{n:02d}",
                    owner.id,
                    f"+62812{rng.randint(10_000_000, 99_999_999)}",
                    status,
                    opened,
                    opened + timedelta(hours=3),
                    opened,
                    opened + timedelta(minutes=40) if status != "open" else None,
                )
            )
    fields = [
        Case.keyword,
        Case.owner,
        Case.citizen,
        Case.status,
        Case.opened_at,
        Case.deadline_at,
        Case.last_message_at,
        Case.answered_at,
    ]
    with database.atomic():
        for start in range(0, len(rows), BATCH):
            Case.insert_many(rows[start : start + BATCH], fields=fields).execute()
    cases = list(Case.select(Case.id, Case.citizen, Case.keyword, Case.opened_at, Case.status).tuples())
    per_case = max(1, messages // len(cases))
    fields = [
        InboundMessage.modem,
        InboundMessage.sender_raw,
        InboundMessage.sender,
        InboundMessage.text,
        InboundMessage.received_at,
        InboundMessage.route,
        InboundMessage.keyword,
        InboundMessage.case,
    ]
    batch, made = [], 0
    with database.atomic():
        for case_id, citizen, keyword, opened, _status in cases:
            for k in range(per_case):
                if made >= messages:
                    break
                text = f"{keyword} " + " ".join(rng.choice(WORDS) for _ in range(12))
                batch.append(
                    ("modem1", citizen, citizen, text, opened + timedelta(minutes=k), "case", keyword, case_id)
                )
                made += 1
                if len(batch) >= BATCH:
                    InboundMessage.insert_many(batch, fields=fields).execute()
                    batch = []
        if batch:
            InboundMessage.insert_many(batch, fields=fields).execute()
    fields = [
        OutboundMessage.recipient,
        OutboundMessage.text,
        OutboundMessage.kind,
        OutboundMessage.state,
        OutboundMessage.created_at,
        OutboundMessage.case,
    ]
    replies = [
        (citizen, "Terima kasih, sudah kami tindak lanjuti.", "reply", "delivered", opened + timedelta(minutes=40), cid)
        for cid, citizen, _k, opened, status in cases
        if status != "open"
    ]
    with database.atomic():
        for start in range(0, len(replies), BATCH):
            OutboundMessage.insert_many(replies[start : start + BATCH], fields=fields).execute()
    print(
        f"data: {len(cases):,} cases, {made:,} inbound messages, {len(replies):,} replies "
        f"in {time.perf_counter() - started:.1f} s (bulk inserts)"
    )
    own_cases = [cid for cid, _c, keyword, _o, _s in cases if keyword == "K00"]
    database.close()
    return ini, own_cases


def reuse(folder: Path) -> list[int]:
    database = db.open_database(config_module.load(folder / "modemd.ini").database_url)
    own = [c.id for c in Case.select(Case.id).where(Case.keyword == "K00")]
    print(f"data: reusing {folder} ({Case.select().count():,} cases, {InboundMessage.select().count():,} messages)")
    database.close()
    return own


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Client:
    """One keep-alive HTTP connection carrying a session cookie."""

    def __init__(self, port: int, cookie: str = ""):
        self.port = port
        self.cookie = cookie
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, str, http.client.HTTPResponse]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        return response.status, text, response

    def login(self, login: str) -> None:
        _status, page, _r = self.request("GET", "/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        status, _text, _r = self.request(
            "POST", "/login", urlencode({"login": login, "password": PASSWORD, "csrf_token": token})
        )
        if status != 302:
            raise SystemExit(f"login as {login} failed: HTTP {status}")


def measure(port: int, cookie: str, paths: list[str], concurrency: int, total: int) -> list[float]:
    timings: list[float] = []
    lock = threading.Lock()
    counter = iter(range(total))
    errors: list[str] = []

    def worker() -> None:
        client = Client(port, cookie)
        mine = []
        for n in counter:
            path = paths[n % len(paths)]
            started = time.perf_counter()
            status, _text, _r = client.request("GET", path)
            mine.append(time.perf_counter() - started)
            if status != 200:
                errors.append(f"{path}: HTTP {status}")
        with lock:
            timings.extend(mine)

    with ThreadPoolExecutor(concurrency) as pool:
        for future in [pool.submit(worker) for _ in range(concurrency)]:
            future.result()
    if errors:
        raise SystemExit(f"{len(errors)} failed requests, first: {errors[0]}")
    return timings


def report(name: str, timings: list[float], elapsed: float) -> None:
    ordered = sorted(timings)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    print(
        f"{name:34} n={len(ordered):4}  median {statistics.median(ordered) * 1000:7.1f} ms  "
        f"p95 {p95 * 1000:7.1f} ms  max {ordered[-1] * 1000:7.1f} ms  {len(ordered) / elapsed:6.1f} req/s"
    )


def stop(server: subprocess.Popen, folder: Path, keep: bool) -> None:
    """Stop ``modemd web``; remove the centre unless it is to be kept (--keep, --reuse)."""
    server.terminate()
    server.wait(timeout=30)
    if not keep:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    else:
        print(f"kept {folder}")


def centre_from_arguments(parser: argparse.ArgumentParser, prefix: str) -> tuple[Path, Path, list[int], Any]:
    """The options shared by the web benchmarks, parsed; then the centre built (or reused) as they say.

    Returns (folder, modemd.ini, the cases of keyword K00, the parsed arguments).
    """
    parser.add_argument("--officials", type=int, default=10)
    parser.add_argument("--cases-per-official", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--threads", type=int, default=8, help="waitress threads of modemd web")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--reuse", metavar="FOLDER", help="measure a folder kept by an earlier --keep run")
    args = parser.parse_args()
    if args.reuse:
        folder = Path(args.reuse)
        args.keep = True
        return folder, folder / "modemd.ini", reuse(folder), args
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    ini, own_cases = build(folder, args.officials, args.cases_per_official, args.messages)
    return folder, ini, own_cases, args


def start_server(ini: Path, folder: Path, port: int, threads: int) -> subprocess.Popen:
    """The real ``modemd web`` (waitress, its own process, so the load generator does not share its
    interpreter lock), once it accepts connections; its log goes to folder/web.log."""
    server = subprocess.Popen(
        [sys.executable, "-m", "modemd", "--config", str(ini), "web"]
        + ["--listen", f"127.0.0.1:{port}", "--threads", str(threads)],
        stdout=subprocess.DEVNULL,
        stderr=open(folder / "web.log", "wb"),  # a pipe nobody reads would fill and stall the server
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise SystemExit(
                    "modemd web did not start: " + (folder / "web.log").read_text(errors="replace")
                ) from None
            time.sleep(0.2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="requests per page")
    folder, ini, own_cases, args = centre_from_arguments(parser, "modemd-bench-web-")
    port = free_port()
    server = start_server(ini, folder, port, args.threads)
    try:
        official, admin = Client(port), Client(port)
        official.login("off00")
        admin.login("admin")
        _s, first_page, _r = official.request("GET", "/")
        cursor = re.search(r'href="/\?after=([^"&]+)"', first_page).group(1)
        rng = random.Random(7)
        case_paths = [f"/cases/{cid}" for cid in rng.sample(own_cases, min(200, len(own_cases)))]
        pages = [
            ("inbox (official, page 1)", official.cookie, ["/"]),
            ("inbox (official, next page)", official.cookie, [f"/?after={cursor}"]),
            ("inbox (official, status=closed)", official.cookie, ["/?status=closed"]),
            ("inbox (admin, all cases)", admin.cookie, ["/"]),
            ("case page (official)", official.cookie, case_paths),
            ("dashboard (official)", official.cookie, ["/dashboard/"]),
            ("dashboard (admin)", admin.cookie, ["/dashboard/"]),
        ]
        print(
            f"modemd web: {args.threads} waitress threads; {args.concurrency} concurrent clients; "
            f"{args.requests} requests per page; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} "
            "(the load generator runs on the same machine)"
        )
        for name, cookie, paths in pages:
            measure(port, cookie, paths, args.concurrency, args.concurrency)  # warm-up
            started = time.perf_counter()
            timings = measure(port, cookie, paths, args.concurrency, args.requests)
            report(name, timings, time.perf_counter() - started)
    finally:
        stop(server, folder, args.keep)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
