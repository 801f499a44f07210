"""What the daemon's threads know about each other's modems, and what the web UI sees of it.

:class:`HealthBoard` is shared by the workers (in memory, under a lock): which
modems are ready to send, so that a resting or absent modem's traffic goes to
the others, and one Event per worker to wake it. :func:`save_status` writes a
modem's health to its :class:`~modemd.models.ModemStatus` row for the web UI
and ``modemd status``.
"""

from __future__ import annotations

import threading
from typing import Any

from .models import ModemStatus, utcnow
from .outbound import Eligibility

#: states in which a modem keeps its routed traffic: "starting" too, so that at start-up the first
#: modem to connect does not take the messages meant for one that is a moment slower; a modem that
#: cannot connect turns "absent" and its traffic then moves
SENDING_STATES = frozenset({"ready", "starting"})


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
