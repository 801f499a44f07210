"""Which serial port is the modem: the probing behind ``modemd detect``.

A USB stick brings up several ports of which one does SMS (Huawei: MODEM,
DIAG and PCUI, per the MU609 application guide's "port sequence on Linux"), a
PC has ttyS ports with nothing behind them, and a serial modem may be set to
9600 baud. Each port is asked briefly, at the usual rates in turn, whether it
answers ``AT``; one that does is asked what it is (AT+CGMI, AT+CGMM,
AT+CGSN), how its SIM is (AT+CPIN?) and whether it does SMS (AT+CMGF=0,
AT+CPMS?, AT+CNMI=?). Nothing is changed that a later connect would not set
again, and no message is read.

A port another process holds (a running modemd, ModemManager) is never
opened: that process is named instead (:mod:`.porthold`). Ports are probed in
parallel, each in a daemon thread, and the scan ends after a bounded total
time whatever the ports do.
"""

from __future__ import annotations

import glob
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from enum import Enum

from . import porthold
from .atanswers import info_value, sim_state, storage_figures
from .atline import USUAL_BAUDRATES, ATLine, CommandError, CommandTimeout, open_answering
from .base import CmeError, CmsError, ModemGone, PortBusy

DEFAULT_PATTERNS = ("/dev/serial/by-id/*", "/dev/ttyUSB*", "/dev/ttyACM*", "/dev/ttyS*")
BY_ID = "/dev/serial/by-id"
#: seconds a port that answers AT may refuse SMS commands before it counts as "no SMS"
SMS_READY_PATIENCE = 3.0


class Verdict(str, Enum):  # noqa: UP042 (str() and format() of a StrEnum differ: kept as written)
    SMS = "sms"  # answers AT and does SMS: a port to use
    AT_ONLY = "at-only"  # answers AT but refuses SMS commands
    SILENT = "silent"  # no answer to AT at any rate tried
    BUSY = "busy"  # another program holds it
    UNUSABLE = "unusable"  # cannot be opened (no hardware behind a ttyS, permissions)
    UNFINISHED = "unfinished"  # still talking when the scan's time ran out


@dataclass
class PortReport:
    path: str  # as given or found
    device: str  # what it points to
    stable: str = ""  # a /dev/serial/by-id link to the same device
    verdict: Verdict = Verdict.SILENT
    baudrate: int | None = None
    manufacturer: str = ""
    model: str = ""
    imei: str = ""  # masked
    sim: str = ""  # READY, SIM PIN, ... or "" when unknown
    receives: bool = False  # stores messages and announces new ones
    holders: list[str] = field(default_factory=list)
    detail: str = ""

    @property
    def best_path(self) -> str:
        return self.stable or self.path

    def as_dict(self) -> dict:
        data = asdict(self)
        data["verdict"] = self.verdict.value
        return data


def mask_imei(imei: str) -> str:
    """Keep the type code (8 digits) and the last two: enough to tell sticks apart, not to clone one."""
    digits = imei.strip()
    if len(digits) < 11:
        return "*" * len(digits)
    return digits[:8] + "*" * (len(digits) - 10) + digits[-2:]


def stable_links(by_id_dir: str = BY_ID) -> dict[str, str]:
    """device -> its /dev/serial/by-id link (udev names that survive a replug)."""
    links: dict[str, str] = {}
    for link in sorted(glob.glob(os.path.join(by_id_dir, "*"))):
        links.setdefault(os.path.realpath(link), link)
    return links


def candidates(patterns: tuple[str, ...] = DEFAULT_PATTERNS) -> list[str]:
    """The ports to look at, each device once (its by-id link stands for it when there is one)."""
    seen: set[str] = set()
    found: list[str] = []
    for pattern in patterns:
        for path in sorted(glob.glob(pattern)):
            device = os.path.realpath(path)
            if device not in seen:
                seen.add(device)
                found.append(path)
    return found


