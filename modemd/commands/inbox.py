"""``modemd inbox``: received SMS, how each was routed, and its case."""

from __future__ import annotations

import sys

import peewee

from modemd.store.models import Case, InboundMessage, User

from .. import localtime
from . import open_configured_database, print_json, print_table

HELP = "list received SMS with their keyword, owner and case"


def configure(parser) -> None:
    parser.add_argument(
        "--keyword",
        default=None,
        metavar="K",
        help="only this keyword (any case); 'unrouted' for messages without a known keyword",
    )
    parser.add_argument("--limit", type=int, default=50, help="newest N messages (default 50; 0 = all)")
    parser.add_argument("--json", action="store_true", help="print as JSON")


#: the row's times, shown in the centre's time zone
TIMES = ("deadline_at", "smsc_time", "received_at")


def inbox_row(message: InboundMessage) -> dict:
    """One message as `modemd inbox --json` prints it (times still as stored: naive UTC)."""
    case = message.case if message.case_id else None
    owner = case.owner.login if case is not None and case.owner_id else None
    return {
        "id": message.id,
        "number": message.sender,
        "sender_raw": message.sender_raw,
        "sender_kind": message.sender_kind,
        "text": message.text,
        "keyword": message.keyword,
        "owner": owner,
        "route": message.route,
        "case": message.case_id,
        "status": case.status if case is not None else None,
        "deadline_at": case.deadline_at if case is not None else None,
        "parts": message.parts_received,
        "parts_total": message.parts_total,
        "incomplete": message.incomplete,
        "modem": message.modem,
        "smsc_time": message.smsc_time,
        "received_at": message.received_at,
    }


def main(args) -> int:
    """Print the newest received messages, optionally of one keyword."""
    config, _database = open_configured_database(args)
    if args.limit < 0:
        print("modemd inbox: --limit must be 0 or more", file=sys.stderr)
        return 2
    query = (
        InboundMessage.select(InboundMessage, Case, User)
        .join(Case, on=(InboundMessage.case == Case.id), join_type=peewee.JOIN.LEFT_OUTER)
        .join(User, on=(Case.owner == User.id), join_type=peewee.JOIN.LEFT_OUTER)
        .order_by(InboundMessage.id.desc())
    )
    if args.keyword:
        if args.keyword.lower() == "unrouted":
            query = query.where(InboundMessage.route == "unrouted")
        else:
            query = query.where(InboundMessage.keyword == args.keyword.upper())
    if args.limit:
        query = query.limit(args.limit)
    rows = [inbox_row(m) for m in query]
    if args.json:
        print_json([localtime.in_zone(row, TIMES, config.timezone, localtime.iso) for row in rows])
    else:
        for row in rows:
            localtime.in_zone(row, TIMES, config.timezone, localtime.human)
            row["text"] = " ".join(row["text"].split())[:50]
        print_table(rows, ["id", "number", "keyword", "owner", "route", "case", "received_at", "text"])
    return 0
