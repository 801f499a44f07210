"""Broadcasts (siaran): draft with a live preview, approval by the Ketua, progress and per-recipient states.

Bekasi Pasal 6, 7 (6), 10. The rules live in :mod:`modemd.jobs.broadcasts`; these
views only collect input, call them and show the result. Admins and
approvers see every broadcast, officials their own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from peewee import fn

from modemd.config import Config
from modemd.jobs import broadcast_review, broadcasts
from modemd.jobs.broadcasts import BroadcastError
from modemd.sms import phone
from modemd.states import BroadcastState as B
from modemd.store.models import OUTBOUND_STATES, Broadcast, Contact, ContactGroup, GroupMember, Template, User

from . import modemd_config
from .auth import roles_required
from .filters import to_local, zone
from .params import arg_id, arg_int, form_ids

bp = Blueprint("broadcasts", __name__, url_prefix="/siaran")

ROLES = ("admin", "approver", "official")
PAGE_SIZE = 100
MAX_PAGE = 100_000  # ten million recipients; a bigger page number is made up
MAX_CONTACT_LINES = 500

CATEGORY_LABELS = {
    "information": _l("informasi"),
    "invitation": _l("undangan"),
    "announcement": _l("pengumuman"),
    "warning": _l("peringatan"),
}
STATE_LABELS = {
    B.DRAFT: _l("draf"),
    B.PENDING: _l("menunggu persetujuan"),
    B.APPROVED: _l("disetujui"),
    B.REJECTED: _l("ditolak"),
    B.SENDING: _l("sedang dikirim"),
    B.DONE: _l("selesai"),
    B.CANCELLED: _l("dibatalkan"),
}
# The rules' refusals, said in the user's language (the library's English message is the fallback).
REFUSALS = {
    "empty": _l("Teks pesan kosong."),
    "category": _l("Kategori tidak dikenal."),
    "unknown_target": _l("Grup atau kontak yang dipilih tidak ada."),
    "no_target": _l("Pilih sedikitnya satu grup atau kontak."),
    "not_allowed": _l("Anda tidak berhak melakukan ini pada siaran ini."),
    "locked": _l("Siaran yang sudah disetujui tidak dapat diubah; batalkan dan buat siaran baru."),
    "wrong_state": _l("Tindakan ini tidak dapat dilakukan pada status siaran sekarang."),
    "problems": _l("Siaran belum dapat diajukan: periksa pratinjau di bawah."),
    "changed": _l("Siaran berubah sementara itu; muat ulang halaman."),
    "not_approver": _l("Hanya Ketua (penyetuju) yang dapat menyetujui atau menolak siaran."),
    "own": _l("Siaran tidak dapat disetujui oleh pembuatnya sendiri; penyetuju lain harus menyetujuinya."),
    "already_approved": _l("Siaran ini sudah disetujui."),
    "changed_version": _l("Isi siaran berubah, periksa lagi."),
    "reason": _l("Penolakan harus disertai alasan."),
    "finished": _l("Siaran ini sudah selesai atau dibatalkan."),
    "template_name": _l("Nama template wajib diisi (paling banyak 64 karakter)."),
}


def refusal(exc: BroadcastError) -> str:
    return str(REFUSALS.get(exc.code, exc))


def _me() -> User:
    return current_user.row


def _get(broadcast_id: int) -> Broadcast:
    """The broadcast if this user may see it, else 404 (an official never learns others' ids exist)."""
    broadcast = broadcasts.visible_to(_me()).where(Broadcast.id == broadcast_id).first()
    if broadcast is None:
        abort(404)
    return broadcast


def _config() -> Config:
    return modemd_config()


def _signature() -> str:
    return _config().notify.signature


def _clean_text(raw: str) -> str:
    # browsers send CRLF; the SMS carries LF, and surrounding blanks cost parts for nothing
    return raw.replace("\r\n", "\n").strip()


def _send_at_from_form(raw: str) -> datetime | None:
    """``datetime-local`` in the centre's time zone -> naive UTC; ValueError for nonsense."""
    raw = raw.strip()
    if not raw:
        return None
    local = datetime.strptime(raw[:16], "%Y-%m-%dT%H:%M")
    return local.replace(tzinfo=zone()).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def _contacts_from_lines(text: str) -> tuple[list[int], list[str]]:
    """Contact ids for the phone numbers typed one per line, and the lines that match no contact."""
    ids, unknown = [], []
    for line in [ln.strip() for ln in text.replace(",", "\n").splitlines() if ln.strip()][:MAX_CONTACT_LINES]:
        number = phone.try_normalize(line)
        contact = Contact.get_or_none(Contact.phone == (number or line))
        if contact is None:
            unknown.append(line)
        else:
            ids.append(contact.id)
    return ids, unknown


def _groups_with_sizes() -> list[tuple[ContactGroup, int]]:
    sizes = dict(GroupMember.select(GroupMember.group, fn.COUNT(GroupMember.id)).group_by(GroupMember.group).tuples())
    return [(g, sizes.get(g.id, 0)) for g in ContactGroup.select().order_by(ContactGroup.name)]


def _form_defaults(broadcast: Broadcast | None) -> dict:
    if broadcast is None:
        template = Template.get_or_none(Template.id == (arg_id("template") or 0))
        return {
            "title": "",
            "text": template.text if template else "",
            "category": "information",
            "send_at": "",
            "groups": set(),
            "contacts": "",
        }
    groups, contacts = broadcasts.targets_of(broadcast)
    numbers = [p for (p,) in Contact.select(Contact.phone).where(Contact.id.in_(contacts)).tuples()] if contacts else []
    local = to_local(broadcast.send_at)
    return {
        "title": broadcast.title,
        "text": broadcast.text,
        "category": broadcast.category,
        "send_at": local.strftime("%Y-%m-%dT%H:%M") if local else "",
        "groups": set(groups),
        "contacts": "\n".join(numbers),
    }


def _render_form(broadcast: Broadcast | None, form: dict, status: int = 200):
    return render_template(
        "broadcasts/form.html",
        broadcast=broadcast,
        form=form,
        groups=_groups_with_sizes(),
        categories=broadcasts.CATEGORIES,
        category_labels=CATEGORY_LABELS,
        signature=_signature(),
        templates=Template.select().order_by(Template.name),
        max_parts=broadcasts.MAX_PARTS,
    ), status


# --------------------------------------------------------------------------
# List, create, edit


@bp.get("/")
@roles_required(*ROLES)
def index():
    """Broadcasts the user may see, newest first; approvers see what waits for them on top."""
    query = broadcasts.visible_to(_me())
    state = request.args.get("state", "")
    if state in STATE_LABELS:
        query = query.where(Broadcast.state == state)
    rows = list(query.limit(PAGE_SIZE))
    waiting = (
        [
            b
            for b in broadcasts.visible_to(_me()).where(Broadcast.state == B.PENDING)
            if broadcasts.may_approve(b, _me())
        ]
        if current_user.role in broadcasts.APPROVER_ROLES
        else []
    )
    progress = {b.id: broadcasts.progress(b.id) for b in rows if b.state in (B.SENDING, B.DONE, B.CANCELLED)}
    return render_template(
        "broadcasts/index.html",
        rows=rows,
        waiting=waiting,
        progress=progress,
        chosen=state,
        state_labels=STATE_LABELS,
        category_labels=CATEGORY_LABELS,
        may_draft=current_user.role in broadcasts.DRAFTER_ROLES,
    )


@bp.route("/baru", methods=["GET", "POST"])
@roles_required(*broadcasts.DRAFTER_ROLES)
def create():
    """Draft a broadcast (and optionally submit it for approval at once)."""
    if request.method == "GET":
        return _render_form(None, _form_defaults(None))
    return _save(None)


@bp.route("/<int:broadcast_id>/ubah", methods=["GET", "POST"])
@roles_required(*ROLES)
def edit(broadcast_id: int):
    """Change a draft, pending or rejected broadcast (it becomes a draft again)."""
    broadcast = _get(broadcast_id)
    if not broadcasts.may_edit(broadcast, _me()):
        flash(str(REFUSALS["locked"] if broadcast.approved_at else REFUSALS["not_allowed"]), "error")
        return redirect(url_for("broadcasts.show", broadcast_id=broadcast.id))
    if request.method == "GET":
        return _render_form(broadcast, _form_defaults(broadcast))
    return _save(broadcast)


def _save(broadcast: Broadcast | None):
    form: dict[str, Any] = {
        "title": request.form.get("title", "").strip(),
        "text": _clean_text(request.form.get("text", "")),
        "category": request.form.get("category", "information"),
        "send_at": request.form.get("send_at", ""),
        "groups": form_ids("groups"),
        "contacts": request.form.get("contacts", ""),
    }
    try:
        send_at = _send_at_from_form(form["send_at"])
    except ValueError:
        flash(_("Waktu kirim tidak valid."), "error")
        return _render_form(broadcast, form, 400)
    contact_ids, unknown = _contacts_from_lines(form["contacts"])
    if unknown:
        flash(_("Nomor ini bukan kontak terdaftar: %(numbers)s", numbers=", ".join(unknown[:10])), "error")
        return _render_form(broadcast, form, 400)
    try:
        if broadcast is None:
            broadcast = broadcasts.draft(
                _me(),
                form["text"],
                title=form["title"],
                category=form["category"],
                groups=sorted(form["groups"]),
                contacts=contact_ids,
                send_at=send_at,
            )
        else:
            broadcast = broadcasts.edit(
                broadcast,
                _me(),
                text=form["text"],
                title=form["title"],
                category=form["category"],
                groups=sorted(form["groups"]),
                contacts=contact_ids,
                send_at=send_at,
            )
    except BroadcastError as exc:
        flash(refusal(exc), "error")
        return _render_form(broadcast, form, 400)
    if request.form.get("action") == "submit":
        try:
            broadcasts.submit(broadcast, _me(), _config())
            flash(_("Siaran #%(id)d diajukan untuk disetujui.", id=broadcast.id), "info")
        except BroadcastError as exc:
            flash(refusal(exc), "error")
    else:
        flash(_("Draf siaran #%(id)d disimpan.", id=broadcast.id), "info")
    return redirect(url_for("broadcasts.show", broadcast_id=broadcast.id))


# --------------------------------------------------------------------------
# One broadcast: preview, approval, progress, recipients


@bp.get("/<int:broadcast_id>")
@roles_required(*ROLES)
def show(broadcast_id: int):
    """The broadcast with its preview, approval state, progress bar and per-recipient states."""
    return _render_show(_get(broadcast_id))


def _render_show(broadcast: Broadcast, changes: broadcast_review.Changes | None = None, status: int = 200):
    shown = broadcasts.preview(broadcast, _config())
    state = request.args.get("state", "")
    search = request.args.get("q", "").strip()
    page = arg_int("page", 1, 1, MAX_PAGE)
    recipients = broadcasts.recipient_rows(
        broadcast.id,
        state=state if state in OUTBOUND_STATES else None,
        search=search,
        limit=PAGE_SIZE + 1,
        offset=(page - 1) * PAGE_SIZE,
    )
    me = _me()
    may_approve = broadcasts.may_approve(broadcast, me)
    return render_template(
        "broadcasts/show.html",
        broadcast=broadcast,
        shown=shown,
        progress=broadcasts.progress(broadcast.id),
        recipients=recipients[:PAGE_SIZE],
        more=len(recipients) > PAGE_SIZE,
        page=page,
        chosen=state,
        search=search,
        states=OUTBOUND_STATES,
        state_labels=STATE_LABELS,
        category_labels=CATEGORY_LABELS,
        max_parts=broadcasts.MAX_PARTS,
        changes=changes,
        # the approve form names the version shown here; the approval is refused if it changed meanwhile
        version=broadcasts.content_of(broadcast, _config()).version if may_approve else "",
        may_edit=broadcasts.may_edit(broadcast, me),
        may_submit=broadcast.state == B.DRAFT and broadcasts.may_edit(broadcast, me),
        may_approve=may_approve,
        may_cancel=broadcasts.may_cancel(broadcast, me),
        may_retry=broadcasts.may_retry(broadcast, me),
    ), status


@bp.get("/<int:broadcast_id>/progres")
@roles_required(*ROLES)
def progress_json(broadcast_id: int):
    """Progress counts as JSON, polled by the broadcast page while it is sending."""
    broadcast = _get(broadcast_id)
    counts = broadcasts.progress(broadcast.id)
    return jsonify({"state": broadcast.state, "state_label": str(STATE_LABELS[broadcast.state]), **vars(counts)})


def _act(broadcast_id: int, action, done_message):
    broadcast = _get(broadcast_id)
    try:
        result = action(broadcast)
    except BroadcastError as exc:
        flash(refusal(exc), "error")
    else:
        flash(done_message(result), "info")
    return redirect(url_for("broadcasts.show", broadcast_id=broadcast.id))


@bp.post("/<int:broadcast_id>/ajukan")
@roles_required(*ROLES)
def submit(broadcast_id: int):
    """Ask an approver to approve the broadcast."""
    return _act(
        broadcast_id,
        lambda b: broadcasts.submit(b, _me(), _config()),
        lambda b: _("Siaran #%(id)d diajukan untuk disetujui.", id=b.id),
    )


@bp.post("/<int:broadcast_id>/setujui")
@roles_required(*broadcasts.APPROVER_ROLES)
def approve(broadcast_id: int):
    """Approve the version shown on the page; if it changed since, show what changed instead."""
    broadcast = _get(broadcast_id)
    version = request.form.get("version", "")
    try:
        approved = broadcasts.approve(broadcast, _me(), _config(), version=version, via="web")
    except BroadcastError as exc:
        flash(refusal(exc), "error")
        if exc.code == "changed_version":
            current = Broadcast.get_by_id(broadcast.id)
            return _render_show(current, broadcast_review.changes_since(current, version, _config()), 409)
        return redirect(url_for("broadcasts.show", broadcast_id=broadcast.id))
    flash(_("Siaran #%(id)d disetujui untuk %(n)d penerima.", id=approved.id, n=approved.recipient_count), "info")
    return redirect(url_for("broadcasts.show", broadcast_id=broadcast.id))


@bp.post("/<int:broadcast_id>/tolak")
@roles_required(*broadcasts.APPROVER_ROLES)
def reject(broadcast_id: int):
    """Send it back to the author with a reason."""
    reason = request.form.get("reason", "")
    return _act(
        broadcast_id, lambda b: broadcasts.reject(b, _me(), reason), lambda b: _("Siaran #%(id)d ditolak.", id=b.id)
    )


@bp.post("/<int:broadcast_id>/batalkan")
@roles_required(*ROLES)
def cancel(broadcast_id: int):
    """Cancel: SMS that have not left are cancelled; what has left stays."""
    reason = request.form.get("reason", "")
    return _act(
        broadcast_id,
        lambda b: broadcasts.cancel(b, _me(), reason),
        lambda n: _("Siaran dibatalkan; %(n)d SMS yang belum terkirim dibatalkan.", n=n),
    )


@bp.post("/<int:broadcast_id>/ulang")
@roles_required(*ROLES)
def retry(broadcast_id: int):
    """Queue every failed recipient again, in one click."""
    return _act(
        broadcast_id,
        lambda b: broadcasts.retry_failed(b, _me(), _config()),
        lambda n: _("%(n)d penerima yang gagal dikirim ulang.", n=n),
    )


# --------------------------------------------------------------------------
# Templates


@bp.route("/template", methods=["GET", "POST"])
@roles_required(*broadcasts.DRAFTER_ROLES)
def templates():
    """Templates for recurring messages: list and save (a name already used is replaced)."""
    if request.method == "POST":
        try:
            template = broadcasts.save_template(
                request.form.get("name", ""), _clean_text(request.form.get("text", "")), _me()
            )
        except BroadcastError as exc:
            flash(refusal(exc), "error")
        else:
            flash(_('Template "%(name)s" disimpan.', name=template.name), "info")
        return redirect(url_for("broadcasts.templates"))
    return render_template("broadcasts/templates.html", templates=Template.select().order_by(Template.name))


@bp.post("/template/<int:template_id>/hapus")
@roles_required(*broadcasts.DRAFTER_ROLES)
def delete_template(template_id: int):
    """Delete a template."""
    template = Template.get_or_none(Template.id == template_id)
    if template is None:
        abort(404)
    broadcasts.delete_template(template, _me())
    flash(_('Template "%(name)s" dihapus.', name=template.name), "info")
    return redirect(url_for("broadcasts.templates"))
