"""Reassembly of concatenated SMS: order, duplicates, interleaving, timeouts."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modemd.sms import segmentation, tpdu
from modemd.sms.reassembly import MISSING_MARKER, Reassembler

WIB = timezone(timedelta(hours=7))
T0 = datetime(2025, 6, 1, 8, 0, 0, tzinfo=WIB)

LONG_GSM = "DISHUB Lampu lalu lintas di simpang Jl. Sudirman {Kec. Kota} mati sejak pagi, mohon segera diperbaiki. " * 4
LONG_UCS2 = "KESEHATAN Puskesmas tutup 😡 padahal jadwal buka 08.00 — mohon ditindaklanjuti 🙏 " * 4


def parts_of(
    sender: str, text: str, reference: int, *, ref16: bool = False, start: datetime = T0
) -> list[tpdu.DeliverPdu]:
    hexes = tpdu.encode_deliver(sender, text, concat_reference=reference, ref16=ref16, smsc_time=start)
    return [tpdu.decode(h) for h in hexes]


def test_single_part_message_comes_out_at_once() -> None:
    [part] = parts_of("+6281234", "INFO jadwal SIM keliling", 0)
    [message] = Reassembler().add(part, handle=3, now=0.0)
    assert (message.text, message.sender, message.handles, message.incomplete) == (
        "INFO jadwal SIM keliling",
        "+6281234",
        [3],
        False,
    )
    assert (message.concat_reference, message.parts_total, message.parts_received) == (None, 1, 1)
    assert message.pdus == [part.hex]
    assert message.smsc_time == T0


@pytest.mark.parametrize("text", [LONG_GSM, LONG_UCS2])
def test_parts_in_reverse_order(text: str) -> None:
    parts = parts_of("+6281234", text, 77)
    assert len(parts) >= 3
    reassembler = Reassembler()
    out = []
    for index, part in reversed(list(enumerate(parts))):
        out += reassembler.add(part, handle=index, now=float(index))
    [message] = out
    assert message.text == text
    assert message.pdus == [p.hex for p in parts]
    assert sorted(message.handles) == list(range(len(parts)))
    assert (message.concat_reference, message.parts_total, message.parts_received, message.incomplete) == (
        77,
        len(parts),
        len(parts),
        False,
    )
    assert len(reassembler) == 0


def test_interleaved_senders_and_references_do_not_mix() -> None:
    a = parts_of("+628111", LONG_GSM, 5)
    b = parts_of("+628222", LONG_UCS2, 5)  # same reference, other sender
    c = parts_of("+628111", LONG_UCS2, 6)  # same sender, other reference
    shuffled = [(p, ("a", i)) for i, p in enumerate(a)] + [(p, ("b", i)) for i, p in enumerate(b)]
    shuffled += [(p, ("c", i)) for i, p in enumerate(c)]
    random.Random(4).shuffle(shuffled)
    reassembler = Reassembler()
    done = []
    for part, handle in shuffled:
        done += reassembler.add(part, handle, now=0.0)
    texts = {(m.sender, m.concat_reference): m.text for m in done}
    assert texts == {("+628111", 5): LONG_GSM, ("+628222", 5): LONG_UCS2, ("+628111", 6): LONG_UCS2}


def test_same_reference_with_other_total_is_another_message() -> None:
    short = parts_of("+628111", "x" * 200, 9)  # 2 parts
    long = parts_of("+628111", "y" * 400, 9)  # 3 parts
    reassembler = Reassembler()
    out = []
    for handle, part in enumerate([short[0], long[0], long[1], short[1], long[2]]):
        out += reassembler.add(part, handle, now=0.0)
    assert [m.text for m in out] == ["x" * 200, "y" * 400]


def test_modem_listing_the_same_part_twice_is_ignored() -> None:
    parts = parts_of("+6281234", LONG_GSM, 1)
    reassembler = Reassembler()
    assert reassembler.add(parts[0], 10, now=0.0) == []
    assert reassembler.add(parts[0], 10, now=5.0) == []  # next AT+CMGL poll lists slot 10 again
    out = []
    for handle, part in enumerate(parts[1:], start=11):
        out += reassembler.add(part, handle, now=6.0)
    [message] = out
    assert message.handles == list(range(10, 10 + len(parts)))
    # The poll after handing out, before the daemon deleted them, lists them again.
    for handle, part in enumerate(parts, start=10):
        assert reassembler.add(part, handle, now=7.0) == []
    assert reassembler.take_duplicates() == []
    assert len(reassembler) == 0


def test_network_duplicate_while_pending_goes_with_the_message() -> None:
    parts = parts_of("+6281234", LONG_GSM, 2)
    reassembler = Reassembler()
    reassembler.add(parts[0], "slot1", now=0.0)
    reassembler.add(parts[0], "slot2", now=1.0)  # same part, delivered twice into another slot
    out = []
    for i, part in enumerate(parts[1:]):
        out += reassembler.add(part, f"slot{i + 3}", now=2.0)
    [message] = out
    assert message.text == LONG_GSM
    assert "slot2" in message.handles  # deleted from the SIM with the rest
    assert len(message.pdus) == len(parts)


def test_network_duplicate_after_hand_out_is_listed_for_deletion() -> None:
    parts = parts_of("+6281234", LONG_GSM, 3)
    reassembler = Reassembler()
    for handle, part in enumerate(parts):
        reassembler.add(part, handle, now=0.0)
    assert reassembler.add(parts[1], 99, now=60.0) == []
    assert reassembler.take_duplicates() == [99]
    assert reassembler.take_duplicates() == []
    assert len(reassembler) == 0


def test_reused_reference_with_new_text_is_a_new_message() -> None:
    first = parts_of("+6281234", "a" * 300, 4)
    second = parts_of("+6281234", "b" * 300, 4)
    reassembler = Reassembler()
    out = []
    for handle, part in enumerate(first + second):
        out += reassembler.add(part, handle, now=0.0)
    assert [m.text for m in out] == ["a" * 300, "b" * 300]


def test_missing_part_expires_with_a_visible_marker() -> None:
    parts = parts_of("+6281234", LONG_GSM, 8)
    assert len(parts) == 3
    reassembler = Reassembler(timeout=600)
    reassembler.add(parts[0], "h1", now=1000.0)
    reassembler.add(parts[2], "h3", now=1100.0)
    assert reassembler.expire(now=1599.0) == []  # 599 s after the first part
    [message] = reassembler.expire(now=1600.0)
    assert message.incomplete
    assert (message.parts_total, message.parts_received) == (3, 2)
    segments = segmentation.split(LONG_GSM)[1]
    assert message.text == segments[0] + MISSING_MARKER + segments[2]
    assert message.pdus == [parts[0].hex, parts[2].hex]
    assert message.handles == ["h1", "h3"]
    assert reassembler.expire(now=5000.0) == []
    assert len(reassembler) == 0


def test_missing_first_part_takes_time_of_lowest_part() -> None:
    later = T0 + timedelta(seconds=30)
    parts = parts_of("+6281234", LONG_GSM, 8, start=later)
    reassembler = Reassembler(timeout=10)
    reassembler.add(parts[1], 1, now=0.0)
    [message] = reassembler.expire(now=10.0)
    assert message.text.startswith(MISSING_MARKER) and message.text.endswith(MISSING_MARKER)
    assert message.smsc_time == later


def test_part_arriving_after_expiry_is_not_lost() -> None:
    parts = parts_of("+6281234", LONG_GSM, 8)
    reassembler = Reassembler(timeout=10)
    reassembler.add(parts[0], 1, now=0.0)
    reassembler.add(parts[1], 2, now=0.0)
    [early] = reassembler.expire(now=10.0)
    assert early.incomplete
    reassembler.add(parts[2], 3, now=20.0)
    [late] = reassembler.expire(now=30.0)
    segments = segmentation.split(LONG_GSM)[1]
    assert late.text == MISSING_MARKER + MISSING_MARKER + segments[2]
    assert late.handles == [3]


def test_surrogate_pair_cut_across_parts_by_the_phone_is_joined() -> None:
    # Some phones cut UTF-16 blindly at 67 units: the emoji's high surrogate ends part 1.
    units = ("a" * 66 + "😀" + "b").encode("utf-16-be")
    first, second = units[:134], units[134:]
    # SMSC +62816124, TP-UDHI set, sender +6281234567, PID 00, DCS 08 (UCS2), time stamp.
    header = "059126181642440A912618325476000842506070809082"
    hexes = [
        header + f"{6 + len(body):02X}" + f"0500032A02{seq:02X}" + body.hex().upper()
        for seq, body in ((1, first), (2, second))
    ]
    decoded = [tpdu.decode(h) for h in hexes]
    assert decoded[0].text.endswith("\ufffd")  # alone, part 1 cannot show it
    reassembler = Reassembler()
    reassembler.add(decoded[1], 2, now=0.0)
    [message] = reassembler.add(decoded[0], 1, now=0.0)
    assert message.text == "a" * 66 + "😀" + "b"


def test_escape_pair_cut_across_parts_is_joined() -> None:
    # Part 1 ends with the escape septet, part 2 starts with the euro's code.
    one = tpdu.decode(tpdu.encode_deliver("+6281", "x" * 153 + "y" * 10, concat_reference=1, smsc_time=T0)[0])
    two = tpdu.decode(tpdu.encode_deliver("+6281", "x" * 153 + "y" * 10, concat_reference=1, smsc_time=T0)[1])
    one.payload = one.payload[:-1] + bytes([0x1B])
    two.payload = bytes([0x65]) + two.payload
    reassembler = Reassembler()
    reassembler.add(one, 1, now=0.0)
    [message] = reassembler.add(two, 2, now=0.0)
    assert message.text == "x" * 152 + "€" + "y" * 10


def test_sixteen_bit_references() -> None:
    parts = parts_of("+6281234", LONG_UCS2, 0xABCD, ref16=True)
    reassembler = Reassembler()
    out = []
    for handle, part in enumerate(parts):
        out += reassembler.add(part, handle, now=0.0)
    assert [(m.text, m.concat_reference) for m in out] == [(LONG_UCS2, 0xABCD)]


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        Reassembler(timeout=0)
    with pytest.raises(TypeError):
        Reassembler().add("07911326", 1, now=0.0)  # type: ignore[arg-type]


@settings(max_examples=200, derandomize=True, deadline=None)
@given(
    texts=st.lists(st.text(alphabet="abc€😀 ", min_size=0, max_size=400), min_size=1, max_size=4),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_arrival_order_with_duplicates_gives_every_text_once(texts: list[str], seed: int) -> None:
    rng = random.Random(seed)
    arrivals = []
    for number, text in enumerate(texts):
        for seq, part in enumerate(parts_of(f"+62811{number}", text, rng.randrange(256))):
            arrivals.append((part, (number, seq)))
    arrivals += rng.sample(arrivals, k=len(arrivals) // 3)  # re-listed parts
    rng.shuffle(arrivals)
    reassembler = Reassembler()
    out = []
    for part, handle in arrivals:
        out += reassembler.add(part, handle, now=0.0)
    assert sorted(m.text for m in out) == sorted(texts)
    assert all(not m.incomplete for m in out)
    assert len(reassembler) == 0


def test_reused_storage_slot_with_a_new_message_is_not_ignored() -> None:
    [first] = parts_of("+6281234", "PERTAMA", 0)
    [second] = parts_of("+6281234", "KEDUA", 0)
    reassembler = Reassembler()
    assert [m.text for m in reassembler.add(first, 1, now=0.0)] == ["PERTAMA"]
    assert reassembler.add(first, 1, now=1.0) == []  # listed again before deletion
    # The daemon deleted slot 1; the modem stored the next message there.
    assert [m.text for m in reassembler.add(second, 1, now=2.0)] == ["KEDUA"]


def test_handed_out_handles_are_forgotten_after_the_timeout() -> None:
    [part] = parts_of("+6281234", "ULANG", 0)
    reassembler = Reassembler(timeout=60)
    reassembler.add(part, 1, now=0.0)
    reassembler.expire(now=60.0)
    # Identical PDU in the same slot an hour later: the sender really sent it again.
    assert [m.text for m in reassembler.add(part, 1, now=3600.0)] == ["ULANG"]


def test_single_sms_delivered_twice_by_the_network_is_handed_out_once() -> None:
    [part] = parts_of("+6281234", "INFO banjir di RT 02", 0)
    reassembler = Reassembler(timeout=600)
    assert len(reassembler.add(part, 4, now=0.0)) == 1
    assert reassembler.add(part, 9, now=30.0) == []  # same PDU, same time stamp, another slot
    assert reassembler.take_duplicates() == [9]
    assert reassembler.add(part, 9, now=31.0) == []  # and slot 9 listed again is not a new duplicate
    assert reassembler.take_duplicates() == []
    assert reassembler.add(part, None, now=40.0) == []  # +CMT delivery of it again


def test_same_text_sent_again_later_is_a_new_message() -> None:
    [first] = parts_of("+6281234", "INFO banjir di RT 02", 0, start=T0)
    [again] = parts_of("+6281234", "INFO banjir di RT 02", 0, start=T0 + timedelta(seconds=20))
    reassembler = Reassembler()
    assert len(reassembler.add(first, 1, now=0.0)) == 1
    assert len(reassembler.add(again, 2, now=20.0)) == 1
