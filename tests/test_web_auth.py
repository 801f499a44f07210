"""Login, sessions, roles, CSRF and the security headers."""

from __future__ import annotations

import os
import stat

import pytest
from webfixtures import *  # noqa: F401,F403
from webfixtures import PASSWORD, csrf_token_from

from modemd import users
from modemd.store.models import AuditLog, User


def test_login_page_renders_in_indonesian(client):
    page = client.get("/login")
    assert page.status_code == 200
    assert "Kata sandi" in page.get_data(as_text=True)


def test_anonymous_is_sent_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_login_and_logout(client, auth):
    response = auth.login("humas")
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert AuditLog.select().where(AuditLog.action == "login", AuditLog.actor == "humas").count() == 1
    auth.logout()
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused_without_saying_which_part(client, auth):
    response = auth.login("humas", "salah-sekali")
    assert response.status_code == 401
    assert "Login atau kata sandi salah" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_unknown_login_and_markup_in_login_field_are_escaped(client):
    response = client.post("/login", data={"login": '<script>alert("x")</script>', "password": "x"})
    body = response.get_data(as_text=True)
    assert response.status_code == 401
    assert "<script>alert" not in body
    assert "&lt;script&gt;" in body


def test_repeated_failures_lock_the_account_then_the_lock_expires(app, client, auth):
    throttle = app.extensions["modemd_login_throttle"]
    now = [1000.0]
    throttle.clock = lambda: now[0]
    for _ in range(4):
        auth.login("humas", "salah")
    # even the right password waits while the account is locked
    locked = auth.login("humas", PASSWORD)
    assert locked.status_code == 429
    assert "Coba lagi" in locked.get_data(as_text=True)
    now[0] += 3  # the first lock is 2 seconds
    assert auth.login("humas", PASSWORD).status_code == 302


def test_lock_doubles_with_each_further_failure(app):
    throttle = app.extensions["modemd_login_throttle"]
    now = [0.0]
    throttle.clock = lambda: now[0]
    waits = []
    for _ in range(7):
        throttle.failed("x", "192.0.2.1")
        waits.append(throttle.wait_left("x", "192.0.2.1"))
    assert waits == [0, 0, 0, 2, 4, 8, 16]


def test_many_accounts_from_one_address_lock_the_address(app, client, auth):
    throttle = app.extensions["modemd_login_throttle"]
    throttle.clock = lambda: 50.0
    for n in range(11):
        auth.login(f"guess{n}", "salah")
    assert auth.login("dishub", PASSWORD).status_code == 429


def test_disabled_user_loses_an_open_session(client, auth, officials):
    auth.login("dishub")
    assert client.get("/").status_code == 200
    users.disable(User.by_login("dishub"), actor="test")
    assert client.get("/").status_code == 302


def test_password_change_elsewhere_ends_the_session(client, auth):
    auth.login("dinkes")
    users.set_password(User.by_login("dinkes"), "baru-sekali-123", actor="test")
    assert client.get("/").status_code == 302


def test_disabled_user_cannot_log_in(client, auth):
    users.disable(User.by_login("humas"), actor="test")
    assert auth.login("humas").status_code == 401


def test_change_own_password_keeps_this_session(client, auth):
    auth.login("humas")
    bad = client.post("/password", data={"current": "salah", "new": "abcdefgh1", "repeat": "abcdefgh1"})
    assert bad.status_code == 400
    short = client.post("/password", data={"current": PASSWORD, "new": "abc", "repeat": "abc"})
    assert "minimal" in short.get_data(as_text=True)
    mismatch = client.post("/password", data={"current": PASSWORD, "new": "abcdefgh1", "repeat": "abcdefgh2"})
    assert mismatch.status_code == 400
    ok = client.post("/password", data={"current": PASSWORD, "new": "kata-baru-99", "repeat": "kata-baru-99"})
    assert ok.status_code == 302
    assert client.get("/").status_code == 200
    assert User.by_login("humas").check_password("kata-baru-99")


def test_open_redirect_after_login_is_refused(client):
    response = client.post("/login?next=//evil.example/x", data={"login": "humas", "password": PASSWORD})
    assert response.headers["Location"] == "/"


def test_roles_required_gives_403(client, auth):
    auth.login("humas")
    assert client.get("/admin/users/").status_code == 403


def test_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"]


def test_session_cookie_flags(client, auth):
    response = auth.login("humas")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    assert "Strict-Transport-Security" not in response.headers


def test_secure_cookie_when_https(write_config, officials):
    from modemd import config as config_module
    from webui import create_app

    config = config_module.load(write_config("[web]\nsecret_key_file = secret.key\nhttps = yes\n"))
    app = create_app(config=config, test_config={"WTF_CSRF_ENABLED": False})
    response = app.test_client().post("/login", data={"login": "humas", "password": PASSWORD})
    assert "Secure" in response.headers["Set-Cookie"]
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_secret_key_file_is_created_private_and_reused(web_config, app):
    path = web_config.web.secret_key_file
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    from webui import create_app

    again = create_app(config=web_config)
    assert again.config["SECRET_KEY"] == app.config["SECRET_KEY"]


def test_no_secret_key_no_app(tmp_path):
    from modemd.config import Config
    from webui import create_app

    with pytest.raises(RuntimeError):
        create_app(config=Config.defaults(tmp_path), test_config={"SECRET_KEY": ""})


def test_missing_csrf_token_is_refused(csrf_client):
    response = csrf_client.post("/login", data={"login": "humas", "password": PASSWORD})
    assert response.status_code == 400
    assert "Formulir kedaluwarsa atau tidak sah" in response.get_data(
        as_text=True
    )  # said without "CSRF token" (issue 15)


def test_forged_csrf_token_is_refused(csrf_client):
    csrf_client.get("/login")
    response = csrf_client.post("/login", data={"login": "humas", "password": PASSWORD, "csrf_token": "forged.token"})
    assert response.status_code == 400


def test_token_from_another_session_is_refused(csrf_app):
    other = csrf_app.test_client()
    token = csrf_token_from(other.get("/login").get_data(as_text=True))
    mine = csrf_app.test_client()
    mine.get("/login")
    response = mine.post("/login", data={"login": "humas", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 400


def test_valid_csrf_token_logs_in(csrf_client):
    token = csrf_token_from(csrf_client.get("/login").get_data(as_text=True))
    response = csrf_client.post("/login", data={"login": "humas", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302


def test_language_switch_to_english_and_back(client, auth):
    auth.login("humas")
    assert "Kotak masuk" in client.get("/").get_data(as_text=True)
    client.post("/lang/en", data={"next": "/"})
    assert "Inbox" in client.get("/").get_data(as_text=True)
    client.post("/lang/id", data={"next": "/"})
    assert "Kotak masuk" in client.get("/").get_data(as_text=True)
    client.post("/lang/xx", data={"next": "https://evil.example/"})
    assert "Kotak masuk" in client.get("/").get_data(as_text=True)


def test_language_chosen_before_login_is_kept(client, auth):
    client.post("/lang/en", data={"next": "/login"})
    auth.login("humas")
    assert "Inbox" in client.get("/").get_data(as_text=True)
