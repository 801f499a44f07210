"""The API's storage on SQLite, PostgreSQL and MariaDB: idempotency keys (also under concurrent
retries) and keyset pages over cases with equal times."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from apifixtures import bearer

from modemd import apitokens, users
from modemd.config import Config
from modemd.store.models import ApiIdempotency, Case, OutboundMessage, utcnow

SEND = {"number": "081234567890", "text": "Undangan rapat"}


@pytest.fixture
def api(any_db, tmp_path):
    """(app, secret) on ``any_db``: an admin's token with every scope."""
    from webui import create_app

    admin = users.create_user("admin", "admin", "rahasia-123")
    secret = apitokens.create("e-office", admin, list(apitokens.SCOPES), expires=None, actor="test").secret
    app = create_app(Config.defaults(tmp_path), test_config={"TESTING": True, "SECRET_KEY": "k" * 40})
    return app, secret


def test_idempotency_key_on_each_database(api):
    app, secret = api
    client = app.test_client()
    headers = bearer(secret, **{"Idempotency-Key": "surat-17"})
    first = client.post("/api/v1/messages", json=SEND, headers=headers)
    again = client.post("/api/v1/messages", json=SEND, headers=headers)
    assert first.status_code == again.status_code == 201 and first.json == again.json
    conflict = client.post("/api/v1/messages", json={**SEND, "text": "lain"}, headers=headers)
    assert (conflict.status_code, conflict.json["code"]) == (409, "idempotency_conflict")
    refused = client.post(
        "/api/v1/messages", json={**SEND, "number": "x"}, headers=bearer(secret, **{"Idempotency-Key": "k2"})
    )
    assert refused.status_code == 422 and ApiIdempotency.select().count() == 1  # a refusal keeps no key
    assert OutboundMessage.select().count() == 1


def test_concurrent_retries_with_one_key_send_once_on_each_database(api):
    app, secret = api
    answers, errors = [], []

    def retry():
        try:
            response = app.test_client().post(
                "/api/v1/messages", json=SEND, headers=bearer(secret, **{"Idempotency-Key": "race"})
            )
            answers.append((response.status_code, response.json.get("id")))
        except Exception as exc:  # noqa: BLE001  (reported below with the thread's answer)
            errors.append(exc)

    threads = [threading.Thread(target=retry) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert len(answers) == 8 and {status for status, _id in answers} == {201}
    assert len({message_id for _status, message_id in answers}) == 1
    assert OutboundMessage.select().count() == 1


def test_keyset_pages_on_each_database(api):
    app, secret = api
    client = app.test_client()
    start = (utcnow() - timedelta(days=1)).replace(microsecond=0)
    made = []
    for i in range(9):
        moment = start + timedelta(seconds=i // 3)  # three cases share each time
        made.append(
            Case.create(
                keyword="INFO", citizen="+6281234567890", opened_at=moment, deadline_at=moment, last_message_at=moment
            ).id
        )
    seen, cursor = [], None
    for _page in range(10):
        query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
        answer = client.get(f"/api/v1/cases?{query}", headers=bearer(secret)).json
        seen += [case["id"] for case in answer["cases"]]
        cursor = answer["next_cursor"]
        if cursor is None:
            break
    assert seen == made
    since = (start + timedelta(seconds=2)).isoformat() + "Z"
    recent = client.get(f"/api/v1/cases?updated_since={since}", headers=bearer(secret)).json
    assert [case["id"] for case in recent["cases"]] == made[6:]
