"""What the daemon's threads know about each other's modems, and what the web UI sees of it.

:class:`HealthBoard` is shared by the workers (in memory, under a lock): which
modems are ready to send, so that a resting or absent modem's traffic goes to
the others, and one Event per worker to wake it. :func:`save_status` writes a
modem's health to its :class:`~modemd.store.models.ModemStatus` row for the web UI
and ``modemd status``.

A status row outlives its modem: an unplugged modem, or one whose daemon
stopped, keeps the signal of its last health check. :func:`signal_current`
says whether that figure is still being read; where it is not, the dashboard
and ``modemd status`` show its age instead of presenting it as the present.
``last_contact`` is when it was read: the worker writes both together.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

from modemd.send.outbound import Eligibility
from modemd.store.models import ModemStatus, utcnow

#: states in which a modem keeps its routed traffic: "starting" too, so that at start-up the first
#: modem to connect does not take the messages meant for one that is a moment slower; a modem that
#: cannot connect turns "absent" and its traffic then moves
SENDING_STATES = frozenset({"ready", "starting"})

#: how ModemStatus.last_error begins while a modem's SIM is full: the network then holds back new SMS,
#: so reception stops although the modem still sends (its state stays "ready")
SIM_FULL = "SIM full"

#: states in which the worker talks to its modem and reads its signal at every health check
LIVE_STATES = frozenset({"ready", "resting"})
#: a signal older than this was missed by three health checks (worker.HEALTH_INTERVAL is 30 s): nobody reads it
SIGNAL_FRESH = timedelta(seconds=90)


class HealthBoard:
    def __init__(self, routing: dict[str, list[str]] | None = None):
        self.routing = routing or {}
        self._lock = threading.Lock()
        self._states: dict[str, str] = {}
        self._wakes: dict[str, threading.Event] = {}
        self._signals: dict[str, int | None] = {}

    def register(self, name: str, wake: threading.Event) -> None:
        with self._lock:
            self._wakes[name] = wake
            self._states.setdefault(name, "starting")

    def set_state(self, name: str, state: str) -> None:
        """Record a modem's state; when it stops or starts sending, the others re-check their queue."""
        with self._lock:
            before = self._states.get(name)
            self._states[name] = state
        if (before in SENDING_STATES) != (state in SENDING_STATES):
            self.wake_all()

    def set_signal(self, name: str, dbm: int | None) -> None:
        with self._lock:
            self._signals[name] = dbm

    def state(self, name: str) -> str:
        with self._lock:
            return self._states.get(name, "unknown")

    def states(self) -> dict[str, str]:
        with self._lock:
            return dict(self._states)

    def signals(self) -> dict[str, int | None]:
        with self._lock:
            return dict(self._signals)

    def healthy(self) -> frozenset[str]:
        with self._lock:
            return frozenset(name for name, state in self._states.items() if state in SENDING_STATES)

    def eligibility(self, name: str) -> Eligibility:
        return Eligibility.build(name, self.healthy(), self.routing)

    def wake_all(self) -> None:
        with self._lock:
            wakes = list(self._wakes.values())
        for wake in wakes:
            wake.set()


def save_status(name: str, **fields: Any) -> None:
    """Write (part of) a modem's health row, creating it the first time."""
    fields["updated_at"] = utcnow()
    if not ModemStatus.update(**fields).where(ModemStatus.name == name).execute():
        ModemStatus.insert(name=name, **fields).on_conflict_ignore().execute()
        ModemStatus.update(**fields).where(ModemStatus.name == name).execute()


def clear_error(name: str, prefix: str) -> None:
    """Clear a modem's last_error if it still begins with ``prefix``; an error written since then stays."""
    ModemStatus.update(last_error=None, updated_at=utcnow()).where(
        (ModemStatus.name == name) & ModemStatus.last_error.startswith(prefix)
    ).execute()


def signal_current(status: ModemStatus, now: datetime) -> bool:
    """Whether the status row's signal figure is live: the modem is talked to and was read lately."""
    return status.state in LIVE_STATES and status.last_contact is not None and now - status.last_contact <= SIGNAL_FRESH


def storage_full(used: int | None, total: int | None) -> bool:
    """True when SMS storage figures say there is no room (a total of 0 or None says nothing)."""
    return total is not None and total != 0 and used is not None and used >= total


def shows_sim_full(status: ModemStatus) -> bool:
    """Whether a modem's status row says its SIM is full: by its last storage figures or the worker's note."""
    return storage_full(status.storage_used, status.storage_total) or (status.last_error or "").startswith(SIM_FULL)
