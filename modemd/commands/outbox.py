"""``modemd outbox``: the outbound queue and what became of each message."""

from __future__ import annotations

import sys

from modemd.send import failures
from modemd.store.models import OUTBOUND_STATES, OutboundMessage

from .. import localtime
from . import open_configured_database, print_json, print_table

HELP = "list outgoing SMS with their state (pending, sending, sent, delivered, failed, cancelled)"


def configure(parser) -> None:
    parser.add_argument("--status", choices=OUTBOUND_STATES, default=None, help="only messages in this state")
    parser.add_argument("--limit", type=int, default=50, help="newest N messages (default 50; 0 = all)")
    parser.add_argument("--json", action="store_true", help="print as JSON")


#: the row's times, shown in the centre's time zone
TIMES = ("created_at", "next_attempt_at", "sent_at", "delivered_at", "expires_at")


def outbox_row(message: OutboundMessage) -> dict:
    """One message as `modemd outbox --json` prints it (times still as stored: naive UTC)."""
    return {
        "id": message.id,
        "number": message.recipient,
        "text": message.text,
        "kind": message.kind,
        "keyword": message.case.keyword if message.case_id else None,
        "owner": message.case.owner.login if message.case_id and message.case.owner_id else None,
        "case": message.case_id,
        "status": message.state,
        "attempts": message.attempts,
        "max_attempts": message.max_attempts,
        "parts": message.parts,
        "encoding": message.encoding,
        "modem": message.modem,
        "doubt": message.doubt,
        "failure_reason": message.failure_reason,
        # the +CMS ERROR cause and what it means, in the words the web UI shows (modemd/drivers/causes.py)
        "failure_code": message.failure_code,
        "failure_text": failures.plain(message.failure_code, message.failure_reason, message.state) or None,
        "created_at": message.created_at,
        "next_attempt_at": message.next_attempt_at,
        "sent_at": message.sent_at,
        "delivered_at": message.delivered_at,
        "expires_at": message.expires_at,
    }


def main(args) -> int:
    """Print the newest messages, optionally of one state."""
    config, _database = open_configured_database(args)
    query = OutboundMessage.select().order_by(OutboundMessage.id.desc())
    if args.status:
        query = query.where(OutboundMessage.state == args.status)
    if args.limit < 0:
        print("modemd outbox: --limit must be 0 or more", file=sys.stderr)
        return 2
    if args.limit:
        query = query.limit(args.limit)
    rows = [outbox_row(m) for m in query]
    if args.json:
        print_json([localtime.in_zone(row, TIMES, config.timezone, localtime.iso) for row in rows])
    else:
        for row in rows:
            localtime.in_zone(row, TIMES, config.timezone, localtime.human)
            row["text"] = _short(row["text"])
            row["status"] = row["status"] + ("?" if row["doubt"] else "")
            row["reason"] = row["failure_text"] or ""
        print_table(rows, ["id", "number", "status", "attempts", "parts", "modem", "created_at", "text", "reason"])
    return 0


def _short(text: str, width: int = 50) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."
