"""Fixtures for web UI tests, in the style of Flask's tutorial (app, client, auth).

Use them from a test module with::

    from webfixtures import *  # noqa: F401,F403  (app, client, auth, make_case, ...)

``app`` runs against the ``officials`` users of conftest.py (humas, dishub,
dinkes, admin, ketua; password ``rahasia-123``) in a fresh SQLite file, with a
real modemd.ini (written by ``write_config``). CSRF is off in ``app``; use
``csrf_app``/``csrf_client`` and :func:`csrf_token_from` to test it on.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from modemd import config as config_module
from modemd.store.models import Case, InboundMessage, utcnow

PASSWORD = "rahasia-123"

WEB_INI = """
[sms]
sender_id = PEMKAB

[web]
secret_key_file = secret.key
demo = yes

[modem:sim1]
driver = sim
device = sim1-spool
send_delay = 0
report_delay = 0
"""

__all__ = [
    "PASSWORD",
    "WEB_INI",
    "web_ini",
    "web_config",
    "app",
    "client",
    "csrf_app",
    "csrf_client",
    "auth",
    "make_case",
    "csrf_token_from",
    "AuthActions",
]


@pytest.fixture
def web_ini() -> str:
    """The modemd.ini text of the app (override this fixture in a module to change it)."""
    return WEB_INI


@pytest.fixture
def web_config(write_config, officials, web_ini):
    """A loaded Config whose database is the officials' SQLite file."""
    return config_module.load(write_config(web_ini))


def _make_app(config, **extra):
    from webui import create_app

    return create_app(config=config, test_config={"TESTING": True, **extra})


@pytest.fixture
def app(web_config):
    return _make_app(web_config, WTF_CSRF_ENABLED=False)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def csrf_app(web_config):
    return _make_app(web_config, WTF_CSRF_ENABLED=True)


@pytest.fixture
def csrf_client(csrf_app):
    return csrf_app.test_client()


_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    """The CSRF token of the first form in a page."""
    match = _TOKEN.search(html)
    assert match, "no csrf_token field in the page"
    return match.group(1)


class AuthActions:
    def __init__(self, client):
        self.client = client

    def login(self, login: str = "humas", password: str = PASSWORD, client=None):
        """Log ``client`` (default: the ``client`` fixture) in; works with CSRF on or off."""
        client = client or self.client
        page = client.get("/login")
        data = {"login": login, "password": password}
        match = _TOKEN.search(page.get_data(as_text=True))
        if match:
            data["csrf_token"] = match.group(1)
        return client.post("/login", data=data)

    def logout(self, client=None):
        client = client or self.client
        page = client.get("/")
        data = {}
        match = _TOKEN.search(page.get_data(as_text=True))
        if match:
            data["csrf_token"] = match.group(1)
        return client.post("/logout", data=data)


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def make_case(officials):
    """make_case(keyword, text, citizen="081234567890", owner=None, **case_fields) -> Case with one InboundMessage.

    The owner defaults to the keyword's owner among ``officials``; keyword None is the unrouted inbox.
    """

    def make(
        keyword: str | None = "INFO",
        text: str = "INFO jalan rusak",
        citizen: str = "+6281234567890",
        owner=None,
        received_at=None,
        **fields,
    ) -> Case:
        received = received_at or utcnow()
        if owner is None and keyword:
            owner = {"INFO": officials["humas"], "DISHUB": officials["dishub"], "DINKES": officials["dinkes"]}.get(
                keyword
            )
        case = Case.create(
            keyword=keyword,
            owner=owner,
            citizen=citizen,
            opened_at=received,
            deadline_at=fields.pop("deadline_at", received + timedelta(hours=3)),
            last_message_at=received,
            **fields,
        )
        InboundMessage.create(
            modem="sim1",
            sender_raw=citizen,
            sender=citizen,
            text=text,
            received_at=received,
            route="new" if keyword else "unrouted",
            keyword=keyword,
            case=case,
        )
        return case

    return make
