"""``Idempotency-Key``: a retried request gets the first answer again instead of a second SMS.

The key is stored (per token) with the answer, in the same savepoint as what
the request wrote: when two requests with one key race, the unique index lets
one store it and undoes the other's writes, which then answers with the kept
answer. A failed request (4xx) writes nothing and leaves the key free. The
same key with another method, path or body is refused with 409. Keys are kept
24 hours.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import peewee

from modemd.store.models import ApiIdempotency, ApiToken, database_proxy, utcnow
from modemd.store.sqlcache import Compiled, CompiledInsert, Param

from .errors import ApiError
from .schemas import Problem

KEEP = timedelta(hours=24)
KEY = re.compile(r"^[\x21-\x7e]{1,128}$")  # printable ASCII, as the IETF draft's examples (UUIDs)


def request_hash(method: str, path: str, body: dict | None) -> str:
    canonical = json.dumps([method, path, body], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def check_key(key: str) -> None:
    if not KEY.match(key):
        raise ApiError(
            "invalid_field",
            details=[Problem(field="header.Idempotency-Key", problem="1-128 printable ASCII characters")],
        )


# every retried send looks its key up: SQL compiled once (modemd.store.sqlcache, bench/bench_api.py)
_KEPT = Compiled(
    lambda: ApiIdempotency.select().where(
        (ApiIdempotency.token == Param("token")) & (ApiIdempotency.key == Param("key"))
    )
)
_INSERT = CompiledInsert(ApiIdempotency)


class _Taken(Exception):
    """Another request stored an answer for the key first: this one's writes are undone."""


def _kept(token: ApiToken, key: str, fingerprint: str) -> tuple[int, str, bool] | None:
    """The stored answer for this key (409 when it was for another request), or None."""
    kept = _KEPT.first(token=token.id, key=key)
    if kept is None:
        return None
    if kept.created_at < utcnow() - KEEP:  # forgotten: the key may serve a new request
        kept.delete_instance()
        return None
    if kept.request_hash != fingerprint:
        raise ApiError("idempotency_conflict")
    return kept.status, kept.response, True


def _run_and_keep(token: ApiToken, key: str, fingerprint: str, run: Callable[[], tuple[int, str]]):
    """In the caller's savepoint: run, then keep the answer under the key (one INSERT).

    When the key was stored meanwhile (the unique index; on a server database the INSERT waits
    for the other request's transaction), :class:`_Taken` rolls the savepoint back, and with it
    what ``run`` wrote: the request then answers with what the other one kept.
    """
    status, body = run()  # an ApiError rolls back what it wrote, and stores no key
    values = {"token": token.id, "key": key, "request_hash": fingerprint, "status": status, "response": body}
    try:
        with database_proxy.atomic():  # a savepoint: the duplicate key must not abort the transaction
            _INSERT.execute({**values, "created_at": utcnow()})
    except peewee.IntegrityError:
        raise _Taken from None
    return status, body


def once(
    token: ApiToken,
    key: str,
    fingerprint: str,
    run: Callable[[], tuple[int, str]],
    commit: Callable[[Callable[[], Any]], Any],
) -> tuple[int, str, bool]:
    """(status, JSON body, replayed): ``run()`` kept at most once per (token, key) within :data:`KEEP`.

    ``commit(work)`` runs ``work`` in a savepoint of a transaction and returns its result once
    committed, or raises what it raised with its writes undone (:class:`.batching.GroupCommit`).
    """
    check_key(key)
    for _attempt in range(3):  # again when the request holding the key rolled back meanwhile
        found = _kept(token, key, fingerprint)
        if found is not None:
            return found
        try:
            status, body = commit(lambda: _run_and_keep(token, key, fingerprint, run))
        except _Taken:
            continue
        return status, body, False
    raise ApiError("idempotency_conflict")
