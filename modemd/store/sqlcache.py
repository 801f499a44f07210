"""SQL rendered once, run many times with new values: modemd's one way to pre-compile a query.

Why: peewee builds a query's SQL text anew each time it runs, walking the
query node by node, about 0.1 ms per statement. For the short statements that
run thousands of times that costs more than SQLite takes to run them. Only
there is a query pre-compiled, each place measured by a bench:

* the receive path (:mod:`modemd.receive.inbound`, :mod:`modemd.receive.routing`, about ten
  statements per message): ``bench/bench_daemon.py throughput``;
* what every web request runs (:mod:`webui.sessions`, :mod:`webui.access`,
  :mod:`webui.dashboard`): ``bench/bench_web.py``;
* a broadcast's rows (:mod:`modemd.jobs.broadcasts.queueing`, 20,000 INSERTs):
  ``bench/bench_broadcast.py``;
* every row of ``modemd db copy`` (:mod:`modemd.store.dbcopy`, one INSERT per
  table run with executemany): ``bench/bench_db_backup_copy.py``.

Everything else is a plain peewee query.

How: the query is ordinary peewee, with :class:`Param` ("a value given at
each run") where a value changes from run to run::

    _BY_KEY = Compiled(lambda: WebSession.select().where(WebSession.key_hash == Param("key_hash")))
    row = _BY_KEY.first(key_hash=digest)

peewee renders it once per kind of database (quoting, placeholders and
RETURNING differ) and per *shape*: the positional arguments of ``build``,
for what changes the SQL text itself (a user's role, a model). Each Param
becomes one placeholder; a run fills it from the keyword argument of its name,
converted by the field's ``db_value`` as peewee itself converts values.
Everything else (constants, LIMIT) keeps the value it was rendered with.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import peewee

from modemd.store.models import BaseModel, database_proxy


class Param(peewee.Node):
    """A placeholder filled at each run of a :class:`Compiled` query with the value named ``name``.

    ``converter`` turns the value into what the driver gets; by default the
    ``db_value`` of the field it is compared with (``Field == Param(...)``).
    """

    def __init__(self, name: str, converter: Callable[[Any], Any] | None = None):
        super().__init__()
        self.name, self.converter = name, converter

    def __sql__(self, ctx):
        # the slot goes into the parameters as it is (converter=False): rendering only records where it is
        return ctx.value(_Slot(self.name, self.converter or ctx.state.converter), converter=False)


@dataclass(frozen=True)
class _Slot:
    name: str
    converter: Callable[[Any], Any] | None


@dataclass(frozen=True)
class Statement:
    """One rendered query: its SQL, its parameters and which of them each run fills."""

    sql: str
    constants: tuple
    slots: tuple[tuple[int, str, Callable[[Any], Any] | None], ...]  # (position in the parameters, name, converter)
    model: type[BaseModel] | None  # the model a SELECT's rows are made of

    def params(self, values: dict[str, Any]) -> list:
        params = list(self.constants)
        for position, name, converter in self.slots:
            value = values[name]
            params[position] = value if converter is None or value is None else converter(value)
        return params

    def params_per_value(self, shared: dict[str, Any], name: str, values: Iterable[Any]) -> list[tuple]:
        """The parameters of one run per value of ``name``, the others from ``shared`` (converted once)."""
        params = self.params(dict(shared, **{name: None}))
        places = [(position, converter) for position, slot_name, converter in self.slots if slot_name == name]
        runs = []
        for value in values:
            for position, converter in places:
                params[position] = value if converter is None or value is None else converter(value)
            runs.append(tuple(params))
        return runs


class Compiled:
    """A query built by ``build(*shape)`` with :class:`Param` placeholders, rendered once per kind of
    database and shape; at most ``shapes`` shapes are kept (then it starts over)."""

    def __init__(self, build: Callable[..., peewee.Query], *, shapes: int = 1):
        self.build, self.shapes = build, shapes
        self._rendered: dict[tuple, Statement] = {}

    def statement(self, *shape: Any) -> Statement:
        key = (type(database_proxy.obj), shape)
        rendered = self._rendered.get(key)
        if rendered is None:
            rendered = self._render(*shape)
            if len(self._rendered) >= self.shapes * 4:  # a few kinds of database in tests
                self._rendered.clear()
            self._rendered[key] = rendered
        return rendered

    def _render(self, *shape: Any) -> Statement:
        query = self.build(*shape)
        sql, params = query.sql()
        slots = tuple((n, value.name, value.converter) for n, value in enumerate(params) if isinstance(value, _Slot))
        constants = tuple(None if isinstance(value, _Slot) else value for value in params)
        return Statement(sql, constants, slots, getattr(query, "model", None))

    def execute(self, *shape: Any, **values: Any):
        """The driver's cursor after running the statement with ``values``."""
        statement = self.statement(*shape)
        return database_proxy.obj.execute_sql(statement.sql, statement.params(values))

    def execute_many(self, shared: dict[str, Any], name: str, values: Iterable[Any], *shape: Any) -> None:
        """Run the statement once per value of the Param ``name``, the other Params from ``shared``, with
        the driver's executemany (SQLite loops in C, PyMySQL folds the runs into multi-row INSERTs,
        psycopg 3 pipelines them): 20,000 rows in a fraction of a second."""
        statement = self.statement(*shape)
        database_proxy.cursor().executemany(statement.sql, statement.params_per_value(shared, name, values))

    def rows(self, *shape: Any, **values: Any) -> list:
        """The rows as instances of the query's model (a SELECT of the model's columns)."""
        statement = self.statement(*shape)
        assert statement.model is not None, "rows() needs a query of a model"
        return list(statement.model.raw(statement.sql, *statement.params(values)))

    def first(self, *shape: Any, **values: Any):
        """The first row as an instance of the query's model, or None."""
        statement = self.statement(*shape)
        assert statement.model is not None, "first() needs a query of a model"
        return next(iter(statement.model.raw(statement.sql, *statement.params(values))), None)

    def scalar(self, *shape: Any, **values: Any) -> Any:
        """The first column of the first row (None without a row)."""
        row = self.execute(*shape, **values).fetchone()
        return None if row is None else row[0]


