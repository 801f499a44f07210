"""Reading the operator's balance reply, and when it is worth a warning."""

from __future__ import annotations

from datetime import date

import pytest

from modemd.jobs.balance import Balance, BalanceProblem, decode_problems, encode_problems, parse, rupiah, warnings

# Replies as the operators word them (balance codes *888#, *123#, *555#, *111#, *999#), promotions included.
REPLIES = [
    # Telkomsel
    ("Sisa Pulsa Rp12.345. Masa Aktif s.d. 31-12-2026. Info promo hemat ketik *363#", 12345, date(2026, 12, 31)),
    ("Pulsa:Rp 15.250 s.d 23-04-2027. Nikmati Kuota Ketengan, cek *363#", 15250, date(2027, 4, 23)),
    (
        "Sisa pulsa Anda Rp. 10.550,- Aktif s/d 12 Jan 2027. Beli paket 10GB Rp25rb ketik *363*46#",
        10550,
        date(2027, 1, 12),
    ),
    ("Promo! Internet 5GB Rp20rb. Pulsa Rp 5.000, aktif s.d. 31-12-2026", 5000, date(2026, 12, 31)),
    # Indosat (IM3)
    ("Pulsa Rp4.725 Aktif s/d 12/10/2026. Masa tenggang s/d 11/11/2026. Cek kuota *888#", 4725, date(2026, 10, 12)),
    ("Sisa Pulsa Anda Rp 1.000. Masa Aktif 31/12/26. Info: myIM3", 1000, date(2026, 12, 31)),
    # XL
    ("Pulsa Anda Rp10.000, aktif s.d 15-Mar-2027. Tenggang s.d 14-Apr-2027", 10000, date(2027, 3, 15)),
    ("Pulsa Rp 7.500 s/d 15-03-2027. Mau paket murah? Ketik *123*1#", 7500, date(2027, 3, 15)),
    # Tri (3)
    ("Pulsa Rp 2.000 Aktif s/d 01/12/2026 Masa tenggang s/d 31/12/2026", 2000, date(2026, 12, 1)),
    ("Pulsa utama: Rp 25.300,00. Berlaku hingga 2027-01-05", 25300, date(2027, 1, 5)),
    # Smartfren
    ("Sisa pulsa Anda Rp 3.500. Masa aktif kartu Anda s/d tanggal 20 Des 2026.", 3500, date(2026, 12, 20)),
    ("Pulsa: Rp5.000, aktif s.d. 31-12-2026", 5000, date(2026, 12, 31)),
    # large figures, thousands written with commas
    ("Your balance: IDR 1,234,567 valid until 05 Agustus 2027", 1234567, date(2027, 8, 5)),
]


@pytest.mark.parametrize("reply, amount, until", REPLIES)
def test_realistic_operator_replies(reply, amount, until):
    assert parse(reply) == Balance(amount, until)


@pytest.mark.parametrize(
    "reply, expected",
    [
        ("", Balance(None, None)),
        (None, Balance(None, None)),
        ("Maaf, layanan sedang sibuk. Silakan coba beberapa saat lagi.", Balance(None, None)),
        ("Cek pulsa ketik *888# lalu pilih 1", Balance(None, None)),  # a code is not an amount
        ("Pulsa Rp ١٢٣٤٥ aktif s.d. ٣١-١٢-٢٠٢٦", Balance(None, None)),  # only plain digits are read
        ("Pulsa Rp １２.３４５", Balance(None, None)),
        ("Pulsa Rp 5.000 aktif s.d. 31-02-2027", Balance(5000, None)),  # no 31 February
        ("Pulsa Rp 5.000 aktif s.d. 12 Abc 2027", Balance(5000, None)),
        ("<script>alert(1)</script> Pulsa Rp 9.999", Balance(9999, None)),
        ("Pulsa Rp 0. Masa aktif telah berakhir", Balance(0, None)),
    ],
)
def test_replies_that_say_less_give_none_never_a_guess(reply, expected):
    assert parse(reply) == expected


def test_warnings_low_mark_and_active_period():
    today = date(2026, 12, 2)
    assert warnings(Balance(12345, date(2027, 3, 1)), 10000, today) == frozenset()
    assert warnings(Balance(9999, date(2027, 3, 1)), 10000, today) == {BalanceProblem.LOW}
    assert warnings(Balance(9999, date(2027, 3, 1)), 0, today) == frozenset()  # no mark set
    assert warnings(Balance(None, date(2026, 12, 9)), 10000, today) == {BalanceProblem.EXPIRING}  # 7 days
    assert warnings(Balance(None, date(2026, 12, 10)), 10000, today) == frozenset()
    assert warnings(Balance(500, date(2026, 11, 30)), 10000, today) == {BalanceProblem.LOW, BalanceProblem.EXPIRING}


def test_problem_column_round_trip_and_rupiah():
    both = frozenset({BalanceProblem.LOW, BalanceProblem.EXPIRING})
    assert encode_problems(both) == "expiring,low" and decode_problems("expiring,low") == both
    assert encode_problems(frozenset()) is None and decode_problems(None) == frozenset()
    assert decode_problems("low,nonsense") == {BalanceProblem.LOW}
    assert rupiah(1234567) == "Rp 1.234.567" and rupiah(500) == "Rp 500"
