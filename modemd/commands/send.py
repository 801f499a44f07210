"""``modemd send NUMBER TEXT``: queue one SMS, as the web UI would, and print its id."""

from __future__ import annotations

import sys

from . import open_configured_database

HELP = "queue an SMS to a number and print its id (the running daemon sends it within a second)"


def configure(parser) -> None:
    parser.add_argument("number", help="the recipient, e.g. 0812xxxxxxxx, 62812xxxxxxxx or +62812xxxxxxxx")
    parser.add_argument("text", help="the message (long texts go as one concatenated SMS)")
    parser.add_argument(
        "--modem", default=None, metavar="NAME", help="send through this [modem:NAME] while it is healthy"
    )


def main(args) -> int:
    """Queue the message; exit status 2 for a bad number, empty text or unknown modem."""
    from modemd.send import outqueue
    from modemd.sms import phone

    config, _database = open_configured_database(args)
    if args.modem is not None and args.modem not in config.modems:
        known = ", ".join(config.modems) or "none configured"
        print(f"modemd send: no [modem:{args.modem}] in {config.path} (modems: {known})", file=sys.stderr)
        return 2
    try:
        message = outqueue.enqueue(args.number, args.text, "manual", config=config, preferred_modem=args.modem)
    except phone.InvalidNumber as exc:
        print(f"modemd send: {exc}", file=sys.stderr)
        return 2
    except outqueue.EmptyMessage as exc:
        print(f"modemd send: {exc}", file=sys.stderr)
        return 2
    print(message.id)
    return 0
