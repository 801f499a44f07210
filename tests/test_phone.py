"""Indonesian numbers: one canonical form, clear refusals, sender kinds, operators."""

import pytest

from modemd.sms import phone


@pytest.mark.parametrize(
    "raw", ["081234567890", "6281234567890", "+6281234567890", "0812-3456-7890", " +62 812 3456 7890 "]
)
def test_one_number_many_spellings(raw):
    assert phone.normalize(raw) == "+6281234567890"


@pytest.mark.parametrize(
    "raw, why",
    [
        ("", "empty"),
        ("12345", "not a valid"),
        ("TELKOMSEL", "letters"),
        ("0812abc", "letters"),
        ("+999123", "not a"),
        ("<script>", "not a"),
    ],
)
def test_invalid_numbers_are_refused_with_a_reason(raw, why):
    with pytest.raises(phone.InvalidNumber, match=why):
        phone.normalize(raw)


@pytest.mark.parametrize(
    "raw, kind",
    [
        ("081234567890", "number"),
        ("+6281234567890", "number"),
        ("3636", "shortcode"),
        ("+123456", "shortcode"),
        ("TELKOMSEL", "alphanumeric"),
        ("Indosat Ooredoo", "alphanumeric"),
        ("", "alphanumeric"),
    ],
)
def test_sender_kind(raw, kind):
    assert phone.sender_kind(raw) == kind


@pytest.mark.parametrize(
    "number, operator",
    [
        ("+6281234567890", "telkomsel"),
        ("+6285212345678", "telkomsel"),
        ("+6281512345678", "indosat"),
        ("+6285712345678", "indosat"),
        ("+6287812345678", "xl"),
        ("+6285912345678", "xl"),
        ("+6289612345678", "tri"),
        ("+6288112345678", "smartfren"),
        ("+6283112345678", "axis"),
        ("+62274123456", None),
        ("+14155550100", None),
    ],
)
def test_operator_by_prefix(number, operator):
    assert phone.operator_of(number) == operator


def test_mask_and_local_format():
    assert phone.mask("+6281234567890") == "+62812****7890"
    assert "5678" not in phone.mask("+6281234567890")
    assert phone.local_format("+6281234567890") == "0812-3456-7890"
