"""How fast the PDU codec and the reassembler are, against python-gammu where it can compare.

Usage:  .venv/bin/python bench/bench_pdu.py [--repeat N]

Prints operations per second for: count() of a reply-box text, encode_submit
of 1- and 4-part texts, decode of single and concatenated DELIVER PDUs, and
reassembling 4-part messages; with python-gammu installed, its DecodePDU on
the same PDUs. A measurement, not a test: nothing here asserts speed.
"""

from __future__ import annotations

import argparse
import binascii
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from modemd.sms import segmentation, tpdu
from modemd.sms.reassembly import Reassembler

WIB = timezone(timedelta(hours=7))
WHEN = datetime(2025, 8, 17, 10, 0, 0, tzinfo=WIB)
SHORT = "DISHUB lampu lalu lintas simpang Jl. Sudirman mati {Kec. Kota} €"
LONG_GSM = "Laporan warga: jalan desa rusak parah sejak banjir, mohon ditindaklanjuti. " * 8  # 4 parts
LONG_UCS2 = "Puskesmas tutup 😡 padahal jadwal buka 08.00, mohon dicek 🙏 " * 4  # 4 parts


def rate(label: str, repeat: int, action: Callable[[], object]) -> None:
    start = time.perf_counter()
    for _ in range(repeat):
        action()
    elapsed = time.perf_counter() - start
    print(f"{label:<48} {repeat / elapsed:>12,.0f} /s   ({elapsed * 1e6 / repeat:8.1f} µs each)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20_000)
    repeat = parser.parse_args().repeat

    single = tpdu.encode_deliver("+6281234567890", SHORT, smsc_time=WHEN)[0]
    gsm_parts = tpdu.encode_deliver("+6281234567890", LONG_GSM, smsc_time=WHEN, concat_reference=5)
    ucs2_parts = tpdu.encode_deliver("+6281234567890", LONG_UCS2, smsc_time=WHEN, concat_reference=6)
    print(f"python: {repeat:,} runs each; LONG_GSM {len(gsm_parts)} parts, LONG_UCS2 {len(ucs2_parts)} parts")

    rate("count(short gsm7)", repeat, lambda: segmentation.count(SHORT))
    rate("count(4-part ucs2)", repeat, lambda: segmentation.count(LONG_UCS2))
    rate("encode_submit(short gsm7)", repeat, lambda: tpdu.encode_submit("+6281234567890", SHORT))
    rate("encode_submit(4-part gsm7), per message", repeat // 4, lambda: tpdu.encode_submit("+6281234567890", LONG_GSM))
    rate(
        "encode_submit(4-part ucs2), per message", repeat // 4, lambda: tpdu.encode_submit("+6281234567890", LONG_UCS2)
    )
    rate("decode(single deliver)", repeat, lambda: tpdu.decode(single))
    rate("decode(one part of 4-part gsm7)", repeat, lambda: tpdu.decode(gsm_parts[1]))
    rate("decode(one part of 4-part ucs2)", repeat, lambda: tpdu.decode(ucs2_parts[1]))

    decoded = [tpdu.decode(h) for h in gsm_parts]
    counter = iter(range(10**9))

    def reassemble() -> None:
        reassembler = Reassembler()
        base = next(counter) * 4
        for offset, part in enumerate(reversed(decoded)):
            reassembler.add(part, base + offset, now=0.0)

    rate("Reassembler: 4 parts in reverse, per message", repeat // 4, reassemble)

    try:
        import gammu
    except ImportError:
        print("python-gammu not installed: no comparison")
        return
    single_bytes = binascii.unhexlify(single)
    part_bytes = binascii.unhexlify(gsm_parts[1])
    rate("gammu.DecodePDU(single deliver)", repeat, lambda: gammu.DecodePDU(single_bytes, True))
    rate("gammu.DecodePDU(one part of 4-part gsm7)", repeat, lambda: gammu.DecodePDU(part_bytes, True))


if __name__ == "__main__":
    main()
