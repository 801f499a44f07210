"""Every ``next`` goes through one safe-redirect helper (issue 10, item 8).

Browsers drop tab, CR and LF anywhere in a URL and read a backslash as a
slash, so ``/\\t/evil.com`` is ``//evil.com``: another site. Each known bypass
must land on a page of this site.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import pytest
from webfixtures import *  # noqa: F401,F403
from webfixtures import PASSWORD

from webui.redirects import safe_target

BYPASSES = [
    "//evil.com",
    "///evil.com",
    "////evil.com",
    "/\t/evil.com",
    "/\r/evil.com",
    "/\n/evil.com",
    "/\r\n/evil.com",
    "\t//evil.com",
    " //evil.com",
    "/\\evil.com",
    "\\\\evil.com",
    "\\/evil.com",
    "/\\/evil.com",
    "/\t\\evil.com",
    "https://evil.com",
    "http:evil.com",
    "http:/evil.com",
    "HTTPS://evil.com/",
    "//evil.com@localhost",
    "javascript:alert(1)",
    "jAvAsCrIpT:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "\x00//evil.com",
    "/\x00/evil.com",
    "/\x0b/evil.com",
    "/\x0c/evil.com",
    "\u3000//evil.com",
    "/\u3000/evil.com",
    "evil.com",
    ".evil.com",
    "@evil.com",
    "/%0D%0ALocation: //evil.com",
    "/\r\nSet-Cookie: x=1",
]
SAFE = ["/", "/cases/12", "/?status=open&q=%23123", "/siaran/?state=pending", "/admin/users/#locks"]


def browser_view(location: str) -> str:
    """Where a browser goes for ``location`` from http://localhost/: tab, CR, LF dropped, backslash as slash."""
    cleaned = "".join(c for c in location if c not in "\t\r\n").replace("\\", "/").strip("\x00 \x0b\x0c")
    return urljoin("http://localhost/", cleaned)


def stays_here(location: str) -> bool:
    target = urlsplit(browser_view(location))
    return target.scheme == "http" and target.netloc == "localhost"


@pytest.mark.parametrize("target", BYPASSES)
def test_helper_refuses_a_known_bypass(app, target):
    with app.test_request_context("/"):
        assert safe_target(target) == "/"


@pytest.mark.parametrize("target", SAFE)
def test_helper_keeps_a_path_of_this_site(app, target):
    with app.test_request_context("/"):
        assert safe_target(target) == target


@pytest.mark.parametrize("target", BYPASSES)
def test_language_switch_does_not_leave_the_site(client, target):
    response = client.post("/lang/en", data={"next": target})
    assert response.status_code == 302
    assert stays_here(response.headers["Location"]), response.headers["Location"]
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", BYPASSES)
def test_login_does_not_leave_the_site(app, target):
    client = app.test_client()
    response = client.post("/login", query_string={"next": target}, data={"login": "humas", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get("/").status_code == 200


def test_login_and_language_keep_a_path_of_this_site(client):
    response = client.post("/login", query_string={"next": "/cases/12"}, data={"login": "humas", "password": PASSWORD})
    assert response.headers["Location"] == "/cases/12"
    response = client.post("/lang/en", data={"next": "/outbox/?state=failed"})
    assert response.headers["Location"] == "/outbox/?state=failed"


def test_outbox_actions_return_only_to_a_page_of_this_site(client, auth):
    auth.login("admin")
    for referrer in (
        "http://localhost//evil.com",
        "http://localhost/\t/evil.com",
        "http://localhost.evil.com/",
        "http://localhost@evil.com/",
    ):
        response = client.post("/outbox/999/cancel", headers={"Referer": referrer})
        assert response.status_code in (302, 404)
        if response.status_code == 302:
            assert stays_here(response.headers["Location"])
