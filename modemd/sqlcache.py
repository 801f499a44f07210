"""SQL rendered once per kind of database, run many times with new values.

peewee builds a query's SQL text anew each time it runs, walking the query
node by node: for the short statements of the receive path (about ten per
routed message) that costs more than SQLite takes to run them. The text
depends only on the kind of database (quoting, placeholders), so it is built
once and executed with the database's own parameters.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any, Callable

import peewee

from .models import BaseModel, database_proxy


class Compiled:
    """A query rendered once per kind of database; :meth:`execute` runs it with new values.

    ``build(*examples)`` returns the query. Each example must come out as one
    parameter of the rendered SQL (checked when rendering), and a run puts its
    values in those places; constants of the query stay as rendered. Values
    go to the driver as given (str, int, naive UTC datetime, None), as peewee
    itself passes these kinds of values for the fields used here.
    """

    def __init__(self, build: Callable[..., peewee.Query], *examples: Any):
        self.build, self.examples = build, examples
        self._rendered: dict[type, tuple[str, list, list[tuple[int, int]]]] = {}

    def _render(self, kind: type) -> tuple[str, list, list[tuple[int, int]]]:
        sql, params = self.build(*self.examples).sql()
        places = []
        for position, value in enumerate(params):
            hits = [n for n, example in enumerate(self.examples) if type(example) is type(value) and example == value]
            if hits:
                places.append((position, hits[0]))
        if sorted(n for _, n in places) != list(range(len(self.examples))):
            raise ValueError(f"each example must be one parameter of {sql!r} (parameters: {params!r})")
        self._rendered[kind] = rendered = (sql, list(params), places)
        return rendered

    def sql(self, *values: Any) -> tuple[str, list]:
        database = database_proxy.obj
        sql, constants, places = self._rendered.get(type(database)) or self._render(type(database))
        params = list(constants)
        for position, n in places:
            params[position] = values[n]
        return sql, params

    def execute(self, *values: Any):
        """The driver's cursor after running the statement with ``values``."""
        sql, params = self.sql(*values)
        return database_proxy.obj.execute_sql(sql, params)

    def first(self, model: type[BaseModel], *values: Any) -> BaseModel | None:
        """The first row as a ``model`` instance (the query must select the model's columns)."""
        sql, params = self.sql(*values)
        return next(iter(model.raw(sql, *params)), None)


class CompiledInsert:
    """``model.insert(values).execute()``, rendered once per kind of database: returns the new id.

    Every column is always in the statement; a value left out gets the
    field's default, as peewee's own INSERT does, and goes through the
    field's conversion to the database (a model for a foreign key becomes its id).
    """

    def __init__(self, model: type[BaseModel]):
        self.model = model
        self.fields = [f for f in model._meta.sorted_fields if f is not model._meta.primary_key]
        self._rendered: dict[type, str] = {}

    def _render(self, kind: type) -> str:
        self._rendered[kind] = sql = self.model.insert({f: None for f in self.fields}).sql()[0]
        return sql

    def execute(self, values: dict[str, Any]) -> int:
        database = database_proxy.obj
        sql = self._rendered.get(type(database)) or self._render(type(database))
        params = [f.db_value(values[f.name] if f.name in values else _default(f)) for f in self.fields]
        cursor = database.execute_sql(sql, params)
        return cursor.fetchone()[0] if database.returning_clause else cursor.lastrowid


def _default(field: peewee.Field) -> Any:
    return field.default() if callable(field.default) else field.default


# an example value per parameter (see Compiled), distinct from any query's constants
EXAMPLE_TEXT, EXAMPLE_TEXT2 = "<example text 1>", "<example text 2>"
EXAMPLE_ID, EXAMPLE_ID2 = -900001, -900002
EXAMPLE_TIME = datetime(1901, 2, 3, 4, 5, 6)


def database_kind(model: type[BaseModel]) -> type:
    """The class of the database ``model`` is bound to now: what the SQL text depends on (quoting, placeholders)."""
    return type(model._meta.database.obj)


@lru_cache(maxsize=32)
def _select_by_id(model: type[BaseModel], kind: type) -> str:
    sql, _params = model.select().where(model._meta.primary_key == 0).sql()
    return sql


def get_or_none_by_id(model: type[BaseModel], key: int):
    """``model.get_or_none(model.id == key)``, with the SELECT compiled once per model and kind of database."""
    # a model class is hashable; mypy cannot tell, peewee being untyped for it (see pyproject.toml)
    return next(iter(model.raw(_select_by_id(model, database_kind(model)), key)), None)  # type: ignore[arg-type]
