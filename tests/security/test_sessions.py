"""Sessions end on the server: logout, an absolute lifetime and an idle timeout (issue 10, item 4).

A copied session cookie must stop working when its owner logs out, after
``[web] idle_minutes`` without a request, and after ``[web] session_hours``
whatever the activity. Time moves with freezegun, so the server's clock, the
cookie signature's clock and the session records all agree.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from freezegun import freeze_time
from webfixtures import *  # noqa: F401,F403
from webfixtures import PASSWORD, WEB_INI

from modemd import users
from modemd.store.models import User

COOKIE = "modemd_session"
START = datetime(2026, 3, 2, 8, 0, 0)


def _copy_of(app, client):
    """A second browser holding the same session cookie as ``client`` (a stolen or saved cookie)."""
    other = app.test_client()
    other.set_cookie(COOKIE, client.get_cookie(COOKIE).value)
    return other


def _logged_in(client) -> bool:
    response = client.get("/")
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]
        return False
    assert response.status_code == 200
    return True


def test_cookie_saved_before_logout_is_refused_after_it(app, client, auth):
    auth.login("humas")
    saved = _copy_of(app, client)
    assert _logged_in(saved)
    auth.logout()
    assert not _logged_in(client)
    assert not _logged_in(saved), "a cookie saved before logout still opens the inbox"


def test_logout_ends_only_that_session(app, auth):
    phone, desk = app.test_client(), app.test_client()
    auth.login("humas", client=phone)
    auth.login("humas", client=desk)
    auth.logout(client=phone)
    assert not _logged_in(phone)
    assert _logged_in(desk)


def test_session_ends_after_the_idle_timeout(app, client, auth):
    with freeze_time(START) as clock:
        auth.login("humas")
        clock.tick(timedelta(minutes=50))
        assert _logged_in(client)  # activity keeps it alive...
        clock.tick(timedelta(minutes=50))
        assert _logged_in(client)
        clock.tick(timedelta(minutes=61))  # ...an hour without any ends it (default idle_minutes = 60)
        assert not _logged_in(client)


def test_session_has_an_absolute_lifetime_whatever_its_activity(app, client, auth):
    with freeze_time(START) as clock:
        auth.login("humas")
        for _ in range(14):  # a request every 50 minutes for 11 h 40 min
            clock.tick(timedelta(minutes=50))
            assert _logged_in(client)
        clock.tick(timedelta(minutes=21))  # 12 h 01 min after login (default session_hours = 12)
        assert not _logged_in(client), "a session renewed by activity lives past its 12 hours"


class TestLifetimesFromTheConfiguration:
    @pytest.fixture
    def web_ini(self):
        return WEB_INI.replace("[web]\n", "[web]\nsession_hours = 2\nidle_minutes = 10\n")

    def test_idle_minutes(self, app, client, auth):
        with freeze_time(START) as clock:
            auth.login("humas")
            clock.tick(timedelta(minutes=9))
            assert _logged_in(client)
            clock.tick(timedelta(minutes=11))
            assert not _logged_in(client)

    def test_session_hours(self, app, client, auth):
        with freeze_time(START) as clock:
            auth.login("humas")
            for _ in range(13):  # 1 h 57 min of steady work
                clock.tick(timedelta(minutes=9))
                assert _logged_in(client)
            clock.tick(timedelta(minutes=4))  # 2 h 01 min after login, 4 minutes after the last request
            assert not _logged_in(client)


def test_disable_and_password_change_end_every_session_of_the_user(app, auth):
    phone, desk, other = app.test_client(), app.test_client(), app.test_client()
    auth.login("dishub", client=phone)
    auth.login("dishub", client=desk)
    auth.login("humas", client=other)
    users.set_password(User.by_login("dishub"), "baru-sekali-123", actor="test")
    assert not _logged_in(phone) and not _logged_in(desk)
    assert _logged_in(other)
    auth.login("dishub", "baru-sekali-123", client=phone)
    users.disable(User.by_login("dishub"), actor="test")
    assert not _logged_in(phone)
    users.enable(User.by_login("dishub"), actor="test")
    assert not _logged_in(phone), "enabling the account again must not revive its old sessions"


def test_admin_disabling_in_the_web_ui_ends_the_sessions(app, client, auth, make_user):
    user = make_user("staf")  # owns no keyword, so it may be disabled
    victim = app.test_client()
    auth.login("staf", client=victim)
    auth.login("admin")
    response = client.post(
        f"/admin/users/{user.id}", data={"name": user.name, "role": user.role, "phone": "", "sender_id": ""}
    )
    assert response.status_code == 302
    assert not _logged_in(victim)


def test_own_password_change_keeps_this_session_and_ends_the_others(app, client, auth):
    elsewhere = app.test_client()
    auth.login("humas", client=elsewhere)
    auth.login("humas")
    response = client.post("/password", data={"current": PASSWORD, "new": "kata-baru-99", "repeat": "kata-baru-99"})
    assert response.status_code == 302
    assert _logged_in(client)
    assert not _logged_in(elsewhere)


def test_a_forged_session_id_is_refused(app, client, auth):
    auth.login("humas")
    with client.session_transaction() as session:
        session["_user_id"] = session["_user_id"][:-4] + "abcd"
    assert not _logged_in(client)


def test_sessions_long_over_are_pruned_at_a_login(app, auth):
    from modemd.store.models import WebSession

    with freeze_time(START) as clock:
        auth.login("humas", client=app.test_client())
        clock.tick(timedelta(days=91))
        auth.login("humas", client=app.test_client())
    assert [row.created_at for row in WebSession.select()] == [START + timedelta(days=91)]


def test_sessions_on_each_database(any_db, write_config):
    """Start, idle timeout, logout and a password change, on SQLite, PostgreSQL and MariaDB."""
    from modemd import config as config_module
    from webui import create_app

    config = config_module.load(write_config(WEB_INI))
    users.create_user("humas", "official", PASSWORD)
    app = create_app(config=config, test_config={"WTF_CSRF_ENABLED": False})
    with freeze_time(START) as clock:
        client = app.test_client()
        client.post("/login", data={"login": "humas", "password": PASSWORD})
        saved = _copy_of(app, client)
        clock.tick(timedelta(minutes=30))
        assert _logged_in(client)
        client.post("/logout")
        assert not _logged_in(saved)
        client.post("/login", data={"login": "humas", "password": PASSWORD})
        clock.tick(timedelta(minutes=61))
        assert not _logged_in(client)
        client.post("/login", data={"login": "humas", "password": PASSWORD})
        users.set_password(User.by_login("humas"), "baru-sekali-123", actor="test")
        assert not _logged_in(client)
