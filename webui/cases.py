"""The case page: the conversation, the original text, the reply box and the case's actions.

Every action checks that the user may see the case (404 otherwise) and lands
in the audit log with who and when.
"""

from __future__ import annotations

import json
import logging
from collections import namedtuple
from datetime import timedelta

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from peewee import JOIN, fn

from modemd.cases import assignment
from modemd.config import Config
from modemd.receive.routing import KEYWORD_CORRECTED
from modemd.states import CaseStatus, OutboundState, check
from modemd.store.models import (
    CATEGORIES,
    AuditLog,
    Case,
    CaseNote,
    InboundMessage,
    OutboundMessage,
    User,
    audit,
    utcnow,
)

from . import flow as flow_page
from . import labels, modemd_config
from .access import case_or_404
from .auth import roles_required
from .filters import plain_failure
from .keywordtable import keyword_names, keyword_owners
from .params import form_id
from .replies import MAX_REPLY_PARTS, ReplyError, send_reply, sender_suffix

log = logging.getLogger("modemd.web")
bp = Blueprint("cases", __name__, url_prefix="/cases")
MAX_NOTE = 4000
FINAL_STATES = (OutboundState.DELIVERED, OutboundState.FAILED, OutboundState.CANCELLED)

REPLY_ERRORS = {
    "empty": _l("Balasan kosong: tulis pesan dulu."),
    "too_long": _l("Balasan terlalu panjang: paling banyak %(parts)d SMS.", parts=MAX_REPLY_PARTS),
    "unanswerable": _l("Pengirim ini bukan nomor telepon (kode pendek atau nama), jadi tidak dapat dibalas."),
}


def _config() -> Config:
    return modemd_config()


# the conversation is only displayed: named tuples, no model instances (a case may hold many messages)
InboundRow = namedtuple("InboundRow", "id sender text received_at incomplete parts_received parts_total")
ReplyRow = namedtuple("ReplyRow", "id text state failure_reason failure_code created_at author")


def conversation(case: Case) -> list[dict]:
    """The citizen's messages and the replies (with their authors' names, in one query), oldest first."""
    inbound = (
        InboundMessage.select(
            InboundMessage.id,
            InboundMessage.sender,
            InboundMessage.text,
            InboundMessage.received_at,
            InboundMessage.incomplete,
            InboundMessage.parts_received,
            InboundMessage.parts_total,
        )
        .where(InboundMessage.case == case)
        .order_by(InboundMessage.id)
        .tuples()
    )
    replies = (
        OutboundMessage.select(
            OutboundMessage.id,
            OutboundMessage.text,
            OutboundMessage.state,
            OutboundMessage.failure_reason,
            OutboundMessage.failure_code,
            OutboundMessage.created_at,
            fn.COALESCE(fn.NULLIF(User.name, ""), User.login),
        )
        .join(User, join_type=JOIN.LEFT_OUTER, on=(OutboundMessage.created_by == User.id))
        .where(OutboundMessage.case == case)
        .order_by(OutboundMessage.id)
        .tuples()
    )
    items = [{"kind": "in", "at": m.received_at, "message": m} for m in map(InboundRow._make, inbound)]
    items += [{"kind": "out", "at": r.created_at, "message": r} for r in map(ReplyRow._make, replies)]
    items.sort(key=lambda item: (item["at"], 0 if item["kind"] == "in" else 1))
    return items


def keyword_corrections(case: Case) -> dict[int, dict]:
    """Message id -> {"typed", "keyword"} for the case's messages whose mistyped keyword the router corrected."""
    entries = (
        AuditLog.select(AuditLog.detail)
        .where(
            (AuditLog.object_type == "case")
            & (AuditLog.object_id == str(case.id))
            & (AuditLog.action == KEYWORD_CORRECTED)
        )
        .tuples()
    )
    corrections = {}
    for (detail,) in entries:
        note = json.loads(detail)
        corrections[note["message"]] = note
    return corrections


