"""A tiny conversation harness for routing tests, in the style of RapidSMS's.

A script is lines of ``NUMBER > TEXT`` (the citizen sends TEXT to the centre)
and ``NUMBER < TEXT`` (the centre must have queued exactly TEXT to NUMBER,
next in order; ``{case}`` stands for the case the last message joined)::

    0812 1111 2222 > DISHUB jalan rusak
    0812 1111 2222 < Laporan #{case} diteruskan ke Dinas Perhubungan.

Messages go through the real storing and routing code and a real database;
only the modem is left out (an :class:`IncomingSMS` is built as a driver would).
"""

from __future__ import annotations

from datetime import UTC, datetime

from modemd import config as config_module
from modemd.drivers.base import IncomingSMS
from modemd.receive import inbound
from modemd.receive.keywords import load_keywords
from modemd.receive.routing import Router, Routing
from modemd.store.models import OutboundMessage

WIB_OFFSET_HOURS = 7


def sms(sender: str, text: str, smsc_time: datetime | None = None, **kw) -> IncomingSMS:
    return IncomingSMS(sender=sender, text=text, smsc_time=smsc_time, pdus=kw.pop("pdus", []), **kw)


class Conversation:
    def __init__(self, config_path, modem: str = "sim1"):
        self.config = config_module.load(config_path)
        self.table = load_keywords(self.config.keywords_path)
        self.router = Router(self.config, lambda: self.table)
        self.modem = modem
        self.seen: set[int] = set()
        self.last: Routing | None = None

    def receive(self, sender: str, text: str, smsc_time: datetime | None = None) -> Routing:
        message, _ = inbound.store(self.modem, sms(sender, text, smsc_time or datetime.now(UTC)))
        self.last = self.router.route(message)
        return self.last

    def new_replies(self) -> list[OutboundMessage]:
        rows = [m for m in OutboundMessage.select().order_by(OutboundMessage.id) if m.id not in self.seen]
        self.seen.update(m.id for m in rows)
        return rows

    def run(self, script: str) -> None:
        """Play a script; an AssertionError names the line that did not happen."""
        expected: list[tuple[str, str]] = []
        for raw in script.strip().splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if " > " in line:
                self._check(expected)
                expected = []
                number, text = line.split(" > ", 1)
                self.receive(number.replace(" ", ""), text)
            elif " < " in line:
                number, text = line.split(" < ", 1)
                case = self.last.case.id if self.last and self.last.case else ""
                expected.append((number.replace(" ", ""), text.replace("{case}", str(case))))
            else:
                raise ValueError(f"script line is neither 'NUMBER > TEXT' nor 'NUMBER < TEXT': {line!r}")
        self._check(expected)

    def _check(self, expected: list[tuple[str, str]]) -> None:
        from modemd.sms import phone

        got = [(m.recipient, m.text) for m in self.new_replies()]
        want = [(phone.normalize(n), t) for n, t in expected]
        assert got == want, f"after {self.last.message.text!r}: expected replies {want}, got {got}"
