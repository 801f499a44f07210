"""``driver = sim``: a simulated modem for the demo and for tests, no hardware.

A *spool directory* (``device =``) stands in for the SIM card. Each incoming
message is one ``*.sms`` file there, written atomically by :func:`inject`, also
from another process while the daemon runs (``modemd simulate``, the web UI's
demo page). :meth:`SimDriver.receive` offers the files, and
:meth:`SimDriver.acknowledge` deletes one: exactly what a real SIM does, so a
crash between the two leaves the message in place for the next start.

Settings of the ``[modem:NAME]`` section (all strings)::

    device        = /var/lib/modemd/sim-NAME ; spool directory, created if missing
    send_delay    = 3          ; seconds per part, like a real modem's AT+CMGS
    failure_rate  = 0          ; 0..1, share of messages failing with +CMS ERROR: 38 (retried)
    report_delay  = 5          ; seconds until the delivery report
    signal_dbm    = -71
    operator      = SIMULATED
    seed          =            ; fixes the random failures, for reproducible runs
    fail_numbers  =            ; comma-separated; these always fail with +CMS ERROR: 1 (unassigned number)

What left is appended to ``sent.log`` (JSON lines) in the spool directory;
the latest ``SENT_KEPT`` sends are also kept in :attr:`SimDriver.sent`.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import random
import tempfile
import threading
import time
import uuid
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from modemd.sms.phone import for_log, try_normalize

from .. import __version__
from ..privatefiles import PRIVATE_FILE, private_dir
from ..sms import tpdu
from ..sms.errors import PduError
from ..sms.segmentation import split as sms_split
from .base import (
    CmsError,
    Driver,
    Identity,
    IncomingSMS,
    ModemError,
    ModemGone,
    Resume,
    SignalInfo,
    StatusReport,
    StorageInfo,
    Unsupported,
    number_setting,
    schema_default,
)

log = logging.getLogger("modemd.sim")

INCOMING_SUFFIX = ".sms"
SENT_LOG = "sent.log"
#: sends kept in :attr:`SimDriver.sent`; a daemon running for weeks keeps the rest only in sent.log
SENT_KEPT = 1000
#: How often the background thread looks at the spool directory.
POLL_INTERVAL = 0.3
#: What the simulated network says the SMSC number is.
SIM_SMSC = "+62816124"
#: "Unassigned (unallocated) number" (TS 24.011): a fail_numbers recipient fails for good
FAIL_NUMBER_CMS = 1
#: "Network out of order" (TS 24.011): a failure_rate failure, retried like the real one
FAILURE_RATE_CMS = 38


# --------------------------------------------------------------------------
# The spool directory, usable from any process


def inject(spool_dir: str | os.PathLike[str], sender: str, text: str, smsc_time: datetime | None = None) -> str:
    """Put an incoming SMS on the simulated SIM; returns the new file's path.

    The file appears whole or not at all (written beside it, then renamed),
    so a daemon polling the directory never reads half a message.
    """
    if not sender.strip():
        raise ValueError("a simulated SMS needs a sender")
    stamp = (smsc_time or datetime.now()).astimezone().replace(microsecond=0)
    spool = private_dir(spool_dir)  # citizens' numbers and texts: 0700, the files 0600 (mkstemp)
    # Names sort by arrival; pid and random part keep concurrent writers apart.
    name = f"{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}{INCOMING_SUFFIX}"
    record = {"sender": sender.strip(), "text": text, "smsc_time": stamp.isoformat(), "smsc": SIM_SMSC}
    fd, tmp = tempfile.mkstemp(prefix=".inject-", suffix=".tmp", dir=spool)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(record, handle, ensure_ascii=False)
            handle.flush()
            os.fsync(handle.fileno())
        final = spool / name
        os.replace(tmp, final)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return str(final)


def incoming_files(spool: Path) -> list[Path]:
    """The messages waiting on the simulated SIM, oldest first."""
    try:
        return sorted(
            path for path in spool.iterdir() if path.name.endswith(INCOMING_SUFFIX) and not path.name.startswith(".")
        )
    except FileNotFoundError:
        return []


def read_incoming(path: Path) -> IncomingSMS:
    """One spool file as the modem would hand it over, with real SMS-DELIVER PDUs."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        sender, text = str(record["sender"]), str(record["text"])
        smsc_time = datetime.fromisoformat(record["smsc_time"]).astimezone()
    except (OSError, ValueError, KeyError, TypeError) as exc:
        # A broken file is still handed over (and can be deleted), never skipped.
        return IncomingSMS(
            sender="", text="", smsc_time=None, decode_error=f"unreadable spool file: {exc}", handle=str(path)
        )
    smsc = str(record.get("smsc", SIM_SMSC))
    # A stable reference per file, as a phone picks one per long message.
    reference = zlib.crc32(path.name.encode()) % 256
    try:
        pdus = tpdu.encode_deliver(sender, text, smsc_time=smsc_time, smsc=smsc, concat_reference=reference)
    except PduError as exc:
        log.debug("no PDU for simulated SMS from %r: %s", sender, exc)
        pdus = []
    parts = max(len(pdus), 1)
    return IncomingSMS(
        sender=sender,
        text=text,
        smsc_time=smsc_time,
        pdus=pdus,
        concat_reference=reference if parts > 1 else None,
        parts_total=parts,
        parts_received=parts,
        smsc=smsc,
        handle=str(path),
    )


