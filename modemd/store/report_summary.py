"""The report summary (tables ``report_hour``, ``report_answer``): kept by triggers, rebuilt from the rows on demand.

A year's report at 1 M SMS read every SMS and case of the year (seconds on
SQLite); the summary holds the same counts per UTC hour and segment (a few
hundred thousand rows at most), see :class:`modemd.store.models.ReportHour`.

Why triggers, not Python: every writer moves the counts (routing, answers,
failed replies, re-assignment, the flow, closing, the API, a bulk import,
``modemd db copy``) and a trigger runs in the same transaction as the change
whichever code made it. Each change subtracts the old row's contribution and
adds the new one:

* an SMS counts as ``received`` in the hour it came in, under its case's
  segment now (no case: the keyword it came with, category, flow ''/owner 0);
* a case counts in the hour it was opened: ``opened`` and how it stands now
  (answered, within, late as if its deadline passed, still open, the answer
  time class), and raises ``settle_max`` (see the model);
* a failed reply counts as ``replies_failed`` in the hour it was written;
* a case moved to another keyword, category, flow or owner moves its SMS and
  failed replies with it;
* an answered case has its line in ``report_answer`` (its time to answer and
  segment), written anew when the case changes.

Not followed: a deleted case (modemd never deletes one; MariaDB does not run
triggers for the ``SET NULL`` of its SMS). ``modemd reports rebuild`` counts
the whole table again from the rows (:func:`rebuild`).
"""

from __future__ import annotations

import peewee

from modemd.store.db import dialect

from .models import ReportAnswer, ReportHour

TABLE = ReportHour._meta.table_name
ANSWERS = ReportAnswer._meta.table_name
ANSWER_COLUMNS = ("case_id", "seconds", "opened_at", "answered_at", "keyword", "category", "flow", "owner")
KEY = ("hour", "keyword", "category", "flow", "owner")
#: upper bounds (seconds, exclusive) of the answer-time classes, the last one open-ended (the report's)
ANSWER_BOUNDS = (15 * 60, 60 * 60, 3 * 3600, 6 * 3600, 24 * 3600, 3 * 86400)
CLASSES = tuple(f"class{n}" for n in range(len(ANSWER_BOUNDS) + 1))
COUNTS = ("received", "opened", "answered", "within", "late", "still_open", "replies_failed", *CLASSES)
COLUMNS = (*KEY, *COUNTS, "settle_max")
TRIGGERS = (
    "report_hour_inbound_insert",
    "report_hour_inbound_update",
    "report_hour_inbound_delete",
    "report_hour_case_insert",
    "report_hour_case_update",
    "report_hour_case_moved",
    "report_hour_case_delete",
    "report_hour_outbound_insert",
    "report_hour_outbound_update",
    "report_hour_outbound_delete",
)


class _Sql:
    """The few expressions that differ between SQLite, PostgreSQL and MariaDB (as text, for triggers)."""

    def __init__(self, kind: str):
        self.kind = kind

    def table(self, name: str) -> str:
        return f"`{name}`" if self.kind == "mysql" else f'"{name}"'

    def hour(self, column: str) -> str:
        if self.kind == "postgresql":
            return f"date_trunc('hour', {column})"
        if self.kind == "mysql":
            return f"DATE_FORMAT({column}, '%%Y-%%m-%%d %%H:00:00')"  # the driver formats %% as %
        return f"strftime('%Y-%m-%d %H:00:00', {column})"

    def seconds(self, earlier: str, later: str) -> str:
        """As :func:`modemd.reports.sqltime.seconds_between`, so a class is the same either way."""
        if self.kind == "postgresql":
            return f"ROUND(EXTRACT(EPOCH FROM ({later} - {earlier})))"
        if self.kind == "mysql":
            return f"TIMESTAMPDIFF(SECOND, {earlier}, {later})"
        return f"CAST(ROUND((julianday({later}) - julianday({earlier})) * 86400) AS INTEGER)"

    def no_time(self) -> str:
        """NULL as a time: PostgreSQL takes a bare NULL in a SELECT for text."""
        return "CAST(NULL AS TIMESTAMP)" if self.kind == "postgresql" else "NULL"

    def differ(self, a: str, b: str) -> str:
        if self.kind == "postgresql":
            return f"{a} IS DISTINCT FROM {b}"
        if self.kind == "mysql":
            return f"NOT ({a} <=> {b})"
        return f"{a} IS NOT {b}"

    def any_differ(self, old: str, new: str, columns: tuple[str, ...]) -> str:
        return " OR ".join(self.differ(f"{old}.{c}", f"{new}.{c}") for c in columns)

    def upsert(self, select: str) -> str:
        """Add the rows of ``select`` (every column of COLUMNS, in order) to the summary."""
        columns = ", ".join(COLUMNS)
        if self.kind == "mysql":
            new = "VALUES({})".format
            old = "{}".format
            tail = "ON DUPLICATE KEY UPDATE"
        else:
            new = "excluded.{}".format
            old = (f"{TABLE}.{{}}" if self.kind == "postgresql" else "{}").format
            tail = f"ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET"
        sums = [f"{c} = {old(c)} + {new(c)}" for c in COUNTS]
        settle = (
            f"settle_max = CASE WHEN {new('settle_max')} IS NULL THEN {old('settle_max')}"
            f" WHEN {old('settle_max')} IS NULL OR {new('settle_max')} > {old('settle_max')}"
            f" THEN {new('settle_max')} ELSE {old('settle_max')} END"
        )
        return f"INSERT INTO {TABLE} ({columns}) {select} {tail} {', '.join([*sums, settle])}"


