"""Whether a daemon runs on this database: each daemon beats under its own key, and a clean stop says so.

Every few seconds a daemon writes the shared ``daemon_heartbeat`` (the last
beat of any daemon: what ``modemd status`` shows) and its own
``daemon_heartbeat.<instance>``. A daemon counts as running while its own key
is fresh (:data:`STALE`); a clean stop writes :data:`STOPPED` there, so
``modemd db restore`` right after ``systemctl stop modemd`` is not refused
for half a minute, while a daemon on another PC still counts. A database
with no instance key (written by an older daemon) falls back to the shared one.
"""

from __future__ import annotations

from datetime import timedelta

from modemd.store.models import DaemonState, utcnow

KEY = "daemon_heartbeat"
STALE = timedelta(seconds=30)
STOPPED = "stopped"
_PREFIX = f"{KEY}."


def instance_key(instance: str) -> str:
    return (_PREFIX + instance)[: DaemonState.key.max_length]


def beat(instance: str) -> None:
    now = utcnow().isoformat(timespec="seconds")
    DaemonState.put(KEY, now)
    DaemonState.put(instance_key(instance), now)


def stopped(instance: str) -> None:
    """A clean stop: this daemon no longer counts as running."""
    DaemonState.put(instance_key(instance), STOPPED)


def running() -> bool:
    """A daemon beat less than :data:`STALE` ago and has not stopped cleanly since."""
    fresh = utcnow() - STALE
    instances = list(DaemonState.select().where(DaemonState.key.startswith(_PREFIX)))
    if instances:
        return any(row.value != STOPPED and row.updated_at > fresh for row in instances)
    shared = DaemonState.get_or_none(DaemonState.key == KEY)
    return shared is not None and shared.updated_at > fresh


def last_beat():
    """The naive-UTC time of any daemon's last beat, or None."""
    shared = DaemonState.get_or_none(DaemonState.key == KEY)
    return shared.updated_at if shared else None
