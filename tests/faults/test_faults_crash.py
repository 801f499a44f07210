"""The daemon dies: kill -9 at random moments of a broadcast and of an inbound burst, and power loss
(the SQLite file and its WAL copied while the daemon is frozen mid-write, the daemon started from the copy)."""

from __future__ import annotations

import random
import shutil
import time

import pytest

from modemd.config import Config
from modemd.jobs import broadcasts
from modemd.store import db as db_module
from modemd.store.models import Contact, ContactGroup, GroupMember, User, database_proxy
from tests.fakemodem import FakeModem
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


def kill_at_random_moments(daemon: Daemon, kills: int, seed: int, busy=lambda: True) -> None:
    """Start the daemon and SIGKILL it ``kills`` times, each after a random 0.3-2.5 s of work."""
    moments = random.Random(seed)
    for _ in range(kills):
        daemon.start()
        time.sleep(moments.uniform(0.3, 2.5))
        daemon.kill9()
        if not busy():
            break


@pytest.mark.xfail(
    strict=False,
    reason="open bug (issue 13): after several kill -9s a message in doubt was resent twice (outbound #124 taken "
    "3 times in one CI run of 480d7b7); still run so that a pass or the failure shows",
)
def test_kill_9_during_a_broadcast(centre_config):
    recipients, kills = int(sized(150, 1000)), int(sized(5, 20))
    with FakeModem(part_delay=sized(0.02, 0.005)) as fake:
        config = centre_config(at_modem("usb1", fake.device))
        approved_broadcast(recipients)
        daemon = Daemon(config)
        kill_at_random_moments(daemon, kills, seed=1, busy=lambda: len(fake.sent) < recipients)
        with daemon:
            settle(timeout=300, also=lambda: sent_count() == recipients, daemons=(daemon,))
        tally = assert_accounted(account(f"kill -9 x{daemon.kills} during a {recipients}-recipient broadcast", fake))
    assert daemon.kills >= min(kills, 3), "the broadcast finished before the daemon was killed"
    assert sent_count() == recipients and not tally.failed


@pytest.mark.xfail(
    strict=False,
    reason="open (issue 13): on a loaded machine the burst can end before the third kill -9 (2 >= 3 failed once)",
)
def test_kill_9_during_an_inbound_burst(centre_config):
    burst, kills = int(sized(150, 1000)), int(sized(5, 20))
    # a SIM's room: the network holds the rest of the burst; a stick's pace: 10 ms per command
    with FakeModem(capacity=50, command_delay=0.01) as fake:
        config = centre_config(at_modem("usb1", fake.device, sweep_interval="2s"))
        expected = inject(fake, burst, wait_for_room=True)
        daemon = Daemon(config)
        kill_at_random_moments(daemon, kills, seed=2, busy=lambda: bool(fake.sim or fake.network_waiting))
        with daemon:
            settle(expected_inbound=burst, timeout=300, also=lambda: not fake.sim and not fake.network_waiting)
        assert_accounted(account(f"kill -9 x{daemon.kills} during an inbound burst of {burst}", fake, expected))
    assert daemon.kills >= min(kills, 3)


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
