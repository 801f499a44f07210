"""Who else holds a serial port open, and what to tell the technician.

Two programs reading one modem port garble each other's answers, so the AT
driver refuses a port that another process has open. The usual culprit on a
desktop Linux is ModemManager, which probes every new ttyUSB.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Holder:
    pid: int
    name: str  # from /proc/<pid>/comm, e.g. "ModemManager"


def holders(device: str, proc: str = "/proc") -> list[Holder]:
    """Other processes with ``device`` (or the file its symlink points to) open."""
    target = os.path.realpath(device)
    own = os.getpid()
    found: list[Holder] = []
    try:
        entries = os.listdir(proc)
    except OSError:
        return found
    for entry in entries:
        if not entry.isdigit() or int(entry) == own:
            continue
        if _holds(os.path.join(proc, entry, "fd"), target):
            found.append(Holder(int(entry), _name(os.path.join(proc, entry, "comm"))))
    return found


def _holds(fd_dir: str, target: str) -> bool:
    try:
        fds = os.listdir(fd_dir)
    except OSError:  # not ours to look at, or the process just ended
        return False
    for fd in fds:
        try:
            if os.readlink(os.path.join(fd_dir, fd)) == target:
                return True
        except OSError:
            continue
    return False


def _name(comm_path: str) -> str:
    try:
        with open(comm_path, encoding="utf-8", errors="replace") as comm:
            return comm.read().strip() or "?"
    except OSError:
        return "?"


def busy_message(device: str, found: list[Holder]) -> str:
    """A plain-language explanation naming the holders and how to free the port."""
    who = ", ".join(f"{h.name} (pid {h.pid})" for h in found) or "another program"
    text = f"{device} is already in use by {who}; modemd cannot share a modem port."
    if any(h.name.lower().startswith("modemmanager") for h in found):
        text += (
            " Stop ModemManager with `systemctl stop ModemManager` and `systemctl disable ModemManager`,"
            ' or keep it away from this modem with a udev rule setting ENV{ID_MM_DEVICE_IGNORE}="1".'
        )
    else:
        text += " Stop that program (or point it at another port) and modemd will connect on its next attempt."
    return text
