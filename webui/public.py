"""The public page (Perbup Banjarnegara Pasal 12 (9)): questions and answers their case's owner or an admin published.

Anyone may read it, without logging in. It shows only reviewed snapshots
(:mod:`modemd.cases.publications`): later SMS of a published case never appear by
themselves. The citizen's number is stored masked; every text is escaped.
"""

from __future__ import annotations

from flask import Blueprint, render_template

from modemd.cases import publications

from .params import arg_id

bp = Blueprint("public", __name__, url_prefix="/publik")
PAGE_SIZE = 20


@bp.get("/")
def index():
    """Published questions and answers, newest first."""
    rows, next_before = publications.public_page(arg_id("before"), PAGE_SIZE)
    return render_template("public.html", rows=rows, next_before=next_before)
