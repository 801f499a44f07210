from __future__ import annotations

from . import load_config_or_exit, print_json

HELP = "database schema: `modemd db upgrade` creates or upgrades it; `modemd db version` shows it"


def configure(parser) -> None:
    sub = parser.add_subparsers(dest="db_command", metavar="ACTION")
    sub.required = True
    sub.add_parser("upgrade", help="create or upgrade the database schema (safe to run again; keeps all data)")
    version = sub.add_parser("version", help="print the schema version of the database")
    version.add_argument("--json", action="store_true", help="print as JSON")


def main(args) -> int:
    from modemd.store import db, migrations

    config = load_config_or_exit(args)
    database = db.open_database(config.database_url)
    if args.db_command == "upgrade":
        before, after = migrations.upgrade(database)
        print(f"database schema version {after} (was {before}): {config.database_url}")
        return 0
    version = migrations.current_version(database)
    if args.json:
        print_json({"version": version, "latest": migrations.LATEST})
    else:
        print(f"schema version {version} (this modemd knows up to {migrations.LATEST})")
    return 0