def _render(case: Case, reply_text: str = "", status: int = 200):
    # only the columns shown: peewee builds the SQL column by column on every request
    notes = (
        CaseNote.select(
            CaseNote.id, CaseNote.author, CaseNote.text, CaseNote.created_at, User.id, User.login, User.name
        )
        .join(User, join_type=JOIN.LEFT_OUTER, on=(CaseNote.author == User.id))
        .where(CaseNote.case == case)
        .order_by(CaseNote.id)
    )
    # who did it by name (the audit log keeps logins): joined in the same query
    history = (
        AuditLog.select(AuditLog.id, AuditLog.at, AuditLog.actor, AuditLog.action, User.name)
        .join(User, join_type=JOIN.LEFT_OUTER, on=(AuditLog.actor == User.login))
        .where((AuditLog.object_type == "case") & (AuditLog.object_id == str(case.id)))
        .order_by(AuditLog.id.desc())
        .limit(50)
        .objects()
    )
    assignable = User.select().where(User.active == True).order_by(User.login)  # noqa: E712
    # most often the owner is the reader, whose row is loaded already (case.owner would query it again)
    owner = current_user.row if case.owner_id == current_user.id else case.owner if case.owner_id else None
    return render_template(
        "cases/show.html",
        case=case,
        flow=flow_page.panel(case) if case.flow == "verified" else None,
        items=conversation(case),
        corrections=keyword_corrections(case),
        notes=notes,
        history=history,
        owner=owner,
        suffix=sender_suffix(current_user.row, _config()),
        reply_text=reply_text,
        max_parts=MAX_REPLY_PARTS,
        categories=CATEGORIES,
        keywords=keyword_names(),
        assignable=assignable,
    ), status


@bp.get("/<int:case_id>")
@login_required
def show(case_id: int):
    """One case: conversation, original text, reply box, notes and actions."""
    return _render(case_or_404(current_user, case_id))


@bp.post("/<int:case_id>/reply")
@login_required
def reply(case_id: int):
    """Queue a reply to the citizen (the user's sender ID is appended)."""
    case = case_or_404(current_user, case_id)
    text = request.form.get("text", "")
    if case.flow == "verified":  # the answer goes through the operator and the central admin's approval
        flash(
            _("Kasus ini mengikuti alur verifikasi: jawaban ditulis operator instansi dan disetujui admin pusat."),
            "error",
        )
        return _render(case, reply_text=text, status=400)
    try:
        send_reply(case, current_user.row, text, _config())
    except ReplyError as exc:
        flash(str(REPLY_ERRORS[str(exc)]), "error")
        return _render(case, reply_text=text, status=400)
    flash(_("Balasan masuk antrean kirim."), "info")
    return redirect(url_for("cases.show", case_id=case.id) + "#replies")


