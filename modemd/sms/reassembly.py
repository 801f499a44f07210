"""Joining the parts of concatenated SMS into whole messages.

Parts arrive out of order, twice, interleaved with other senders' messages,
and sometimes never. A :class:`Reassembler` keeps the parts it has, keyed by
(sender, concatenation reference, total parts), and hands out a message as
soon as every part is there; :meth:`Reassembler.expire` hands out the ones
still missing parts ``timeout`` seconds after their first part arrived, with
:data:`MISSING_MARKER` where the missing text would be. Nothing is dropped.

Time is whatever the caller passes as ``now``: seconds on one monotonic clock
(``time.monotonic()`` in the daemon, plain numbers in tests), so no test sleeps.

Handles are the driver's tokens for deleting a part from the SIM (a storage
index, a Gammu location). They must be hashable; None means "not stored".
The same handle with the same PDU, while pending or within ``timeout`` of
being handed out, is the modem listing the same stored part again (the next
``AT+CMGL`` before the daemon deleted it) and is ignored; the same handle with
another PDU is a new message in a reused slot.

A part the network delivered twice (under a *different* handle, or with no
handle) is kept out of the text: for a long message, a part with the same
sequence number and payload; for a single SMS, the very same PDU, time stamp
included, within ``timeout``. Its handle goes with the message if that is
still pending, else :meth:`Reassembler.take_duplicates` lists it for deletion.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import datetime

from modemd.sms.tpdu import DeliverPdu, decode_payload

#: What the text shows where a part never arrived.
MISSING_MARKER = "[…]"

_Key = tuple[str, int, int]  # (sender, reference, total)


@dataclass
class Assembled:
    """A whole message, or what arrived of it once the timeout passed."""

    sender: str
    text: str
    smsc_time: datetime | None  # of the lowest-numbered part that arrived
    pdus: list[str]  # hex, one per received part, in sequence order
    handles: list[object]  # every received part's handle (None handles left out), duplicates included
    concat_reference: int | None  # None for a single-part message
    parts_total: int
    parts_received: int
    incomplete: bool
    sender_type: str = ""
    smsc: str = ""
    encoding: str = ""


@dataclass
class _Pending:
    first_seen: float
    parts: dict[int, DeliverPdu] = field(default_factory=dict)  # sequence -> part
    handles: dict[Hashable, str] = field(default_factory=dict)  # handle -> the PDU it holds, in arrival order


@dataclass
class _Done:
    """A message handed out recently, remembered to recognise late duplicates."""

    handed_out: float
    payloads: dict[int, bytes]


def _join_text(parts: dict[int, DeliverPdu], total: int) -> str:
    """Decode runs of consecutive parts together, so that a character a phone
    cut across two parts (a surrogate pair, an escape pair) comes out whole."""
    pieces: list[str] = []
    run: list[DeliverPdu] = []

    def flush() -> None:
        if run:
            pieces.append(decode_payload(run[0].encoding, b"".join(p.payload for p in run)))
            run.clear()

    for sequence in range(1, total + 1):
        part = parts.get(sequence)
        if part is None:
            flush()
            pieces.append(MISSING_MARKER)
            continue
        if run and run[0].encoding != part.encoding:
            flush()
        run.append(part)
    flush()
    return "".join(pieces)


def _assemble(parts: dict[int, DeliverPdu], handles: list[Hashable], reference: int | None, total: int) -> Assembled:
    ordered = [parts[s] for s in sorted(parts)]
    first = ordered[0]
    encodings = {p.encoding for p in ordered}
    return Assembled(
        sender=first.sender,
        text=_join_text(parts, total),
        smsc_time=first.smsc_time,
        pdus=[p.hex for p in ordered],
        handles=list(handles),
        concat_reference=reference,
        parts_total=total,
        parts_received=len(ordered),
        incomplete=len(ordered) < total,
        sender_type=first.sender_type,
        smsc=first.smsc,
        encoding=first.encoding if len(encodings) == 1 else "mixed",
    )


class Reassembler:
    """Collects decoded SMS-DELIVER parts; see the module docstring."""

    def __init__(self, timeout: float = 1800.0):
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        self.timeout = timeout
        # Several groups per key when a sender reuses a reference before the first message completed.
        self._pending: dict[_Key, list[_Pending]] = {}
        self._done: dict[_Key, list[_Done]] = {}
        self._duplicates: list[Hashable] = []
        self._handed_out: dict[Hashable, tuple[str, float]] = {}  # handle -> (pdu hex, when)
        self._singles: dict[str, float] = {}  # single-part PDU hex -> when handed out

    def __len__(self) -> int:
        """Messages still waiting for parts."""
        return sum(len(groups) for groups in self._pending.values())

    def add(self, part: DeliverPdu, handle: Hashable, now: float) -> list[Assembled]:
        """Take one received part; return the messages it completed (zero or one)."""
        if not isinstance(part, DeliverPdu):
            raise TypeError(f"Reassembler.add takes a DeliverPdu, got {type(part).__name__}")
        if handle is not None and self._handed_out.get(handle, ("", 0.0))[0] == part.hex:
            return []  # listed again before the daemon deleted it
        if part.concat is None or part.concat[1] == 1:
            return self._single(part, handle, now)
        reference, total, sequence = part.concat
        key = (part.sender, reference, total)
        if self._seen_before(key, part, handle, sequence, now):
            return []
        group = self._group_for(key, part, sequence, now)
        if handle is not None:
            group.handles.setdefault(handle, part.hex)
        if sequence in group.parts:
            return []  # same content under another handle: the network sent it twice
        group.parts[sequence] = part
        if len(group.parts) < total:
            return []
        return [self._hand_out(key, group, now)]

    def expire(self, now: float) -> list[Assembled]:
        """Messages whose first part came ``timeout`` or more seconds before ``now``, marked incomplete."""
        out: list[Assembled] = []
        for key in list(self._pending):
            for group in list(self._pending[key]):
                if now - group.first_seen >= self.timeout:
                    out.append(self._hand_out(key, group, now))
        self._handed_out = {h: seen for h, seen in self._handed_out.items() if now - seen[1] < self.timeout}
        self._singles = {h: when for h, when in self._singles.items() if now - when < self.timeout}
        for key in list(self._done):
            fresh = [d for d in self._done[key] if now - d.handed_out < self.timeout]
            if fresh:
                self._done[key] = fresh
            else:
                del self._done[key]
        return out

    def take_duplicates(self) -> list[Hashable]:
        """Handles of parts that repeated an already handed-out message: delete them, store nothing."""
        out, self._duplicates = self._duplicates, []
        return out

    # ------------------------------------------------------------------

    def _single(self, part: DeliverPdu, handle: Hashable, now: float) -> list[Assembled]:
        if part.hex and part.hex in self._singles:
            if handle is not None:
                self._duplicates.append(handle)
                self._handed_out[handle] = (part.hex, now)
            return []
        self._singles[part.hex] = now
        handles = {} if handle is None else {handle: part.hex}
        self._remember(handles, now)
        reference = part.concat[0] if part.concat else None
        return [_assemble({1: part}, list(handles), reference, 1)]

    def _seen_before(self, key: _Key, part: DeliverPdu, handle: Hashable, sequence: int, now: float) -> bool:
        """True for a part of a message already handed out (re-listed or sent twice)."""
        for done in self._done.get(key, []):
            if done.payloads.get(sequence) == part.payload:
                if handle is not None:
                    self._duplicates.append(handle)
                    self._handed_out[handle] = (part.hex, now)
                return True
        return False

    def _remember(self, handles: dict[Hashable, str], now: float) -> None:
        """Keep what each handed-out handle held, to recognise it when listed again."""
        for handle, held in handles.items():
            self._handed_out[handle] = (held, now)

    def _group_for(self, key: _Key, part: DeliverPdu, sequence: int, now: float) -> _Pending:
        groups = self._pending.setdefault(key, [])
        for group in groups:
            held = group.parts.get(sequence)
            if held is None or held.payload == part.payload:
                return group
        group = _Pending(first_seen=now)
        groups.append(group)
        return group

    def _hand_out(self, key: _Key, group: _Pending, now: float) -> Assembled:
        groups = self._pending[key]
        groups.remove(group)
        if not groups:
            del self._pending[key]
        self._done.setdefault(key, []).append(
            _Done(
                handed_out=now,
                payloads={s: p.payload for s, p in group.parts.items()},
            )
        )
        self._remember(group.handles, now)
        return _assemble(group.parts, list(group.handles), key[1], key[2])
