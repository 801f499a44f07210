"""Stored times shown in the centre's own time zone, with the zone said.

The database keeps naive UTC (see :func:`modemd.store.models.utcnow`). People read
the centre's local time: ``2026-12-02 14:05 WIB`` on a terminal, ISO 8601
with the offset (``2026-12-02T14:05:00+07:00``) for scripts. A time without
its zone is never printed: in Jayapura "07:05" would be nine hours off.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def to_local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """A stored naive-UTC time as an aware time in ``zone`` (an aware time is converted as it is)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone)


def iso(moment: datetime | None, zone: ZoneInfo) -> str | None:
    """ISO 8601 with the offset, to the second, for ``--json``."""
    local = to_local(moment, zone)
    return local.isoformat(timespec="seconds") if local else None


def human(moment: datetime | None, zone: ZoneInfo) -> str:
    """``2026-12-02 14:05 WIB`` for people; empty for no time."""
    local = to_local(moment, zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}" if local else ""


def in_zone(row: dict, keys, zone: ZoneInfo, shown=iso) -> dict:
    """``row`` with the times under ``keys`` replaced by ``shown(time, zone)`` (changed in place, returned)."""
    for key in keys:
        row[key] = shown(row.get(key), zone)
    return row
