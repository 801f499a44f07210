"""``Idempotency-Key``: a retried request gets the first answer again instead of a second SMS.

The key is stored (per token) in the same transaction as what the request
wrote, before it writes: a second request with the key waits for the first
one's transaction (the unique index), then finds its answer. A failed request
(4xx) writes nothing and leaves the key free. The same key with another
method, path or body is refused with 409. Keys are kept 24 hours.
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


def _kept(token: ApiToken, key: str, fingerprint: str) -> tuple[int, str, bool] | None:
    """The stored answer for this key (409 when it was for another request), or None."""
    kept = ApiIdempotency.get_or_none((ApiIdempotency.token == token.id) & (ApiIdempotency.key == key))
    if kept is None:
        return None
    if kept.created_at < utcnow() - KEEP:  # forgotten: the key may serve a new request
        kept.delete_instance()
        return None
    if kept.request_hash != fingerprint:
        raise ApiError("idempotency_conflict")
    return kept.status, kept.response, True


def _claim_and_run(token: ApiToken, key: str, fingerprint: str, run: Callable[[], tuple[int, str]]):
    """In the caller's transaction: take the key, run, keep the answer; None when the key is taken."""
    try:
        with database_proxy.atomic():  # a savepoint: the duplicate key must not abort the transaction
            row = ApiIdempotency.create(
                token=token.id, key=key, request_hash=fingerprint, status=0, response="", created_at=utcnow()
            )
    except peewee.IntegrityError:
        return None
    status, body = run()  # an ApiError rolls the key back with everything else
    row.status, row.response = status, body
    row.save(only=[ApiIdempotency.status, ApiIdempotency.response])
    return status, body


def once(
    token: ApiToken,
    key: str,
    fingerprint: str,
    run: Callable[[], tuple[int, str]],
    commit: Callable[[Callable[[], Any]], Any],
) -> tuple[int, str, bool]:
    """(status, JSON body, replayed): ``run()`` at most once per (token, key) within :data:`KEEP`.

    ``commit(work)`` runs ``work`` in a transaction and returns its result once committed
    (:class:`.batching.GroupCommit`); a request with the key taken meanwhile waits for it there.
    """
    check_key(key)
    for _attempt in range(3):  # again when the request holding the key rolled back meanwhile
        found = _kept(token, key, fingerprint)
        if found is not None:
            return found
        outcome = commit(lambda: _claim_and_run(token, key, fingerprint, run))
        if outcome is not None:
            status, body = outcome
            return status, body, False
    raise ApiError("idempotency_conflict")
