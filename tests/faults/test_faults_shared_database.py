"""Several writers on one database under load: two daemons (each with its own modem) and the web UI
(officials replying) on one SQLite file, and two daemons sharing one queue on PostgreSQL and on MariaDB;
one daemon is killed with SIGKILL half-way and started again."""

from __future__ import annotations

import time

import pytest

from modemd import users
from modemd.store.db import dialect
from modemd.store.models import Case
from tests.conftest import SAMPLE_KEYWORDS
from tests.fakemodem import FakeModem, wait_until
from tests.faults.accounting import account, assert_accounted
from tests.faults.centre import Daemon, at_modem, centre_ini, citizen, queue, sent_count, settle, sized
from tests.webfixtures import PASSWORD

#: the web UI's sessions need a key file; replies carry no sender ID so their texts are what the official typed
WEB_INI = "[web]\nsecret_key_file = secret.key\n"
URL_FIXTURES = {"postgresql": "postgres_url", "mysql": "mysql_url"}


@pytest.fixture
def shared_url(any_db, request):
    """(kind, URL) of a database both daemons and the test use: upgraded, with the officials, bound here."""
    kind = dialect(any_db)
    url = f"sqlite:///{any_db.database}" if kind == "sqlite" else request.getfixturevalue(URL_FIXTURES[kind])
    for n, login in enumerate(("humas", "dishub", "dinkes"), start=1):  # the owners in keywords.ini
        users.create_user(login, "official", PASSWORD, phone_number=f"08120000000{n}")
    return kind, url


def web_client(config_path):
    """The web UI of the centre, in this process, logged in as humas."""
    from modemd import config as config_module
    from webui import create_app

    app = create_app(config=config_module.load(config_path), test_config={"TESTING": True, "WTF_CSRF_ENABLED": False})
    client = app.test_client()
    assert client.post("/login", data={"login": "humas", "password": PASSWORD}).status_code == 302
    return client


def test_two_daemons_and_the_web_ui_on_one_database(shared_url, tmp_path):
    kind, url = shared_url
    messages, inbound = int(sized(40, 400)), int(sized(20, 200))
    (tmp_path / "keywords.ini").write_text(SAMPLE_KEYWORDS, encoding="utf-8")
    with FakeModem(part_delay=0.02) as fake_a, FakeModem(part_delay=0.02, imei="358880041234999") as fake_b:
        configs = {}
        for pc, fake in (("a", fake_a), ("b", fake_b)):
            text = centre_ini(at_modem(f"usb-{pc}", fake.device), WEB_INI).replace("sqlite:///modemd.db", url)
            configs[pc] = tmp_path / f"pc-{pc}.ini"
            configs[pc].write_text(text, encoding="utf-8")
        queue(messages)
        # INFO opens a case per citizen and answers it automatically: more writers, more rows
        expected = [(citizen(70_000 + n), f"INFO pertanyaan warga nomor {n}") for n in range(inbound)]
        for n, (sender, text) in enumerate(expected):
            (fake_a if n % 2 else fake_b).inject_sms(sender, text, wait_for_room=True)
        client = web_client(configs["a"])
        daemons = [Daemon(configs["a"], "pc-a"), Daemon(configs["b"], "pc-b")]
        for daemon in daemons:
            daemon.start()
        try:
            answered: set[int] = set()
            killed = False
            deadline = time.monotonic() + 120
            while len(answered) < inbound and time.monotonic() < deadline:
                for daemon in daemons:
                    daemon.assert_alive()
                # a list first: a SELECT still being stepped holds a read snapshot the reply's write cannot upgrade
                fresh = list(Case.select().where(Case.keyword == "INFO", Case.id.not_in(answered or {0})).limit(5))
                for case in fresh:
                    page = client.post(f"/cases/{case.id}/reply", data={"text": f"Jawaban kasus {case.id} dari humas"})
                    assert page.status_code == 302, page.get_data(as_text=True)[:500]
                    answered.add(case.id)
                if not killed and len(answered) >= inbound // 2:
                    daemons[0].kill9()  # half-way: one PC loses power, the other goes on; it comes back
                    time.sleep(1.0)
                    daemons[0].start()
                    killed = True
                time.sleep(0.05)
            assert killed and len(answered) == inbound, f"only {len(answered)} cases to answer appeared"
            settle(expected_inbound=inbound, timeout=180, daemons=tuple(daemons))
        finally:
            for daemon in daemons:
                daemon.stop()
        tally = assert_accounted(
            account(f"two daemons and the web UI on one {kind} database", (fake_a, fake_b), expected)
        )
    assert fake_a.sent and fake_b.sent  # both modems did their share
    assert not tally.failed and sent_count() == tally.outbound >= messages + 2 * inbound
    assert wait_until(lambda: Case.select().where(Case.answered_at.is_null()).count() == 0, 10)
