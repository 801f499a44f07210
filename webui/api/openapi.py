"""The OpenAPI 3.1 document, written from :data:`.spec.OPERATIONS` and the pydantic models the
handlers validate and answer with (JSON Schema 2020-12, which OpenAPI 3.1 uses as it is), and a
plain page of it for people (server-rendered, no script, nothing from elsewhere)."""

from __future__ import annotations

from functools import cache

from flask import jsonify, render_template
from pydantic.json_schema import models_json_schema

import modemd
from modemd.apitokens import SCOPES

from .errors import ERRORS
from .schemas import MAX_ID, Error
from .spec import OPERATIONS, Operation, bp

REF = "#/components/schemas/{model}"
# every endpoint may answer these: no or a bad token, outside its scope, too many requests
COMMON = ("missing_token", "invalid_token", "expired_token", "revoked_token", "disabled_user", "scope", "rate_limited")


def _error_codes(op: Operation) -> dict[int, list[str]]:
    codes = list(COMMON) + list(op.refusals)
    if op.body is not None:
        codes += ["bad_json", "invalid_field", "unknown_field", "too_large"]
    if op.query is not None:
        codes += ["invalid_field"]
    if op.path_params:
        codes += ["not_found"]
    if op.idempotent:
        codes += ["invalid_field"]  # a malformed Idempotency-Key
    by_status: dict[int, list[str]] = {}
    for code in dict.fromkeys(codes):
        by_status.setdefault(ERRORS[code][0], []).append(code)
    return by_status


def _query_parameters(op: Operation, schemas: dict) -> list[dict]:
    if op.query is None:
        return []
    model = schemas[op.query.__name__]
    required = set(model.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in model["properties"].items()
    ]


def _operation(op: Operation, schemas: dict) -> dict:
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}
        for name in op.path_params
    ]
    parameters += _query_parameters(op, schemas)
    if op.idempotent:
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "a retry with the same key and body answers the first result and sends nothing",
                "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,128}$"},
            }
        )
    status, model = op.ok
    responses: dict[str, dict] = {
        str(status): {
            "description": "OK" if status == 200 else "Created",
            "content": {"application/json": {"schema": {"$ref": REF.format(model=model.__name__)}}},
        }
    }
    for error_status, codes in sorted(_error_codes(op).items()):
        answer: dict = {
            "description": "error codes: " + ", ".join(codes),
            "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}},
        }
        if error_status == 429:
            answer["headers"] = {"Retry-After": {"schema": {"type": "string"}, "description": "seconds"}}
        responses[str(error_status)] = answer
    document: dict = {
        "operationId": op.name,
        "summary": op.summary,
        "description": op.description,
        "tags": [op.path.strip("/").split("/")[0]],
        "security": [{"token": [op.scope]}],
        "x-scope": op.scope,
        "parameters": parameters,
        "responses": responses,
    }
    if op.body is not None:
        document["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": REF.format(model=op.body.__name__)}}},
        }
    return document


@cache
def document() -> dict:
    """The whole document (built once per process: the declarations do not change while it runs)."""
    # requests as they are validated, answers as they are written
    models: dict[str, tuple] = {"Error": (Error, "serialization")}
    for op in OPERATIONS:
        models[op.ok[1].__name__] = (op.ok[1], "serialization")
        for incoming in (op.body, op.query):
            if incoming is not None:
                models[incoming.__name__] = (incoming, "validation")
    _keys, definitions = models_json_schema([models[name] for name in sorted(models)], ref_template=REF)
    schemas = definitions.get("$defs", {})
    paths: dict[str, dict] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "modemd API",
            "version": modemd.__version__,
            "description": (
                "Send SMS, read and answer the cases of the token's user, see the modems and draft broadcasts. "
                "Authenticate with `Authorization: Bearer <token>` (`modemd token create`, or the admin's "
                "API tokens page). Errors are JSON with a stable `code`; messages follow Accept-Language (id, en)."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "token": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "scopes: " + ", ".join(SCOPES),
                }
            },
        },
    }


@bp.get("/openapi.json")
def openapi_json():
    """The document itself (no token needed: it holds no data)."""
    return jsonify(document())


@bp.get("/docs")
def openapi_page():
    """The same document as a page for people."""
    return render_template("api/docs.html", doc=document(), errors=ERRORS)
