"""Password guessing is slowed without handing attackers a way to lock people out (issue 10, item 5).

Failures count per (account, address), per address (spraying many accounts)
and per account over all addresses (a slower ceiling). A correct password
from an address that has not failed is never refused; the administrator sees
and clears locks. ``X-Forwarded-For`` counts only from ``[web] trusted_proxies``.
Time moves with freezegun.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from freezegun import freeze_time
from webfixtures import *  # noqa: F401,F403
from webfixtures import PASSWORD, WEB_INI

from modemd import config as config_module
from modemd.store.models import AuditLog

START = datetime(2026, 3, 2, 8, 0, 0)
ATTACKER, ADMIN_DESK, INSIDER = "10.0.0.66", "10.0.0.5", "10.0.0.7"


def _login(client, login, password, address, headers=None):
    return client.post(
        "/login",
        data={"login": login, "password": password},
        environ_base={"REMOTE_ADDR": address},
        headers=headers or {},
    )


def _logout(client, address):
    return client.post("/logout", environ_base={"REMOTE_ADDR": address})


def test_guesses_from_one_address_do_not_lock_the_owner_out(app):
    attacker, admin = app.test_client(), app.test_client()
    with freeze_time(START) as clock:
        for _ in range(4):
            _login(attacker, "admin", "tebak", ATTACKER)
        for _ in range(8):  # then one guess every 15 minutes, for two hours
            clock.tick(timedelta(minutes=15))
            _login(attacker, "admin", "tebak", ATTACKER)
        response = _login(admin, "admin", PASSWORD, ADMIN_DESK)
    assert response.status_code == 302, "the attacker's guesses locked the admin out"


def test_the_guessing_address_is_slowed_even_with_the_right_password(app):
    attacker = app.test_client()
    with freeze_time(START) as clock:
        statuses = [_login(attacker, "admin", "tebak", ATTACKER).status_code for _ in range(5)]
        assert statuses == [401, 401, 401, 401, 429]  # three free failures; the fourth locks for 2 s
        assert _login(attacker, "admin", PASSWORD, ATTACKER).status_code == 429
        clock.tick(timedelta(seconds=3))  # the first lock is 2 seconds; the next failure doubles it
        assert _login(attacker, "admin", "tebak", ATTACKER).status_code == 401
        assert _login(attacker, "admin", PASSWORD, ATTACKER).status_code == 429
        clock.tick(timedelta(seconds=5))
        assert _login(attacker, "admin", PASSWORD, ATTACKER).status_code == 302


def test_own_logins_do_not_reset_the_count_of_an_address_spraying_other_accounts(app, make_user):
    for n in range(12):
        make_user(f"staf{n}", password="sandi-staf-123")
    insider = app.test_client()
    with freeze_time(START):
        refused = None
        for n in range(12):
            if _login(insider, "humas", PASSWORD, INSIDER).status_code != 302:
                refused = n
                break
            _logout(insider, INSIDER)
            if _login(insider, f"staf{n}", "tebakan-umum", INSIDER).status_code == 429:
                refused = n
                break
    assert refused is not None, "twelve accounts sprayed from one address without any slowing down"
    assert refused <= 11  # the address allows ten failures (an office behind one NAT address shares it)


def test_a_spread_attack_meets_the_account_ceiling_but_not_the_owner(app):
    with freeze_time(START) as clock:
        bots = [f"192.0.2.{n}" for n in range(1, 41)]
        for bot in bots:
            clock.tick(timedelta(seconds=1))
            assert _login(app.test_client(), "admin", "tebak", bot).status_code in (401, 429)
        # a bot that already failed is stopped by the account's ceiling, although its own count is low
        assert _login(app.test_client(), "admin", "tebak", bots[0]).status_code == 429
        assert _login(app.test_client(), "admin", PASSWORD, bots[0]).status_code == 429
        # a fresh address is still judged on its password
        assert _login(app.test_client(), "admin", "tebak", "198.51.100.1").status_code == 401
        assert _login(app.test_client(), "admin", PASSWORD, ADMIN_DESK).status_code == 302


def test_admin_sees_and_clears_a_lock_and_it_is_audited(app, client, auth):
    attacker = app.test_client()
    with freeze_time(START):
        for _ in range(6):
            _login(attacker, "humas", "tebak", ATTACKER)
        assert _login(attacker, "humas", PASSWORD, ATTACKER).status_code == 429
        _login(client, "admin", PASSWORD, ADMIN_DESK)
        page = client.get("/admin/users/", environ_base={"REMOTE_ADDR": ADMIN_DESK}).get_data(as_text=True)
        assert ATTACKER in page and "humas" in page
        response = client.post(
            "/admin/users/locks/clear",
            data={"account": "humas", "address": ATTACKER},
            environ_base={"REMOTE_ADDR": ADMIN_DESK},
        )
        assert response.status_code == 302
        assert ATTACKER not in client.get("/admin/users/", environ_base={"REMOTE_ADDR": ADMIN_DESK}).get_data(
            as_text=True
        )
        assert _login(attacker, "humas", PASSWORD, ATTACKER).status_code == 302
    row = AuditLog.get(AuditLog.action == "login.unlock")
    assert row.actor == "admin"
    assert json.loads(row.detail) == {"account": "humas", "address": ATTACKER}


def test_only_the_admin_may_clear_locks(app, client, auth):
    auth.login("humas")
    assert client.post("/admin/users/locks/clear", data={"account": "humas", "address": ATTACKER}).status_code == 403


def _app_with(write_config, web_extra: str):
    from webui import create_app

    config = config_module.load(write_config(WEB_INI.replace("[web]\n", "[web]\n" + web_extra)))
    return create_app(config=config, test_config={"TESTING": True, "WTF_CSRF_ENABLED": False})


def _login_addresses() -> list[str]:
    return [
        json.loads(row.detail).get("address")
        for row in AuditLog.select().where(AuditLog.action.in_(["login", "login.failed"])).order_by(AuditLog.id)
    ]


def test_forwarded_for_is_ignored_without_trusted_proxies(app):
    attacker = app.test_client()
    with freeze_time(START):
        statuses = [
            _login(attacker, "admin", "tebak", "127.0.0.1", headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
            for n in range(6)
        ]
    assert statuses[-1] == 429, "a made-up X-Forwarded-For escaped the throttle"
    assert set(_login_addresses()) == {"127.0.0.1"}


@pytest.mark.parametrize("trusted", ["127.0.0.1", "127.0.0.0/8, ::1"])
def test_forwarded_for_counts_from_a_trusted_proxy(write_config, officials, trusted):
    app = _app_with(write_config, f"trusted_proxies = {trusted}\n")
    with freeze_time(START):
        for _ in range(4):
            _login(app.test_client(), "admin", "tebak", "127.0.0.1", headers={"X-Forwarded-For": ATTACKER})
        assert (
            _login(app.test_client(), "admin", PASSWORD, "127.0.0.1", headers={"X-Forwarded-For": ATTACKER}).status_code
            == 429
        )
        # the client's own address is the last one the proxy added; what the client wrote before it is not trusted
        assert (
            _login(
                app.test_client(),
                "admin",
                PASSWORD,
                "127.0.0.1",
                headers={"X-Forwarded-For": f"{ATTACKER}, {ADMIN_DESK}"},
            ).status_code
            == 302
        )
    assert _login_addresses() == [ATTACKER] * 4 + [ADMIN_DESK]


def test_forwarded_for_from_an_untrusted_address_is_ignored(write_config, officials):
    app = _app_with(write_config, "trusted_proxies = 10.1.0.0/16\n")
    with freeze_time(START):
        for n in range(6):
            _login(app.test_client(), "admin", "tebak", "192.168.1.9", headers={"X-Forwarded-For": f"203.0.113.{n}"})
    assert set(_login_addresses()) == {"192.168.1.9"}


def test_a_bad_trusted_proxies_value_is_a_configuration_error(write_config):
    with pytest.raises(config_module.ConfigError, match="trusted_proxies"):
        config_module.load(write_config(WEB_INI.replace("[web]\n", "[web]\ntrusted_proxies = 10.0.0.0/33\n")))


# -- item 6: the answer takes as long whatever the account's state -------------------------------------------------


@pytest.fixture
def hash_checks(monkeypatch):
    """How many password hashes the code computes (scrypt is the cost that timing would reveal)."""
    import hashlib

    calls = []
    real = hashlib.scrypt

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", counting)
    return calls


@pytest.mark.parametrize(
    "login, password",
    [
        ("humas", PASSWORD),  # the right password
        ("humas", "salah-sekali"),  # a wrong one
        ("korban", PASSWORD),  # a disabled account, right password
        ("korban", "salah-sekali"),  # a disabled account, wrong password
        ("tidak-ada", PASSWORD),  # no such account
        ("", PASSWORD),  # no login typed
    ],
)
def test_every_login_checks_exactly_one_password_hash(app, make_user, hash_checks, login, password):
    from modemd import users
    from modemd.store.models import User

    users.disable(make_user("korban"), actor="test")
    User.update(password_hash="").where(User.login == "dinkes").execute()
    client = app.test_client()
    client.get("/login")
    del hash_checks[:]
    response = client.post("/login", data={"login": login, "password": password})
    assert response.status_code in (302, 401)
    assert len(hash_checks) == 1, f"{len(hash_checks)} hash checks for {login!r}: the timing tells the account's state"


def test_an_account_without_a_password_checks_one_hash_and_is_refused(app, hash_checks):
    from modemd.store.models import User

    User.update(password_hash="").where(User.login == "dinkes").execute()
    client = app.test_client()
    del hash_checks[:]
    assert client.post("/login", data={"login": "dinkes", "password": ""}).status_code == 401
    assert len(hash_checks) == 1


@pytest.mark.parametrize("header", ["not-an-address", "", "10.0.0.66, garbage", "127.0.0.1"])
def test_a_useless_forwarded_for_from_a_trusted_proxy_leaves_the_proxy_address(write_config, officials, header):
    app = _app_with(write_config, "trusted_proxies = 127.0.0.1\n")
    _login(app.test_client(), "admin", "tebak", "127.0.0.1", headers={"X-Forwarded-For": header})
    assert _login_addresses() == ["127.0.0.1"]
