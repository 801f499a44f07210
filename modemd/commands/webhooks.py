"""``modemd webhooks``: the webhook deliveries and each attempt; queue failed ones again."""

from __future__ import annotations

import sys

from modemd.store.models import WEBHOOK_STATES, WebhookAttempt, WebhookDelivery
from modemd.webhooks import deliveries

from .. import localtime
from . import open_configured_database, print_json, print_table

HELP = "list webhook deliveries with every attempt (time, status code or error, duration); retry failed ones"

TIMES = ("created_at", "next_attempt_at", "give_up_at", "last_attempt_at", "delivered_at")


def configure(parser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    listing = sub.add_parser("list", help="newest deliveries first (the default)")
    listing.add_argument("--state", choices=WEBHOOK_STATES, default=None, help="only deliveries in this state")
    listing.add_argument("--limit", type=int, default=50, help="newest N deliveries (default 50; 0 = all)")
    listing.add_argument("--json", action="store_true", help="print as JSON, with every attempt")
    retry = sub.add_parser("retry", help="queue failed deliveries again now, for another 24 hours")
    retry.add_argument("ids", nargs="*", type=int, metavar="ID", help="delivery ids (see `modemd webhooks list`)")
    retry.add_argument("--all-failed", action="store_true", help="every failed delivery")
    parser.set_defaults(action=None, state=None, limit=50, json=False)


def attempt_row(attempt: WebhookAttempt) -> dict:
    return {
        "at": attempt.at,
        "url": attempt.url,
        "status_code": attempt.status_code,
        "error": attempt.error,
        "duration_ms": attempt.duration_ms,
    }


def delivery_row(delivery: WebhookDelivery, attempts: list[WebhookAttempt]) -> dict:
    """One delivery as `modemd webhooks list --json` prints it (times still as stored: naive UTC)."""
    return {
        "id": delivery.id,
        "event": delivery.event,
        "event_id": delivery.event_id,
        "endpoint": delivery.endpoint,
        "url": delivery.url,
        "state": delivery.state,
        "attempts": delivery.attempts,
        "last_error": delivery.last_error,
        "created_at": delivery.created_at,
        "next_attempt_at": delivery.next_attempt_at if delivery.state == "pending" else None,
        "give_up_at": delivery.give_up_at,
        "last_attempt_at": delivery.last_attempt_at,
        "delivered_at": delivery.delivered_at,
        "attempt_log": [attempt_row(a) for a in attempts],
    }


def main(args) -> int:
    config, _database = open_configured_database(args)
    if args.action == "retry":
        if bool(args.ids) == bool(args.all_failed):
            print("modemd webhooks retry: give delivery ids or --all-failed (not both)", file=sys.stderr)
            return 2
        count = deliveries.retry(None if args.all_failed else args.ids, "cli")
        print(f"{count} delivery(ies) queued again; the running daemon posts them within seconds")
        return 0 if count or args.all_failed else 1
    if args.limit < 0:
        print("modemd webhooks: --limit must be 0 or more", file=sys.stderr)
        return 2
    rows = deliveries.recent(args.state, args.limit)
    attempts = deliveries.attempts_of(r.id for r in rows)
    documents = [delivery_row(r, attempts.get(r.id, [])) for r in rows]
    zone = config.timezone
    if args.json:
        for document in documents:
            localtime.in_zone(document, TIMES, zone, localtime.iso)
            for attempt in document["attempt_log"]:
                localtime.in_zone(attempt, ("at",), zone, localtime.iso)
        print_json(documents)
        return 0
    for document in documents:
        localtime.in_zone(document, TIMES, zone, localtime.human)
        last = document["attempt_log"][-1] if document["attempt_log"] else None
        document["last"] = (
            ""
            if last is None
            else f"{last['status_code'] or '-'} {last['duration_ms']} ms {last['error'] or ''}".strip()
        )
    print_table(documents, ["id", "event", "endpoint", "state", "attempts", "created_at", "next_attempt_at", "last"])
    return 0
