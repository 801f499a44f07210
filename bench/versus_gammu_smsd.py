"""Side by side with Gammu SMSD on the same fake modem and the same workload (prints one table).

Run:  .venv/bin/python bench/versus_gammu_smsd.py [--quick] [--json-out FILE]

Gammu SMSD (``gammu-smsd``, the daemon under Kalkun and playSMS) is what
Indonesian SMS gateways run today. This bench installs it from Debian when it
is missing (``gammu-smsd``, ``libdbd-sqlite3``), then starts three daemons at
once, each on its own fake AT modem (``tests/fakemodem.py`` on a real
pseudo-terminal) with identical settings: 2.5 s per sent part, status
reports 1 s after a send:

* ``modemd run`` with its shipped defaults (SQLite);
* Gammu SMSD, SQL service on SQLite (its documented schema, from the Debian
  package's examples), its documented defaults;
* Gammu SMSD with its fastest sensible settings: ``CommTimeout``,
  ``ReceiveFrequency`` and ``LoopSleep`` = 1.

Both Gammu runs have ``DeliveryReport = sms`` (without it Gammu asks for no
status report at all). Outgoing SMS are queued as a web front end does it:
modemd's through its queue (:func:`modemd.send.outqueue.enqueue`), Gammu's as
Kalkun writes them (a row in ``outbox``; a long SMS as its first part with
the UDH and ``MultiPart = 'true'``, the other parts in ``outbox_multipart``).
Gammu's SQLite file is switched to WAL before Gammu starts, so that this
bench's polling never blocks Gammu's writes. The same workload goes to the
three at the same moments, with the same random seed:

1. a row queued while the daemon is idle -> ``AT+CMGS`` at the modem, and ->
   the row says sent; its status report -> the row says delivered;
2. a drain of 100 single-part and 20 three-part SMS: SMS per minute, and the
   modem's busy share (parts x 2.5 s over the time from queueing to the last
   part accepted);
3. 200 SMS arriving at random intervals (the modem stores each and raises
   ``+CMTI``) -> the row in the database, timed from the modem's own store
   time: median, p95, max;
4. CPU seconds and peak resident memory of each daemon over 1-3;
5. the same drain four times over on four fake modems (modemd: one daemon
   with four modems; Gammu: four ``gammu-smsd`` on one database): SMS per
   minute against 4 x one modem (goal >= 0.95).

``--quick`` makes everything small (a few minutes). The table's ratio is
modemd's figure divided by Gammu SMSD's.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakemodem import FakeModem, wait_until  # noqa: E402

PART_DELAY = 2.5
REPORT_DELAY = 1.0
GAMMU_SCHEMA = Path("/usr/share/doc/gammu-smsd/examples/sqlite.sql")
DBD_SQLITE = "libdbdsqlite3.so"
RECIPIENT = "+6281211112222"
#: characters per part of a long GSM-7 SMS (153 + a 6-octet concatenation header)
PART_CHARS = 153
SHORT_TEXT = "Jawaban untuk warga nomor {n}: laporan Anda sudah kami terima dan diteruskan."
LONG_TEXT = ("Pemberitahuan nomor {n} untuk warga. " + "Jalan desa akan diperbaiki mulai Senin depan. " * 8)[:450]
POLL = 0.02
GAMMU_SENT = ("SendingOK", "SendingOKNoReport", "DeliveryOK", "DeliveryPending", "DeliveryUnknown")
GAMMU_FAILED = ("SendingError", "Error", "DeliveryFailed")


# --------------------------------------------------------------------------
# installing Gammu SMSD


def ensure_gammu_smsd() -> str:
    """Install ``gammu-smsd`` and the SQLite driver of libdbi from Debian if missing; return Gammu's version."""
    have_dbd = any(Path(root).rglob(DBD_SQLITE) for root in ("/usr/lib",) if Path(root).exists())
    if not shutil.which("gammu-smsd") or not have_dbd or not GAMMU_SCHEMA.exists():
        apt = ["apt-get", "install", "-y", "--no-install-recommends", "gammu-smsd", "libdbd-sqlite3"]
        if os.geteuid() != 0:
            apt.insert(0, "sudo")
        print("versus: installing gammu-smsd and libdbd-sqlite3: " + " ".join(apt), file=sys.stderr)
        subprocess.run(apt, check=True, stdout=sys.stderr)
    found = subprocess.run(["gammu-smsd", "--version"], capture_output=True, text=True)
    return (found.stdout.splitlines() or ["gammu-smsd (version unknown)"])[0]


