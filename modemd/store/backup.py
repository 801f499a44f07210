"""A consistent copy of the SQLite database while the daemon and the web UI keep writing; and its restore.

Copying the file with ``cp`` while modemd runs can catch a page half written
and leaves out what still sits in the ``-wal`` file. SQLite's online backup
API (``sqlite3.Connection.backup``) copies every page inside one read
transaction: in WAL mode that transaction sees one committed state and blocks
no writer, so the daemon goes on receiving while the copy is taken, and the
copy holds every transaction committed before it began.

The copy is written beside its destination under a temporary name created
0600 (it holds citizens' numbers and password hashes, like the database),
checked with ``PRAGMA integrity_check``, and only then given its name, so a
half-written copy never carries the name of a backup. An existing file is not
replaced unless asked (``force``).

A restore writes the backup into the configured database through the same API
(it is the database's own file, keeping its owner and mode; other
connections see the restored content at their next transaction). The
daemon caches the keyword table and its claims: stop it first.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from modemd.privatefiles import PRIVATE_FILE, private_sqlite_files

#: the database waits this long for a writer to finish before the copy starts (milliseconds)
BUSY_TIMEOUT_MS = 30000


class BackupError(Exception):
    """A backup or restore that did not happen; the message says why and what to do."""


@dataclass
class BackupReport:
    source: str
    target: str
    schema_version: int
    bytes: int
    seconds: float
    rows: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict:
        return {
            "source": self.source,
            "target": self.target,
            "schema_version": self.schema_version,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
            "rows": self.rows,
        }


def sqlite_path(url: str) -> str | None:
    """The file of a ``sqlite:///`` URL (absolute after config loading); None for a server database."""
    if not url.startswith("sqlite:///"):
        return None
    return url[len("sqlite:///") :]


def _connect(path: str | Path, *, must_exist: bool) -> sqlite3.Connection:
    if must_exist and not Path(path).is_file():
        raise BackupError(f"{path}: no such file")
    connection = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return connection


def _inspect(connection: sqlite3.Connection, name: str) -> tuple[int, dict[str, int]]:
    """(schema version, rows per table) of a modemd database; BackupError if it is damaged or no modemd database."""
    try:
        verdict = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        if verdict != ["ok"]:
            raise BackupError(f"{name}: the SQLite integrity check failed: {'; '.join(verdict[:5])}")
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        if "schema_version" not in tables:
            raise BackupError(f"{name}: not a modemd database (it has no schema_version table)")
        version = connection.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] or 0
        rows = {table: connection.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0] for table in tables}
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{name}: not a readable SQLite database ({exc})") from None
    return int(version), rows


def _temporary_beside(target: Path) -> Path:
    """A new, empty 0600 file in ``target``'s folder (same file system, so the final rename is atomic)."""
    for attempt in range(100):
        candidate = target.with_name(f".{target.name}.{os.getpid()}.{attempt}.partial")
        try:
            os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
            return candidate
        except FileExistsError:
            continue
        except OSError as exc:
            raise BackupError(f"cannot write in {target.parent}: {exc.strerror}") from None
    raise BackupError(f"cannot create a temporary file in {target.parent}")


def _remove(path: Path) -> None:
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        name.unlink(missing_ok=True)


def _give_name(partial: Path, target: Path, force: bool) -> None:
    """Rename the finished copy to ``target``; an existing ``target`` is replaced only with ``force``."""
    if force:
        os.replace(partial, target)
        return
    refusal = BackupError(f"{target} exists already: choose another name, or add --force to replace it")
    try:
        os.link(partial, target)  # fails if another program created the target meanwhile: never overwrite
    except FileExistsError:
        raise refusal from None
    except OSError:  # a file system without hard links (a FAT USB stick): look, then rename
        if target.exists():
            raise refusal from None
        os.replace(partial, target)


def backup(database_file: str, target: str | Path, *, force: bool = False) -> BackupReport:
    """Copy the live SQLite database ``database_file`` to ``target`` (0600).

    An existing ``target`` is refused unless ``force``.
    """
    target = Path(target)
    if target.is_dir():
        raise BackupError(f"{target} is a folder: give the name of the backup file, e.g. {target / 'modemd.db'}")
    if target.resolve() == Path(database_file).resolve():
        raise BackupError(f"{target} is the database itself: choose another name")
    if target.exists() and not force:
        raise BackupError(f"{target} exists already: choose another name, or add --force to replace it")
    started = time.monotonic()
    source = _connect(database_file, must_exist=True)
    partial = _temporary_beside(target)
    try:
        copy = sqlite3.connect(str(partial), isolation_level=None)
        try:
            source.backup(copy)  # pages=-1: every page in one step, one read transaction, one committed state
            version, rows = _inspect(copy, str(target))
        except sqlite3.Error as exc:  # the disk is full, the database is damaged
            raise BackupError(f"the backup to {target} failed: {exc}") from None
        finally:
            copy.close()
        _give_name(partial, target, force)
    except BaseException:
        _remove(partial)
        raise
    finally:
        source.close()
    _remove(partial)
    return BackupReport(database_file, str(target), version, target.stat().st_size, time.monotonic() - started, rows)


def restore(backup_file: str | Path, database_file: str, *, latest_version: int, force: bool = False) -> BackupReport:
    """Write the backup ``backup_file`` into the database ``database_file``.

    The backup is checked first (integrity, a modemd schema no newer than this
    modemd knows). A database that holds data is replaced only with ``force``.
    """
    started = time.monotonic()
    backup_path = Path(backup_file)
    if backup_path.resolve() == Path(database_file).resolve():
        raise BackupError(f"{backup_path} is the database itself")
    source = _connect(backup_path, must_exist=True)
    try:
        version, rows = _inspect(source, str(backup_path))
        if version > latest_version:
            raise BackupError(
                f"{backup_path} has schema version {version}, newer than this modemd knows ({latest_version}):"
                " upgrade modemd first"
            )
        private_sqlite_files(database_file)  # a new database file is 0600, like one modemd creates
        destination = _connect(database_file, must_exist=False)
        try:
            if not force and _holds_data(destination):
                raise BackupError(
                    f"{database_file} holds data, which the restore replaces: add --force"
                    " (take a backup of it first if it may be needed)"
                )
            source.backup(destination)
        except sqlite3.Error as exc:
            raise BackupError(f"{database_file}: {exc}") from None
        finally:
            destination.close()
    finally:
        source.close()
    size = Path(database_file).stat().st_size
    return BackupReport(str(backup_path), database_file, version, size, time.monotonic() - started, rows)


def _holds_data(connection: sqlite3.Connection) -> bool:
    """True if any table other than schema_version has a row (a fresh, upgraded database holds none)."""
    tables = [
        row[0]
        for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND name != 'schema_version'"
        )
    ]
    return any(connection.execute(f'SELECT 1 FROM "{table}" LIMIT 1').fetchone() for table in tables)
