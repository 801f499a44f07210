"""Publishing a question and its answer on the public page (Perbup Banjarnegara Pasal 12 (9)).

A publication is a snapshot, never a live view of the case: the case's owner
or an administrator picks one question (an inbound SMS) and one answer (a
reply written by staff that actually left), may edit either text for
publication (to remove a NIK or a name, say), previews it and publishes it.
Only that snapshot appears on ``/publik/``; a citizen's later SMS and later
replies are never added by themselves, so nobody can put text on the
government's public page by texting the centre. The originals stay untouched
(the database refuses to change an SMS) and are shown to staff beside the
published wording. The automatic acknowledgement is never an answer.

At most one publication of a case is live; publishing again replaces it.
Withdrawing is one click; both are in the audit log. The citizen's number is
stored masked, so the public page never reads the real one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from peewee import Case as SqlCase
from peewee import fn

from modemd.cases.answers import REACHED
from modemd.sms import phone
from modemd.store.models import Case, InboundMessage, OutboundMessage, Publication, User, audit, database_proxy, utcnow

# Replies that a citizen actually received; the automatic acknowledgement (kind "autoreply") is never one.
ANSWER_KIND = "reply"
ANSWER_STATES = REACHED
MAX_TEXT = 2000
PUBLISHER_ROLES = ("admin",)


class PublishError(ValueError):
    """A refused publication; ``code`` names the rule so the web UI can say it in the user's language."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


def may_publish(case: Case, user: User) -> bool:
    """The case's owner or an administrator chooses what is published."""
    return user.role in PUBLISHER_ROLES or (case.owner_id is not None and case.owner_id == user.id)


def questions(case: Case) -> list[InboundMessage]:
    return list(InboundMessage.select().where(InboundMessage.case == case).order_by(InboundMessage.id))


def answers(case: Case) -> list[OutboundMessage]:
    """Staff replies of the case that left the modem, oldest first."""
    return list(
        OutboundMessage.select()
        .where(
            OutboundMessage.case == case, OutboundMessage.kind == ANSWER_KIND, OutboundMessage.state.in_(ANSWER_STATES)
        )
        .order_by(OutboundMessage.id)
    )


def live(case: Case) -> Publication | None:
    """The publication of the case shown on the public page now, if any."""
    return (
        Publication.select()
        .where(Publication.case == case, Publication.withdrawn_at.is_null())
        .order_by(Publication.id.desc())
        .first()
    )


@dataclass(frozen=True)
class Draft:
    """A publication as previewed: the chosen messages and the wording to publish."""

    case: Case
    question: InboundMessage
    answer: OutboundMessage
    question_text: str
    answer_text: str

    @property
    def digest(self) -> str:
        """Names exactly what was previewed; publishing checks it, so what goes out is what was seen."""
        payload = [self.case.id, self.question.id, self.answer.id, self.question_text, self.answer_text]
        return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode("utf-8")).hexdigest()

    @property
    def question_edited(self) -> bool:
        return self.question_text != self.question.text

    @property
    def answer_edited(self) -> bool:
        return self.answer_text != self.answer.text


def _clean(text: str | None) -> str:
    # browsers send every line break as CRLF (a lone CR too): one form, so the preview's digest still matches
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def draft(
    case: Case, user: User, question_id, answer_id, question_text: str | None = None, answer_text: str | None = None
) -> Draft:
    """Check a choice of question and answer (texts default to the originals); raise :class:`PublishError`."""
    if not may_publish(case, user):
        raise PublishError(f"{user.login} may not publish case {case.id} (its owner or an admin may)", "not_allowed")
    question = next((m for m in questions(case) if str(m.id) == str(question_id)), None)
    if question is None:
        raise PublishError("choose one of the citizen's messages of this case", "no_question")
    answer = next((r for r in answers(case) if str(r.id) == str(answer_id)), None)
    if answer is None:
        raise PublishError("choose one reply of this case that was sent", "no_answer")
    q_text = _clean(question.text if question_text is None else question_text)
    a_text = _clean(answer.text if answer_text is None else answer_text)
    if not q_text or not a_text:
        raise PublishError("the question and the answer need a text", "empty")
    if len(q_text) > MAX_TEXT or len(a_text) > MAX_TEXT:
        raise PublishError(f"at most {MAX_TEXT} characters each", "too_long")
    return Draft(case, question, answer, q_text, a_text)


def publish(chosen: Draft, user: User, digest: str) -> Publication:
    """Publish what was previewed (``digest`` of the preview), replacing the case's live publication."""
    if digest != chosen.digest:
        raise PublishError("the publication changed after its preview; preview it again", "not_previewed")
    case = chosen.case
    with database_proxy.atomic():
        moment = utcnow()
        (
            Publication.update(withdrawn_at=moment, withdrawn_by=user)
            .where(Publication.case == case, Publication.withdrawn_at.is_null())
            .execute()
        )
        publication = Publication.create(
            case=case,
            question=chosen.question,
            answer=chosen.answer,
            question_text=chosen.question_text,
            answer_text=chosen.answer_text,
            keyword=case.keyword,
            citizen_masked=phone.mask(case.citizen),
            asked_at=chosen.question.received_at,
            published_by=user,
            published_at=moment,
        )
        audit(
            user.login,
            "case.publish",
            case,
            publication=publication.id,
            question=chosen.question.id,
            answer=chosen.answer.id,
            question_edited=chosen.question_edited,
            answer_edited=chosen.answer_edited,
        )
    return publication


def withdraw(case: Case, user: User) -> bool:
    """Take the case off the public page; False if nothing was published."""
    if not may_publish(case, user):
        raise PublishError(f"{user.login} may not withdraw case {case.id} (its owner or an admin may)", "not_allowed")
    with database_proxy.atomic():
        withdrawn = (
            Publication.update(withdrawn_at=utcnow(), withdrawn_by=user)
            .where(Publication.case == case, Publication.withdrawn_at.is_null())
            .execute()
        )
        if withdrawn:
            audit(user.login, "case.unpublish", case)
    return bool(withdrawn)


def public_page(before: int | None, size: int) -> tuple[list[Publication], int | None]:
    """Live publications, newest first, ``size`` at a time; (rows, the ``before`` of the next page or None)."""
    query = Publication.select().where(Publication.withdrawn_at.is_null())
    if before is not None:
        query = query.where(Publication.id < before)
    rows = list(query.order_by(Publication.id.desc()).limit(size + 1))
    next_before = rows[size - 1].id if len(rows) > size else None
    return rows[:size], next_before


@dataclass(frozen=True)
class FeedVersion:
    """What the feeds' ETag and Last-Modified are made of: any publish or withdraw changes it."""

    live: int
    newest_id: int
    changed_at: datetime | None  # the latest publication or withdrawal

    @property
    def tag(self) -> str:
        return f"{self.live}-{self.newest_id}-{self.changed_at.isoformat() if self.changed_at else ''}"


def feed_version() -> FeedVersion:
    """One query over the publication table (its rows are never edited, only added or withdrawn)."""
    live = fn.SUM(SqlCase(None, [(Publication.withdrawn_at.is_null(), 1)], 0))
    count, newest, published, withdrawn = Publication.select(
        live, fn.MAX(Publication.id), fn.MAX(Publication.published_at), fn.MAX(Publication.withdrawn_at)
    ).tuples()[0]
    moments = [m for m in (published, withdrawn) if m is not None]
    return FeedVersion(int(count or 0), int(newest or 0), max(moments) if moments else None)


def feed_rows(size: int) -> list[Publication]:
    """The newest live publications for the feeds: only reviewed snapshots, never a case's other messages."""
    return public_page(None, size)[0]
