"""Open the database named by a URL and bind the shared models to it.

SQLite (the default) is opened so that the daemon and the web UI, two
processes, can write at the same time without "database is locked":

* WAL journal: readers never block the writer;
* ``busy_timeout``: a writer waits for the other writer instead of failing;
* every transaction starts with ``BEGIN IMMEDIATE``: with WAL, a deferred
  transaction that reads first and then writes fails at once with SQLITE_BUSY
  whatever the busy timeout, so the write lock is taken up front;
* ``synchronous = FULL``: a committed inbound SMS or queued reply survives a
  power cut (NORMAL in WAL mode may lose the last commits);
* the file is created 0600 before SQLite opens it (SQLite gives its -wal and
  -shm files the same mode), whatever the umask: see :mod:`modemd.privatefiles`.

PostgreSQL and MySQL/MariaDB URLs go through ``playhouse.db_url``. PostgreSQL
is spoken through psycopg 3 (peewee >= 4 picks it with ``prefer_psycopg3``):
the actively developed driver (psycopg2 only gets fixes), and its
``executemany`` pipelines the rows, which a broadcast's queueing relies on.
"""

from __future__ import annotations

from urllib.parse import urlparse

import peewee
from playhouse import db_url

from modemd.privatefiles import private_sqlite_files
from modemd.store.models import database_proxy

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 30000,
    "synchronous": "full",
}


class DatabaseURLError(ValueError):
    pass


def connect_url(url: str) -> peewee.Database:
    """Build (not yet open) a peewee database for ``url``."""
    scheme = urlparse(url).scheme
    if scheme == "sqlite":
        path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
        if not path:
            raise DatabaseURLError(f"{url!r}: expected sqlite:///relative/path.db or sqlite:////absolute/path.db")
        return peewee.SqliteDatabase(
            path, pragmas=SQLITE_PRAGMAS, timeout=30, lock_type="IMMEDIATE", check_same_thread=False
        )
    if scheme in ("postgres", "postgresql", "postgresql+pool", "postgres+pool"):
        # explicit, so that a psycopg2 left in the environment is not picked instead
        return db_url.connect(url, prefer_psycopg3=True)
    if scheme in ("mysql", "mysql+pool", "mariadb"):
        if scheme == "mariadb":
            url = "mysql" + url[len("mariadb") :]
        # utf8mb4: citizens send emoji, and MySQL's "utf8" cannot store them.
        return db_url.connect(url, charset="utf8mb4")
    raise DatabaseURLError(
        f"unsupported database URL {url!r}: expected sqlite:///..., postgresql://user@host/db or mysql://user@host/db"
    )


def open_database(url: str) -> peewee.Database:
    """Open ``url`` and bind every model to it. Returns the database."""
    database = connect_url(url)
    if isinstance(database, peewee.SqliteDatabase):
        private_sqlite_files(database.database)  # password hashes and citizens' numbers: 0600
    database_proxy.initialize(database)
    database.connect(reuse_if_open=True)
    return database


def dialect(database: peewee.Database) -> str:
    if isinstance(database, peewee.SqliteDatabase):
        return "sqlite"
    if isinstance(database, peewee.PostgresqlDatabase):
        return "postgresql"
    if isinstance(database, peewee.MySQLDatabase):
        return "mysql"
    return type(database).__name__