def _flag(condition: str) -> str:
    return f"CASE WHEN {condition} THEN 1 ELSE 0 END"


def _case_values(sql: _Sql, row: str) -> dict[str, str]:
    """A case's contribution (before summing or signing): the counting rules of modemd.reports.figures."""
    answered = f"{row}.answered_at IS NOT NULL"
    waiting = f"{row}.answered_at IS NULL AND {row}.status <> 'closed'"
    took = sql.seconds(f"{row}.opened_at", f"{row}.answered_at")
    values = {
        "opened": "1",
        "answered": _flag(answered),
        "within": _flag(f"{answered} AND {row}.answered_at <= {row}.deadline_at"),
        "late": _flag(f"({answered} AND {row}.answered_at > {row}.deadline_at) OR ({waiting})"),
        "still_open": _flag(waiting),
    }
    lower = 0
    for name, bound in zip(CLASSES, (*ANSWER_BOUNDS, None), strict=True):
        upper = "" if bound is None else f" AND {took} < {bound}"
        values[name] = _flag(f"{answered} AND {took} >= {lower}{upper}")
        lower = bound or 0
    return values


def _segment(row: str) -> list[str]:
    return [
        f"COALESCE({row}.keyword, '')",
        f"COALESCE({row}.category, '')",
        f"COALESCE({row}.flow, '')",
        f"COALESCE({row}.owner_id, 0)",
    ]


def _settle(row: str) -> str:
    return (
        f"CASE WHEN {row}.answered_at IS NOT NULL THEN {row}.answered_at"
        f" WHEN {row}.status <> 'closed' THEN {row}.deadline_at ELSE NULL END"
    )


def _select(sql: _Sql, key: list[str], values: dict[str, str], settle: str, source: str, where: str) -> str:
    cells = [*key, *(values.get(c, "0") for c in COUNTS), settle]
    source = source or ("FROM DUAL" if sql.kind == "mysql" else "")
    return f"SELECT {', '.join(cells)} {source} WHERE {where}"


def _add(sql: _Sql, sign: int, key: list[str], values: dict[str, str], source: str, where: str) -> list[str]:
    """Add (``sign`` 1) or take off (-1) ``values`` at ``key``; a row left with nothing counted goes, so a
    re-assigned case leaves no empty rows behind to read."""
    settle = values.pop("settle_max", sql.no_time())
    statements = [sql.upsert(_select(sql, key, values, settle, source, where))]
    if sign < 0:
        keys = f"SELECT {', '.join(key)} {source or ('FROM DUAL' if sql.kind == 'mysql' else '')} WHERE {where}"
        statements.append(
            f"DELETE FROM {TABLE} WHERE received = 0 AND opened = 0 AND replies_failed = 0"
            f" AND ({', '.join(KEY)}) IN ({keys})"
        )
    return statements