class CompiledInsert:
    """``model.insert(values).execute()`` as a :class:`Compiled` query: each column a Param.

    :meth:`execute` always names every column; :meth:`execute_many` the
    columns given and those with a default, as peewee's own INSERT does (fewer
    values to bind per row). A value left out gets the field's default at each
    run (a default rendered into the SQL would be frozen) and every value goes
    through the field's conversion (a model for a foreign key becomes its id).
    With ``ignore_conflicts`` a row that breaks a unique index is skipped
    (``ON CONFLICT DO NOTHING`` / ``INSERT IGNORE``).
    """

    def __init__(self, model: type[BaseModel], *, ignore_conflicts: bool = False):
        self.model = model
        self.fields = [f for f in model._meta.sorted_fields if f is not model._meta.primary_key]
        self._every_column = tuple(f.name for f in self.fields)
        self._fields = {f.name: f for f in self.fields}
        self._query = Compiled(self._build, shapes=4)
        self.ignore_conflicts = ignore_conflicts

    def _build(self, columns: tuple[str, ...]) -> peewee.Query:
        query = self.model.insert({f: Param(f.name, f.db_value) for f in self.fields if f.name in columns})
        if self.ignore_conflicts:
            query = query.on_conflict_ignore()
            if database_proxy.obj.returning_clause:
                query = query.returning()  # a skipped row has no id to fetch back
        return query

    def _complete(self, values: dict[str, Any], columns: tuple[str, ...]) -> dict[str, Any]:
        return {name: values[name] if name in values else _default(self._fields[name]) for name in columns}

    def execute(self, values: dict[str, Any]) -> int:
        """Insert one row; returns its id."""
        statement = self._query.statement(self._every_column)
        # one pass, as this runs three times per received message: a default only where a value is missing
        params = list(statement.constants)
        for position, name, converter in statement.slots:
            value = values[name] if name in values else _default(self._fields[name])
            params[position] = value if converter is None or value is None else converter(value)
        cursor = database_proxy.obj.execute_sql(statement.sql, params)
        return cursor.fetchone()[0] if database_proxy.obj.returning_clause else cursor.lastrowid

    def execute_many(self, shared: dict[str, Any], column: str, values: Iterable[Any]) -> None:
        """Insert one row per value of ``column``, the other columns from ``shared`` (defaults taken once)
        with one executemany (see :meth:`Compiled.execute_many`)."""
        given = dict(shared, **{column: None})
        columns = tuple(f.name for f in self.fields if f.name in given or f.default is not None)
        self._query.execute_many(self._complete(given, columns), column, values, columns)


def _default(field: peewee.Field) -> Any:
    return field.default() if callable(field.default) else field.default


_BY_ID = Compiled(lambda model: model.select().where(model._meta.primary_key == Param("id")), shapes=32)


def get_or_none_by_id(model: type[BaseModel], key: int):
    """``model.get_or_none(model.id == key)``, compiled once per model."""
    return _BY_ID.first(model, id=key)
