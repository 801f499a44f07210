"""Soak: the real daemon under mixed traffic for hours, its resources printed every minute (prints figures).

Run:  .venv/bin/python bench/soak.py [--hours 24 | --minutes 10] [--rate 5] [--tracemalloc] [--json-out FILE]

``modemd run`` (a child process, on a simulated modem, SQLite) gets, for the
whole run: citizens' SMS (a pool of senders, known and unknown keywords, some
long), officials' replies to open cases (as the web UI queues them), an
approved broadcast to 100 contacts every few minutes, and the daemon's own
reminders (deadline 2 minutes, alerts and escalations to officials and the
admin, office hours all day). Every minute one line: the daemon's resident
memory, open file descriptors, threads, the database's size on disk (file and
WAL) and the message counts. At the end the traffic stops, the queue drains
and every message is accounted for: each citizen's SMS stored exactly once,
every queued SMS sent once (or, for a reason, failed) and nothing left over.

``--tracemalloc`` runs the daemon under :mod:`tracemalloc` (slower) and prints
where the Python heap grew between minute 2 and the end, to find what keeps
memory. A summary is printed as JSON (``--json-out FILE`` writes it too).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_daemon import KEYWORDS  # noqa: E402 - the same keywords as the daemon's other benchmarks

#: seconds after start of the early tracemalloc snapshot (the issue: "between minute 2 and the end")
EARLY_SNAPSHOT_AFTER = 120.0
OFFICIALS = {"humas": "+6281300000001", "dishub": "+6281300000002"}
ADMIN_PHONE = "+6281300000009"
BROADCAST_CONTACTS = 100


def modemd_ini(spool: Path, seed: int) -> str:
    return f"""[modemd]
database = sqlite:///modemd.db
state_dir = .
log_level = warning

[modem:sim1]
driver = sim
device = {spool}
send_delay = 0.02
report_delay = 1
seed = {seed}

[sms]
deadline = 2m
status_report = yes
autoreply_limit = 3

