"""SQL compiled once for the few queries every request runs.

peewee builds the SQL text of a query anew each time it runs, walking the
query node by node: about 0.1 ms for a one-row SELECT, more than SQLite takes
to answer it. The queries here run on every page (the session's user, the
unanswered badge) or every case action (the case by id); their text depends
only on the kind of database (and the arguments of the cache key), so it is
built once and run with the database's own placeholders.
"""

from __future__ import annotations

from functools import lru_cache

from modemd.models import BaseModel


def database_kind(model: type[BaseModel]) -> type:
    """The class of the database ``model`` is bound to now: what the SQL text depends on (quoting, placeholders)."""
    return type(model._meta.database.obj)


@lru_cache(maxsize=32)
def _select_by_id(model: type[BaseModel], kind: type) -> str:
    sql, _params = model.select().where(model._meta.primary_key == 0).sql()
    return sql


def get_or_none_by_id(model: type[BaseModel], key: int):
    """``model.get_or_none(model.id == key)``, with the SELECT compiled once per model and kind of database."""
    return next(iter(model.raw(_select_by_id(model, database_kind(model)), key)), None)
