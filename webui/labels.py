"""Words shown for the database's state words, translated lazily."""

from __future__ import annotations

from flask_babel.speaklater import LazyString

from modemd.states import CaseStatus, FlowStage
from modemd.states import OutboundState as O

from .i18n import gettext


def _l(string: str) -> LazyString:
    # lazy_gettext through the request's cached catalogue: an inbox page shows a label per row
    return LazyString(gettext, string)


CASE_STATUS = {
    CaseStatus.OPEN: _l("belum dijawab"),
    CaseStatus.ANSWERED: _l("dijawab"),
    CaseStatus.CLOSED: _l("ditutup"),
}
# the verified flow's stages (modemd.cases.flow), as the central admin and the operators say them
FLOW_STAGE = {
    FlowStage.VERIFY: _l("perlu verifikasi"),
    FlowStage.REJECTED: _l("ditolak"),
    FlowStage.ASSIGNED: _l("di operator instansi"),
    FlowStage.REVIEW: _l("menunggu persetujuan"),
    FlowStage.APPROVED: _l("disetujui, sedang dikirim"),
    FlowStage.ARCHIVED: _l("diarsipkan"),
}
REJECT_KIND = {"spam": _l("spam"), "duplicate": _l("duplikat")}
CATEGORY = {
    "information": _l("informasi"),
    "complaint": _l("pengaduan"),
    "question": _l("pertanyaan"),
    "suggestion": _l("saran"),
    "invitation": _l("undangan"),
}
OUTBOUND_STATE = {
    O.PENDING: _l("menunggu"),
    O.SENDING: _l("sedang dikirim"),
    O.SENT: _l("terkirim"),
    O.DELIVERED: _l("sampai"),
    O.FAILED: _l("gagal"),
    O.CANCELLED: _l("dibatalkan"),
}
OUTBOUND_KIND = {
    "reply": _l("balasan"),
    "autoreply": _l("balasan otomatis"),
    "notification": _l("notifikasi"),
    "broadcast": _l("siaran"),
    "manual": _l("manual"),
}
ROLE = {
    "admin": _l("administrator"),
    "approver": _l("ketua (penyetuju)"),
    "official": _l("pejabat"),
    "operator": _l("operator SKPD"),
}
MODEM_STATE = {
    "starting": _l("memulai"),
    "ready": _l("siap"),
    "resting": _l("istirahat"),
    "absent": _l("tidak terhubung"),
    "error": _l("bermasalah"),
}
# the modem's registration on the network (words the drivers write); "home" is the normal case, said as nothing
REGISTRATION = {
    "home": _l("terhubung"),
    "roaming": _l("roaming"),
    "searching": _l("mencari jaringan"),
    "denied": _l("ditolak jaringan"),
    "not registered": _l("tanpa jaringan"),
    "unknown": _l("jaringan tidak diketahui"),
}
# a case's history: what was done, said of the person who did it
CASE_ACTION = {
    "case.open": _l("membuka kasus"),
    "case.reply": _l("membalas warga"),
    "case.close": _l("menutup kasus"),
    "case.reopen": _l("membuka kembali kasus"),
    "case.assign": _l("mengalihkan kasus"),
    "case.category": _l("mengubah kategori"),
    "case.note": _l("menambah catatan internal"),
    "case.publish": _l("memublikasikan di halaman publik"),
    "case.unpublish": _l("menghentikan publikasi"),
    "case.flow.assigned": _l("meneruskan kasus ke operator instansi"),
    "case.flow.rejected": _l("menolak kasus"),
    "case.flow.review": _l("mengirim jawaban untuk disetujui"),
    "case.flow.approved": _l("menyetujui jawaban"),
    "case.flow.archived": _l("mengarsipkan kasus setelah jawaban terkirim"),
}
SYSTEM_ACTOR = "daemon"  # what the daemon writes as the actor of its audit entries


def label(table: dict, word: str | None) -> str:
    if word is None:
        return "-"
    return str(table.get(word, word))


def history_text(actor: str, name: str | None, action: str) -> str:
    """One line of a case's history in words: "Dibuka otomatis oleh sistem", "Budi Santoso membalas warga"."""
    if actor == SYSTEM_ACTOR:
        if action == "case.open":
            return gettext("Dibuka otomatis oleh sistem")
        return gettext("Sistem: %(what)s", what=label(CASE_ACTION, action))
    return gettext("%(who)s %(what)s", who=name or actor, what=label(CASE_ACTION, action))
