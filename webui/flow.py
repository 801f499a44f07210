"""The verified complaint flow in the web UI (Muara Enim Pasal 7 c-h): the central admin's queues and the moves.

``/alur`` is the central admin's page (admins only): new cases waiting for
verification ("Perlu verifikasi"), answers waiting for approval, cases at the
agencies and replies on their way. The moves are posted from the case page
(templates/cases/_flow.html); each checks who may make it in
:mod:`modemd.cases.flow` and lands in the case's history.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from peewee import JOIN

from modemd.cases import flow
from modemd.cases.flow import FlowError
from modemd.cases.flow_durations import step_durations
from modemd.reports.period import Period
from modemd.sms.segmentation import count as sms_count
from modemd.states import FlowStage
from modemd.store.models import Case, CaseStep, InboundMessage, User, utcnow

from . import labels, modemd_config
from .access import case_or_404
from .auth import roles_required
from .filters import zone
from .keywordtable import agencies
from .params import BadParameter, form_id, parse_date
from .replies import MAX_REPLY_PARTS, ReplyError, full_text, send_reply

bp = Blueprint("flow", __name__)

FLOW_ERRORS = {
    "admin_only": _l("Hanya admin pusat yang dapat melakukan ini."),
    "operator_unknown": _l("Pilih operator instansi yang aktif."),
    "operator_other_agency": _l("Operator itu bukan operator instansi itu: pilih operator dari kelompok instansinya."),
    "agency_missing": _l("Pilih instansi."),
    "agency_too_long": _l("Nama instansi terlalu panjang."),
    "same_assignment": _l("Kasus sudah di instansi dan operator itu."),
    "reject_kind": _l("Pilih alasan penolakan: spam atau duplikat."),
    "reason_missing": _l("Tulis alasan penolakan."),
    "note_missing": _l("Tulis catatan untuk operator: apa yang perlu diperbaiki."),
    "answer_empty": _l("Jawaban kosong: tulis jawaban dulu."),
    "too_long": _l("Teks terlalu panjang."),
    "not_your_case": _l("Kasus ini tidak sedang di tangan Anda."),
    "own_answer": _l("Jawaban yang Anda tulis sendiri harus disetujui admin lain."),
    "not_verified_flow": _l("Kasus ini tidak mengikuti alur verifikasi."),
}


def error_text(exc: FlowError) -> str:
    code = str(exc)
    if code.startswith("stage_"):
        stage = code.removeprefix("stage_")
        return _("Kasus sudah berada di tahap lain: %(stage)s.", stage=labels.label(labels.FLOW_STAGE, stage))
    return str(FLOW_ERRORS.get(code, code))


def operators() -> list[tuple[str, list[User]]]:
    """Active operators by agency (agencies by name; "" last: operators who serve any agency)."""
    rows = User.select().where(User.role == "operator", User.active == True)  # noqa: E712
    by_agency: dict[str, list[User]] = {}
    for user in rows.order_by(User.agency, User.name, User.login):
        by_agency.setdefault(user.agency, []).append(user)
    return sorted(by_agency.items(), key=lambda item: (item[0] == "", item[0]))


def panel(case: Case) -> dict:
    """What the case page's flow panel shows (only for verified cases: direct ones run no query here)."""
    steps = list(
        CaseStep.select(CaseStep, User.id, User.login, User.name)
        .join(User, JOIN.LEFT_OUTER, on=(CaseStep.operator == User.id))
        .where(CaseStep.case == case.id)
        .order_by(CaseStep.id)
    )
    open_step = next((s for s in steps if s.left_at is None), None)
    admin = current_user.role == "admin"
    return {
        "steps": steps,
        "open_step": open_step,
        "agencies": agencies() if admin else [],
        "operators": operators() if admin else [],
        "may_answer": case.stage == FlowStage.ASSIGNED and case.owner_id == current_user.id,
        "is_admin": admin,
    }


QUEUES = (FlowStage.VERIFY, FlowStage.REVIEW, FlowStage.ASSIGNED, FlowStage.APPROVED)
FIRST_TEXT = (
    InboundMessage.select(InboundMessage.text)
    .where(InboundMessage.case == Case.id)
    .order_by(InboundMessage.id)
    .limit(1)
)


@bp.get("/alur")
@roles_required("admin")
def index() -> str:
    """The central admin's queues: to verify, to approve, at the agencies, being sent."""
    rows = (
        Case.select(
            Case.id,
            Case.keyword,
            Case.citizen,
            Case.stage,
            Case.agency,
            Case.stage_due_at,
            Case.deadline_at,
            User.login,
            User.name,
            FIRST_TEXT.alias("first_text"),
        )
        .join(User, JOIN.LEFT_OUTER, on=(Case.owner == User.id))
        .where(Case.stage.in_(QUEUES))
        .order_by(Case.stage_due_at, Case.id)
        .limit(500)
        .dicts()
    )
    queues: dict[str, list[dict]] = {stage: [] for stage in QUEUES}
    for row in rows:
        queues[row["stage"]].append(row)
    return render_template("flow/index.html", queues=queues, stages=QUEUES, now=utcnow())


def _back(case: Case):
    return redirect(url_for("cases.show", case_id=case.id) + "#flow")