def _case_row(sql: _Sql, row: str, sign: int) -> list[str]:
    values = {k: f"{sign} * ({v})" for k, v in _case_values(sql, row).items()}
    if sign > 0:
        values["settle_max"] = _settle(row)
    return _add(sql, sign, [sql.hour(f"{row}.opened_at"), *_segment(row)], values, "", "1 = 1")


def _message_key(sql: _Sql, message: str) -> list[str]:
    keyword = (
        f"CASE WHEN {message}.case_id IS NULL THEN COALESCE({message}.keyword, '') ELSE COALESCE(c.keyword, '') END"
    )
    return [sql.hour(f"{message}.received_at"), keyword, *_segment("c")[1:]]


def _message_row(sql: _Sql, row: str, sign: int) -> list[str]:
    source = f"FROM (SELECT 1 AS one) AS d LEFT JOIN {sql.table('case')} c ON c.id = {row}.case_id"
    return _add(sql, sign, _message_key(sql, row), {"received": str(sign)}, source, "1 = 1")


def _failed(row: str) -> str:
    return f"{row}.kind = 'reply' AND {row}.state = 'failed'"


def _reply_row(sql: _Sql, row: str, sign: int) -> list[str]:
    key = [sql.hour(f"{row}.created_at"), *_segment("c")]
    where = f"c.id = {row}.case_id AND {_failed(row)}"
    return _add(sql, sign, key, {"replies_failed": str(sign)}, f"FROM {sql.table('case')} c", where)


def _moved(sql: _Sql, case: str, sign: int) -> list[str]:
    """A case's SMS and failed replies, counted under its segment ``case`` (OLD: taken off, NEW: added)."""
    return [
        *_add(
            sql,
            sign,
            [sql.hour("m.received_at"), *_segment(case)],
            {"received": f"{sign} * COUNT(*)"},
            "FROM inbound_message m",
            f"m.case_id = {case}.id GROUP BY 1, 2, 3, 4, 5",
        ),
        *_add(
            sql,
            sign,
            [sql.hour("o.created_at"), *_segment(case)],
            {"replies_failed": f"{sign} * COUNT(*)"},
            "FROM outbound_message o",
            f"o.case_id = {case}.id AND {_failed('o')} GROUP BY 1, 2, 3, 4, 5",
        ),
    ]


def _answer_row(sql: _Sql, row: str, source: str = "") -> str:
    """The line in report_answer of the case ``row`` (of every case in ``source``), if it is answered."""
    cells = [f"{row}.id", sql.seconds(f"{row}.opened_at", f"{row}.answered_at"), f"{row}.opened_at"]
    cells += [f"{row}.answered_at", *_segment(row)]
    source = source or ("FROM DUAL" if sql.kind == "mysql" else "")
    return (
        f"INSERT INTO {ANSWERS} ({', '.join(ANSWER_COLUMNS)}) SELECT {', '.join(cells)} {source}"
        f" WHERE {row}.answered_at IS NOT NULL"
    )


def _no_answer_row(row: str) -> str:
    return f"DELETE FROM {ANSWERS} WHERE case_id = {row}.id"


MESSAGE_COLUMNS = ("case_id", "received_at", "keyword")
CASE_COLUMNS = ("keyword", "category", "flow", "owner_id", "opened_at", "answered_at", "deadline_at", "status")
SEGMENT_COLUMNS = ("keyword", "category", "flow", "owner_id")
REPLY_COLUMNS = ("case_id", "created_at", "kind", "state")