# --------------------------------------------------------------------------
# a daemon on its fake modems


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Side:
    """One daemon (or several on one database) and its fake modems; what was seen when."""

    label: str
    folder: Path
    fakes: list[FakeModem]
    procs: list[subprocess.Popen] = field(default_factory=list)
    sent_at: dict[int, float] = field(default_factory=dict)  # outbound id -> first seen sent
    delivered_at: dict[int, float] = field(default_factory=dict)
    failed: set[int] = field(default_factory=set)
    inbound_at: dict[str, float] = field(default_factory=dict)  # text -> first seen stored
    watching: set[int] = field(default_factory=set)
    crashed: str | None = None

    def queue(self, items: list[str]) -> list[int]:
        raise NotImplementedError

    def poll(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        raise NotImplementedError

    def parts_accepted(self) -> int:
        return sum(len(fake.sent) for fake in self.fakes)

    def last_accept(self) -> float:
        return max((fake.sent[-1].accepted_at for fake in self.fakes if fake.sent), default=0.0)

    def first_cmgs_after(self, moment: float) -> float | None:
        for fake in self.fakes:
            for command, at in zip(list(fake.commands), list(fake.command_times), strict=False):
                if at >= moment and command.upper().startswith("AT+CMGS="):
                    return at
        return None

    def cpu_seconds(self) -> float:
        return sum(proc_cpu_seconds(p.pid) for p in self.procs if p.poll() is None)

    def peak_rss_mib(self) -> float:
        return sum(proc_peak_rss_mib(p.pid) for p in self.procs if p.poll() is None)

    def alive(self) -> bool:
        """False once one of the daemons exited on its own (a crash is a result: it is reported, not fatal)."""
        if self.crashed is None:
            for proc in self.procs:
                if proc.poll() is not None:
                    code = proc.returncode
                    how = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
                    self.crashed = f"{Path(proc.args[0]).name} pid {proc.pid} {how} ({self.folder.name})"
                    print(f"versus: {self.label}: {self.crashed}; see {self.folder}", file=sys.stderr)
        return self.crashed is None

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


KEYWORDS = """
[INFO]
owner = humas
aliases = HUMAS, TANYA
"""


class ModemdSide(Side):
    """``modemd run``, shipped defaults, one ``[modem:usbN]`` AT section per fake."""

    def start(self) -> None:
        from modemd import config as config_module
        from modemd import users
        from modemd.store import db, migrations

        sections = "".join(
            f"[modem:usb{n + 1}]\ndriver = at\ndevice = {fake.device}\n" for n, fake in enumerate(self.fakes)
        )
        (self.folder / "keywords.ini").write_text(KEYWORDS, encoding="utf-8")
        ini = self.folder / "modemd.ini"
        ini.write_text(
            f"[modemd]\ndatabase = sqlite:///modemd.db\nstate_dir = .\nlog_level = warning\n{sections}",
            encoding="utf-8",
        )
        self.config = config_module.load(ini)
        migrations.upgrade(db.open_database(self.config.database_url))
        users.create_user("humas", "official", "rahasia-123")
        log = open(self.folder / "daemon.log", "wb")  # noqa: SIM115 - lives as long as the daemon
        self.procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "modemd", "--config", str(ini), "run"], cwd=ROOT, stdout=log, stderr=log
            )
        )
        self._last_inbound = 0

    def queue(self, items: list[str]) -> list[int]:
        from modemd.send import outqueue
        from modemd.store.models import database_proxy

        with database_proxy.atomic():
            ids = [outqueue.enqueue(RECIPIENT, text, "manual", config=self.config).id for text in items]
        self.watching.update(ids)
        return ids

    def poll(self) -> None:
        from modemd.store.models import InboundMessage, OutboundMessage

        now = time.monotonic()
        if self.watching:
            rows = (
                OutboundMessage.select(OutboundMessage.id, OutboundMessage.state)
                .where(OutboundMessage.id.in_(list(self.watching)))
                .tuples()
            )
            for ident, state in list(rows):
                self._seen(ident, state, now)
        for ident, text in list(
            InboundMessage.select(InboundMessage.id, InboundMessage.text)
            .where(InboundMessage.id > self._last_inbound)
            .tuples()
        ):
            self._last_inbound = max(self._last_inbound, ident)
            self.inbound_at.setdefault(text, now)

    def _seen(self, ident: int, state: str, now: float) -> None:
        if state in ("sent", "delivered"):
            self.sent_at.setdefault(ident, now)
        if state == "delivered":
            self.delivered_at.setdefault(ident, now)
            self.watching.discard(ident)
        elif state in ("failed", "cancelled"):
            self.failed.add(ident)
            self.watching.discard(ident)