def _run(case: Case, move, done: str):
    """Make the move; a refused one shows the case page again (400) with the reason in words."""
    # the case page imports this module for its panel: its helpers are imported here, not at the top
    from .cases import REPLY_ERRORS, _render

    try:
        move()
    except FlowError as exc:
        flash(error_text(exc), "error")
        return _render(Case.get_by_id(case.id), status=400)
    except ReplyError as exc:  # the approved answer cannot be sent (too long, no phone number)
        flash(str(REPLY_ERRORS[str(exc)]), "error")
        return _render(Case.get_by_id(case.id), status=400)
    flash(done, "info")
    return _back(case)


def _refuse(error: Exception):
    def move():
        raise error

    return move


def _chosen_operator() -> User | None:
    operator_id = form_id("operator")
    return User.get_or_none(User.id == operator_id) if operator_id is not None else None


def _verified_case(case_id: int) -> Case:
    case = case_or_404(current_user, case_id)
    if not flow.is_verified(case):
        abort(404)
    return case


@bp.post("/alur/<int:case_id>/verifikasi")
@roles_required("admin")
def verify(case_id: int):
    """Verify a new case and give it to an agency's operator."""
    case = _verified_case(case_id)
    agency, operator = request.form.get("agency", ""), _chosen_operator()
    return _run(
        case,
        lambda: flow.verify(case, current_user.row, agency, operator, modemd_config()),
        _("Kasus diverifikasi dan diteruskan ke operator instansi."),
    )


@bp.post("/alur/<int:case_id>/alihkan")
@roles_required("admin")
def reassign(case_id: int):
    """Give a case at an agency to another agency or operator."""
    case = _verified_case(case_id)
    agency, operator = request.form.get("agency", ""), _chosen_operator()
    return _run(
        case,
        lambda: flow.reassign(case, current_user.row, agency, operator, modemd_config()),
        _("Kasus dialihkan ke instansi lain."),
    )


@bp.post("/alur/<int:case_id>/tolak")
@roles_required("admin")
def reject(case_id: int):
    """Reject a new case as spam or a duplicate, with a reason."""
    case = _verified_case(case_id)
    kind, reason = request.form.get("kind", ""), request.form.get("reason", "")
    return _run(
        case,
        lambda: flow.reject(case, current_user.row, kind, reason, modemd_config()),
        _("Kasus ditolak."),
    )


@bp.post("/alur/<int:case_id>/jawab")
@login_required
def answer(case_id: int):
    """The operator's answer: it goes to the central admin for approval."""
    case = _verified_case(case_id)
    text = request.form.get("text", "")
    if sms_count(full_text(text, current_user.row, modemd_config())).parts > MAX_REPLY_PARTS:
        # refused now rather than at approval: it would be sent with the operator's sender ID, as any reply
        return _run(case, _refuse(ReplyError("too_long")), "")
    return _run(
        case,
        lambda: flow.submit_answer(case, current_user.row, text, modemd_config()),
        _("Jawaban dikirim ke admin pusat untuk disetujui."),
    )


@bp.post("/alur/<int:case_id>/setujui")
@roles_required("admin")
def approve(case_id: int):
    """Approve the operator's answer: it is sent to the citizen."""
    case = _verified_case(case_id)
    return _run(
        case,
        lambda: flow.approve(case, current_user.row, modemd_config(), send_reply),
        _("Jawaban disetujui dan masuk antrean kirim."),
    )


@bp.post("/alur/<int:case_id>/kembalikan")
@roles_required("admin")
def send_back(case_id: int):
    """Return the answer to the operator with a note."""
    case = _verified_case(case_id)
    note = request.form.get("note", "")
    return _run(
        case,
        lambda: flow.return_answer(case, current_user.row, note, modemd_config()),
        _("Jawaban dikembalikan ke operator."),
    )


# --------------------------------------------------------------------------
# Time per step per agency


def duration_text(seconds: float) -> str:
    """3725 -> "1 j 2 m"; under a minute in seconds."""
    total = int(round(seconds))
    if total < 60:
        return _("%(s)d d", s=total)
    hours, minutes = divmod(total // 60, 60)
    days, hours = divmod(hours, 24)
    parts = ([_("%(n)d hr", n=days)] if days else []) + ([_("%(n)d j", n=hours)] if hours else [])
    return " ".join(parts + ([_("%(n)d m", n=minutes)] if minutes or not parts else []))


@bp.get("/laporan/alur")
@roles_required("admin", "approver")
def durations() -> tuple[str, int]:
    """Median time and count of each step of the verified flow, per agency, for the steps ended from-to."""
    today = datetime.now(zone()).date()
    status = 200
    try:
        start = parse_date(request.args["dari"]) if request.args.get("dari") else today.replace(day=1)
        end = parse_date(request.args["sampai"]) if request.args.get("sampai") else today
    except BadParameter:
        flash(_("Tanggal tidak dikenal: tulis TTTT-BB-HH."), "error")
        start, end, status = today.replace(day=1), today, 400
    if end < start:
        flash(_("Tanggal akhir sebelum tanggal awal: periode dibalik."), "error")
        start, end, status = end, start, 400
    period = Period(start, end, zone())  # local days, as /laporan counts them
    rows = step_durations(period.start, period.end)
    by_agency: dict[str, list] = {}
    for row in rows:
        by_agency.setdefault(row.agency, []).append(row)
    return render_template(
        "flow/durations.html", by_agency=by_agency, start=start, end=end, duration_text=duration_text
    ), status
