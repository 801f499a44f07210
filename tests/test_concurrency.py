"""The daemon and the web UI are separate processes writing one SQLite file: never "database is locked"."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

from modemd.store.models import Case, InboundMessage, OutboundMessage

ROUNDS = 150

DAEMON_LIKE = textwrap.dedent("""
    import sys, time
    from modemd.store import db
    from modemd.store.models import Case, InboundMessage, utcnow
    database = db.open_database(sys.argv[1])
    while time.time() < float(sys.argv[2]):
        time.sleep(0.001)
    for i in range(int(sys.argv[3])):
        with database.atomic():   # store a message and open its case, like the receive path
            case = Case.create(keyword="DISHUB", citizen="+6281234567890", deadline_at=utcnow())
            InboundMessage.create(modem="m1", sender_raw="0812", sender="+6281234567890", text=f"DISHUB {i}", case=case)
""")

WEB_LIKE = textwrap.dedent("""
    import sys, time
    from modemd.store import db
    from modemd.send import outqueue
    from modemd.config import Config
    from modemd.store.models import Case, utcnow
    database = db.open_database(sys.argv[1])
    config = Config.defaults()
    while time.time() < float(sys.argv[2]):
        time.sleep(0.001)
    done = 0
    while done < int(sys.argv[3]):
        # read first, then write, in one transaction: the pattern that fails at once under WAL
        # with a deferred BEGIN when the other process holds the write lock
        with database.atomic():
            case = Case.select().where(Case.status == "open").order_by(Case.id).first()
            if case is None:
                continue
            case.status = "answered"
            case.answered_at = utcnow()
            case.save()
            outqueue.enqueue(case.citizen, f"Jawaban {done}", "reply", case=case, config=config)
            done += 1
""")


def test_two_processes_write_at_the_same_time(tmp_path, sqlite_db):
    url = f"sqlite:///{tmp_path / 'modemd.db'}"
    start_at = str(time.time() + 1.5)  # both begin together, after their imports
    procs = [
        subprocess.Popen([sys.executable, "-c", code, url, start_at, str(ROUNDS)], stderr=subprocess.PIPE, text=True)
        for code in (DAEMON_LIKE, WEB_LIKE)
    ]
    errors = [p.communicate(timeout=180)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    assert not any("locked" in e for e in errors), errors
    assert InboundMessage.select().count() == ROUNDS
    assert OutboundMessage.select().count() == ROUNDS
    assert Case.select().where(Case.status == "answered").count() == ROUNDS


def test_the_real_daemon_and_web_app_write_at_the_same_time(write_config, officials):
    """`modemd run` (a process, simulated modem) stores and routes a stream of SMS while an official
    answers each new case through the web app: nothing fails, nothing is locked, nothing is lost."""
    from modemd import config as config_module
    from modemd.drivers import inject_simulated
    from modemd.store.models import Case, OutboundMessage
    from webui import create_app

    path = write_config(
        "[web]\nsecret_key_file = secret.key\n[modem:sim1]\ndriver = sim\nsend_delay = 0\nreport_delay = 0\n"
    )
    config = config_module.load(path)
    log_path = path.parent / "daemon.log"
    with open(log_path, "wb") as log:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "modemd", "--config", str(path), "run"], stdout=log, stderr=subprocess.STDOUT
        )
    try:
        web = create_app(config=config, test_config={"TESTING": True, "WTF_CSRF_ENABLED": False}).test_client()
        assert web.post("/login", data={"login": "dishub", "password": "rahasia-123"}).status_code == 302
        sent, answered, deadline = 60, set(), time.monotonic() + 120
        for n in range(sent):  # each from its own citizen: one case each
            inject_simulated(config.modems["sim1"].settings, f"+62812555{n:05d}", f"DISHUB laporan {n} 🚧")
        while len(answered) < sent and time.monotonic() < deadline:
            # a list: an open cursor would keep a read snapshot that the reply cannot upgrade to a write
            for case in list(Case.select().where(Case.keyword == "DISHUB", Case.id.not_in(answered or [0]))):
                response = web.post(f"/cases/{case.id}/reply", data={"text": f"Jawaban untuk #{case.id}"})
                assert response.status_code == 302, response.get_data(as_text=True)[:500]
                answered.add(case.id)
            time.sleep(0.05)
        assert len(answered) == sent
        while (
            time.monotonic() < deadline
            and OutboundMessage.select()
            .where(OutboundMessage.kind == "reply", OutboundMessage.state.in_(("pending", "sending")))
            .count()
        ):
            time.sleep(0.2)
        replies = OutboundMessage.select().where(OutboundMessage.kind == "reply")
        assert replies.count() == sent and {r.state for r in replies} <= {"sent", "delivered"}
        assert InboundMessage.select().count() == sent
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)
    log_text = log_path.read_text(errors="replace")
    assert "locked" not in log_text and "Traceback" not in log_text, log_text[-2000:]
