"""One declaration per endpoint: its route, scope, request and answer models.

:func:`operation` registers the Flask view and records the same declaration in
:data:`OPERATIONS`, which :mod:`.openapi` turns into the document. The wrapper
does what every endpoint needs, in this order: the token (401), its scope
(403), the rate limit (429), the body (413, 400) and the query (400), then
the handler; with ``idempotent`` a request with ``Idempotency-Key`` runs once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from pydantic import BaseModel, ValidationError

from modemd import apitokens
from modemd.store.models import ApiToken, User, audit

from . import idempotency
from .batching import GroupCommit
from .errors import ApiError
from .ratelimit import RateLimiter, retry_after
from .schemas import MAX_ID, Problem

bp = Blueprint("api", __name__, url_prefix="/api/v1")
#: the largest request body; a send or a reply is a few kilobytes
MAX_BODY = 64 * 1024
_PATH_PARAM = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # OpenAPI form, e.g. /cases/{case_id}
    name: str
    summary: str
    description: str
    scope: str
    ok: tuple[int, type[BaseModel]]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    idempotent: bool = False
    refusals: tuple[str, ...] = ()  # error codes of this operation beyond the common ones
    path_params: tuple[str, ...] = field(default=())


OPERATIONS: list[Operation] = []


def limiter() -> RateLimiter:
    return current_app.extensions["modemd_api_limiter"]


def writer() -> GroupCommit:
    return current_app.extensions["modemd_api_writer"]


def token() -> ApiToken:
    return g.api_token


def user() -> User:
    return g.api_token.user


def record(action: str, obj=None, **detail) -> None:
    """An audit entry for a write through the API: the token's user, and the token's name."""
    audit(user().login, action, obj, token=token().name, **detail)


def _authenticate() -> ApiToken:
    # only this header authenticates: a browser's session cookie never does (no CSRF through the API)
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if not header or scheme.lower() != "bearer" or not secret.strip():
        raise ApiError("missing_token", headers={"WWW-Authenticate": 'Bearer realm="modemd"'})
    found, why = apitokens.authenticate(secret.strip(), request.remote_addr or "")
    if found is None:
        code = {"expired": "expired_token", "revoked": "revoked_token", "disabled_user": "disabled_user"}.get(
            why, "invalid_token"
        )
        raise ApiError(code, headers={"WWW-Authenticate": 'Bearer realm="modemd", error="invalid_token"'})
    return found


def _problems(error: ValidationError, where: str) -> list[Problem]:
    return [
        Problem(
            field=".".join([where, *(str(part) for part in item["loc"])]) if item["loc"] else where,
            problem=item["msg"],
        )
        for item in error.errors(include_url=False)
    ]


def _parse_body(model: type[BaseModel]) -> BaseModel:
    request.max_content_length = MAX_BODY  # larger: 413 (RequestEntityTooLarge), answered as JSON
    raw = request.get_data(cache=True)
    try:
        return model.model_validate_json(raw or b"")
    except ValidationError as exc:
        kinds = {item["type"] for item in exc.errors()}
        if "json_invalid" in kinds or not raw.strip():
            raise ApiError("bad_json") from None
        code = "unknown_field" if kinds == {"extra_forbidden"} else "invalid_field"
        raise ApiError(code, details=_problems(exc, "body")) from None


def _parse_query(model: type[BaseModel]) -> BaseModel:
    # a parameter given twice stays a list, which no field takes: refused rather than one of them picked
    values = {name: given[0] if len(given) == 1 else given for name, given in request.args.lists()}
    try:
        return model.model_validate_strings(values, strict=True)
    except ValidationError as exc:
        raise ApiError("invalid_field", details=_problems(exc, "query")) from None


def _json(status: int, body: str, replayed: bool = False) -> Response:
    response = Response(body, status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def operation(
    method: str,
    path: str,
    *,
    scope: str,
    summary: str,
    ok: tuple[int, type[BaseModel]],
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    idempotent: bool = False,
    refusals: tuple[str, ...] = (),
):
    """Declare and register an endpoint. The handler gets the path's ids, then ``body=`` / ``query=``
    when declared, and returns an instance of the ``ok`` model."""

    def decorate(view: Callable[..., BaseModel]):
        params = tuple(_PATH_PARAM.findall(path))
        op = Operation(
            method=method,
            path=path,
            name=view.__name__,
            summary=summary,
            description=(view.__doc__ or "").strip(),
            scope=scope,
            ok=ok,
            body=body,
            query=query,
            idempotent=idempotent,
            refusals=refusals,
            path_params=params,
        )
        OPERATIONS.append(op)

        def answer(kwargs: dict) -> tuple[int, str]:
            return op.ok[0], view(**kwargs).model_dump_json()  # written by pydantic's serializer, in Rust

        def handle(**ids: int) -> Response:
            g.api_token = _authenticate()
            if op.scope not in apitokens.scopes_of(g.api_token):
                raise ApiError("scope", scope=op.scope)
            wait = limiter().wait(g.api_token.id)
            if wait > 0:
                raise ApiError("rate_limited", headers={"Retry-After": retry_after(wait)})
            if any(value > MAX_ID for value in ids.values()):
                raise ApiError("not_found")
            kwargs: dict[str, Any] = dict(ids)
            if op.body is not None:
                kwargs["body"] = _parse_body(op.body)
            if op.query is not None:
                kwargs["query"] = _parse_query(op.query)
            if op.method == "GET":
                return _json(*answer(kwargs))
            # a write: in the shared transaction of the group commit, with this request's app and token
            app, found = current_app._get_current_object(), g.api_token  # type: ignore[attr-defined]

            def write() -> tuple[int, str]:
                with app.app_context():
                    g.api_token = found
                    return answer(kwargs)

            key = request.headers.get("Idempotency-Key")
            if op.idempotent and key is not None:
                fingerprint = idempotency.request_hash(
                    op.method, request.path, kwargs["body"].model_dump(mode="json") if op.body else None
                )
                status, body, replayed = idempotency.once(found, key, fingerprint, write, writer().run)
                return _json(status, body, replayed)
            return _json(*writer().run(write))

        rule = _PATH_PARAM.sub(r"<int:\1>", path)
        bp.add_url_rule(rule, endpoint=op.name, view_func=handle, methods=[method])
        return view

    return decorate
