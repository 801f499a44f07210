"""The daemon and the web UI are separate processes writing one SQLite file: never "database is locked"."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

from modemd.models import Case, InboundMessage, OutboundMessage

ROUNDS = 150

DAEMON_LIKE = textwrap.dedent("""
    import sys, time
    from modemd import db
    from modemd.models import Case, InboundMessage, utcnow
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
    from modemd import db, queue
    from modemd.models import Case, utcnow
    database = db.open_database(sys.argv[1])
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
            queue.enqueue(case.citizen, f"Jawaban {done}", "reply", case=case)
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