def _bodies(sql: _Sql) -> dict[str, tuple[str, str, str, list[str]]]:
    """Per trigger: (event, table, condition or '', statements)."""
    case = sql.table("case")

    def on_update(table: str, columns: tuple[str, ...], statements, *more: str) -> tuple[str, str, str, list[str]]:
        """An update of one of ``columns``: the old row's part taken off, the new one's added."""
        body = [*statements("OLD", -1), *statements("NEW", 1), *more]
        return ("UPDATE", table, sql.any_differ("OLD", "NEW", columns), body)

    return {
        "report_hour_inbound_insert": ("INSERT", "inbound_message", "", _message_row(sql, "NEW", 1)),
        "report_hour_inbound_update": on_update(
            "inbound_message", MESSAGE_COLUMNS, lambda r, s: _message_row(sql, r, s)
        ),
        "report_hour_inbound_delete": ("DELETE", "inbound_message", "", _message_row(sql, "OLD", -1)),
        "report_hour_case_insert": ("INSERT", case, "", [*_case_row(sql, "NEW", 1), _answer_row(sql, "NEW")]),
        "report_hour_case_update": on_update(
            case,
            CASE_COLUMNS,
            lambda r, s: _case_row(sql, r, s),
            _no_answer_row("OLD"),
            _answer_row(sql, "NEW"),
        ),
        "report_hour_case_moved": on_update(case, SEGMENT_COLUMNS, lambda r, s: _moved(sql, r, s)),
        "report_hour_case_delete": ("DELETE", case, "", [*_case_row(sql, "OLD", -1), _no_answer_row("OLD")]),
        "report_hour_outbound_insert": ("INSERT", "outbound_message", "", _reply_row(sql, "NEW", 1)),
        "report_hour_outbound_update": on_update("outbound_message", REPLY_COLUMNS, lambda r, s: _reply_row(sql, r, s)),
        "report_hour_outbound_delete": ("DELETE", "outbound_message", "", _reply_row(sql, "OLD", -1)),
    }


def trigger_statements(kind: str) -> list[str]:
    """The statements that (re)create every trigger of the summary on a database of ``kind``."""
    sql = _Sql(kind)
    statements = []
    for name, (event, table, condition, body) in _bodies(sql).items():
        if kind == "postgresql":
            guard = f"IF NOT ({condition}) THEN RETURN NULL; END IF;" if condition else ""
            statements += [
                f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$ BEGIN {guard}"
                f" {'; '.join(body)}; RETURN NULL; END $$ LANGUAGE plpgsql",
                f"DROP TRIGGER IF EXISTS {name} ON {table}",
                f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()",
            ]
        elif kind == "mysql":
            inner = "; ".join(body) + ";"
            if condition:
                inner = f"IF {condition} THEN {inner} END IF;"
            statements += [
                f"DROP TRIGGER IF EXISTS {name}",
                f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW BEGIN {inner} END",
            ]
        else:
            when = f" WHEN {condition}" if condition else ""
            statements += [
                f"DROP TRIGGER IF EXISTS {name}",
                f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW{when} BEGIN {'; '.join(body)}; END",
            ]
    return statements


def drop_triggers(database: peewee.Database) -> None:
    """Every trigger of the summary gone (a database as before v14; tests of the older steps build one)."""
    kind = dialect(database)
    for name, (_event, table, _condition, _body) in _bodies(_Sql(kind)).items():
        database.execute_sql(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if kind == "postgresql" else ""))
        if kind == "postgresql":
            database.execute_sql(f"DROP FUNCTION IF EXISTS {name}()")


def install_triggers(database: peewee.Database) -> None:
    for statement in trigger_statements(dialect(database)):
        database.execute_sql(statement)


def rebuild(database: peewee.Database) -> int:
    """Count the whole summary again from the SMS, cases and replies (in the caller's transaction); returns its rows."""
    sql = _Sql(dialect(database))
    database.execute_sql(f"DELETE FROM {TABLE}")
    values = {k: f"SUM({v})" for k, v in _case_values(sql, "c").items()}
    cases = _select(
        sql,
        [sql.hour("c.opened_at"), *_segment("c")],
        values,
        f"MAX({_settle('c')})",
        f"FROM {sql.table('case')} c",
        "1 = 1 GROUP BY 1, 2, 3, 4, 5",
    )
    messages = _select(
        sql,
        _message_key(sql, "m"),
        {"received": "COUNT(*)"},
        sql.no_time(),
        f"FROM inbound_message m LEFT JOIN {sql.table('case')} c ON c.id = m.case_id",
        "1 = 1 GROUP BY 1, 2, 3, 4, 5",
    )
    replies = _select(
        sql,
        [sql.hour("o.created_at"), *_segment("c")],
        {"replies_failed": "COUNT(*)"},
        sql.no_time(),
        f"FROM outbound_message o JOIN {sql.table('case')} c ON c.id = o.case_id",
        f"{_failed('o')} GROUP BY 1, 2, 3, 4, 5",
    )
    for select in (cases, messages, replies):
        database.execute_sql(sql.upsert(select))
    database.execute_sql(f"DELETE FROM {ANSWERS}")
    database.execute_sql(_answer_row(sql, "c", f"FROM {sql.table('case')} c"))
    return ReportHour.select().count()
