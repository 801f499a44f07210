"""``modemd detect``: find the serial port that is the modem, and print its [modem:NAME] section."""

from __future__ import annotations

import argparse

from ..drivers.portscan import BY_ID, DEFAULT_PATTERNS, PortReport, Verdict, candidates, choose, ini_section, scan
from . import print_json

HELP = "find which serial port is the modem (and its baud rate) and print a ready [modem:NAME] section"


def configure(parser) -> None:
    parser.add_argument(
        "paths", nargs="*", metavar="PATH", help=f"ports to look at (default: {' '.join(DEFAULT_PATTERNS)})"
    )
    parser.add_argument("--json", action="store_true", help="print as JSON")
    parser.add_argument(
        "--timeout", type=float, default=1.0, metavar="S", help="seconds to wait for each answer (default 1)"
    )
    parser.add_argument(
        "--total",
        type=float,
        default=20.0,
        metavar="S",
        help="seconds for the whole scan, all ports in parallel (default 20)",
    )
    # tests point these elsewhere
    parser.add_argument("--by-id", default=BY_ID, help=argparse.SUPPRESS)
    parser.add_argument("--look-in", action="append", default=None, help=argparse.SUPPRESS)


def describe(report: PortReport) -> str:
    """One line a technician can act on."""
    name = report.path if not report.stable or report.stable == report.path else f"{report.stable} ({report.path})"
    if report.verdict is Verdict.SMS:
        what = " ".join(p for p in (report.manufacturer, report.model) if p) or "a modem"
        sim = {"READY": "SIM ready", "": "SIM state unknown"}.get(report.sim, f"SIM asks for {report.sim}")
        sms = "sends and receives SMS" if report.receives else "sends SMS but cannot receive them"
        return f"{name}: {what}, IMEI {report.imei or '?'}, {sim}, {sms}, {report.baudrate} baud"
    if report.verdict is Verdict.AT_ONLY:
        return f"{name}: answers AT at {report.baudrate} baud but refuses SMS commands: not the port to use"
    if report.verdict is Verdict.BUSY:
        who = ", ".join(report.holders) or "another program"
        return f"{name}: in use by {who}; not touched ({report.detail})"
    if report.verdict is Verdict.SILENT:
        return f"{name}: no modem answers ({report.detail}); a diagnostics port, or nothing behind it"
    if report.verdict is Verdict.UNUSABLE:
        return f"{name}: cannot be used ({report.detail})"
    return f"{name}: {report.detail}"


def main(args) -> int:
    """Probe the ports; exit 0 when a modem that does SMS was found, else 1."""
    paths = list(args.paths) or candidates(tuple(args.look_in or DEFAULT_PATTERNS))
    reports = scan(paths, timeout=args.timeout, total=args.total, by_id_dir=args.by_id) if paths else []
    chosen = choose(reports)
    sections = [(f"modem{n}", report) for n, report in enumerate(chosen, start=1)]
    if args.json:
        print_json(
            {
                "ports": [r.as_dict() for r in reports],
                "modems": [
                    {
                        "name": name,
                        "device": r.best_path,
                        "baudrate": r.baudrate,
                        "receives": r.receives,
                        "section": ini_section(r, name),
                    }
                    for name, r in sections
                ],
            }
        )
        return 0 if chosen else 1
    if not reports:
        print("No serial ports found (looked at " + " ".join(DEFAULT_PATTERNS) + "). Is the modem plugged in?")
        return 1
    # a PC lists many ttyS ports with no UART behind them: one line for those, unless asked for by name
    quiet = [r for r in reports if r.verdict is Verdict.UNUSABLE and not args.paths]
    for report in reports:
        if report not in quiet:
            print(describe(report))
    if quiet:
        print(
            f"{len(quiet)} more port(s) could not be opened (no hardware behind them?): "
            + " ".join(r.path for r in quiet)
        )
    if not chosen:
        busy = any(r.verdict is Verdict.BUSY for r in reports)
        print(
            "\nNo port answered as an SMS modem. Check the cable or stick"
            + (", or stop the program named above." if busy else ".")
        )
        return 1
    print("\nPut this into /etc/modemd/modemd.ini:\n")
    print("\n".join(ini_section(report, name) for name, report in sections), end="")
    return 0
