"""Choosing what a case publishes on the public page: question, answer, wording, preview, publish, withdraw.

The rules live in :mod:`modemd.cases.publications`. The case's owner or an
administrator picks one citizen SMS and one sent reply, may edit their wording
for publication (the originals are shown beside it and never change), sees a
preview exactly as the public will, and publishes that preview. Withdrawing is
one button on the case page.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from modemd.cases import publications
from modemd.cases.publications import PublishError
from modemd.store.models import Case

from .access import case_or_404

bp = Blueprint("publishing", __name__, url_prefix="/cases")

REFUSALS = {
    "not_allowed": _l("Hanya pemilik kasus atau administrator yang dapat mempublikasikan kasus ini."),
    "no_question": _l("Pilih satu pesan warga dari kasus ini."),
    "no_answer": _l("Pilih satu balasan yang sudah terkirim dari kasus ini."),
    "empty": _l("Pertanyaan dan jawaban tidak boleh kosong."),
    "too_long": _l("Teks terlalu panjang (paling banyak %(n)d karakter).", n=publications.MAX_TEXT),
    "not_previewed": _l("Isi publikasi berubah setelah pratinjau; lihat pratinjau lagi."),
}


@bp.app_template_global("live_publication")
def live_publication(case: Case):
    """The case's publication now on the public page (for the case page), or None."""
    return publications.live(case)


@bp.app_template_global("may_publish")
def may_publish(case: Case) -> bool:
    return publications.may_publish(case, current_user.row)


def _case_for_publishing(case_id: int) -> Case:
    case = case_or_404(current_user, case_id)
    if not publications.may_publish(case, current_user.row):
        abort(403)
    return case


def _draft_from_form(case: Case) -> publications.Draft:
    # an empty wording means the original text
    return publications.draft(
        case,
        current_user.row,
        request.form.get("question", ""),
        request.form.get("answer", ""),
        request.form.get("question_text", "").strip() or None,
        request.form.get("answer_text", "").strip() or None,
    )


def _render_choice(case: Case, status: int = 200):
    answers = publications.answers(case)
    return render_template(
        "publishing/choose.html",
        case=case,
        questions=publications.questions(case),
        answers=answers,
        live=publications.live(case),
        form=request.form,
    ), status


@bp.get("/<int:case_id>/publikasi")
@login_required
def choose(case_id: int):
    """Pick the question and the answer, and optionally edit their wording for publication."""
    return _render_choice(_case_for_publishing(case_id))


@bp.post("/<int:case_id>/publikasi/pratinjau")
@login_required
def preview(case_id: int):
    """Show the publication exactly as the public page will, beside the originals."""
    case = _case_for_publishing(case_id)
    try:
        chosen = _draft_from_form(case)
    except PublishError as exc:
        flash(str(REFUSALS[exc.code]), "error")
        return _render_choice(case, 400)
    return render_template("publishing/preview.html", case=case, chosen=chosen)


@bp.post("/<int:case_id>/publikasi/terbitkan")
@login_required
def publish(case_id: int):
    """Publish the previewed question and answer (replacing what the case published before)."""
    case = _case_for_publishing(case_id)
    try:
        publications.publish(_draft_from_form(case), current_user.row, request.form.get("digest", ""))
    except PublishError as exc:
        flash(str(REFUSALS[exc.code]), "error")
        return _render_choice(case, 400)
    flash(_("Dipublikasikan di halaman publik."), "info")
    return redirect(url_for("cases.show", case_id=case.id))


@bp.post("/<int:case_id>/publikasi/tarik")
@login_required
def withdraw(case_id: int):
    """Take the case off the public page, in one click."""
    case = _case_for_publishing(case_id)
    if publications.withdraw(case, current_user.row):
        flash(_("Tidak lagi dipublikasikan."), "info")
    return redirect(url_for("cases.show", case_id=case.id))
