"""Tests of modemd.sms.gsm7: the GSM 03.38 tables, lenient septet decoding, headerless packing (USSD)."""

from __future__ import annotations

import pytest

from modemd.sms import gsm7, tpdu


def test_alphabet_tables_have_their_published_sizes() -> None:
    assert len(gsm7.DEFAULT_ALPHABET) == 128  # 0x00-0x7F, 0x1B being the escape
    assert len(gsm7.EXTENSION_TABLE) == 10
    assert len(set(gsm7.DEFAULT_ALPHABET)) == 128  # no character twice


def test_every_gsm7_character_round_trips() -> None:
    text = "".join(c for c in gsm7.CHAR_TO_SEPTETS)
    assert len(text) == 127 + 10
    for part in tpdu.encode_submit("+6281234", text):
        decoded = tpdu.decode(part.hex)
        assert decoded.encoding == "gsm7"
    joined = "".join(tpdu.decode(p.hex).text for p in tpdu.encode_submit("+6281234", text))
    assert joined == text


def test_escape_before_unknown_code_shows_basic_character() -> None:
    # ESC 'A' is not in the extension table: show 'A'; a trailing ESC shows a space.
    assert gsm7.septets_to_text(bytes([0x1B, 0x41, 0x1B])) == "A "


@pytest.mark.parametrize("text", ["*888#", "*123*1#", "Sisa pulsa Rp 25.000 {€}", "1234567", "abcdefgh"])
def test_headerless_gsm7_round_trip_for_ussd(text):
    assert gsm7.unpack_gsm7(gsm7.pack_gsm7(text)) == text


def test_headerless_gsm7_known_ussd_request():
    # "*888#" packed as Huawei sticks want it (TS 23.038, LSB first): 2A 1C 0E 37 02, worked out by hand
    assert gsm7.pack_gsm7("*888#").hex().upper() == "2A1C0E3702"
    assert gsm7.unpack_gsm7(bytes.fromhex("2A1C0E3702")) == "*888#"
