"""``modemd status``: each modem's health as the daemon last wrote it, and the queue."""

from __future__ import annotations

from datetime import timedelta

import peewee

from ..models import DaemonState, ModemStatus, OutboundMessage, utcnow
from . import open_configured_database, print_json, print_table

HELP = "show the modems (signal, registration, errors) and the depth of the outbound queue"

#: the daemon writes its heartbeat every few seconds; older than this, it is not running
HEARTBEAT_STALE = timedelta(seconds=30)


def configure(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print as JSON")


def daemon_heartbeat() -> tuple[bool, str | None]:
    """(whether a daemon is running, its last heartbeat as written), from the database."""
    heartbeat = DaemonState.get_or_none(DaemonState.key == "daemon_heartbeat")
    running = heartbeat is not None and utcnow() - heartbeat.updated_at < HEARTBEAT_STALE
    return running, heartbeat.value if heartbeat else None


def gather(config) -> dict:
    """Everything `modemd status` shows, as plain data."""
    counts = dict(OutboundMessage.select(OutboundMessage.state, peewee.fn.COUNT(OutboundMessage.id))
                  .group_by(OutboundMessage.state).tuples())
    running, heartbeat = daemon_heartbeat()
    rows = {row.name: row for row in ModemStatus.select()}
    modems = []
    for name, modem in config.modems.items():
        row = rows.get(name)
        modems.append({
            "name": name, "driver": modem.driver, "enabled": modem.enabled,
            "state": (row.state if row else "unknown") if modem.enabled else "disabled",
            "signal_dbm": row.signal_dbm if row else None, "registration": row.registration if row else None,
            "operator": row.operator if row else None, "errors": row.errors if row else None,
            "last_error": row.last_error if row else None, "last_contact": row.last_contact if row else None,
            "queue_depth": row.queue_depth if row else None, "sent_total": row.sent_total if row else 0,
            "received_total": row.received_total if row else 0,
            "storage": f"{row.storage_used}/{row.storage_total}" if row and row.storage_total is not None else None,
            "balance": row.balance if row else None, "balance_at": row.balance_at if row else None,
            "updated_at": row.updated_at if row else None,
        })
    return {
        "daemon": {"running": running, "heartbeat": heartbeat},
        "queue": {"pending": counts.get("pending", 0), "sending": counts.get("sending", 0),
                  "failed": counts.get("failed", 0), "sent": counts.get("sent", 0),
                  "delivered": counts.get("delivered", 0),
                  "in_doubt": OutboundMessage.select().where(OutboundMessage.doubt == True).count()},
        "modems": modems,
    }


def main(args) -> int:
    """Print the modems and queue; exit status 0 even when the daemon is not running (it says so)."""
    config, _database = open_configured_database(args)
    data = gather(config)
    if args.json:
        print_json(data)
        return 0
    daemon = data["daemon"]
    print(f"daemon: {'running' if daemon['running'] else 'NOT RUNNING'} (last heartbeat {daemon['heartbeat'] or 'never'} UTC)")
    queue = data["queue"]
    print(f"queue: {queue['pending']} pending, {queue['sending']} sending, {queue['failed']} failed, "
          f"{queue['in_doubt']} in doubt")
    print_table(data["modems"], ["name", "driver", "state", "signal_dbm", "registration", "operator", "errors",
                                 "queue_depth", "last_contact", "last_error"])
    return 0
