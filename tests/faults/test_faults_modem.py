"""A modem that misbehaves while plugged in: silent for a while, noisy answers, +CMS errors, a full SIM,
a reboot that asks for the PIN again."""

from __future__ import annotations

from modemd.drivers import causes
from modemd.sms import phone
from modemd.store.models import OutboundMessage
from tests.fakemodem import FakeModem
from tests.faults.accounting import account, assert_accounted
from tests.faults.centre import (
    Daemon,
    at_modem,
    fault_during_a_queue,
    inject,
    queue,
    sent_count,
    settle,
    sized,
    until_sent,
)

TEMPORARY = (38, 42, 27)  # network out of order, congestion, destination out of order
PERMANENT = (1, 21, 28)  # unassigned number, transfer rejected, unidentified subscriber


def test_modem_stops_answering_for_a_while(centre_config):
    messages, silent = int(sized(60, 300)), sized(8.0, 30.0)
    with FakeModem(part_delay=0.02) as fake:
        config = centre_config(at_modem("usb1", fake.device))
        # 10 SMS arrive while the modem says nothing
        daemon, expected = fault_during_a_queue(config, fake, messages, fake.hang, fake.resume, silent, inbound=10)
        tally = assert_accounted(account(f"modem silent for {silent:.0f} s", fake, expected))
    assert sent_count() == messages and not tally.failed
    assert "stopped answering" in daemon.log_text()  # it was noticed, not waited out by luck


def test_noise_in_the_middle_of_answers(centre_config):
    """^RSSI, RING, +CREG and line noise inside +CMGS answers and +CMGL listings; echo switched back on."""
    messages, inbound = int(sized(40, 200)), int(sized(20, 100))
    with FakeModem(part_delay=0.01, capacity=inbound + 10) as fake:
        config = centre_config(at_modem("usb1", fake.device, sweep_interval="1s"))
        fake.interrupt_answers("^RSSI: 17", "RING", '+CREG: 1,"0A1B","3C4D"', b"\x80\xf8\xfe\x1c\x9f\xe0")
        queue(messages)
        with Daemon(config) as daemon:
            until_sent(fake, messages // 4, daemon)
            fake.settings.echo = True  # the firmware forgot ATE0 (a brown-out, another program on the port)
            # without an indication: only the AT+CMGL sweep finds these, in noisy listings
            # (status reports take SIM slots too: what finds no room waits in the network)
            expected = inject(fake, inbound // 2, indicate=False, wait_for_room=True)
            expected += inject(fake, inbound - inbound // 2, first=inbound // 2, wait_for_room=True)
            settle(expected_inbound=len(expected), timeout=120, also=lambda: not fake.sim, daemons=(daemon,))
        tally = assert_accounted(
            account("noise inside +CMGS answers and +CMGL listings, echo on again", fake, expected)
        )
    assert sent_count() == messages and not tally.failed
    assert fake.count("AT+CMGL") >= 2 and not fake.sim


def test_cms_errors_on_30_percent_of_sends(centre_config):
    messages = int(sized(100, 500))
    with FakeModem() as fake:
        config = centre_config(at_modem("usb1", fake.device), retry_intervals="0s")
        fake.fail_randomly(0.3, TEMPORARY + PERMANENT, seed=13)
        queue(messages)
        with Daemon(config) as daemon:
            settle(timeout=180, daemons=(daemon,))
        tally = assert_accounted(account("+CMS ERROR on 30% of sends", fake))
    refusals: dict[str, list[int]] = {}
    for number, code in fake.refused:
        refusals.setdefault(phone.normalize(number), []).append(code)
    for message in OutboundMessage.select():
        codes = refusals.get(message.recipient, [])
        if message.state == "failed":
            # a permanent cause fails the message at once; temporary ones only after max_attempts tries
            assert len(codes) == message.attempts and message.failure_code == codes[-1], message.failure_reason
            if causes.is_permanent(message.failure_code):
                assert all(c in TEMPORARY for c in codes[:-1]) and codes[-1] in PERMANENT
            else:
                assert len(codes) == message.max_attempts and "gave up" in message.failure_reason
        else:  # sent after its temporary refusals, each one retried
            assert message.state in ("sent", "delivered") and all(c in TEMPORARY for c in codes)
            assert message.attempts == len(codes) + 1
    failed = sum(1 for codes in refusals.values() if set(codes) & set(PERMANENT))
    assert failed and any(code in TEMPORARY for _, code in fake.refused)  # both kinds happened
    assert len(tally.failed) >= failed and sent_count() == messages - len(tally.failed)


def test_sim_full_with_50_messages_waiting(centre_config):
    """The SIM is full when the daemon starts; the network holds 50 more and delivers them as room appears."""
    capacity, waiting = 30, 50
    with FakeModem(capacity=capacity) as fake:
        config = centre_config(at_modem("usb1", fake.device))
        expected = inject(fake, capacity + waiting, wait_for_room=True)  # no daemon yet: indications get lost
        assert len(fake.sim) == capacity and len(fake.network_waiting) == waiting
        queue(20)
        with Daemon(config) as daemon:
            # until the SIM is empty: the messages, and the status reports (+CDSI) of the 20 sent
            settle(expected_inbound=len(expected), timeout=120, also=lambda: not fake.sim, daemons=(daemon,))
        assert_accounted(account("SIM full with 50 messages waiting", fake, expected))
    assert not fake.network_waiting and sent_count() == 20


def test_modem_reboots_itself_and_asks_for_the_pin_again(centre_config):
    messages, reboots = int(sized(60, 300)), int(sized(2, 5))
    with FakeModem(pin="1234", part_delay=0.02) as fake:
        config = centre_config(at_modem("usb1", fake.device, pin="1234"))
        queue(messages)
        expected = []
        with Daemon(config) as daemon:
            for n in range(1, reboots + 1):
                until_sent(fake, n * messages // (reboots + 2), daemon)
                fake.reboot()
                expected += inject(fake, 5, first=5 * n)  # arrive while the modem is locked
            settle(expected_inbound=len(expected), timeout=120, daemons=(daemon,))
        tally = assert_accounted(account("modem reboots itself, PIN asked again", fake, expected))
    assert sent_count() == messages and not tally.failed  # nothing failed for a modem that only restarted
    assert fake.reboot_count == reboots and fake.count("AT+CPIN=") == reboots + 1
