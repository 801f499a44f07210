"""What the network says afterwards: status reports for unknown, duplicated and wrapped references;
a long message one of whose parts never comes."""

from __future__ import annotations

from modemd.sms import tpdu
from modemd.store.models import DeliveryReport, InboundMessage, OutboundMessage, OutboundPart
from tests.fakemodem import FakeModem, wait_until
from tests.faults.accounting import account, assert_accounted
from tests.faults.centre import Daemon, at_modem, citizen, queue, settle, sized

NOBODY = "+6281299999999"  # a number this centre never wrote to


def delivered() -> int:
    return OutboundMessage.select().where(OutboundMessage.state == "delivered").count()


def test_status_reports_unknown_duplicated_and_wrapped(centre_config):
    """More than 256 sends (the message reference wraps), each report arriving after later sends reused
    references; reports for a reference never used, and the same report twice."""
    messages = int(sized(300, 1000))
    # room on the SIM for the reports (+CDSI) that come while the queue drains: a full SIM loses them
    with FakeModem(part_delay=0.01, status_report_delay=sized(8.0, 30.0), capacity=int(sized(100, 300))) as fake:
        fake.reports_carry_submit_time = True
        config = centre_config(at_modem("usb1", fake.device))
        queue(messages)
        with Daemon(config) as daemon:
            assert wait_until(lambda: fake.count("AT+CNMI=") > 0 and fake.sent, 60), daemon.log_text()[-2000:]
            for reference in (7, 200):
                fake.send_status_report(reference, NOBODY, status=0)  # unknown: nothing was sent to that number
            settle(timeout=240, also=lambda: delivered() == messages, daemons=(daemon,))
            assert len({s.reference for s in fake.sent}) == 256 and len(fake.sent) == messages  # it wrapped
            reports_before = DeliveryReport.select().count()
            for again in fake.sent[-10:]:  # the same report once more (an SMSC repeating itself)
                fake.send_status_report(again.reference, again.number, status=0)
            assert wait_until(lambda: DeliveryReport.select().count() == reports_before + 10, 30)
        tally = assert_accounted(account("status reports: unknown, duplicated, wrapped references", fake))
    assert delivered() == messages and not tally.failed  # each report found its own message
    assert OutboundPart.select().where(OutboundPart.state == "delivered").count() == messages
    unmatched = DeliveryReport.select().where(DeliveryReport.part.is_null())
    assert sorted(r.reference for r in unmatched) == [7, 200]


def test_a_long_message_whose_second_part_never_comes(centre_config):
    text = "INFO " + "Jalan di desa kami rusak parah dan berlubang sejak bulan lalu. " * 4  # two parts
    sender = citizen(55_555)
    with FakeModem() as fake:
        config = centre_config(at_modem("usb1", fake.device, reassembly_timeout="3s"))
        first, second = tpdu.encode_deliver(sender, text, concat_reference=42)
        with Daemon(config) as daemon:
            assert wait_until(lambda: fake.count("AT+CNMI=") > 0, 60), daemon.log_text()[-2000:]
            fake.inject_pdu(first)  # the second part is lost in the network
            expected = [(sender, text[:153] + "[…]")]  # what came, and a mark where the rest is missing
            settle(expected_inbound=1, timeout=60, also=lambda: not fake.sim, daemons=(daemon,))
        assert_accounted(account("a long message whose second part never comes", fake, expected))
    stored = InboundMessage.get()
    assert stored.incomplete and (stored.parts_received, stored.parts_total) == (1, 2)
    assert second  # the part that never came existed: the message really had two parts
