"""Copy a whole modemd database into another one: SQLite to PostgreSQL or MariaDB, or any kind to any kind.

How, and why so:

* the source is read inside one snapshot transaction (SQLite: a deferred
  transaction, which in WAL mode blocks no writer; PostgreSQL and MariaDB:
  REPEATABLE READ), so the copy is one consistent state even if something
  still writes; it is never changed;
* the source must have the newest schema (``modemd db upgrade`` first), so the
  models describe its columns exactly; values go through the models' fields,
  which turn SQLite's text dates and 0/1 booleans into the target's types;
* before the target is touched, every text is checked against its column's
  length and every foreign key against its row: SQLite does not enforce
  VARCHAR lengths (nor foreign keys, if they were ever off), the servers do;
* the target gets the schema of :mod:`modemd.store.migrations` (tables,
  indexes and the triggers: the one that keeps an SMS's original read-only,
  those that keep the report summary), then each table in foreign-key order,
  in batches, primary keys kept, all in one transaction: a failed copy leaves
  empty tables, which a second try accepts; the report summary's tables come
  last, the rows its triggers wrote meanwhile replaced by the source's;
* PostgreSQL's sequences and MariaDB's AUTO_INCREMENT are set after the
  highest copied id, so the next row gets a fresh id;
* at the end the rows of every table are counted on both sides.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import peewee

from modemd.privatefiles import private_sqlite_files
from modemd.store import migrations, models
from modemd.store.db import DatabaseURLError, connect_url, dialect
from modemd.store.sqlcache import Compiled, Param

BATCH_ROWS = 500

Progress = Callable[[str], None]


class CopyError(Exception):
    """A copy that cannot be done; the message says why and what to do. The target holds none of the rows."""


@dataclass
class CopyReport:
    source: str
    target: str
    schema_version: int
    seconds: float = 0.0
    tables: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(counts["source"] == counts["target"] for counts in self.tables.values())

    def as_json(self) -> dict:
        return {
            "source": self.source,
            "target": self.target,
            "schema_version": self.schema_version,
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            "tables": self.tables,
        }


def safe_url(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ""
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


#: tables the target's triggers fill while the others are copied (modemd.store.report_summary): copied last,
#: over what the triggers wrote, so the copy holds the source's rows exactly
DERIVED = (models.ReportHour, models.ReportAnswer)


def ordered_models() -> list[type[models.BaseModel]]:
    """Every table, each after the tables its foreign keys point to; the derived ones last."""
    ordered = list(peewee.sort_models(models.ALL_MODELS))
    return [m for m in ordered if m not in DERIVED] + list(DERIVED)


@contextmanager
def _bound(database: peewee.Database) -> Iterator[None]:
    with database.bind_ctx(models.ALL_MODELS):
        yield


@contextmanager
def _snapshot(database: peewee.Database) -> Iterator[None]:
    """One read transaction that sees a single committed state and blocks no writer."""
    kind = dialect(database)
    if kind == "sqlite":
        with database.atomic(lock_type="DEFERRED"):
            yield
    else:
        with database.atomic(isolation_level="REPEATABLE READ"):
            yield


def _counts(database: peewee.Database) -> dict[str, int]:
    with _bound(database):
        return {model._meta.table_name: model.select().count() for model in ordered_models()}


def _too_long(database: peewee.Database) -> list[str]:
    """Texts longer than their column allows (SQLite keeps them, the servers refuse them)."""
    found = []
    length = peewee.fn.LENGTH if dialect(database) == "sqlite" else peewee.fn.CHAR_LENGTH  # MySQL's LENGTH is bytes
    with _bound(database):
        for model in ordered_models():
            for column in model._meta.sorted_fields:
                if isinstance(column, peewee.CharField) and column.max_length:
                    query = model.select(model.id).where(length(column) > column.max_length)
                    ids = [row.id for row in query.limit(5)]
                    if ids:
                        found.append(
                            f"{model._meta.table_name}.{column.column_name} is longer than {column.max_length}"
                            f" characters in row(s) id {', '.join(map(str, ids))}"
                        )
    return found


def _orphans(database: peewee.Database) -> list[str]:
    """Rows whose foreign key points to no row: SQLite keeps them if foreign keys were ever off; servers refuse them."""
    if dialect(database) != "sqlite":
        return []  # the servers never stored one
    found: dict[tuple[str, str], list[str]] = {}
    for table, rowid, parent, _key in database.execute_sql("PRAGMA foreign_key_check").fetchall():
        found.setdefault((table, parent), []).append(str(rowid))
    return [
        f"{table} row(s) id {', '.join(ids[:5])} point to a {parent} row that does not exist: fix or delete them"
        for (table, parent), ids in sorted(found.items())
    ]


def _target_holds_data(database: peewee.Database) -> bool:
    tables = set(database.get_tables())  # PostgreSQL: of the schema the connection works in
    with _bound(database):
        return any(
            model.select().exists()
            for model in ordered_models()
            if model._meta.table_name in tables and model is not models.SchemaVersion
        )


def _prepare_target(target: peewee.Database, target_url: str, force: bool) -> None:
    """An empty target with the newest schema; a target holding data is emptied only with ``force``."""
    if dialect(target) == "mysql":
        charset = target.execute_sql("SELECT @@character_set_database").fetchone()[0]
        if charset != "utf8mb4":
            raise CopyError(
                f"the target database has character set {charset}, which cannot hold emoji: create it with"
                " CREATE DATABASE ... CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
    if _target_holds_data(target):
        if not force:
            raise CopyError(
                f"the target {safe_url(target_url)} already holds modemd data: give an empty database,"
                " or add --force to replace it"
            )
    with _bound(target):
        # the target's own tables go, data and all (empty, or --force): created anew at the newest version
        target.drop_tables(
            models.ALL_MODELS, safe=True, **({"cascade": True} if dialect(target) == "postgresql" else {})
        )
        migrations.upgrade(target)
        models.SchemaVersion.delete().execute()  # the source's history of versions is copied instead


def _same_database(source: peewee.Database, target: peewee.Database, source_url: str, target_url: str) -> bool:
    if isinstance(source, peewee.SqliteDatabase) and isinstance(target, peewee.SqliteDatabase):
        return Path(source.database).resolve() == Path(target.database).resolve()
    if dialect(source) != dialect(target):
        return False

    def where(url: str) -> tuple:  # the login and password do not change which database it is
        parts = urlsplit(url)
        return ((parts.hostname or "localhost").lower(), parts.port, parts.path.strip("/"), parts.query)

    return where(source_url) == where(target_url)


def _must_exist(source: peewee.Database) -> None:
    """A SQLite source that is not there would be created, empty: say so instead."""
    if isinstance(source, peewee.SqliteDatabase) and not Path(source.database).is_file():
        raise CopyError(f"the source {source.database}: no such file")


# Every column, the id too, a Param: rendered once per table and kind of database, then run with the
# driver's executemany. peewee's insert_many renders each value anew (about 30 µs each): 100,000 SMS
# took a minute to PostgreSQL; bench/bench_db_backup_copy.py measures it.
_INSERT_ROW = Compiled(
    lambda model: model.insert({field: Param(field.name, field.db_value) for field in model._meta.sorted_fields}),
    shapes=len(models.ALL_MODELS),
)


@contextmanager
def _proxy_to(database: peewee.Database) -> Iterator[None]:
    """The models' proxy on ``database`` for a while (sqlcache renders and caches per the proxy's kind)."""
    previous = models.database_proxy.obj
    models.database_proxy.initialize(database)
    try:
        with _bound(database):
            yield
    finally:
        models.database_proxy.initialize(previous)


def _copy_table(
    model: type[models.BaseModel], source: peewee.Database, target: peewee.Database, progress: Progress
) -> int:
    """Every row of ``model``'s table, by ascending id, ``BATCH_ROWS`` at a time; returns the rows written."""
    fields = model._meta.sorted_fields
    copied, last_id, name = 0, None, model._meta.table_name
    while True:
        with _bound(source):
            query = model.select(*fields).order_by(model.id).limit(BATCH_ROWS)
            if last_id is not None:
                query = query.where(model.id > last_id)
            rows = list(query.tuples())
        if not rows:
            return copied
        statement = _INSERT_ROW.statement(model)
        names = [field.name for field in fields]
        params = [statement.params(dict(zip(names, row, strict=True))) for row in rows]
        with peewee.__exception_wrapper__:  # the driver's errors as peewee's, as a query raises them
            target.cursor().executemany(statement.sql, params)
        copied += len(rows)
        last_id = rows[-1][fields.index(model._meta.primary_key)]
        if len(rows) == BATCH_ROWS:
            progress(f"{name}: {copied} rows")


