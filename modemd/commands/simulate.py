"""``modemd simulate NUMBER TEXT``: a citizen's SMS arriving at a simulated modem (demo, tests)."""

from __future__ import annotations

import sys

from ..drivers import inject_simulated
from . import load_config_or_exit

HELP = "inject an incoming SMS into a driver = sim modem, as if a citizen had sent it"


def configure(parser) -> None:
    parser.add_argument("number", help="the citizen's number (or any sender, e.g. TELKOMSEL)")
    parser.add_argument("text", help="the message, e.g. 'DISHUB lampu merah mati'")
    parser.add_argument("--modem", default=None, metavar="NAME", help="which sim modem (default: the first one)")


def main(args) -> int:
    """Write the message into the simulated SIM; the running daemon picks it up within a second."""
    config = load_config_or_exit(args)
    sims = [m for m in config.modems.values() if m.driver == "sim"]
    if args.modem is not None:
        chosen = config.modems.get(args.modem)
        if chosen is None or chosen.driver != "sim":
            names = ", ".join(m.name for m in sims) or "none"
            print(
                f"modemd simulate: [modem:{args.modem}] is not a driver = sim modem (sim modems: {names})",
                file=sys.stderr,
            )
            return 2
    elif not sims:
        print(
            f"modemd simulate: {config.path} has no driver = sim modem; add e.g.\n  [modem:demo]\n  driver = sim",
            file=sys.stderr,
        )
        return 2
    else:
        chosen = sims[0]
    try:
        path = inject_simulated(chosen.settings, args.number, args.text)
    except (ValueError, OSError) as exc:
        print(f"modemd simulate: {exc}", file=sys.stderr)
        return 2
    print(f"queued on simulated modem {chosen.name}: {path}")
    return 0
