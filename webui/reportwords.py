"""The words of the report's tables (column headings, figure names, weekdays, answer-time classes).

Keys are those of :mod:`modemd.reports.tables`; a table added there (its
extension point) adds its words here.
"""

from __future__ import annotations

from modemd.states import FlowStage

from .labels import FLOW_STAGE, _l

WORDS = {
    # columns and figures
    "angka": _l("Angka"),
    "periode_ini": _l("Periode ini"),
    "periode_lalu": _l("Periode sebelumnya"),
    "perubahan": _l("Perubahan"),
    "sms_masuk": _l("SMS masuk"),
    "kasus": _l("Kasus"),
    "dijawab": _l("Dijawab"),
    "tepat_waktu": _l("Tepat waktu"),
    "terlambat": _l("Terlambat"),
    "masih_terbuka": _l("Masih terbuka"),
    "balasan_gagal": _l("Balasan gagal"),
    "persen_tepat_waktu": _l("Tepat waktu (%)"),
    "median_menit": _l("Median waktu jawab (menit)"),
    "p90_menit": _l("Persentil 90 waktu jawab (menit)"),
    "pengirim_berulang": _l("Pengirim berulang"),
    "kata_kunci": _l("Kata kunci"),
    "dinas": _l("Dinas"),
    "tanpa_dinas": _l("(tanpa dinas)"),
    "tanggal": _l("Tanggal"),
    "lama_menjawab": _l("Lama menjawab"),
    "persen": _l("Persen"),
    "hari": _l("Hari"),
    "jumlah": _l("Jumlah"),
    "nomor": _l("Nomor"),
    "kasus_no": _l("Kasus #"),
    "dibuka": _l("Dibuka"),
    "umur_hari": _l("Umur (hari)"),
    "tahap": _l("Tahap"),
    "median_langkah": _l("Median lama tahap (menit)"),
    # the verified flow's stages, as the flow pages say them
    **{f"tahap_{stage}": FLOW_STAGE[stage] for stage in FlowStage},
    # weekdays
    "senin": _l("Senin"),
    "selasa": _l("Selasa"),
    "rabu": _l("Rabu"),
    "kamis": _l("Kamis"),
    "jumat": _l("Jumat"),
    "sabtu": _l("Sabtu"),
    "minggu": _l("Minggu"),
    # answer-time classes
    "<15m": _l("< 15 menit"),
    "15-60m": _l("15-60 menit"),
    "1-3j": _l("1-3 jam"),
    "3-6j": _l("3-6 jam"),
    "6-24j": _l("6-24 jam"),
    "1-3h": _l("1-3 hari"),
    ">3h": _l("> 3 hari"),
}
TABLE_TITLES = {
    "ringkasan": _l("Ringkasan"),
    "per_kata_kunci": _l("Per kata kunci"),
    "per_dinas": _l("Per dinas"),
    "per_hari": _l("Kasus per hari"),
    "waktu_jawab": _l("Sebaran waktu jawab"),
    "jam_hari": _l("SMS masuk per jam dan hari"),
    "pengirim_berulang": _l("Pengirim berulang"),
    "kasus_terlama": _l("10 kasus terbuka paling lama"),
    "langkah_alur": _l("Lama tiap tahap alur pengaduan, per dinas"),
}


def words() -> dict[str, str]:
    """The words in the request's language."""
    return {key: str(text) for key, text in WORDS.items()}


def title(key: str) -> str:
    return str(TABLE_TITLES.get(key, key))
