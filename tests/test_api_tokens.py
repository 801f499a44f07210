"""API tokens: made and revoked by ``modemd token`` and the admin page, stored hashed, shown once;
the schema v11 step on every database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from webfixtures import *  # noqa: F401,F403  (app, client, auth, csrf_client, ...)
from webfixtures import csrf_token_from

from modemd import apitokens
from modemd.store import migrations
from modemd.store.models import ApiIdempotency, ApiToken, AuditLog, Case, utcnow


def modemd(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "modemd", *args], capture_output=True, text=True, timeout=120, env=dict(os.environ)
    )


def test_the_secret_is_stored_only_as_its_hash(officials):
    made = apitokens.create("e-office", officials["humas"], "send,status", expires=None, actor="admin")
    row = ApiToken.get(ApiToken.name == "e-office")
    assert made.secret.startswith("mdt_") and len(made.secret) > 40
    assert row.token_hash == apitokens.digest(made.secret) and made.secret not in json.dumps(apitokens.as_dict(row))
    assert row.prefix == made.secret[:8] and row.scopes == "send,status"
    assert apitokens.authenticate(made.secret, "10.0.0.5")[0].id == row.id
    assert apitokens.authenticate(made.secret[:-1] + "x", "10.0.0.5") == (None, "unknown")
    entry = AuditLog.get(AuditLog.action == "token.create")
    assert entry.actor == "admin" and made.secret not in entry.detail


@pytest.mark.parametrize(
    "name, scopes, code",
    [
        ("", "send", "name"),
        ("a" * 65, "send", "name"),
        ("-dash-first", "send", "name"),
        ("ok", "send,delete", "scope"),
        ("ok", " , ", "no_scope"),
    ],
)
def test_bad_token_requests_are_refused(officials, name, scopes, code):
    with pytest.raises(apitokens.TokenError) as refused:
        apitokens.create(name, officials["humas"], scopes, expires=None, actor="t")
    assert refused.value.code == code
    assert ApiToken.select().count() == 0


def test_names_are_unique_and_expiry_is_parsed(officials):
    apitokens.create("portal", officials["humas"], ["send"], expires=None, actor="t")
    with pytest.raises(apitokens.TokenError, match="exists already"):
        apitokens.create("portal", officials["dinkes"], ["send"], expires=None, actor="t")
    assert apitokens.parse_expiry("90d") == timedelta(days=90)
    assert apitokens.parse_expiry("12h") == timedelta(hours=12)
    assert apitokens.parse_expiry("") is None and apitokens.parse_expiry("never") is None
    for bad in ("90", "1w", "-5d", "d"):
        with pytest.raises(apitokens.TokenError):
            apitokens.parse_expiry(bad)


def test_expiry_and_revocation(officials):
    made = apitokens.create("short", officials["humas"], "send", expires=timedelta(hours=1), actor="t")
    assert apitokens.authenticate(made.secret, "", now=utcnow() + timedelta(minutes=59))[1] == ""
    assert apitokens.authenticate(made.secret, "", now=utcnow() + timedelta(hours=1, seconds=1)) == (None, "expired")
    assert apitokens.revoke(made.token, actor="t") is True and apitokens.revoke(made.token, actor="t") is False
    assert apitokens.authenticate(made.secret, "") == (None, "revoked")


def test_cli_create_list_revoke(write_config, officials):
    path = str(write_config(""))
    created = modemd(
        "-c", path, "token", "create", "e-office", "--user", "humas", "--scope", "send,cases:read", "--expires", "90d"
    )
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip()
    assert secret.startswith("mdt_") and "shown only this once" in created.stderr
    listed = modemd("-c", path, "token", "list", "--json")
    [row] = json.loads(listed.stdout)
    assert (row["name"], row["user"], row["scopes"], row["state"]) == (
        "e-office",
        "humas",
        ["send", "cases:read"],
        "active",
    )
    assert row["expires_at"] is not None and secret not in listed.stdout
    assert modemd("-c", path, "token", "revoke", "e-office").returncode == 0
    assert json.loads(modemd("-c", path, "token", "list", "--json").stdout)[0]["state"] == "revoked"
    assert "e-office" in modemd("-c", path, "token", "list").stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["create", "x", "--user", "nobody", "--scope", "send"], "no user 'nobody'"),
        (["create", "x", "--user", "humas", "--scope", "send,root"], "unknown scope root"),
        (["create", "x", "--user", "humas", "--scope", "send", "--expires", "soon"], "expiry 'soon'"),
        (["revoke", "absent"], "no token 'absent'"),
    ],
)
def test_cli_refusals_say_why(write_config, officials, args, message):
    result = modemd("-c", str(write_config("")), "token", *args)
    assert result.returncode != 0 and message in result.stderr and result.stdout == ""


def test_admin_page_creates_shows_once_and_revokes(client, auth, officials):
    auth.login("admin")
    created = client.post(
        "/admin/tokens/",
        data={"name": "lapor", "user": "dishub", "scopes": ["cases:read", "cases:reply"], "expires": "30d"},
    )
    assert created.status_code == 201
    page = created.get_data(as_text=True)
    row = ApiToken.get(ApiToken.name == "lapor")
    secret = page.split('<code class="secret">')[1].split("</code>")[0]
    assert apitokens.digest(secret) == row.token_hash and row.scopes == "cases:read,cases:reply"
    assert row.user_id == officials["dishub"].id and row.created_by == "admin"
    listing = client.get("/admin/tokens/").get_data(as_text=True)
    assert "lapor" in listing and secret not in listing
    assert client.post(f"/admin/tokens/{row.id}/revoke").status_code == 302
    assert apitokens.state(ApiToken.get_by_id(row.id)) == "revoked"
    assert AuditLog.get(AuditLog.action == "token.revoke").actor == "admin"


def test_admin_page_refusals_and_access(client, auth):
    auth.login("admin")
    for form in (
        {"name": "x", "user": "humas", "expires": "90d"},
        {"name": "x", "user": "nobody", "scopes": ["send"]},
        {"name": "<b>", "user": "humas", "scopes": ["send"]},
        {"name": "x", "user": "humas", "scopes": ["send"], "expires": "tomorrow"},
    ):
        answer = client.post("/admin/tokens/", data=form)
        assert answer.status_code == 400, form
    assert ApiToken.select().count() == 0
    auth.logout()
    auth.login("humas")
    assert client.get("/admin/tokens/").status_code == 403
    assert client.post("/admin/tokens/", data={"name": "x", "user": "humas", "scopes": ["send"]}).status_code == 403


def test_admin_page_keeps_csrf(csrf_client, auth):
    auth.login("admin", client=csrf_client)
    form = {"name": "x", "user": "humas", "scopes": ["send"]}
    assert csrf_client.post("/admin/tokens/", data=form).status_code == 400
    token = csrf_token_from(csrf_client.get("/admin/tokens/").get_data(as_text=True))
    assert csrf_client.post("/admin/tokens/", data={**form, "csrf_token": token}).status_code == 201


def test_v12_to_v13_creates_the_token_tables_and_the_case_indexes_on_each_database(any_db):
    """The migration step itself on SQLite, PostgreSQL and MariaDB, on a database with cases."""
    from playhouse.migrate import migrate

    migrator = migrations._migrator(any_db)
    any_db.drop_tables([ApiIdempotency, ApiToken])
    indexes = [f"case_{prefix}last_message_at_id" for prefix in ("", "keyword_", "owner_id_", "status_")]
    migrate(*(migrator.drop_index("case", name) for name in indexes))
    now = utcnow()
    Case.create(keyword="INFO", citizen="+6281234567890", deadline_at=now, last_message_at=now)
    with any_db.atomic():
        migrations._v12_to_v13(any_db, migrator)
    assert any_db.table_exists("api_token") and any_db.table_exists("api_idempotency")
    assert set(indexes) <= {index.name for index in any_db.get_indexes("case")}
    assert Case.select().count() == 1
