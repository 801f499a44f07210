"""What the administrator sees of API tokens, in Chromium: make one, copy its secret once, revoke it;
and the API documentation page, served locally."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from conftest import login

pytestmark = pytest.mark.browser


def status_with(base: str, secret: str) -> int:
    request = urllib.request.Request(f"{base}/api/v1/status", headers={"Authorization": f"Bearer {secret}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            json.load(answer)
            return answer.status
    except urllib.error.HTTPError as refused:
        return refused.code


def test_admin_makes_a_token_shown_once_and_revokes_it(page, live_server):
    login(page, live_server, "admin")
    page.goto(f"{live_server}/admin/tokens/")
    page.fill("input[name=name]", "monitoring")
    page.select_option("select[name=user]", "humas")
    page.check("input[name=scopes][value=status]")
    page.click("form.card button[type=submit]")
    secret = page.inner_text("code.secret").strip()
    assert secret.startswith("mdt_")
    assert status_with(live_server, secret) == 200
    page.goto(f"{live_server}/admin/tokens/")
    assert "monitoring" in page.inner_text("table") and secret not in page.content()
    assert "dari 127.0.0.1" in page.inner_text("table")  # last use and the caller's address
    page.click("table button.danger")
    assert "dicabut" in page.inner_text("table")
    assert status_with(live_server, secret) == 401


def test_api_documentation_page_is_served_locally(page, live_server):
    requested: list[str] = []
    problems: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.goto(f"{live_server}/api/v1/docs")
    assert "POST /api/v1/messages" in page.inner_text("body")
    assert all(url.startswith(live_server) for url in requested), requested
    assert problems == []
