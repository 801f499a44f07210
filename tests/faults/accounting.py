"""The one question every fault case ends with: is every message accounted for?

Inbound: each SMS the network delivered is in the database exactly once.
Outbound: each queued row ended ``sent``/``delivered`` and the modem took it
exactly once, or ended ``failed`` with a reason and the modem never took it
(or took it once, when a status report failed it), or was ``cancelled``
unsent.

The single documented exception (README, "What we tested"): a message the
modem may have sent while the daemon died or the modem vanished inside
``AT+CMGS``, before the send was recorded. The daemon cannot know; it sends
the message again and marks the row ``doubt``. One extra send of a row
marked ``doubt`` is counted as *in flight* and named, not as a duplicate.
A row whose one resend in doubt was cut off the same way is ``failed``
(``IN_DOUBT_REASON``): the modem may have taken it up to twice, the second
time in flight; a third take is a duplicate.

What the modem took comes from the fake modems' ``sent`` lists (they outlive
every daemon process); parts of a long message are joined again by their
concatenation reference. A part that went out without the rest of its
message (the send broke between parts) is a *stray part*: the recipient's
phone shows half a message.

:func:`account` returns a :class:`Tally`; :func:`assert_accounted` fails the
test with the names of the messages lost or duplicated, and records the tally
for ``bench/fault_table.py`` when ``MODEMD_FAULT_RESULTS`` names a file.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from modemd.send.outbound import IN_DOUBT_REASON
from modemd.send.status_reports import UNDELIVERABLE_REASON
from modemd.sms import phone
from modemd.store.models import InboundMessage, OutboundMessage
from tests.fakemodem import FakeModem, SentSMS

RESULTS_ENV = "MODEMD_FAULT_RESULTS"
FINAL = ("sent", "delivered", "failed", "cancelled")


@dataclass(frozen=True)
class Send:
    """One message as the modem put it on the network: all its parts, or only some (``complete`` False)."""

    number: str
    text: str
    complete: bool


@dataclass
class Tally:
    case: str
    inbound: int = 0  # messages the network delivered to the modems
    outbound: int = 0  # rows in the outbound queue
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    in_flight: list[str] = field(default_factory=list)  # the documented exception, named
    failed: dict[str, str] = field(default_factory=dict)  # message -> reason
    stray_parts: list[str] = field(default_factory=list)  # parts of failed messages that went out alone

    @property
    def messages(self) -> int:
        return self.inbound + self.outbound

    def row(self) -> dict:
        return {
            "case": self.case,
            "messages": self.messages,
            "inbound": self.inbound,
            "outbound": self.outbound,
            "lost": len(self.lost),
            "duplicated": len(self.duplicated),
            "in_flight": len(self.in_flight),
            "failed_with_reason": len(self.failed),
        }


def _number(raw: str) -> str:
    return phone.try_normalize(raw) or raw


def sends_of(sent: Iterable[SentSMS]) -> list[Send]:
    """Join the parts a modem took into messages, as the recipient's phone does: by number and
    concatenation reference, whole once every part came. A part that comes again while its series is
    still open, or a series never completed, is an incomplete send (a stray part on the phone)."""
    sends: list[Send] = []
    open_series: dict[tuple[str, int], dict[int, str]] = {}
    for part in sent:
        number = _number(part.number)
        if part.concat is None:
            sends.append(Send(number, part.text, True))
            continue
        reference, total, sequence = part.concat
        parts = open_series.setdefault((number, reference), {})
        if sequence in parts:
            sends.append(Send(number, part.text, False))  # the phone has this part already
            continue
        parts[sequence] = part.text
        if len(parts) == total:
            sends.append(Send(number, "".join(parts[s] for s in range(1, total + 1)), True))
            del open_series[(number, reference)]
    for key, parts in open_series.items():
        sends.append(Send(key[0], "".join(parts[s] for s in sorted(parts)), False))
    return sends


def account(
    case: str,
    fakes: FakeModem | Iterable[FakeModem],
    inbound: Iterable[tuple[str, str]] = (),
) -> Tally:
    """Count every message of this case; ``inbound`` is what the network delivered, as (sender, text)."""
    fakes = [fakes] if isinstance(fakes, FakeModem) else list(fakes)
    tally = Tally(case)
    _account_inbound(tally, Counter((_number(s), t) for s, t in inbound))
    sends = [send for fake in fakes for send in sends_of(list(fake.sent))]
    _account_outbound(tally, sends)
    return tally


def _account_inbound(tally: Tally, expected: Counter) -> None:
    tally.inbound = sum(expected.values())
    stored = Counter(
        (_number(m.sender), m.text) for m in InboundMessage.select(InboundMessage.sender, InboundMessage.text)
    )
    for key, want in expected.items():
        got = stored.get(key, 0)
        tally.lost += [f"inbound from {key[0]}: {key[1]!r}"] * max(want - got, 0)
        tally.duplicated += [f"inbound from {key[0]}: {key[1]!r} stored {got} times"] * max(got - want, 0)
    for key, got in stored.items():
        if key not in expected:
            tally.duplicated += [f"inbound from {key[0]}: {key[1]!r} never sent by the network"] * got


def _account_outbound(tally: Tally, sends: list[Send]) -> None:
    complete = Counter((s.number, s.text) for s in sends if s.complete)
    partial = [s for s in sends if not s.complete]
    rows = list(OutboundMessage.select().order_by(OutboundMessage.id))
    tally.outbound = len(rows)
    keys = Counter((_number(m.recipient), m.text) for m in rows)
    ambiguous = [k for k, n in keys.items() if n > 1]
    assert not ambiguous, f"the case queued the same text to the same number twice, cannot account: {ambiguous[:3]}"
    for message in rows:
        key = (_number(message.recipient), message.text)
        name = f"outbound #{message.id} to {key[0]} ({message.state}{', doubt' if message.doubt else ''})"
        took = complete.pop(key, 0)
        strays = [p for p in partial if p.number == key[0] and p.text and p.text in message.text]
        for stray in strays:
            partial.remove(stray)
        if message.state not in FINAL:
            tally.lost.append(f"{name}: never finished")
            continue
        if message.state == "failed" and not (message.failure_reason or "").strip():
            tally.lost.append(f"{name}: failed without a reason")
            continue
        allowed = 1 if message.state in ("sent", "delivered") or message.failure_reason == UNDELIVERABLE_REASON else 0
        if message.state == "failed" and (message.failure_reason or "").startswith(IN_DOUBT_REASON):
            tally.failed[name] = message.failure_reason
            if took == 2:
                tally.in_flight.append(f"{name}: its resend in doubt was cut off too; the modem took it twice")
            elif took > 2 or strays:
                tally.duplicated.append(f"{name}: in doubt twice, yet the modem took it {took} times")
            continue
        if message.state == "failed":
            tally.failed[name] = message.failure_reason
            if allowed == 0:
                tally.stray_parts += [f"{name}: part {s.text[:20]!r}... went out" for s in strays]
                strays = []
        if took < allowed:
            tally.lost.append(f"{name}: the modem never took it")
            continue
        extra = took - allowed + len(strays)
        if extra and message.doubt and extra == 1:
            tally.in_flight.append(f"{name}: sent again after an interrupted AT+CMGS")
        elif extra:
            tally.duplicated.append(f"{name}: the modem took it {took} times, plus {len(strays)} stray part(s)")
    for key, count in complete.items():
        tally.duplicated += [f"a send to {key[0]} that no row asked for: {key[1][:40]!r}"] * count
    tally.duplicated += [f"a stray part to {p.number} that no row asked for: {p.text[:40]!r}" for p in partial]


def record(tally: Tally) -> None:
    """Append the tally's row to the file named by MODEMD_FAULT_RESULTS (bench/fault_table.py reads it)."""
    path = os.environ.get(RESULTS_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(tally.row()) + "\n")


def assert_accounted(tally: Tally) -> Tally:
    """Nothing lost, nothing duplicated (the in-flight exception aside); record the tally."""
    record(tally)
    assert not tally.lost and not tally.duplicated, (
        f"{tally.case}: {len(tally.lost)} lost, {len(tally.duplicated)} duplicated of {tally.messages}:\n"
        + "\n".join(tally.lost[:10] + tally.duplicated[:10])
    )
    return tally
