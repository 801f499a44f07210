"""``modemd status``: each modem's health as the daemon last wrote it, and the queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import peewee

from modemd.run import heartbeat
from modemd.run.health import signal_current
from modemd.store.models import ModemStatus, OutboundMessage, utcnow

from .. import localtime
from ..states import OutboundState
from . import open_configured_database, print_json, print_table

if TYPE_CHECKING:
    from ..config import Config

#: the message states `modemd status` counts, in the order it prints them
QUEUE_COUNTS = (
    OutboundState.PENDING,
    OutboundState.SENDING,
    OutboundState.FAILED,
    OutboundState.SENT,
    OutboundState.DELIVERED,
)

HELP = "show the modems (signal, registration, errors) and the depth of the outbound queue"


def configure(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print as JSON")


def daemon_heartbeat() -> tuple[bool, datetime | None]:
    """(whether a daemon is running, the UTC time of the last heartbeat), from the database."""
    return heartbeat.running(), heartbeat.last_beat()


def age_text(age: timedelta) -> str:
    """How long ago, for a terminal: "40 s", "12 min", "2 h", "3 d"."""
    seconds = max(int(age.total_seconds()), 0)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def signal_text(modem: dict, now: datetime) -> str:
    """The signal column: "-71 dBm", or "-71 dBm, last read 2 h ago" when nobody reads it any more."""
    if modem["signal_dbm"] is None:
        return "unknown"
    if modem["signal_current"] or modem["signal_read_at"] is None:
        return f"{modem['signal_dbm']} dBm"
    return f"{modem['signal_dbm']} dBm, last read {age_text(now - datetime.fromisoformat(modem['signal_read_at']))} ago"


def _human_time(iso: str | None, zone) -> str | None:
    return localtime.human(datetime.fromisoformat(iso), zone) if iso else None


def gather(config: Config) -> dict:
    """Everything `modemd status` shows, as plain data (times in the centre's zone, ISO 8601 with offset)."""
    now = utcnow()
    zone = config.timezone
    counts = dict(
        OutboundMessage.select(OutboundMessage.state, peewee.fn.COUNT(OutboundMessage.id))
        .group_by(OutboundMessage.state)
        .tuples()
    )
    running, heartbeat = daemon_heartbeat()
    rows = {row.name: row for row in ModemStatus.select()}
    modems = []
    for name, modem in config.modems.items():
        row = rows.get(name)
        modems.append(
            {
                "name": name,
                "driver": modem.driver,
                "enabled": modem.enabled,
                "state": (row.state if row else "unknown") if modem.enabled else "disabled",
                "signal_dbm": row.signal_dbm if row else None,
                # a row outlives its modem: whether the signal is still read, and when it was
                "signal_current": row is not None and signal_current(row, now),
                "signal_read_at": localtime.iso(row.last_contact, zone) if row and row.signal_dbm is not None else None,
                "registration": row.registration if row else None,
                "operator": row.operator if row else None,
                "errors": row.errors if row else None,
                "last_error": row.last_error if row else None,
                "last_contact": localtime.iso(row.last_contact, zone) if row else None,
                "queue_depth": row.queue_depth if row else None,
                "sent_total": row.sent_total if row else 0,
                "received_total": row.received_total if row else 0,
                "storage": f"{row.storage_used}/{row.storage_total}" if row and row.storage_total is not None else None,
                "balance": row.balance if row else None,
                "balance_at": localtime.iso(row.balance_at, zone) if row and row.balance_at else None,
                "updated_at": localtime.iso(row.updated_at, zone) if row else None,
            }
        )
    return {
        "daemon": {"running": running, "heartbeat": localtime.iso(heartbeat, zone) if heartbeat else None},
        "queue": {
            **{state.value: counts.get(state, 0) for state in QUEUE_COUNTS},
            "in_doubt": OutboundMessage.select().where(OutboundMessage.doubt == True).count(),  # noqa: E712 (a peewee expression)
        },
        "modems": modems,
    }


def main(args) -> int:
    """Print the modems and queue; exit status 0 even when the daemon is not running (it says so)."""
    config, _database = open_configured_database(args)
    data = gather(config)
    if args.json:
        print_json(data)
        return 0
    now = datetime.now(UTC)
    for modem in data["modems"]:
        modem["signal"] = signal_text(modem, now)
        modem["last_contact"] = _human_time(modem["last_contact"], config.timezone)
    daemon = data["daemon"]
    print(
        f"daemon: {'running' if daemon['running'] else 'NOT RUNNING'} "
        f"(last heartbeat {_human_time(daemon['heartbeat'], config.timezone) or 'never'})"
    )
    queue = data["queue"]
    print(
        f"queue: {queue['pending']} pending, {queue['sending']} sending, {queue['failed']} failed, "
        f"{queue['in_doubt']} in doubt"
    )
    print_table(
        data["modems"],
        [
            "name",
            "driver",
            "state",
            "signal",
            "registration",
            "operator",
            "errors",
            "queue_depth",
            "last_contact",
            "last_error",
        ],
    )
    return 0
