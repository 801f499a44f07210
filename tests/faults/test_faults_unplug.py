"""The stick pulled out: during a long queue, inside AT+CMGS, between two parts, back under another name."""

from __future__ import annotations

import os
import time

import pytest

from tests.fakemodem import FakeModem, wait_until
from tests.faults.accounting import account, assert_accounted
from tests.faults.centre import Daemon, at_modem, fault_during_a_queue, queue, sent_count, settle, sized, until_sent

#: three parts in GSM 7-bit (153 characters each)
LONG = "Pemberitahuan jadwal pelayanan KTP elektronik di kecamatan. " * 6


@pytest.mark.parametrize(
    "case, unplugged",
    [
        ("unplug for 5 s during a queue", 5.0),
        ("unplug for 2 min during a queue", sized(12.0, 120.0)),
    ],
)
def test_unplug_during_a_queue(centre_config, case, unplugged):
    messages = int(sized(80, 500))
    with FakeModem(part_delay=0.02) as fake:
        config = centre_config(at_modem("usb1", fake.device))
        fault_during_a_queue(config, fake, messages, fake.unplug, fake.replug, unplugged)
        tally = assert_accounted(account(case, fake))
    assert sent_count() == messages  # all of them went, once (none failed: the message was never at fault)
    assert fake.plug_count == 2 and not tally.failed


def test_unplug_inside_at_cmgs(centre_config):
    """The network took the part, the answer never came: the one send the daemon cannot know about."""
    messages, unplugs = int(sized(30, 100)), int(sized(3, 10))
    with FakeModem(part_delay=0.05) as fake:
        config = centre_config(at_modem("usb1", fake.device))
        queue(messages)
        with Daemon(config) as daemon:
            for plugged in range(1, unplugs + 1):
                assert wait_until(lambda n=plugged: fake.plug_count == n and fake.count("AT+CMGS=") > 0, 60)
                fake.unplug_during_send(part=3, before_answer=True, replug_after=1.0)
                assert wait_until(lambda n=plugged: fake.plug_count == n + 1, 60), daemon.log_text()[-2000:]
            settle(timeout=120, daemons=(daemon,))
        tally = assert_accounted(account("unplug inside AT+CMGS", fake))
    assert sent_count() == messages
    # each unplug left exactly one part whose answer never came; its message is named, not hidden
    assert len(tally.in_flight) == unplugs, tally.in_flight


def test_unplug_between_the_parts_of_a_long_message(centre_config):
    messages = int(sized(6, 30))
    with FakeModem(part_delay=0.05) as fake:
        config = centre_config(at_modem("usb1", fake.device))
        queue(messages, text="{n}: " + LONG)
        with Daemon(config) as daemon:
            assert wait_until(lambda: fake.count("AT+CMGS=") > 0, 60), daemon.log_text()[-2000:]
            fake.unplug_during_send(part=5, before_answer=False, replug_after=1.0)  # after part 2 of message 2
            settle(timeout=120, daemons=(daemon,))
        tally = assert_accounted(account("unplug between the parts of a long message", fake))
    assert fake.plug_count == 2
    assert sent_count() == messages and not tally.in_flight


def test_device_comes_back_under_another_name_behind_a_by_id_link(centre_config, tmp_path):
    """/dev/serial/by-id/usb-HUAWEI_...-if00-port0 -> ttyUSB0; replugged, udev points it at ttyUSB2."""
    messages = int(sized(40, 200))
    by_id = tmp_path / "serial" / "by-id"
    by_id.mkdir(parents=True)
    link = by_id / "usb-HUAWEI_Technology_HUAWEI_Mobile-if00-port0"
    with FakeModem(part_delay=0.02, port_name="ttyUSB0") as fake:
        os.symlink(fake.device, link)
        config = centre_config(at_modem("usb1", str(link)))
        queue(messages)
        with Daemon(config) as daemon:
            until_sent(fake, messages // 4, daemon)
            fake.unplug()
            os.unlink(link)  # udev removes the link with the device
            time.sleep(2.0)
            fake.replug(port_name="ttyUSB2")  # ttyUSB0 is still held by the daemon's old handle
            os.symlink(fake.device, link)
            settle(timeout=120, daemons=(daemon,))
        assert_accounted(account("device back as ttyUSB2 behind a by-id link", fake))
    assert fake.device.endswith("ttyUSB2") and sent_count() == messages