@bp.get("/<int:case_id>/replies.json")
@login_required
def replies_json(case_id: int):
    """The state of each reply of a case, polled by the case page."""
    case = case_or_404(current_user, case_id)
    rows = OutboundMessage.select().where(OutboundMessage.case == case).order_by(OutboundMessage.id)
    response = jsonify(
        replies=[
            {
                "id": r.id,
                "state": r.state,
                "label": labels.label(labels.OUTBOUND_STATE, r.state),
                "reason": plain_failure(r),
                "attempts": r.attempts,
                "final": r.state in FINAL_STATES,
                "sent_at": r.sent_at.isoformat() if r.sent_at else None,
                "delivered_at": r.delivered_at.isoformat() if r.delivered_at else None,
            }
            for r in rows
        ]
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/<int:case_id>/category")
@login_required
def set_category(case_id: int):
    """Set the case's category (information, complaint, question, suggestion, invitation)."""
    case = case_or_404(current_user, case_id)
    category = request.form.get("category", "")
    if category and category not in CATEGORIES:
        flash(_("Kategori tidak dikenal."), "error")
        return redirect(url_for("cases.show", case_id=case.id))
    old = case.category
    case.category = category or None
    case.save(only=[Case.category])
    audit(current_user.login, "case.category", case, old=old, new=case.category)
    flash(_("Kategori disimpan."), "info")
    return redirect(url_for("cases.show", case_id=case.id))


@bp.post("/<int:case_id>/note")
@login_required
def add_note(case_id: int):
    """Add an internal note (never sent to the citizen)."""
    case = case_or_404(current_user, case_id)
    text = request.form.get("text", "").strip()
    if not text:
        flash(_("Catatan kosong tidak disimpan."), "error")
    elif len(text) > MAX_NOTE:
        flash(_("Catatan terlalu panjang (paling banyak %(n)d karakter).", n=MAX_NOTE), "error")
    else:
        note = CaseNote.create(case=case, author=current_user.row, text=text)
        audit(current_user.login, "case.note", case, note=note.id)
        flash(_("Catatan disimpan."), "info")
    return redirect(url_for("cases.show", case_id=case.id) + "#notes")


@bp.post("/<int:case_id>/assign")
@roles_required("admin", "approver")
def assign(case_id: int):
    """Re-assign a misrouted case to another keyword and/or official; the new owner gets an SMS at once."""
    case = case_or_404(current_user, case_id)
    if case.flow == "verified":  # moved between agencies in the flow panel, so each agency's time is counted
        flash(_("Kasus ini mengikuti alur verifikasi: alihkan lewat panel alur."), "error")
        return redirect(url_for("cases.show", case_id=case.id))
    keyword = request.form.get("keyword", "").strip().upper()
    owner_id = form_id("owner")
    owners = keyword_owners()
    if keyword and keyword not in owners:
        flash(_("Kata kunci tidak dikenal."), "error")
        return redirect(url_for("cases.show", case_id=case.id))
    owner = None
    if owner_id is not None:
        owner = User.get_or_none((User.id == owner_id) & (User.active == True))  # noqa: E712
        if owner is None:
            flash(_("Pengguna tidak dikenal atau tidak aktif."), "error")
            return redirect(url_for("cases.show", case_id=case.id))
    elif keyword:
        owner = User.get_or_none(User.login == owners[keyword])
    assignment.reassign(case, keyword or None, owner, current_user.login, _config())
    flash(_("Kasus dialihkan."), "info")
    return redirect(url_for("cases.show", case_id=case.id))


@bp.post("/<int:case_id>/close")
@login_required
def close(case_id: int):
    """Close (archive) the case."""
    case = case_or_404(current_user, case_id)
    if case.flow == "verified":  # closed by the flow itself: rejected, or archived once the answer was sent
        flash(
            _("Kasus ini mengikuti alur verifikasi: ditutup dengan menolaknya atau setelah jawabannya terkirim."),
            "error",
        )
        return redirect(url_for("cases.show", case_id=case.id))
    if case.status != CaseStatus.CLOSED:
        old = case.status
        case.status, case.closed_at = check(old, CaseStatus.CLOSED), utcnow()
        case.save(only=[Case.status, Case.closed_at])
        audit(current_user.login, "case.close", case, old=old)
        flash(_("Kasus ditutup."), "info")
    return redirect(url_for("cases.show", case_id=case.id))


@bp.post("/<int:case_id>/reopen")
@login_required
def reopen(case_id: int):
    """Reopen a closed or answered case: it needs an answer again, within a fresh deadline."""
    case = case_or_404(current_user, case_id)
    if case.flow == "verified":  # its steps are over; the citizen's next SMS opens a new case
        flash(_("Kasus alur verifikasi tidak dibuka kembali: SMS warga berikutnya membuka kasus baru."), "error")
        return redirect(url_for("cases.show", case_id=case.id))
    if case.status != CaseStatus.OPEN:
        old = case.status
        case.status, case.closed_at = check(old, CaseStatus.OPEN), None
        case.deadline_at = utcnow() + timedelta(seconds=_config().sms.deadline)
        case.save(only=[Case.status, Case.closed_at, Case.deadline_at])
        audit(current_user.login, "case.reopen", case, old=old)
        flash(_("Kasus dibuka kembali."), "info")
    return redirect(url_for("cases.show", case_id=case.id))
