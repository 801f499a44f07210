"""The time expressions that differ between SQLite, PostgreSQL and MariaDB, one place for each.

* :func:`seconds_between` -- whole seconds from one column to another;
* :func:`hour_bucket` -- the UTC hour a time falls in, as text ``YYYY-MM-DD HH``;
* :func:`not_by_index` -- a column SQLite's planner must not search an index by.

Grouping by the UTC hour and turning the (at most 24 x 366) hours into local
days, hours and weekdays in Python keeps the time zone rules (any zone, also
one with summer time) out of SQL; it is exact for zones whose offset is whole
hours, as Indonesia's three are.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from peewee import SQL, NodeList, fn

from modemd.store.db import dialect
from modemd.store.models import database_proxy

HOUR_FORMAT = "%Y-%m-%d %H"


def _dialect() -> str:
    return dialect(database_proxy.obj)


def seconds_between(earlier, later):
    """``later - earlier`` in whole seconds (rounded), as an integer expression."""
    kind = _dialect()
    if kind == "postgresql":
        return fn.ROUND(fn.EXTRACT(NodeList((SQL("EPOCH FROM"), NodeList((later, SQL("-"), earlier))))))
    if kind == "mysql":
        return fn.TIMESTAMPDIFF(SQL("SECOND"), earlier, later)
    return fn.CAST(NodeList((fn.ROUND((fn.julianday(later) - fn.julianday(earlier)) * 86400), SQL("AS INTEGER"))))


def not_by_index(column):
    """``column`` as SQLite's planner will not search an index by (a unary plus), so it takes another index
    that serves the query better; the column itself elsewhere."""
    if _dialect() == "sqlite":
        return NodeList((SQL("+"), column), glue="")
    return column


def hour_bucket(column):
    """The UTC hour ``column`` falls in, as ``YYYY-MM-DD HH`` text (parse it with :func:`bucket_time`)."""
    kind = _dialect()
    if kind == "postgresql":
        bucket = fn.to_char(column, "YYYY-MM-DD HH24")
    elif kind == "mysql":
        bucket = fn.DATE_FORMAT(column, "%Y-%m-%d %H")
    else:
        bucket = fn.strftime(HOUR_FORMAT, column)
    return bucket.coerce(False)  # text, not the column's datetime (peewee would convert it like the column)


def bucket_time(bucket: str, zone: ZoneInfo) -> datetime:
    """An hour bucket as a local, aware time."""
    # sliced rather than strptime: a year's report turns 8,784 of them
    hour = datetime(int(bucket[0:4]), int(bucket[5:7]), int(bucket[8:10]), int(bucket[11:13]), tzinfo=UTC)
    return hour.astimezone(zone)
