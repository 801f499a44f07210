"""The public page (Perbup Banjarnegara Pasal 12 (9)): answered cases the administrator published.

Anyone may read it, without logging in. The citizen's number is masked; only
replies that actually left (sent or delivered) are shown.
"""

from __future__ import annotations

from flask import Blueprint, render_template

from modemd.models import Case, InboundMessage, OutboundMessage

from .params import arg_id

bp = Blueprint("public", __name__, url_prefix="/publik")
PAGE_SIZE = 20


@bp.get("/")
def index():
    """Published questions and answers, newest first."""
    query = Case.select().where((Case.published == True) & Case.answered_at.is_null(False))  # noqa: E712
    before = arg_id("before")
    if before is not None:
        query = query.where(Case.id < before)
    cases = list(query.order_by(Case.id.desc()).limit(PAGE_SIZE + 1))
    next_before = cases[PAGE_SIZE - 1].id if len(cases) > PAGE_SIZE else None
    cases = cases[:PAGE_SIZE]
    ids = [c.id for c in cases] or [0]
    questions: dict[int, list] = {}
    for m in InboundMessage.select().where(InboundMessage.case.in_(ids)).order_by(InboundMessage.id):
        questions.setdefault(m.case_id, []).append(m)
    answers: dict[int, list] = {}
    for r in (OutboundMessage.select().where(OutboundMessage.case.in_(ids) & OutboundMessage.state.in_(("sent", "delivered")))
              .order_by(OutboundMessage.id)):
        answers.setdefault(r.case_id, []).append(r)
    return render_template("public.html", cases=cases, questions=questions, answers=answers, next_before=next_before)