def _reset_ids(target: peewee.Database) -> None:
    """The next row of every table gets an id after the highest copied one."""
    kind = dialect(target)
    with _bound(target):
        for model in ordered_models():
            table = model._meta.table_name
            highest = model.select(peewee.fn.MAX(model.id)).scalar() or 0
            if kind == "postgresql":
                target.execute_sql(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, %s)",
                    (f'"{table}"', max(highest, 1), highest > 0),
                )
            elif kind == "mysql":
                target.execute_sql(f"ALTER TABLE `{table}` AUTO_INCREMENT = {highest + 1}")
            # SQLite: an INTEGER PRIMARY KEY continues after the highest id by itself


def copy_database(
    source_url: str, target_url: str, *, force: bool = False, progress: Progress = lambda line: None
) -> CopyReport:
    """Copy every row of the modemd database at ``source_url`` into ``target_url``; see the module's notes."""
    started = time.monotonic()
    try:
        source, target = connect_url(source_url), connect_url(target_url)
    except DatabaseURLError as exc:
        raise CopyError(str(exc)) from None
    if _same_database(source, target, source_url, target_url):
        # the target's tables are dropped first: that would be the source's data
        raise CopyError("the source and the target are the same database")
    try:
        _must_exist(source)
        source.connect()
        with _bound(source):
            version = migrations.current_version(source)
        if version != migrations.LATEST:
            raise CopyError(
                f"the source {safe_url(source_url)} has schema version {version}, not {migrations.LATEST}:"
                " run `modemd db upgrade` on it first"
            )
        problems = _orphans(source) + (_too_long(source) if dialect(target) != "sqlite" else [])
        if problems:
            raise CopyError("the target would refuse these values:\n  " + "\n  ".join(problems))
        if isinstance(target, peewee.SqliteDatabase):
            private_sqlite_files(target.database)
        target.connect()
        _prepare_target(target, target_url, force)
        report = CopyReport(safe_url(source_url), safe_url(target_url), version)
        with _snapshot(source), target.atomic(), _proxy_to(target):
            for model in ordered_models():
                name = model._meta.table_name
                report.tables[name] = {"source": _counts_one(model, source), "target": 0}
                try:
                    if model in DERIVED:
                        model.delete().execute()
                    copied = _copy_table(model, source, target, progress)
                except peewee.PeeweeException as exc:
                    raise CopyError(
                        f"the target refused a row of {name}: {str(exc).strip()}. Nothing was copied (the"
                        " target's tables are empty and a new copy may start there without --force)."
                    ) from exc
                progress(f"{name}: {copied} rows copied")
        _reset_ids(target)  # after the commit: MariaDB's ALTER TABLE would commit the copy half-way
        for name, count in _counts(target).items():
            report.tables[name]["target"] = count
        report.seconds = time.monotonic() - started
        return report
    except peewee.PeeweeException as exc:
        raise CopyError(f"{type(exc).__name__}: {exc}".strip()) from exc
    finally:
        source.close()
        target.close()


def _counts_one(model: type[models.BaseModel], database: peewee.Database) -> int:
    with _bound(database):
        return model.select().count()
