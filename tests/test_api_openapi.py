"""The OpenAPI document is the API: schemathesis drives the app from it (valid and invalid requests)
and finds no server error and no answer outside the document; the page of it is served locally."""

from __future__ import annotations

import pytest
import schemathesis
from apifixtures import *  # noqa: F401,F403  (make_token, bearer, ALL_SCOPES)
from apifixtures import ALL_SCOPES
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi import checks
from webfixtures import *  # noqa: F401,F403
from webfixtures import WEB_INI

from modemd import apitokens
from modemd.store.models import ApiToken
from webui.api.openapi import document
from webui.api.spec import OPERATIONS

# [api] rate_limit = 0: property-based runs make hundreds of requests a second
NO_LIMIT_INI = WEB_INI + "\n[api]\nrate_limit = 0\n"
CHECKS = [
    schemathesis.checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
    checks.negative_data_rejection,
]


@pytest.fixture
def web_ini():
    return NO_LIMIT_INI


# the token every generated request carries (made by the api_app fixture, stored hashed as any other)
SECRET = "mdt_schemathesis-" + "x" * 32


@pytest.fixture
def api_app(app, make_case, officials):
    """The app with cases 1-5, some visible to the token's user (humas), some not."""
    for keyword in ("INFO", "DISHUB", "DINKES", None, "INFO"):
        make_case(keyword)
    ApiToken.create(
        name="schemathesis",
        token_hash=apitokens.digest(SECRET),
        prefix=SECRET[:8],
        user=officials["humas"],
        scopes=ALL_SCOPES,
    )
    return app


# the document as the running app serves it is the one built here (test_the_served_document_is_the_built_one)
schema = schemathesis.openapi.from_dict(document())


@schema.auth()
class Token:
    """Schemathesis knows the requests are authenticated (it does not count them as missing credentials)."""

    def get(self, case, context):
        return SECRET

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_app_keeps_to_its_document(case, api_app):
    case.call_and_validate(app=api_app, checks=CHECKS)


def test_the_served_document_is_the_built_one(client):
    assert client.get("/api/v1/openapi.json").json == document()


def test_the_document_is_openapi_3_1_with_every_endpoint(client):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"] == "3.1.0"
    declared = {(op.method.lower(), op.path) for op in OPERATIONS}
    listed = {(method, path) for path, methods in document["paths"].items() for method in methods}
    assert declared == listed and len(listed) == 8
    send = document["paths"]["/messages"]["post"]
    assert set(send["responses"]) == {"201", "400", "401", "403", "409", "413", "422", "429"}
    # the request schema is the model the handler validates with: unknown fields refused in both
    body = document["components"]["schemas"]["SendMessage"]
    assert body["additionalProperties"] is False and body["required"] == ["number", "text"]


def test_the_readable_page_is_local_and_lists_every_endpoint(client):
    page = client.get("/api/v1/docs", headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "API documentation" in html
    for op in OPERATIONS:
        assert f"{op.method} /api/v1{op.path}" in html
    assert "http://" not in html.replace("http://localhost", "") and "https://" not in html  # nothing from elsewhere
