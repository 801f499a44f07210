"""``modemd db``: the schema (upgrade, version), backups of a SQLite database, and moving to another database."""

from __future__ import annotations

import sys

from . import load_config_or_exit, print_json

HELP = (
    "the database: `upgrade` and `version` (schema), `backup FILE` and `restore FILE` (SQLite),"
    " `copy --to URL` (move to PostgreSQL or MariaDB)"
)

SERVER_TOOLS = {
    "postgresql": (
        "pg_dump --format=custom --file=modemd.dump DATABASE   (restore: pg_restore --clean -d DATABASE modemd.dump)"
    ),
    "mysql": (
        "mariadb-dump --single-transaction --routines --triggers DATABASE > modemd.sql"
        "   (restore: mariadb DATABASE < modemd.sql)"
    ),
}


def configure(parser) -> None:
    sub = parser.add_subparsers(dest="db_command", metavar="ACTION")
    sub.required = True
    sub.add_parser("upgrade", help="create or upgrade the database schema (safe to run again; keeps all data)")
    version = sub.add_parser("version", help="print the schema version of the database")
    version.add_argument("--json", action="store_true", help="print as JSON")

    _file_action(
        sub,
        "backup",
        "copy the SQLite database to FILE while modemd runs (a consistent copy; mode 0600)",
        "Copy the SQLite database to FILE while the daemon and the web UI keep running. The copy is one"
        " consistent moment: it holds every message committed before the backup began. FILE is private"
        " (0600) and is checked (PRAGMA integrity_check) before it gets its name. A server database is"
        " backed up with the server's own tool (pg_dump, mariadb-dump).",
        file_help="the backup file to write, e.g. /srv/backup/modemd-2026-12-01.db",
        force_help="replace FILE if it exists",
    )
    _file_action(
        sub,
        "restore",
        "replace the SQLite database by a backup made with `modemd db backup` (stop the daemon first)",
        "Write the backup FILE into the configured SQLite database, then upgrade its schema if the backup is"
        " older. FILE is checked first. Refused while a daemon is running on the database (stop it on every"
        " PC: systemctl stop modemd), and, if the database holds data, without --force.",
        file_help="a backup written by `modemd db backup`",
        force_help="replace a database that holds data",
    )

    copy = sub.add_parser(
        "copy",
        help="copy every row into another database (SQLite to PostgreSQL or MariaDB); counts the rows at the end",
        description=(
            "Copy the whole modemd database (by default the one in modemd.ini) into the database at URL: the"
            " schema at the newest version, every table in order, ids kept, sequences set after them, then"
            " the rows of each table counted on both sides. The source is read as one consistent moment and"
            " never changed; stop the daemon and the web UI first so nothing arrives after the copy. Then"
            " point database = in modemd.ini at URL. Progress goes to stderr."
        ),
    )
    copy.add_argument(
        "--to",
        required=True,
        metavar="URL",
        help="the target, e.g. postgresql://modemd:secret@dbhost/modemd or mysql://modemd:secret@dbhost/modemd",
    )
    copy.add_argument(
        "--from", dest="source", metavar="URL", default=None, help="the source (default: database = in modemd.ini)"
    )
    copy.add_argument("--force", action="store_true", help="replace the modemd tables of a target that holds data")
    copy.add_argument("--json", action="store_true", help="print the summary as JSON (alone on stdout)")


def _file_action(sub, name: str, summary: str, description: str, *, file_help: str, force_help: str) -> None:
    """``modemd db NAME FILE [--force] [--json]``."""
    action = sub.add_parser(name, help=summary, description=description)
    action.add_argument("file", metavar="FILE", help=file_help)
    action.add_argument("--force", action="store_true", help=force_help)
    action.add_argument("--json", action="store_true", help="print the result as JSON")


def main(args) -> int:
    config = load_config_or_exit(args)
    if args.db_command == "backup":
        return _backup(config, args)
    if args.db_command == "restore":
        return _restore(config, args)
    if args.db_command == "copy":
        return _copy(config, args)
    from modemd.store import db, migrations

    database = db.open_database(config.database_url)
    if args.db_command == "upgrade":
        before, after = migrations.upgrade(database)
        print(f"database schema version {after} (was {before}): {_safe(config.database_url)}")
        return 0
    version = migrations.current_version(database)
    if args.json:
        print_json({"version": version, "latest": migrations.LATEST})
    else:
        print(f"schema version {version} (this modemd knows up to {migrations.LATEST})")
    return 0