class GammuSide(Side):
    """``gammu-smsd`` per fake, SQL service on one SQLite file."""

    def __init__(self, *args, options: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.options = options
        self.parts: dict[int, int] = {}  # outbox ID -> parts

    def start(self) -> None:
        database = self.folder / "smsd.db"
        with sqlite3.connect(database) as connection:
            connection.executescript(GAMMU_SCHEMA.read_text(encoding="utf-8"))
            connection.execute("PRAGMA journal_mode = wal")  # this bench's reads never block Gammu's writes
        for n, fake in enumerate(self.fakes, start=1):
            extra = "".join(f"{key} = {value}\n" for key, value in self.options.items())
            rc = self.folder / f"smsdrc-{n}"
            rc.write_text(
                f"[gammu]\ndevice = {fake.device}\nconnection = at\n\n"
                f"[smsd]\nservice = sql\ndriver = sqlite3\ndbdir = {self.folder}/\ndatabase = smsd.db\n"
                f"logfile = {self.folder}/smsd-{n}.log\ndebuglevel = 1\nphoneid = m{n}\n"
                f"deliveryreport = sms\n{extra}",
                encoding="utf-8",
            )
            self.procs.append(
                subprocess.Popen(["gammu-smsd", "-c", str(rc)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            )
        self.db = sqlite3.connect(database, timeout=30, isolation_level=None)
        self._last_inbound = 0

    def queue(self, items: list[str]) -> list[int]:
        """As Kalkun does: one outbox row per SMS; a long one's further parts in outbox_multipart."""
        ids = []
        self.db.execute("BEGIN IMMEDIATE")
        for text in items:
            parts = [text[i : i + PART_CHARS] for i in range(0, len(text), PART_CHARS)] if len(text) > 160 else [text]
            common = {"DestinationNumber": RECIPIENT, "Coding": "Default_No_Compression", "CreatorID": "bench"}
            if len(parts) == 1:
                cursor = self.db.execute(
                    "INSERT INTO outbox (DestinationNumber, TextDecoded, Coding, CreatorID) VALUES (?, ?, ?, ?)",
                    (common["DestinationNumber"], text, common["Coding"], common["CreatorID"]),
                )
            else:
                reference = random.randrange(256)
                udh = [f"050003{reference:02X}{len(parts):02X}{i + 1:02X}" for i in range(len(parts))]
                cursor = self.db.execute(
                    "INSERT INTO outbox (DestinationNumber, TextDecoded, Coding, CreatorID, UDH, MultiPart) "
                    "VALUES (?, ?, ?, ?, ?, 'true')",
                    (common["DestinationNumber"], parts[0], common["Coding"], common["CreatorID"], udh[0]),
                )
                for position, (part, header) in enumerate(zip(parts[1:], udh[1:], strict=True), start=2):
                    self.db.execute(
                        "INSERT INTO outbox_multipart (ID, SequencePosition, TextDecoded, Coding, UDH) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (cursor.lastrowid, position, part, common["Coding"], header),
                    )
            ids.append(int(cursor.lastrowid))
            self.parts[int(cursor.lastrowid)] = len(parts)
        self.db.execute("COMMIT")
        self.watching.update(ids)
        return ids

    def poll(self) -> None:
        now = time.monotonic()
        if self.watching:
            low = min(self.watching)
            states: dict[int, list[str]] = {}
            for ident, status in self.db.execute("SELECT ID, Status FROM sentitems WHERE ID >= ?", (low,)):
                states.setdefault(ident, []).append(status)
            for ident, statuses in states.items():
                if ident not in self.watching:
                    continue
                if any(s in GAMMU_FAILED for s in statuses):
                    self.failed.add(ident)
                    self.watching.discard(ident)
                    continue
                if len(statuses) < self.parts.get(ident, 1):
                    continue
                if all(s in GAMMU_SENT for s in statuses):
                    self.sent_at.setdefault(ident, now)
                if all(s == "DeliveryOK" for s in statuses):
                    self.delivered_at.setdefault(ident, now)
                    self.watching.discard(ident)
        for ident, text in self.db.execute(
            "SELECT ID, TextDecoded FROM inbox WHERE ID > ?", (self._last_inbound,)
        ).fetchall():
            self._last_inbound = max(self._last_inbound, ident)
            self.inbound_at.setdefault(text, now)


# --------------------------------------------------------------------------
# the workload, the same for every side at the same moments


def observe(sides: list[Side], done, timeout: float) -> bool:
    """Poll every side until ``done(side)`` holds for all of them, or ``timeout`` s pass."""
    deadline = time.monotonic() + timeout
    while True:
        for side in sides:
            if side.alive():
                side.poll()
        if all(done(side) or side.crashed for side in sides):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def idle_send(sides: list[Side], samples: int, rng: random.Random, timeout: float) -> dict[str, dict]:
    """A row queued while idle -> AT+CMGS, -> sent; its status report -> delivered."""
    found: dict[str, dict[str, list[float]]] = {s.label: {"cmgs": [], "sent": [], "delivered": []} for s in sides}
    for n in range(samples):
        time.sleep(rng.uniform(5, 30))  # a random moment in each daemon's polling cycle (Gammu's: 30 s)
        queued: dict[str, tuple[float, int]] = {}
        for side in sides:
            moment = time.monotonic()
            [ident] = side.queue([f"Pesan satu per satu nomor {n}, dikirim saat modem menganggur."])
            queued[side.label] = (moment, ident)
        observe(sides, lambda s: queued[s.label][1] in s.delivered_at or queued[s.label][1] in s.failed, timeout)
        for side in sides:
            moment, ident = queued[side.label]
            figures = found[side.label]
            cmgs = side.first_cmgs_after(moment)
            if cmgs is not None:
                figures["cmgs"].append(cmgs - moment)
            if ident in side.sent_at:
                figures["sent"].append(side.sent_at[ident] - moment)
            if ident in side.delivered_at:
                report = side.last_accept() + REPORT_DELAY  # the fake sends the report this long after +CMGS
                figures["delivered"].append(side.delivered_at[ident] - report)
    out = {}
    for label, figures in found.items():
        out[label] = {
            "idle_to_cmgs_s": statistics.median(figures["cmgs"]) if figures["cmgs"] else None,
            "idle_to_cmgs_max_s": max(figures["cmgs"]) if figures["cmgs"] else None,
            "idle_to_sent_s": statistics.median(figures["sent"]) if figures["sent"] else None,
            "report_to_delivered_s": statistics.median(figures["delivered"]) if figures["delivered"] else None,
            "reports_matched": f"{len(figures['delivered'])}/{samples}",
        }
    return out


def drain(sides: list[Side], single: int, triple: int, timeout: float) -> dict[str, dict]:
    """Queue ``single`` one-part and ``triple`` three-part SMS at once; time until the modems took every part."""
    texts = [SHORT_TEXT.format(n=n) for n in range(single)] + [LONG_TEXT.format(n=n) for n in range(triple)]
    parts = single + 3 * triple
    started: dict[str, tuple[float, int, list[int]]] = {}
    for side in sides:
        started[side.label] = (time.monotonic(), side.parts_accepted(), side.queue(texts))
    observe(
        sides,
        lambda s: (
            s.parts_accepted() - started[s.label][1] >= parts
            and all(i in s.sent_at or i in s.failed for i in started[s.label][2])
        ),
        timeout,
    )
    out = {}
    for side in sides:
        moment, before, ids = started[side.label]
        took = side.parts_accepted() - before
        elapsed = side.last_accept() - moment
        modems = len(side.fakes)
        done_in_db = [side.sent_at[i] for i in ids if i in side.sent_at]
        out[side.label] = {
            "messages": len(texts),
            "parts_accepted": took,
            "drain_s": round(elapsed, 1) if took >= parts else None,
            "sms_per_min": round(len(texts) * 60 / elapsed, 1) if took >= parts and elapsed > 0 else None,
            "busy_share": round(took * PART_DELAY / (elapsed * modems), 3) if elapsed > 0 else None,
            "all_sent_in_db_s": round(max(done_in_db) - moment, 1) if len(done_in_db) == len(ids) else None,
            "failed": len([i for i in ids if i in side.failed]),
        }
    return out


def inbound(sides: list[Side], count: int, gap: float, rng: random.Random, tail: float) -> dict[str, dict]:
    """SMS arriving at random intervals; the row in the database, timed from the modem's store time."""
    stored: dict[str, dict[str, float]] = {s.label: {} for s in sides}
    next_at = time.monotonic()
    for n in range(count):
        next_at += rng.expovariate(1 / gap)
        while time.monotonic() < next_at:
            for side in sides:
                if side.alive():
                    side.poll()
            time.sleep(POLL)
        sender = f"+62812{rng.randrange(10**8):08d}"
        text = f"INFO pertanyaan warga nomor {n} kode {rng.randrange(10**6):06d}"
        for side in sides:
            before = time.monotonic()
            fake = side.fakes[0]
            [index] = fake.inject_sms(sender, text)
            slot = fake.sim.get(index)
            stored[side.label][text] = slot.stored_at if slot is not None else before
    observe(sides, lambda s: all(t in s.inbound_at for t in stored[s.label]), tail)
    out = {}
    for side in sides:
        delays = [side.inbound_at[t] - at for t, at in stored[side.label].items() if t in side.inbound_at]
        out[side.label] = {
            "inbound_messages": count,
            "inbound_stored": len(delays),
            "inbound_median_s": round(statistics.median(delays), 3) if delays else None,
            "inbound_p95_s": round(percentile(delays, 0.95), 3) if delays else None,
            "inbound_max_s": round(max(delays), 3) if delays else None,
        }
    return out


# --------------------------------------------------------------------------
# running it all


GAMMU_FAST = {"CommTimeout": "1", "ReceiveFrequency": "1", "LoopSleep": "1"}


def make_sides(folder: Path, modems: int, suffix: str) -> list[Side]:
    def fakes() -> list[FakeModem]:
        return [
            FakeModem(part_delay=PART_DELAY, status_report_delay=REPORT_DELAY, port_name=f"ttyUSB{n}").start()
            for n in range(modems)
        ]

    sides: list[Side] = []
    for label, make in (
        ("modemd", lambda f, fk: ModemdSide("modemd", f, fk)),
        ("gammu_defaults", lambda f, fk: GammuSide("gammu_defaults", f, fk, options={})),
        ("gammu_fast", lambda f, fk: GammuSide("gammu_fast", f, fk, options=GAMMU_FAST)),
    ):
        where = folder / f"{label}{suffix}"
        where.mkdir()
        sides.append(make(where, fakes()))
    return sides


def start_all(sides: list[Side]) -> None:
    for side in sides:
        side.start()
    for side in sides:
        ready = wait_until(lambda side=side: all(f.count("AT+CNMI=") for f in side.fakes), 90, interval=0.2)
        if not ready:
            raise SystemExit(f"versus: {side.label} did not set up its modems in 90 s; see {side.folder}")
    time.sleep(5)  # past the start-up reads of the SIM


def stop_all(sides: list[Side]) -> None:
    for side in sides:
        side.stop()
        for fake in side.fakes:
            fake.stop()


def run(args) -> dict:
    rng = random.Random(args.seed)
    quick = args.quick
    sizes = {
        "idle_samples": 2 if quick else 5,
        "single": 10 if quick else 100,
        "triple": 2 if quick else 20,
        "inbound": 20 if quick else 200,
        "inbound_gap_s": 1.0 if quick else args.inbound_gap,
    }
    results: dict[str, dict] = {"modemd": {}, "gammu_defaults": {}, "gammu_fast": {}}
    with tempfile.TemporaryDirectory(prefix="modemd-versus-") as tmp:
        folder = Path(args.keep) if args.keep else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        sides = make_sides(folder, 1, "")
        try:
            start_all(sides)
            cpu0 = {s.label: s.cpu_seconds() for s in sides}
            wall0 = time.monotonic()
            print("versus: idle sends", file=sys.stderr)
            merge(results, idle_send(sides, sizes["idle_samples"], rng, 75))
            print("versus: drain", file=sys.stderr)
            parts = sizes["single"] + 3 * sizes["triple"]
            merge(results, drain(sides, sizes["single"], sizes["triple"], parts * PART_DELAY * 4 + 120))
            print("versus: inbound", file=sys.stderr)
            merge(results, inbound(sides, sizes["inbound"], sizes["inbound_gap_s"], rng, 120))
            for side in sides:
                results[side.label]["cpu_s"] = round(side.cpu_seconds() - cpu0[side.label], 1)
                results[side.label]["peak_rss_mib"] = round(side.peak_rss_mib(), 1)
                results[side.label]["exited"] = side.crashed
            wall = time.monotonic() - wall0
        finally:
            stop_all(sides)
        if args.json_out:  # the single-modem half, in case the rest goes wrong
            args.json_out.write_text(json.dumps({"sizes": sizes, "results": results}, indent=1) + "\n")
        print("versus: four modems", file=sys.stderr)
        sides = make_sides(folder, 4, "-4")
        try:
            start_all(sides)
            four = drain(sides, 4 * sizes["single"], 4 * sizes["triple"], parts * PART_DELAY * 4 + 120)
            for side in sides:
                four[side.label]["exited"] = side.crashed
        finally:
            stop_all(sides)
        for label, figures in four.items():
            one = results[label].get("sms_per_min")
            results[label]["four_modems_sms_per_min"] = figures["sms_per_min"]
            results[label]["four_modems_busy_share"] = figures["busy_share"]
            results[label]["four_modems_exited"] = figures["exited"]
            results[label]["four_vs_4x_one"] = (
                round(figures["sms_per_min"] / (4 * one), 3) if one and figures["sms_per_min"] else None
            )
    return {"sizes": sizes, "seconds_measured_single": round(wall), "results": results}


def merge(results: dict[str, dict], part: dict[str, dict]) -> None:
    for label, figures in part.items():
        results[label].update(figures)


ROWS = [
    ("queued while idle -> AT+CMGS (s, median)", "idle_to_cmgs_s"),
    ("queued while idle -> AT+CMGS (s, max)", "idle_to_cmgs_max_s"),
    ("queued while idle -> sent in DB (s, median)", "idle_to_sent_s"),
    ("status report -> delivered in DB (s, median)", "report_to_delivered_s"),
    ("status reports matched", "reports_matched"),
    ("drain: SMS per minute", "sms_per_min"),
    ("drain: modem busy share", "busy_share"),
    ("drain: queued -> last part taken (s)", "drain_s"),
    ("inbound +CMTI -> row (s, median)", "inbound_median_s"),
    ("inbound +CMTI -> row (s, p95)", "inbound_p95_s"),
    ("inbound +CMTI -> row (s, max)", "inbound_max_s"),
    ("inbound stored / sent", "inbound_stored"),
    ("daemon CPU seconds", "cpu_s"),
    ("daemon peak RSS (MiB)", "peak_rss_mib"),
    ("4 modems: SMS per minute", "four_modems_sms_per_min"),
    ("4 modems vs 4 x one modem", "four_vs_4x_one"),
    ("a daemon exited during the run (1 modem)", "exited"),
    ("a daemon exited during the run (4 modems)", "four_modems_exited"),
]


def show(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def ratio(mine, theirs) -> str:
    if isinstance(mine, int | float) and isinstance(theirs, int | float) and theirs:
        return f"{mine / theirs:.2f}"
    return "-"


def table(report: dict) -> str:
    results = report["results"]
    head = "| measure | modemd | Gammu SMSD defaults | ratio | Gammu SMSD 1 s | ratio |"
    lines = [head, "|---|---:|---:|---:|---:|---:|"]
    for title, key in ROWS:
        mine, slow, fast = (results[label].get(key) for label in ("modemd", "gammu_defaults", "gammu_fast"))
        if key == "inbound_stored":
            count = report["sizes"]["inbound"]
            mine, slow, fast = (f"{v}/{count}" if v is not None else None for v in (mine, slow, fast))
        lines.append(
            f"| {title} | {show(mine)} | {show(slow)} | {ratio(mine, slow)} | {show(fast)} | {ratio(mine, fast)} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a short run: few messages (a few minutes)")
    parser.add_argument("--seed", type=int, default=13, help="random seed of the workload (13)")
    parser.add_argument("--inbound-gap", type=float, default=2.0, help="mean seconds between inbound SMS (2.0)")
    parser.add_argument("--json-out", type=Path, help="write the figures as JSON to this file")
    parser.add_argument("--keep", help="run in this folder and keep it (databases, configs, Gammu's logs)")
    args = parser.parse_args()
    version = ensure_gammu_smsd()
    report = run(args)
    report["gammu_smsd"] = version
    report["command"] = " ".join(["bench/versus_gammu_smsd.py", *sys.argv[1:]])
    report["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    report["load_average_at_end"] = round(os.getloadavg()[0], 1)  # the machine is shared: say how busy it was
    text = table(report)
    print(text)
    print(
        f"\n{report['date']}, {version}; fake modems: {PART_DELAY} s per part, status reports after "
        f"{REPORT_DELAY} s; ratio = modemd / Gammu SMSD; load average {report['load_average_at_end']}"
    )
    if args.json_out:
        report["table"] = text
        args.json_out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