[notify]
office_hours = 00:00-23:59
office_days = mon-sun
quiet_hours =
escalate_after = 1m
admin_numbers = {ADMIN_PHONE}
"""


# --------------------------------------------------------------------------
# the daemon's side: `modemd run`, optionally under tracemalloc


def child_daemon(config_path: str, trace_dir: str, trace: bool) -> int:
    """Run ``modemd run`` in this process; with ``trace``, write heap snapshots for the parent to compare."""
    if trace:
        tracemalloc.start(12)
        folder = Path(trace_dir)

        def snapshots() -> None:
            time.sleep(EARLY_SNAPSHOT_AFTER)
            tracemalloc.take_snapshot().dump(str(folder / "early.snap"))
            request = folder / "dump-request"
            while not request.exists():
                time.sleep(0.5)
            tracemalloc.take_snapshot().dump(str(folder / "end.tmp"))
            os.replace(folder / "end.tmp", folder / "end.snap")

        threading.Thread(target=snapshots, name="soak-tracemalloc", daemon=True).start()
    from modemd.cli import main

    return main(["--config", config_path, "run", "--instance", "soak"])


# --------------------------------------------------------------------------
# the traffic's side


def proc_status(pid: int) -> dict[str, int]:
    """Resident memory (KiB), peak (KiB) and threads of a process, from /proc."""
    wanted = {"VmRSS": "rss_kib", "VmHWM": "peak_kib", "Threads": "threads"}
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in wanted:
            found[wanted[key]] = int(value.split()[0])
    found["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    return found


def db_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.glob("modemd.db*") if path.is_file())


@dataclass
class Traffic:
    """What the soak put in, to account for at the end."""

    inbound: int = 0
    replies: int = 0
    broadcasts: int = 0
    texts: set[str] = field(default_factory=set)


@dataclass
class Sample:
    minute: int
    rss_mib: float
    fds: int
    threads: int
    db_mib: float
    inbound: int
    outbound: int
    pending: int


class Soak:
    def __init__(self, folder: Path, seed: int, rate: float, broadcast_every: float):
        self.folder = folder
        self.spool = folder / "spool"
        self.random = random.Random(seed)
        self.rate = rate
        self.broadcast_every = broadcast_every
        self.traffic = Traffic()
        self.samples: list[Sample] = []
        (folder / "keywords.ini").write_text(KEYWORDS, encoding="utf-8")
        (folder / "modemd.ini").write_text(modemd_ini(self.spool, seed), encoding="utf-8")
        self._set_up_database()
        self.senders = [f"+62812{n:08d}" for n in range(2000)]

    def _set_up_database(self) -> None:
        from modemd import config as config_module
        from modemd import users
        from modemd.store import db, migrations
        from modemd.store.models import Contact, ContactGroup, GroupMember

        self.config = config_module.load(self.folder / "modemd.ini")
        migrations.upgrade(db.open_database(self.config.database_url))
        for login, number in OFFICIALS.items():
            users.create_user(login, "official", "rahasia-123", phone_number=number)
        users.create_user("admin", "admin", "rahasia-123", phone_number=ADMIN_PHONE)
        users.create_user("kaban", "approver", "rahasia-123")
        group = ContactGroup.create(name="camat", description="para camat")
        for n in range(BROADCAST_CONTACTS):
            contact = Contact.create(name=f"Camat {n}", phone=f"+62813{n:08d}")
            GroupMember.create(group=group, contact=contact)
        self.group_id = group.id

    # one kind of traffic each ------------------------------------------------

    def citizen_sms(self) -> None:
        from modemd.drivers.sim import inject

        n = self.traffic.inbound
        word = self.random.choice(["DISHUB", "INFO", "TANYA", "HALO"])
        text = f"{word} laporan warga nomor {n}"
        if self.random.random() < 0.1:  # a long one, in three parts
            text += " " + "jalan berlubang di depan pasar, mohon segera diperbaiki. " * 5
        inject(self.spool, self.random.choice(self.senders), text)
        self.traffic.inbound += 1
        self.traffic.texts.add(text)

    def official_replies(self) -> None:
        from modemd.store.models import Case, User
        from webui.replies import send_reply

        waiting = list(  # read whole first: a write while a SELECT is open would meet a stale snapshot
            Case.select()
            .where(Case.replied_at.is_null(), Case.owner.is_null(False))
            .order_by(Case.id)
            .limit(self.random.randint(1, 4))
        )
        for case in waiting:
            official = User.get_by_id(case.owner_id)
            send_reply(case, official, f"Terima kasih, laporan #{case.id} sedang ditangani.", self.config)
            self.traffic.replies += 1

    def broadcast(self) -> None:
        from modemd.jobs import broadcasts
        from modemd.store.models import User

        author, approver = User.get(User.login == "admin"), User.get(User.login == "kaban")
        number = self.traffic.broadcasts + 1
        draft = broadcasts.draft(author, f"Rapat koordinasi ke-{number} besok pukul 09.00.", groups=[self.group_id])
        broadcasts.submit(draft, author, self.config)
        version = broadcasts.content_of(draft, self.config).version
        broadcasts.approve(draft, approver, self.config, version=version, via="cli")
        self.traffic.broadcasts += 1

    # measuring ---------------------------------------------------------------

    def sample(self, pid: int, minute: int) -> Sample:
        from modemd.store.models import InboundMessage, OutboundMessage

        status = proc_status(pid)
        pending = OutboundMessage.select().where(OutboundMessage.state.in_(["pending", "sending"])).count()
        sample = Sample(
            minute=minute,
            rss_mib=round(status["rss_kib"] / 1024, 1),
            fds=status["fds"],
            threads=status["threads"],
            db_mib=round(db_bytes(self.folder) / 2**20, 2),
            inbound=InboundMessage.select().count(),
            outbound=OutboundMessage.select().count(),
            pending=pending,
        )
        self.samples.append(sample)
        print(
            f"soak: minute {minute:4d}  rss {sample.rss_mib:6.1f} MiB  fds {sample.fds:3d}  "
            f"threads {sample.threads:3d}  db {sample.db_mib:7.2f} MiB  inbound {sample.inbound:7d}  "
            f"outbound {sample.outbound:7d}  pending {sample.pending:5d}",
            flush=True,
        )
        return sample

    def run(self, seconds: float, daemon: subprocess.Popen) -> None:
        start = time.monotonic()
        next_sms = next_reply = start
        next_broadcast = start + 30
        next_minute = start + 60
        minute = 0
        while time.monotonic() - start < seconds:
            if daemon.poll() is not None:
                raise SystemExit(f"soak: the daemon exited with {daemon.returncode}")
            now = time.monotonic()
            while next_sms <= now:
                self.citizen_sms()
                next_sms += self.random.expovariate(self.rate)
            if next_reply <= now:
                self.official_replies()
                next_reply = now + 5
            if next_broadcast <= now:
                self.broadcast()
                next_broadcast = now + self.broadcast_every
            if next_minute <= now:
                minute += 1
                self.sample(daemon.pid, minute)
                next_minute += 60
            time.sleep(0.05)

    def drain(self, timeout: float) -> bool:
        """Wait until the spool is read and nothing is queued or waiting for a broadcast to be queued."""
        from modemd.drivers.sim import incoming_files
        from modemd.store.models import Broadcast, OutboundMessage

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            busy = (
                incoming_files(self.spool)
                or OutboundMessage.select().where(OutboundMessage.state.in_(["pending", "sending"])).exists()
                or Broadcast.select().where(Broadcast.state.in_(["approved", "sending"])).exists()
            )
            if not busy:
                return True
            time.sleep(1)
        return False

    def account(self) -> dict:
        """Every message accounted for: stored once, sent once or failed for a reason, nothing waiting."""
        from peewee import fn

        from modemd.store.models import InboundMessage, OutboundMessage

        stored = [m.text for m in InboundMessage.select(InboundMessage.text)]
        lost = sorted(self.traffic.texts - set(stored))
        duplicated = len(stored) - len(set(stored))
        states = dict(
            OutboundMessage.select(OutboundMessage.state, fn.COUNT(OutboundMessage.id))
            .group_by(OutboundMessage.state)
            .tuples()
        )
        failed_without_reason = (
            OutboundMessage.select()
            .where(OutboundMessage.state == "failed", OutboundMessage.failure_reason.is_null())
            .count()
        )
        kinds = dict(
            OutboundMessage.select(OutboundMessage.kind, fn.COUNT(OutboundMessage.id))
            .group_by(OutboundMessage.kind)
            .tuples()
        )
        sent_log = self.spool / "sent.log"
        left_modem = len(sent_log.read_text(encoding="utf-8").splitlines()) if sent_log.exists() else 0
        went_out = states.get("sent", 0) + states.get("delivered", 0)
        return {
            "inbound_injected": self.traffic.inbound,
            "inbound_stored": len(stored),
            "inbound_lost": len(lost),
            "inbound_duplicated": duplicated,
            "replies_queued": self.traffic.replies,
            "broadcasts": self.traffic.broadcasts,
            "outbound_by_state": states,
            "outbound_by_kind": kinds,
            "outbound_left_modem": left_modem,
            "outbound_sent_twice_or_unrecorded": left_modem - went_out,
            "failed_without_reason": failed_without_reason,
            "lost_examples": lost[:5],
        }


def heap_growth(trace_dir: Path, top: int = 15) -> list[dict]:
    early, end = trace_dir / "early.snap", trace_dir / "end.snap"
    if not (early.exists() and end.exists()):
        return []
    filters = [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<frozen importlib*")]
    before = tracemalloc.Snapshot.load(str(early)).filter_traces(filters)
    after = tracemalloc.Snapshot.load(str(end)).filter_traces(filters)
    growth = []
    for stat in after.compare_to(before, "traceback")[:top]:
        frames = [f"{frame.filename.replace(str(ROOT) + '/', '')}:{frame.lineno}" for frame in stat.traceback]
        growth.append(
            {"kib": round(stat.size_diff / 1024, 1), "blocks": stat.count_diff, "where": frames[-1], "stack": frames}
        )
    total = sum(s.size for s in after.statistics("filename")) - sum(s.size for s in before.statistics("filename"))
    growth.insert(0, {"kib": round(total / 1024, 1), "blocks": 0, "where": "(all traced Python memory)", "stack": []})
    return growth


def soak(args) -> dict:
    with tempfile.TemporaryDirectory(prefix="modemd-soak-") as tmp:
        folder = Path(args.keep) if args.keep else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        trace_dir = folder / "tracemalloc"
        trace_dir.mkdir(exist_ok=True)
        run = Soak(folder, args.seed, args.rate, args.broadcast_every)
        ini = str(folder / "modemd.ini")
        command = [sys.executable, __file__, "--child-daemon", ini, "--trace-dir", str(trace_dir)]
        if args.tracemalloc:
            command.append("--tracemalloc")
        log = open(folder / "daemon.log", "wb")  # noqa: SIM115 - closed below, after the daemon
        daemon = subprocess.Popen(command, cwd=folder, stderr=log)
        try:
            from modemd.store.models import DaemonState
            from tests.fakemodem import wait_until

            wait_until(lambda: DaemonState.select().exists(), 60, interval=0.2)
            seconds = args.minutes * 60 if args.minutes else args.hours * 3600
            started = time.monotonic()
            run.run(seconds, daemon)
            drained = run.drain(args.drain_timeout)
            final = run.sample(daemon.pid, len(run.samples) + 1)
            if args.tracemalloc:
                (trace_dir / "dump-request").touch()
                wait_until(lambda: (trace_dir / "end.snap").exists(), 120, interval=0.5)
            status = proc_status(daemon.pid)
            cpu = sum(int(x) for x in Path(f"/proc/{daemon.pid}/stat").read_text().split(")")[1].split()[11:13])
            elapsed = time.monotonic() - started
        finally:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(60)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
            log.close()
        accounts = run.account()
        first = next((s for s in run.samples if s.minute >= 2), run.samples[0])
        summary = {
            "seconds": round(elapsed),
            "rate_per_s": args.rate,
            "drained": drained,
            "cpu_seconds": round(cpu / os.sysconf("SC_CLK_TCK"), 1),
            "peak_rss_mib": round(status["peak_kib"] / 1024, 1),
            "rss_minute2_mib": first.rss_mib,
            "rss_end_mib": final.rss_mib,
            "fds_minute2": first.fds,
            "fds_end": final.fds,
            "fds_max": max(s.fds for s in run.samples),
            "threads_minute2": first.threads,
            "threads_end": final.threads,
            "threads_max": max(s.threads for s in run.samples),
            "db_mib_end": final.db_mib,
            "messages_end": final.inbound + final.outbound,
            "messages_minute2": first.inbound + first.outbound,
            "accounts": accounts,
            "samples": [asdict(s) for s in run.samples],
            "heap_growth": heap_growth(trace_dir) if args.tracemalloc else [],
        }
        return summary


def print_summary(summary: dict) -> None:
    accounts = summary["accounts"]
    grown = summary["messages_end"] - summary["messages_minute2"]
    print(
        f"soak: {summary['seconds']} s, {accounts['inbound_injected']} SMS in, {accounts['replies_queued']} replies, "
        f"{accounts['broadcasts']} broadcasts; outbound {accounts['outbound_by_state']}; "
        f"lost {accounts['inbound_lost']}, duplicated {accounts['inbound_duplicated']}, "
        f"sent twice or unrecorded {accounts['outbound_sent_twice_or_unrecorded']}, drained {summary['drained']}",
    )
    print(
        f"soak: rss {summary['rss_minute2_mib']} MiB at minute 2 -> {summary['rss_end_mib']} MiB at the end "
        f"(+{grown} messages), peak {summary['peak_rss_mib']} MiB; fds {summary['fds_minute2']} -> "
        f"{summary['fds_end']} (max {summary['fds_max']}); threads {summary['threads_minute2']} -> "
        f"{summary['threads_end']} (max {summary['threads_max']}); db {summary['db_mib_end']} MiB; "
        f"daemon CPU {summary['cpu_seconds']} s",
    )
    for item in summary["heap_growth"]:
        print(f"soak: heap {item['kib']:+9.1f} KiB {item['blocks']:+7d} blocks  {item['where']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=24.0, help="how long to run (24)")
    parser.add_argument("--minutes", type=float, default=0.0, help="how long to run, in minutes (overrides --hours)")
    parser.add_argument("--rate", type=float, default=5.0, help="citizens' SMS per second, on average (5)")
    parser.add_argument("--broadcast-every", type=float, default=300.0, help="seconds between broadcasts (300)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--drain-timeout", type=float, default=600.0, help="seconds to wait for the queue at the end")
    parser.add_argument("--tracemalloc", action="store_true", help="trace the daemon's heap (minute 2 vs the end)")
    parser.add_argument("--json-out", type=Path, help="also write the JSON summary to this file")
    parser.add_argument("--keep", help="run in this folder and keep it (database, spool, daemon.log)")
    parser.add_argument("--child-daemon", help=argparse.SUPPRESS)
    parser.add_argument("--trace-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_daemon:
        sys.exit(child_daemon(args.child_daemon, args.trace_dir, args.tracemalloc))
    summary = soak(args)
    print_summary(summary)
    text = json.dumps(summary, indent=1, default=str)
    print(text)
    if args.json_out:
        args.json_out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
