"""Tests of modemd.sms.segmentation: encoding, units and parts of a text, and where it is cut.

webui/static/smscount.js must agree with all of this (tests/test_smscount_js.py).
"""

from __future__ import annotations

import pytest

from modemd.sms import segmentation


@pytest.mark.parametrize(
    "text, encoding, units",
    [
        ("", "gsm7", 0),
        ("Halo", "gsm7", 4),
        ("€", "gsm7", 2),
        ("[x]{y}", "gsm7", 10),
        ("a\fb", "gsm7", 4),
        ("Rp 10.000,- ~ 1|2 \\ ^", "gsm7", 25),
        ("é è ù", "gsm7", 5),
        ("ç", "ucs2", 1),  # only capital Ç is in the default alphabet
        ("😀", "ucs2", 2),
        ("a😀b", "ucs2", 4),
        ("Selamat pagi 🙏🏽", "ucs2", 17),
    ],
)
def test_count_units(text: str, encoding: str, units: int) -> None:
    result = segmentation.count(text)
    assert (result.encoding, result.units, result.chars) == (encoding, units, len(text))


@pytest.mark.parametrize(
    "text, parts, per_part, remaining",
    [
        ("", 1, 160, 160),
        ("a" * 160, 1, 160, 0),
        ("a" * 161, 2, 153, 153 * 2 - 161),
        ("€" * 80, 1, 160, 0),
        ("€" * 81, 2, 153, 153 - (162 - 152)),  # 76 euros (152 septets) fit in part one
        ("a" * 153 * 3, 3, 153, 0),
        ("ç" * 70, 1, 70, 0),
        ("ç" * 71, 2, 67, 67 * 2 - 71),
        ("😀" * 35, 1, 70, 0),
        ("😀" * 36, 2, 67, 67 - 6),  # 33 emoji (66 units) in part one, 3 in part two
    ],
)
def test_count_parts(text: str, parts: int, per_part: int, remaining: int) -> None:
    result = segmentation.count(text)
    assert (result.parts, result.per_part, result.remaining) == (parts, per_part, remaining)
    assert result.parts == len(segmentation.split(text)[1])


def test_split_keeps_escape_pairs_whole() -> None:
    text = "a" * 152 + "€" + "b" * 10
    encoding, segments = segmentation.split(text)
    assert encoding == "gsm7"
    assert segments == ["a" * 152, "€" + "b" * 10]


def test_split_keeps_surrogate_pairs_whole() -> None:
    text = "ç" * 66 + "😀" + "x" * 5
    encoding, segments = segmentation.split(text)
    assert encoding == "ucs2"
    assert segments == ["ç" * 66, "😀xxxxx"]
    assert "".join(segments) == text


def test_split_with_16_bit_reference_has_smaller_parts() -> None:
    assert segmentation.count("a" * 161, ref16=True).per_part == 152
    assert segmentation.count("ç" * 71, ref16=True).per_part == 66


def test_split_keeps_flags_and_accents_whole() -> None:
    assert segmentation.split("ç" * 65 + "🇮🇩" + "x" * 5)[1] == ["ç" * 65, "🇮🇩xxxxx"]
    assert segmentation.split("ç" * 66 + "e\u0301" + "x" * 5)[1] == ["ç" * 66, "e\u0301xxxxx"]
    # A runaway string of combining marks is cut rather than never fitting.
    text = "a" + "\u0301" * 200
    segments = segmentation.split(text)[1]
    assert "".join(segments) == text and all(len(s) <= 67 for s in segments)
