"""``modemd privacy purge``: purge citizens' numbers of long-closed cases now (see :mod:`modemd.jobs.privacy`)."""

from __future__ import annotations

import sys
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from . import open_configured_database, print_json

if TYPE_CHECKING:
    from ..config import Config

HELP = "personal data: `modemd privacy purge --before DATE` masks the numbers of cases closed before DATE"


def configure(parser) -> None:
    sub = parser.add_subparsers(dest="privacy_command", metavar="ACTION")
    sub.required = True
    purge = sub.add_parser(
        "purge", help="replace citizens' numbers of cases closed before DATE by a masked, salted form"
    )
    purge.add_argument(
        "--before",
        metavar="DATE",
        help="YYYY-MM-DD, a day in the centre's time zone (default: today minus [privacy] keep_days)",
    )
    purge.add_argument("--json", action="store_true", help="print the counts as JSON")
    senders = sub.add_parser(
        "senders", help="how many citizens wrote, and how many opened more than one case (purged numbers included)"
    )
    senders.add_argument("--since", metavar="DATE", help="YYYY-MM-DD: only cases opened from this day on")
    senders.add_argument("--json", action="store_true", help="print as JSON")


def _cutoff(text: str | None, config: Config) -> datetime | None:
    """The start of day ``text`` in the centre's time zone as naive UTC; None (and a message) if unusable."""
    from modemd.jobs import privacy
    from modemd.store.models import utcnow

    if text is None:
        keep_days = config.privacy.keep_days
        if not keep_days:
            print("modemd: give --before DATE (or set [privacy] keep_days in modemd.ini)", file=sys.stderr)
            return None
        return privacy.cutoff(keep_days)
    start = _day_start(text, config, "--before")
    if start is None:
        return None
    if date.fromisoformat(text) > datetime.now(config.timezone).date():
        print(
            f"modemd: --before {text}: a day in the future would also purge cases closed later today", file=sys.stderr
        )
        return None
    return min(start, utcnow())


def _day_start(text: str, config: Config, option: str) -> datetime | None:
    from modemd.store.models import to_utc_naive

    try:
        day = date.fromisoformat(text)
    except ValueError:
        print(f"modemd: {option} {text!r}: expected a date such as 2026-01-31", file=sys.stderr)
        return None
    return to_utc_naive(datetime.combine(day, time(0), tzinfo=config.timezone))


def senders(args, config: Config) -> int:
    """Citizens and repeat senders; a purged number counts with the same number's later cases."""
    from modemd.jobs import privacy

    since = None
    if args.since is not None:
        since = _day_start(args.since, config, "--since")
        if since is None:
            return 2
    counts = privacy.cases_per_sender(privacy.load_salt(privacy.salt_path(config)), since)
    figures = {
        "senders": len(counts),
        "repeat_senders": sum(1 for n in counts.values() if n > 1),
        "cases": sum(counts.values()),
    }
    if args.json:
        print_json(figures)
    else:
        print(
            f"{figures['senders']} citizen(s) opened {figures['cases']} case(s); "
            f"{figures['repeat_senders']} of them more than one"
        )
    return 0


def main(args) -> int:
    from modemd.jobs import privacy

    config, database = open_configured_database(args)
    try:
        if args.privacy_command == "senders":
            return senders(args, config)
        before = _cutoff(args.before, config)
        if before is None:
            return 2
        result = privacy.purge(before, privacy.load_salt(privacy.salt_path(config)), "cli")
    finally:
        database.close()
    if args.json:
        print_json(result.as_dict())
    else:
        print(
            f"purged the numbers of {result.cases} case(s) closed before {result.before:%Y-%m-%d %H:%M} UTC "
            f"({result.numbers} number(s), {result.messages} message(s), {result.replies} reply(ies))"
        )
    return 0