def probe_port(
    path: str, *, rates: tuple[int, ...] = USUAL_BAUDRATES, timeout: float = 1.0, links: dict[str, str] | None = None
) -> PortReport:
    """Ask one port what it is. Never raises for what the port does."""
    device = os.path.realpath(path)
    report = PortReport(path=path, device=device, stable=(links or {}).get(device, ""))
    holders = porthold.holders(path)
    if holders:
        report.verdict = Verdict.BUSY
        report.holders = [f"{h.name} (pid {h.pid})" for h in holders]
        report.detail = porthold.busy_message(path, holders)
        return report
    try:
        line = open_answering(path, rates, timeout)
    except PortBusy as exc:
        report.verdict, report.detail = Verdict.BUSY, str(exc)
        return report
    except ModemGone as exc:
        report.verdict, report.detail = Verdict.UNUSABLE, str(exc)
        return report
    if line is None:
        report.detail = f"no answer to AT at {', '.join(str(r) for r in rates)} baud"
        return report
    try:
        report.baudrate = line.baudrate
        _ask(line, report, timeout)
    except (ModemGone, OSError) as exc:
        report.detail = f"stopped answering: {exc}"
    finally:
        line.close()
    return report


def _ask(line: ATLine, report: PortReport, timeout: float) -> None:
    def answer(command: str, **kw) -> list[str] | None:
        try:
            return line.command(command, timeout, **kw)
        except (CommandError, CmeError, CmsError, CommandTimeout):
            return None

    answer("ATE0")
    answer("AT+CMEE=1")
    report.manufacturer = info_value(answer("AT+CGMI") or [])
    report.model = info_value(answer("AT+CGMM") or [])
    report.imei = mask_imei(info_value(answer("AT+CGSN") or []))
    pin = answer("AT+CPIN?", final_grace=0.5)
    report.sim = sim_state(pin) if pin is not None else ""
    if not _sms_part_answers(answer):
        report.verdict = Verdict.AT_ONLY
        report.detail = "answers AT but refuses SMS commands (AT+CMGF=0)"
        return
    report.verdict = Verdict.SMS
    storage = storage_figures(answer("AT+CPMS?") or [])
    report.receives = storage is not None and answer("AT+CNMI=?") is not None


def _sms_part_answers(answer) -> bool:
    """AT+CMGF=0, again for a few seconds: a modem that just booted refuses SMS commands for a while
    (SIM800 until "SMS Ready")."""
    deadline = time.monotonic() + SMS_READY_PATIENCE
    while answer("AT+CMGF=0") is None:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.5)
    return True


def scan(
    paths: list[str],
    *,
    rates: tuple[int, ...] = USUAL_BAUDRATES,
    timeout: float = 1.0,
    total: float = 20.0,
    by_id_dir: str = BY_ID,
) -> list[PortReport]:
    """Probe all ``paths`` at once; after ``total`` seconds, ports still talking are reported unfinished."""
    links = stable_links(by_id_dir)
    results: dict[int, PortReport] = {}

    def work(position: int, path: str) -> None:
        results[position] = probe_port(path, rates=rates, timeout=timeout, links=links)

    threads = [threading.Thread(target=work, args=(i, p), name=f"detect {p}", daemon=True) for i, p in enumerate(paths)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + total
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    reports = []
    for position, path in enumerate(paths):
        report = results.get(position)
        if report is None:
            device = os.path.realpath(path)
            report = PortReport(
                path=path,
                device=device,
                stable=links.get(device, ""),
                verdict=Verdict.UNFINISHED,
                detail=f"still answering after {total:g} s",
            )
        reports.append(report)
    return reports


def choose(reports: list[PortReport]) -> list[PortReport]:
    """One port per modem (told apart by IMEI): the SMS port, one that also receives first."""
    best: dict[str, PortReport] = {}
    for report in reports:
        if report.verdict is not Verdict.SMS:
            continue
        key = report.imei or report.device
        current = best.get(key)
        if current is None or _rank(report) > _rank(current):
            best[key] = report
    return list(best.values())


def _rank(report: PortReport) -> tuple[bool, bool]:
    return (report.receives, bool(report.stable))


def ini_section(report: PortReport, name: str) -> str:
    """A ready ``[modem:NAME]`` section for modemd.ini."""
    lines = [f"[modem:{name}]", "driver = at", f"device = {report.best_path}"]
    if report.baudrate and report.baudrate != 115200:
        lines.append(f"baudrate = {report.baudrate}")
    about = " ".join(part for part in (report.manufacturer, report.model) if part) or "modem"
    lines.insert(1, f"; {about}, IMEI {report.imei or '?'}" + ("" if report.receives else "; sends only"))
    if report.sim == "SIM PIN":
        lines.append("; the SIM asks for its PIN: add a line  pin = <the PIN>")
    return "\n".join(lines) + "\n"
