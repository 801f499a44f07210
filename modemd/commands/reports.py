"""``modemd reports rebuild``: count the report summary again from the SMS, cases and replies."""

from __future__ import annotations

from . import open_configured_database, print_json

HELP = "the reports' summary: `rebuild` counts it again from the SMS, cases and replies (for a summary in doubt)"


def configure(parser) -> None:
    sub = parser.add_subparsers(dest="reports_command", metavar="ACTION")
    sub.required = True
    rebuild = sub.add_parser(
        "rebuild",
        help="count the /laporan summary again from every SMS, case and reply (safe while modemd runs)",
        description=(
            "The /laporan page reads its counts from a summary the database keeps by itself with every change"
            " (tables report_hour and report_answer). Someone who distrusts it, or a centre where a case was"
            " deleted by hand, counts it again from the rows: one transaction, so a report never sees it half"
            " done. A year at a busy centre takes seconds."
        ),
    )
    rebuild.add_argument("--json", action="store_true", help="print the result as JSON")


def main(args) -> int:
    from modemd.store import report_summary

    _config, database = open_configured_database(args)
    with database.atomic():
        rows = report_summary.rebuild(database)
    if args.json:
        print_json({"rows": rows})
    else:
        print(f"report summary counted again: {rows} rows")
    return 0
