"""The daemon dies: kill -9 at random moments of a broadcast and of an inbound burst, and power loss
(the SQLite file and its WAL copied while the daemon is frozen mid-write, the daemon started from the copy)."""

from __future__ import annotations

import random
import shutil
import time
from collections.abc import Callable

from modemd.config import Config
from modemd.jobs import broadcasts
from modemd.send.outbound import IN_DOUBT_REASON
from modemd.store import db as db_module
from modemd.store.models import (
    Contact,
    ContactGroup,
    GroupMember,
    InboundMessage,
    OutboundMessage,
    User,
    database_proxy,
)
from tests.fakemodem import FakeModem, wait_until
from tests.faults.accounting import account, assert_accounted
from tests.faults.centre import Daemon, at_modem, citizen, inject, queue, sent_count, settle, sized

BROADCAST_TEXT = "Pemberitahuan: pelayanan KTP hari Sabtu buka pukul 08.00-12.00."


def approved_broadcast(recipients: int) -> int:
    """A broadcast to ``recipients`` contacts, approved: the daemon queues it at its next scheduler pass."""
    config = Config.defaults()
    rows = [{"name": f"Warga {n}", "phone": citizen(n)} for n in range(recipients)]
    with database_proxy.obj.atomic():
        for start in range(0, recipients, 500):
            Contact.insert_many(rows[start : start + 500]).execute()
        group = ContactGroup.create(name="Semua")
        GroupMember.insert_many([{"group": group.id, "contact": c.id} for c in Contact.select()]).execute()
    admin, ketua = User.get(User.login == "admin"), User.get(User.login == "ketua")
    broadcast = broadcasts.draft(admin, BROADCAST_TEXT, groups=[group.id])
    broadcasts.submit(broadcast, admin, config)
    broadcasts.approve(broadcast, ketua, config, version=broadcasts.content_of(broadcast, config).version)
    return broadcast.id


