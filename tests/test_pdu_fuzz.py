"""Fuzzing modemd.sms.tpdu.decode, and round-trip properties of the encoders.

decode() must turn anything -- random octets, valid PDUs truncated or with
octets changed, inserted or removed, PDUs built field by field with random
values -- into a decoded PDU or a PduError, and nothing else. What it does
decode must be safe to store: text and numbers are valid Unicode (no lone
surrogates), time stamps are aware, concatenation numbers are in range.

Every hypothesis run is derandomized (same examples on every machine). Each
example decodes a batch of PDUs; FUZZ_TOTAL is how many PDUs all runs decode
together, and test_fuzz_total_is_reached checks it was really reached.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modemd.sms import segmentation, tpdu
from modemd.sms.errors import PduError
from modemd.sms.tpdu import DeliverPdu, StatusReportPdu, SubmitDecoded

BATCH = 10
EXAMPLES = {"random": 4000, "mutated": 5000, "structured": 4000}
FUZZ_TOTAL = BATCH * sum(EXAMPLES.values())  # 130,000 PDUs

decoded_count = {"ok": 0, "error": 0}

WIB = timezone(timedelta(hours=7))
WHEN = datetime(2025, 8, 17, 10, 0, 0, tzinfo=WIB)


def _corpus() -> list[tuple[str, bool]]:
    """Valid PDUs of every kind, as (hex, with_smsc)."""
    pdus: list[str] = []
    for text in ["Halo", "€[]{}^~|\\ " * 20, "Jalan rusak 😡🙏 " * 12, "ç" * 70, ""]:
        pdus += tpdu.encode_deliver("+6281234567", text, smsc_time=WHEN, concat_reference=200)
        pdus += tpdu.encode_deliver("PEMKAB", text, smsc_time=WHEN, concat_reference=0x1234, ref16=True)
        pdus += [p.hex for p in tpdu.encode_submit("08123", text, status_report=True, smsc="+62816124")]
        pdus += [p.hex for p in tpdu.encode_submit("+62812", text, validity=None, ref16=True, concat_reference=999)]
    for status in (0x00, 0x22, 0x45, 0x63):
        pdus.append(tpdu.encode_status_report(7, "+6281", status=status, smsc_time=WHEN, discharge_time=WHEN))
    pdus += [
        "07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07",
        "0011000B916407281553F80000AA0AE8329BFD4697D9EC37",
        "00040A91261832547600044250607080908204DEADBEEF",
        # absolute and enhanced validity periods
        "0019000A91261832547600004250607080908202E834",
        "0009000A91261832547600000102030405060702E834",
    ]
    corpus = [(h, True) for h in pdus]
    for hex_pdu in pdus:
        smsc_octets = 1 + int(hex_pdu[:2], 16)
        corpus.append((hex_pdu[2 * smsc_octets :], False))
    return corpus


CORPUS = _corpus()


def check_decodes_or_raises_pdu_error(hex_pdu: str, with_smsc: bool, tpdu_length: int | None = None) -> None:
    try:
        decoded = tpdu.decode(hex_pdu, with_smsc=with_smsc, tpdu_length=tpdu_length)
    except PduError as exc:
        assert str(exc)  # says what went wrong
        decoded_count["error"] += 1
        return
    decoded_count["ok"] += 1
    assert isinstance(decoded, (DeliverPdu, StatusReportPdu, SubmitDecoded))
    decoded.smsc.encode("utf-8")
    if isinstance(decoded, StatusReportPdu):
        assert decoded.smsc_time.tzinfo and decoded.discharge_time.tzinfo
        assert 0 <= decoded.reference <= 255 and 0 <= decoded.status <= 255
        decoded.recipient.encode("utf-8")
        return
    decoded.text.encode("utf-8")  # no lone surrogates reach the database
    if isinstance(decoded, DeliverPdu):
        decoded.sender.encode("utf-8")
        assert decoded.smsc_time.tzinfo is not None
        assert decoded.sender_type in {"international", "national", "unknown", "alphanumeric"}
    else:
        decoded.recipient.encode("utf-8")
    assert decoded.encoding in {"gsm7", "ucs2", "8bit"}
    if decoded.concat is not None:
        reference, total, sequence = decoded.concat
        assert 0 <= reference <= 0xFFFF and 1 <= sequence <= total <= 255


# --------------------------------------------------------------------------
# decode() never crashes


@settings(max_examples=EXAMPLES["random"], derandomize=True, deadline=None, database=None)
@given(
    st.lists(
        st.tuples(st.binary(max_size=180), st.booleans(), st.one_of(st.none(), st.integers(0, 200))),
        min_size=BATCH,
        max_size=BATCH,
    )
)
def fuzz_random_octets(batch: list[tuple[bytes, bool, int | None]]) -> None:
    for data, with_smsc, tpdu_length in batch:
        check_decodes_or_raises_pdu_error(data.hex(), with_smsc, tpdu_length)


_position = st.integers(0, 400)
_mutation = st.one_of(
    st.tuples(st.just("truncate"), _position),
    st.tuples(st.just("set"), _position, st.integers(0, 255)),
    st.tuples(st.just("insert"), _position, st.binary(min_size=1, max_size=4)),
    st.tuples(st.just("delete"), _position, st.integers(1, 4)),
    st.tuples(st.just("xor"), _position, st.integers(1, 255)),
)


def mutate(data: bytearray, mutation: tuple) -> bytearray:
    kind, position = mutation[0], mutation[1] % (len(data) + 1)
    if kind == "truncate":
        return data[:position]
    if kind == "insert":
        return data[:position] + mutation[2] + data[position:]
    if kind == "delete":
        return data[:position] + data[position + mutation[2] :]
    if not data:
        return data
    position %= len(data)
    data[position] = mutation[2] if kind == "set" else data[position] ^ mutation[2]
    return data


def random_mutation(rng: random.Random) -> tuple:
    kind = rng.choice(["truncate", "set", "insert", "delete", "xor"])
    position = rng.randrange(400)
    if kind == "truncate":
        return (kind, position)
    if kind == "insert":
        return (kind, position, rng.randbytes(rng.randint(1, 4)))
    if kind == "delete":
        return (kind, position, rng.randint(1, 4))
    return (kind, position, rng.randint(1, 255))


def variants(hex_pdu: str, first_mutations: list[tuple], seed: int) -> list[str]:
    """The PDU with hypothesis's mutations, then BATCH - 1 more with mutations
    from a seeded generator: cheap to make, so hypothesis's own overhead stays
    small and the fuzz run stays within a minute."""
    data = bytearray(bytes.fromhex(hex_pdu))
    out = []
    mutated = data
    for mutation in first_mutations:
        mutated = mutate(mutated, mutation)
    out.append(bytes(mutated).hex())
    rng = random.Random(seed)
    for _ in range(BATCH - 1):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 3)):
            mutated = mutate(mutated, random_mutation(rng))
        out.append(bytes(mutated).hex())
    return out


@settings(max_examples=EXAMPLES["mutated"], derandomize=True, deadline=None, database=None)
@given(st.sampled_from(CORPUS), st.lists(_mutation, min_size=1, max_size=3), st.integers(0, 2**32 - 1))
def fuzz_mutated_valid_pdus(valid: tuple[str, bool], mutations: list[tuple], seed: int) -> None:
    hex_pdu, with_smsc = valid
    for variant in variants(hex_pdu, mutations, seed):
        check_decodes_or_raises_pdu_error(variant, with_smsc)


def _octets(n: int) -> st.SearchStrategy[bytes]:
    return st.binary(min_size=n, max_size=n)


_valid_timestamp = st.builds(
    lambda d: tpdu._encode_timestamp(d, "t"),
    st.datetimes(datetime(1990, 1, 1), datetime(2089, 12, 31)).map(lambda d: d.replace(tzinfo=WIB)),
)
# Mostly valid, so that decoding goes on past the time stamp.
_timestamp = st.sampled_from([True, True, True, False]).flatmap(lambda valid: _valid_timestamp if valid else _octets(7))
_any_octet = st.integers(0, 255)
_udh = st.lists(
    st.one_of(
        st.builds(lambda r, t, s: bytes([0, 3, r, t, s]), _any_octet, _any_octet, _any_octet),
        st.builds(lambda r, t, s: bytes([8, 4, r >> 8, r & 255, t, s]), st.integers(0, 0xFFFF), _any_octet, _any_octet),
        st.builds(lambda i, body: bytes([i, len(body)]) + body, st.integers(0, 255), st.binary(max_size=6)),
        _octets(1),
    ),
    max_size=3,
).map(b"".join)


_mostly = st.sampled_from([True, True, True, True, False])  # True 4 times in 5


@st.composite
def structured_pdu(draw) -> tuple[str, bool]:
    """A PDU built field by field: plausible shape, random values, lengths sometimes lying."""
    with_smsc = draw(st.booleans())
    out = b""
    if with_smsc:
        smsc = draw(st.binary(max_size=8))
        out += bytes([len(smsc) if draw(_mostly) else draw(st.integers(0, 255))]) + smsc
    mti = draw(st.integers(0, 2)) if draw(_mostly) else 3
    udhi = draw(st.booleans())
    first = mti | (0x40 if udhi else 0) | (draw(st.integers(0, 0xBF)) & 0x3C)
    out += bytes([first])
    if mti in (1, 2):
        out += _one(draw(st.integers(0, 255)))  # TP-MR
    digits = draw(st.integers(0, 22))
    out += bytes([digits, draw(st.sampled_from([0x91, 0x81, 0xA1, 0xD0, draw(st.integers(0, 255))]))])
    out += draw(_octets((digits + 1) // 2))
    if mti == 2:
        out += draw(_timestamp) + draw(_timestamp) + _one(draw(st.integers(0, 255)))
        out += draw(st.binary(max_size=6))
        return out.hex(), with_smsc
    out += _one(draw(st.integers(0, 255)))  # PID
    out += _one(draw(st.sampled_from([0x00, 0x04, 0x08, 0x24, 0xF4, 0xE0, 0xC0, draw(st.integers(0, 255))])))
    if mti == 0:
        out += draw(_timestamp)
    elif first & 0x18 == 0x10:
        out += _one(draw(st.integers(0, 255)))
    elif first & 0x18:
        out += draw(_timestamp)
    udh = draw(_udh) if udhi else b""
    body = (bytes([len(udh)]) + udh if udhi else b"") + draw(st.binary(max_size=150))
    out += _one(draw(st.sampled_from([len(body), len(body) * 8 // 7, draw(st.integers(0, 255))]))) + body
    return out.hex(), with_smsc


def _one(value: int) -> bytes:
    return bytes([value])


@settings(max_examples=EXAMPLES["structured"], derandomize=True, deadline=None, database=None)
@given(structured_pdu(), st.integers(0, 2**32 - 1))
def fuzz_structured_pdus(built: tuple[str, bool], seed: int) -> None:
    hex_pdu, with_smsc = built
    check_decodes_or_raises_pdu_error(hex_pdu, with_smsc)
    for variant in variants(hex_pdu, [], seed)[1:]:
        check_decodes_or_raises_pdu_error(variant, with_smsc)


@pytest.mark.slow
def test_fuzz_decode_never_crashes() -> None:
    before = sum(decoded_count.values())
    fuzz_random_octets()
    fuzz_mutated_valid_pdus()
    fuzz_structured_pdus()
    decoded = sum(decoded_count.values()) - before
    # Hypothesis may stop early only if the strategies ran out of examples; they cannot.
    assert decoded >= FUZZ_TOTAL >= 100_000
    # Both outcomes happen: the fuzzing reaches past the first length check.
    assert decoded_count["ok"] > 1000 and decoded_count["error"] > 1000


def test_every_corpus_pdu_decodes() -> None:
    for hex_pdu, with_smsc in CORPUS:
        tpdu.decode(hex_pdu, with_smsc=with_smsc)


# --------------------------------------------------------------------------
# Round trips of the encoders


@settings(max_examples=1500, derandomize=True, deadline=None, database=None)
@given(
    text=st.text(max_size=700),
    ref16=st.booleans(),
    reference=st.integers(0, 255),
    status_report=st.booleans(),
)
def test_submit_round_trip(text: str, ref16: bool, reference: int, status_report: bool) -> None:
    parts = tpdu.encode_submit(
        "+6281234567", text, concat_reference=reference, ref16=ref16, status_report=status_report
    )
    counted = segmentation.count(text, ref16=ref16)
    encoding, segments = segmentation.split(text, ref16=ref16)
    assert len(parts) == counted.parts == len(segments)
    assert "".join(segments) == text
    decoded = [tpdu.decode(p.hex) for p in parts]
    assert "".join(d.text for d in decoded) == text
    assert all(d.encoding == encoding == counted.encoding for d in decoded)
    assert all(d.status_report_requested == status_report for d in decoded)
    for part in parts:
        # 140 octets of user data at most, whatever the text.
        assert part.tpdu_length - 2 - 7 - 3 - 1 <= 140
    if len(parts) > 1:
        assert [d.concat for d in decoded] == [(reference, len(parts), i + 1) for i in range(len(parts))]


@settings(max_examples=1500, derandomize=True, deadline=None, database=None)
@given(text=st.text(max_size=400), ref16=st.booleans())
def test_count_is_consistent_with_split(text: str, ref16: bool) -> None:
    counted = segmentation.count(text, ref16=ref16)
    _, segments = segmentation.split(text, ref16=ref16)
    units = [sum(segmentation._char_units(c, counted.encoding) for c in s) for s in segments]
    assert counted.units == sum(units)
    assert counted.chars == len(text)
    assert all(u <= counted.per_part for u in units)
    assert counted.remaining == counted.per_part - units[-1]
    if counted.parts > 1:
        # Greedy: no part could also have taken the next part's first unbreakable piece.
        first_units = [segmentation._atoms(s, counted.encoding)[0][1] for s in segments[1:]]
        assert all(u + f > counted.per_part for u, f in zip(units, first_units, strict=False))


@settings(max_examples=1000, derandomize=True, deadline=None, database=None)
@given(
    text=st.text(max_size=500),
    when=st.datetimes(datetime(1990, 1, 1), datetime(2089, 12, 31)),
    quarters=st.integers(-79, 79),
    sender=st.one_of(
        st.from_regex(r"\+?[0-9]{1,20}", fullmatch=True),
        st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -", min_size=1, max_size=11).filter(
            lambda s: not s.isdigit()
        ),
    ),
)
def test_deliver_round_trip(text: str, when: datetime, quarters: int, sender: str) -> None:
    stamp = when.replace(microsecond=0, tzinfo=timezone(timedelta(minutes=15 * quarters)))
    hexes = tpdu.encode_deliver(sender, text, smsc_time=stamp, concat_reference=1)
    decoded = [tpdu.decode(h) for h in hexes]
    assert "".join(d.text for d in decoded) == text
    assert all(d.sender == sender for d in decoded)
    assert all(d.smsc_time == stamp and d.smsc_time.utcoffset() == stamp.utcoffset() for d in decoded)