def _safe(url: str) -> str:
    from modemd.store.dbcopy import safe_url

    return safe_url(url)


def _sqlite_file_or_say(config, action: str) -> str | None:
    """The SQLite file of modemd.ini's database; for a server database, print the server's own tool."""
    from modemd.store import backup, db

    path = backup.sqlite_path(config.database_url)
    if path is None:
        kind = db.dialect(db.connect_url(config.database_url))
        print(
            f"modemd db {action}: {_safe(config.database_url)} is a server database; {action} it with the"
            f" server's own tool, e.g.\n  {SERVER_TOOLS.get(kind, 'the server documentation')}",
            file=sys.stderr,
        )
    return path


def _backup(config, args) -> int:
    from modemd.store import backup

    path = _sqlite_file_or_say(config, "backup")
    if path is None:
        return 2
    try:
        report = backup.backup(path, args.file, force=args.force)
    except backup.BackupError as exc:
        print(f"modemd db backup: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print_json(report.as_json())
    else:
        messages = report.rows.get("inbound_message", 0)
        print(
            f"backup written: {report.target} ({report.bytes} bytes, schema version {report.schema_version},"
            f" {messages} inbound messages, integrity ok, {report.seconds:.1f} s)"
        )
    return 0


def _restore(config, args) -> int:
    from modemd.store import backup, db, migrations

    from .status import daemon_heartbeat

    path = _sqlite_file_or_say(config, "restore")
    if path is None:
        return 2
    database = db.open_database(config.database_url)
    try:
        running = migrations.current_version(database) > 0 and daemon_heartbeat()[0]
    finally:
        database.close()
    if running:
        print(
            "modemd db restore: a modemd daemon is running on this database (its heartbeat is recent): stop it"
            " on every PC first (systemctl stop modemd); a daemon that was killed rather than stopped counts as"
            " running until its heartbeat is 30 s old",
            file=sys.stderr,
        )
        return 2
    try:
        report = backup.restore(args.file, path, latest_version=migrations.LATEST, force=args.force)
    except backup.BackupError as exc:
        print(f"modemd db restore: {exc}", file=sys.stderr)
        return 2
    database = db.open_database(config.database_url)
    try:
        before, after = migrations.upgrade(database)
    finally:
        database.close()
    if args.json:
        print_json({**report.as_json(), "schema_version": after, "backup_schema_version": before})
    else:
        upgraded = f", upgraded from schema version {before} to {after}" if before != after else ""
        print(f"restored {report.source} into {report.target}{upgraded}; start modemd again")
    return 0


def _copy(config, args) -> int:
    from modemd.store import dbcopy

    source = args.source or config.database_url

    def progress(line: str) -> None:
        print(f"modemd db copy: {line}", file=sys.stderr, flush=True)

    progress(f"copying {dbcopy.safe_url(source)} to {dbcopy.safe_url(args.to)}")
    try:
        report = dbcopy.copy_database(source, args.to, force=args.force, progress=progress)
    except dbcopy.CopyError as exc:
        print(f"modemd db copy: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print_json(report.as_json())
    else:
        width = max(len(name) for name in report.tables)
        print(f"{'TABLE'.ljust(width)}  {'SOURCE':>8}  {'TARGET':>8}")
        for name, counts in report.tables.items():
            mark = "" if counts["source"] == counts["target"] else "   <-- DIFFERENT"
            print(f"{name.ljust(width)}  {counts['source']:>8}  {counts['target']:>8}{mark}")
        total = sum(counts["target"] for counts in report.tables.values())
        verdict = "every table has the same number of rows" if report.ok else "ROW COUNTS DIFFER"
        print(f"copied {total} rows into {report.target} in {report.seconds:.1f} s: {verdict}")
        if report.ok:
            print(f"next: set database = {report.target} in modemd.ini (with its password), then start modemd")
    return 0 if report.ok else 1
