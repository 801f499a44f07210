"""The operators' own messages ("Pesan operator"): SMS from short codes and names (3636, TELKOMSEL).

They are stored like every SMS but open no case (nobody can answer a short
code), so without this page nobody would read "masa aktif" or "sisa pulsa"
notices. Admin only, newest first, keyset pagination; the text is the
operator's and is escaped like any SMS. The dashboard shows how many came
since the admin last opened the first page (remembered in the session).
"""

from __future__ import annotations

from flask import Blueprint, render_template, session
from peewee import SQL, fn

from modemd.store.models import InboundMessage
from webui.auth import roles_required
from webui.params import arg_id

bp = Blueprint("operator_messages", __name__, url_prefix="/admin/operator-messages")
PAGE_SIZE = 50
#: sender kinds that are not a citizen's number (see modemd.sms.phone.sender_kind)
OPERATOR_KINDS = ("shortcode", "alphanumeric")
#: the session key holding the newest operator message the admin has seen
SEEN_KEY = "operator_messages_seen"


def _operator_messages():
    return InboundMessage.select().where(InboundMessage.sender_kind.in_(OPERATOR_KINDS))


def unseen_count() -> int:
    """Operator messages newer than the newest one this admin's session has seen."""
    seen = session.get(SEEN_KEY, 0)
    return (
        InboundMessage.select(fn.COUNT(SQL("1")))
        .where(InboundMessage.sender_kind.in_(OPERATOR_KINDS), InboundMessage.id > seen)
        .scalar()
        or 0
    )


@bp.get("/")
@roles_required("admin")
def index():
    """Operator messages, newest first, 50 a page, with the modem that received each."""
    query = _operator_messages()
    before = arg_id("before")
    if before is not None:
        query = query.where(InboundMessage.id < before)
    rows = list(query.order_by(InboundMessage.id.desc()).limit(PAGE_SIZE + 1))
    next_before = rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None
    if before is None and rows:
        session[SEEN_KEY] = max(rows[0].id, session.get(SEEN_KEY, 0))
    return render_template(
        "admin/operator_messages.html", rows=rows[:PAGE_SIZE], next_before=next_before, first_page=before is None
    )