def last_reference(sent_log: Path) -> int | None:
    """The last message reference recorded in sent.log, to go on counting after a restart."""
    try:
        with sent_log.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 4096))
            lines = handle.read().decode("utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return None
    for line in reversed(lines):
        try:
            references = json.loads(line)["references"]
        except (ValueError, KeyError, TypeError):
            continue
        if references:
            return int(references[-1])
    return None


def number_key(number: str) -> str:
    """0812..., 62812... and +62812... are the same recipient."""
    return try_normalize(number) or number.strip()


# --------------------------------------------------------------------------
# The driver


@dataclass
class _PendingReport:
    due: float  # time.monotonic()
    report: StatusReport
    handed: bool = False


class SimDriver(Driver):
    """A modem that lives in a directory. See the module docstring for settings."""

    kind = "sim"

    def __init__(self, name: str, settings: Mapping[str, str], wakeup: threading.Event | None = None):
        super().__init__(name, settings, wakeup)
        device = self.settings.get("device", "").strip()
        self.spool = Path(device) if device else Path(tempfile.gettempdir()) / f"modemd-sim-{name}"
        self.send_delay = number_setting(self.settings, "send_delay", 0.0, None)
        self.failure_rate = number_setting(self.settings, "failure_rate", 0.0, 1.0)
        self.report_delay = number_setting(self.settings, "report_delay", 0.0, None)
        self.signal_dbm = int(number_setting(self.settings, "signal_dbm", -113, -51))
        self.operator = self.settings.get("operator", "").strip() or schema_default("operator")
        seed = self.settings.get("seed", "").strip()
        self.random = random.Random(seed if seed else None)
        self.fail_numbers = {
            number_key(number) for number in self.settings.get("fail_numbers", "").split(",") if number.strip()
        }
        #: the latest SENT_KEPT messages that left, as recorded in sent.log
        self.sent: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._reports: dict[str, _PendingReport] = {}
        self._report_ids = itertools.count(1)
        self._handed: set[str] = set()
        self._next_reference = 0
        self._closing = threading.Event()
        self._closing.set()  # not connected yet
        self._poller: threading.Thread | None = None

    # lifecycle -----------------------------------------------------------

    def connect(self) -> None:
        self.close()
        try:
            private_dir(self.spool)
        except OSError as exc:
            raise ModemGone(f"{self.name}: cannot use spool directory {self.spool}: {exc}") from exc
        last = last_reference(self.spool / SENT_LOG)
        self._next_reference = 0 if last is None else (last + 1) % 256
        self._handed.clear()
        self._closing = threading.Event()
        self._poller = threading.Thread(
            target=self._watch_spool, args=(self._closing,), name=f"modemd-sim-{self.name}", daemon=True
        )
        self._poller.start()
        log.info("%s: simulated modem on %s", self.name, self.spool)

    def close(self) -> None:
        self._closing.set()
        poller, self._poller = self._poller, None
        if poller is not None and poller is not threading.current_thread():
            poller.join(timeout=2 * POLL_INTERVAL + 1)

    def _connected(self) -> None:
        if self._closing.is_set():
            raise ModemGone(f"{self.name}: simulated modem is not connected")

    def _watch_spool(self, closing: threading.Event) -> None:
        """Background thread: set ``wakeup`` when a file arrives or a report falls due."""
        noticed: set[str] = set()
        while not closing.wait(POLL_INTERVAL):
            names = {path.name for path in incoming_files(self.spool)}
            if names - noticed:
                self.wakeup.set()
            noticed = names
            now = time.monotonic()
            with self._lock:
                due = any(not pending.handed and pending.due <= now for pending in self._reports.values())
            if due:
                self.wakeup.set()

    # information ---------------------------------------------------------

    def identify(self) -> Identity:
        self._connected()
        digits = f"{zlib.crc32(self.name.encode()):010d}"
        return Identity(
            manufacturer="modemd",
            model="Simulated GSM modem",
            firmware=__version__,
            imei="35000" + digits,
            imsi="51010" + digits,
            operator=self.operator,
        )

    def signal(self) -> SignalInfo:
        self._connected()
        return SignalInfo(dbm=self.signal_dbm, registration="home", operator=self.operator)

    def storage(self) -> StorageInfo:
        self._connected()
        used = len(incoming_files(self.spool))
        # a spool directory has no capacity: never report the simulated SIM as full
        return StorageInfo(used=used, total=max(50, used + 1))

    def balance(self, ussd: str = "*888#") -> str:
        self._connected()
        until = datetime.now() + timedelta(days=90)
        return f"Sisa pulsa Rp 25.000. Masa aktif s/d {until:%d-%m-%Y}. (simulasi {ussd})"

    # sending -------------------------------------------------------------

    def longest_send(self, parts: int) -> float:
        """A simulated send takes send_delay per part, however long that is set."""
        return max(parts, 1) * self.send_delay + self.longest_exchange()

    def send(self, number: str, text: str, *, status_report: bool = True, resume: Resume | None = None) -> list[int]:
        if resume is not None:
            raise Unsupported(f"{self.name}: the simulated modem sends a message whole")
        self._connected()
        encoding, segments = sms_split(text)
        for index in range(len(segments)):
            # The delay of a real AT+CMGS, cut short when the modem is closed.
            if self._closing.wait(self.send_delay):
                raise ModemGone(f"{self.name}: closed while sending to {for_log(number)}")
            if index == 0:
                self._maybe_fail(number)
        references = [self._take_reference() for _ in segments]
        sent_at = datetime.now().astimezone().replace(microsecond=0)
        record = {
            "time": sent_at.isoformat(),
            "number": number,
            "text": text,
            "encoding": encoding,
            "parts": len(segments),
            "references": references,
            "status_report": status_report,
        }
        self._record_sent(record)
        if status_report:
            for reference in references:
                self._schedule_report(reference, number, sent_at)
        log.info("%s: sent %d part(s) to %s, references %s", self.name, len(segments), for_log(number), references)
        return references

    def _maybe_fail(self, number: str) -> None:
        if number_key(number) in self.fail_numbers:
            raise CmsError(FAIL_NUMBER_CMS, "simulated: number listed in fail_numbers", "AT+CMGS")
        if self.failure_rate and self.random.random() < self.failure_rate:
            raise CmsError(
                FAILURE_RATE_CMS, f"simulated network failure (failure_rate = {self.failure_rate})", "AT+CMGS"
            )

    def _take_reference(self) -> int:
        reference = self._next_reference
        self._next_reference = (reference + 1) % 256
        return reference

    def _record_sent(self, record: dict[str, Any]) -> None:
        self.sent.append(record)
        if len(self.sent) > SENT_KEPT:
            del self.sent[:-SENT_KEPT]  # bounded: it grew by ~0.2 KiB per send for the daemon's lifetime
        try:
            fd = os.open(self.spool / SENT_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE)
            with os.fdopen(fd, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        except OSError as exc:
            # The message did leave; only the demo's record of it is missing.
            log.warning("%s: cannot append to %s: %s", self.name, self.spool / SENT_LOG, exc)

    def _schedule_report(self, reference: int, number: str, sent_at: datetime) -> None:
        discharge = (sent_at + timedelta(seconds=self.report_delay)).replace(microsecond=0)
        handle = f"report-{next(self._report_ids)}"
        try:
            report_pdu = tpdu.encode_status_report(
                reference, number, status=0, smsc_time=sent_at, discharge_time=discharge, smsc=SIM_SMSC
            )
        except PduError as exc:
            log.debug("no PDU for the simulated report to %r: %s", number, exc)
            report_pdu = ""
        report = StatusReport(
            reference=reference,
            recipient=number,
            delivered=True,
            final=True,
            status_code=0,
            smsc_time=sent_at,
            discharge_time=discharge,
            pdu=report_pdu,
            handle=handle,
        )
        with self._lock:
            self._reports[handle] = _PendingReport(time.monotonic() + self.report_delay, report)

    # receiving -----------------------------------------------------------

    def receive(self) -> list[IncomingSMS]:
        self._connected()
        fresh: list[IncomingSMS] = []
        for path in incoming_files(self.spool):
            if str(path) in self._handed:
                continue
            message = read_incoming(path)
            self._handed.add(str(path))
            fresh.append(message)
        return fresh

    def status_reports(self) -> list[StatusReport]:
        self._connected()
        now = time.monotonic()
        due: list[StatusReport] = []
        with self._lock:
            for pending in self._reports.values():
                if not pending.handed and pending.due <= now:
                    pending.handed = True
                    due.append(pending.report)
        return due

    def acknowledge(self, item: IncomingSMS | StatusReport) -> None:
        self._connected()
        if isinstance(item, StatusReport):
            with self._lock:
                self._reports.pop(str(item.handle), None)
            return
        path = str(item.handle)
        if Path(path).parent != self.spool:
            raise ModemError(f"{self.name}: {path} is not a message of this simulated modem")
        Path(path).unlink(missing_ok=True)
        self._handed.discard(path)
