"""Fixtures for the HTTP API (webui/api): tokens and a client that sends them.

Use with ``from webfixtures import *`` and ``from apifixtures import *``.
"""

from __future__ import annotations

import pytest

from modemd import apitokens

__all__ = ["make_token", "bearer", "ALL_SCOPES"]

ALL_SCOPES = ",".join(apitokens.SCOPES)


def bearer(secret: str, **extra) -> dict:
    return {"Authorization": f"Bearer {secret}", **extra}


@pytest.fixture
def make_token(officials):
    """make_token(login="admin", scopes=ALL_SCOPES, name=None, expires=None) -> the secret."""
    made_names = iter(range(1, 1000))

    def make(login: str = "admin", scopes: str = ALL_SCOPES, name: str | None = None, expires=None) -> str:
        user = officials[login]
        return apitokens.create(
            name or f"{login}-{next(made_names)}", user, scopes, expires=expires, actor="test"
        ).secret

    return make