def kill_as_work_goes_on(daemon: Daemon, kills: int, seed: int, done: Callable[[], int], total: int) -> None:
    """Start the daemon and SIGKILL it ``kills`` times, each once it has done a random bit more of the work.

    ``done()`` counts the work finished so far (of ``total``). Each kill waits for progress (so the machine's
    load cannot make the work end before the kills do), then a random 0-0.2 s more, so it strikes at any
    point of a send or a read, not only just after a commit.
    """
    moments = random.Random(seed)
    for left in range(kills, 0, -1):
        daemon.start()
        before = done()
        target = min(total, before + moments.randint(1, max(1, (total - before) // (left + 1))))
        assert wait_until(lambda goal=target: done() >= goal, 120, interval=0.02), (
            f"no progress in 120 s after start {daemon.starts}:\n{daemon.log_text()[-3000:]}"
        )
        time.sleep(moments.uniform(0, 0.2))
        daemon.kill9()
        if done() >= total:
            break


def test_kill_9_during_a_broadcast(centre_config):
    recipients, kills = int(sized(150, 1000)), int(sized(5, 20))
    with FakeModem(part_delay=sized(0.02, 0.005)) as fake:
        config = centre_config(at_modem("usb1", fake.device))
        approved_broadcast(recipients)
        daemon = Daemon(config)
        kill_as_work_goes_on(daemon, kills, seed=1, done=lambda: sent_count() + cut_off_twice(), total=recipients)
        with daemon:
            settle(timeout=300, also=lambda: sent_count() + cut_off_twice() == recipients, daemons=(daemon,))
        tally = assert_accounted(account(f"kill -9 x{daemon.kills} during a {recipients}-recipient broadcast", fake))
    assert daemon.kills == kills, "the broadcast finished before the daemon was killed"
    # the only failures allowed: a resend in doubt cut off by the next kill too (not sent a third time)
    assert all(reason.startswith(IN_DOUBT_REASON) for reason in tally.failed.values()), tally.failed
    assert sent_count() + len(tally.failed) == recipients


def cut_off_twice() -> int:
    return OutboundMessage.select().where(OutboundMessage.failure_reason.startswith(IN_DOUBT_REASON)).count()


def test_kill_9_twice_while_the_same_message_is_in_the_modem(centre_config):
    """The resend in doubt is cut off too: the row fails with its reason instead of going a third time."""
    with FakeModem(part_delay=2.0) as fake:  # long enough to strike while the modem holds the SMS
        config = centre_config(at_modem("usb1", fake.device))
        (message,) = queue(1)
        daemon = Daemon(config)
        for handed in (1, 2):  # the first send, then its resend in doubt
            daemon.start()
            assert wait_until(lambda n=handed: fake.count("AT+CMGS=") >= n, 60), daemon.log_text()[-2000:]
            daemon.kill9()
        with daemon:
            settle(timeout=60, daemons=(daemon,))
            time.sleep(1.0)  # a third send would start at once
        tally = assert_accounted(account("kill -9 twice while the same message is in the modem", fake))
    row = OutboundMessage.get_by_id(message)
    assert (row.state, row.doubt) == ("failed", True) and row.failure_reason.startswith(IN_DOUBT_REASON)
    assert fake.count("AT+CMGS=") == 2 and len(tally.in_flight) == 1, tally
    assert "not sent a third time" in daemon.log_text()


def test_kill_9_during_an_inbound_burst(centre_config):
    burst, kills = int(sized(150, 1000)), int(sized(5, 20))
    # a SIM's room: the network holds the rest of the burst; a stick's pace: 10 ms per command
    with FakeModem(capacity=50, command_delay=0.01) as fake:
        config = centre_config(at_modem("usb1", fake.device, sweep_interval="2s"))
        expected = inject(fake, burst, wait_for_room=True)
        daemon = Daemon(config)
        kill_as_work_goes_on(daemon, kills, seed=2, done=lambda: InboundMessage.select().count(), total=burst)
        with daemon:
            settle(expected_inbound=burst, timeout=300, also=lambda: not fake.sim and not fake.network_waiting)
        assert_accounted(account(f"kill -9 x{daemon.kills} during an inbound burst of {burst}", fake, expected))
    assert daemon.kills == kills, "the burst was stored before the daemon was killed"


def test_power_loss_copy_of_the_database_mid_write(centre_config, tmp_path):
    """Freeze the daemon at random moments of sending and receiving; what is on disk then is what a
    power cut leaves (the modem goes on as it was); start a new daemon from that copy."""
    messages, burst, cuts = int(sized(80, 300)), int(sized(80, 300)), int(sized(2, 5))
    moments = random.Random(3)
    with FakeModem(capacity=50, part_delay=0.01) as fake:
        config = centre_config(at_modem("usb1", fake.device, sweep_interval="2s"))
        queue(messages)
        expected = inject(fake, burst, wait_for_room=True)
        folder = tmp_path
        for cut in range(cuts):
            daemon = Daemon(folder / "modemd.ini").start()
            time.sleep(moments.uniform(0.8, 2.5))
            daemon.freeze()  # mid-write: whatever it was doing stops here, as the power does
            copy = tmp_path / f"after-cut-{cut + 1}"
            copy.mkdir()
            for name in ("modemd.db", "modemd.db-wal"):  # the file and its WAL, not the shared-memory index
                if (folder / name).exists():
                    shutil.copy2(folder / name, copy / name)
            shutil.copy2(config, copy / "modemd.ini")
            shutil.copy2(folder / "keywords.ini", copy / "keywords.ini")
            daemon.kill9()
            folder = copy
        database_proxy.obj.close()
        db_module.open_database(f"sqlite:///{folder / 'modemd.db'}")  # the test now reads what the power cut left
        with Daemon(folder / "modemd.ini") as daemon:
            settle(
                expected_inbound=burst,
                timeout=300,
                also=lambda: not fake.sim and not fake.network_waiting and sent_count() == messages,
                daemons=(daemon,),
            )
        assert_accounted(account(f"power loss x{cuts}: SQLite file and WAL copied mid-write", fake, expected))
    assert sent_count() == messages
