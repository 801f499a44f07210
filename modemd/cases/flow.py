"""Muara Enim's complaint flow (Pasal 7 c-h) for the keywords with ``flow = verified``.

received and recorded (the router opens the case in ``verify``) -> reviewed by
the central admin, who rejects it (spam, duplicate, with a reason) or gives it
to an agency and that agency's operator (``assigned``: the case is in the
operator's inbox, never before) -> the operator writes the answer (``review``)
-> the central admin approves it (``approved``: the reply is queued, with the
same sending rules and sender ID as any reply -- the operator's, whose words
they are) or returns it with a note (``assigned`` again) -> the reply reached
the network (``archived``: the case is answered, then closed).

Each step is a :class:`~modemd.store.models.CaseStep` row: who moved the case
there and when, the agency and operator, its due time and, when it ends, who
ended it and how many seconds it lasted (for :mod:`modemd.cases.flow_durations`).
Every move is also an audit entry on the case, so the case page's history
shows it. A move is an UPDATE guarded by the stage it starts from, so two
admins approving at once (or a double click) approve once; the other gets
:class:`FlowError`. "Answered" keeps meaning a reply was sent
(:mod:`modemd.cases.answers` calls :func:`reply_reached` and :func:`replies_failed`).

Re-assigning a case to another agency or operator ends the step and starts
another ``assigned`` one: each agency's time is its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from modemd.receive.keywords import MAX_AGENCY, agency_name
from modemd.states import CaseStatus, FlowStage, allowed, check
from modemd.store.models import Case, CaseStep, User, audit, database_proxy, utcnow

if TYPE_CHECKING:
    from modemd.config import Config

log = logging.getLogger("modemd.flow")

F = FlowStage
VERIFIED = "verified"
REJECT_KINDS = ("spam", "duplicate")
MAX_TEXT = 4000  # a reason, a note or an answer (an answer is also held to the reply's SMS limit, webui/flow.py)


class FlowError(ValueError):
    """A move refused; ``str(exc)`` is a code the web UI turns into words (see webui/flow.py)."""


def is_verified(case: Case) -> bool:
    return case.flow == VERIFIED


def _due(config: Config, stage: FlowStage, now: datetime) -> datetime | None:
    if stage in (F.VERIFY, F.REVIEW):
        return now + timedelta(seconds=config.notify.verify_within)
    if stage == F.ASSIGNED:
        return now + timedelta(seconds=config.notify.answer_within)
    return None


def opening_values(agency: str, now: datetime, config: Config) -> dict:
    """The columns of a new verified case (the router inserts them): in the admin's queue, owned by no one."""
    return {"flow": VERIFIED, "stage": F.VERIFY, "agency": agency, "stage_due_at": _due(config, F.VERIFY, now)}


def record_opening(case: Case, now: datetime) -> CaseStep:
    """The first step of a verified case, written by the router in the transaction that opened it."""
    return CaseStep.create(
        case=case.id, stage=F.VERIFY, agency=case.agency, actor="daemon", entered_at=now, due_at=case.stage_due_at
    )


def current_step(case: Case) -> CaseStep | None:
    return CaseStep.select().where(CaseStep.case == case.id, CaseStep.left_at.is_null()).order_by(CaseStep.id).first()


def history(case: Case) -> list[CaseStep]:
    return list(CaseStep.select().where(CaseStep.case == case.id).order_by(CaseStep.id))


def _clean(text: str | None) -> str:
    return (text or "").replace("\r\n", "\n").strip()


def _move(
    case: Case,
    new: FlowStage,
    actor: str,
    now: datetime,
    due: datetime | None,
    *,
    operator: User | None = None,
    agency: str | None = None,
    note: str = "",
    same_stage: bool = False,
    **case_columns,
) -> CaseStep:
    """Move ``case`` to ``new`` (or, with ``same_stage``, start a new step of the stage it is in)."""
    old = FlowStage(case.stage) if case.stage else None
    if old is None or not is_verified(case):
        raise FlowError("not_verified_flow")
    if (old != new) if same_stage else not allowed(old, new):
        raise FlowError(f"stage_{old}")
    agency = case.agency if agency is None else agency
    values = {Case.stage: new, Case.stage_due_at: due, Case.agency: agency}
    if operator is not None:
        values[Case.owner] = operator.id
    values.update({getattr(Case, name): value for name, value in case_columns.items()})
    # guarded by the stage read: whoever moves it first wins, the other one is told
    moved = Case.update(values).where(Case.id == case.id, Case.stage == old).execute()
    if moved != 1:
        raise FlowError(f"stage_{_stage_now(case)}")
    step = current_step(case)
    if step is not None:
        seconds = max(0, int((now - step.entered_at).total_seconds()))
        CaseStep.update(left_at=now, left_by=actor, seconds=seconds).where(CaseStep.id == step.id).execute()
    holder = operator.id if operator is not None else (step.operator_id if step is not None else None)
    created = CaseStep.create(
        case=case.id,
        stage=new,
        agency=agency,
        operator=holder if new in (F.ASSIGNED, F.REVIEW) else None,
        actor=actor,
        entered_at=now,
        due_at=due,
        note=note,
    )
    case.stage, case.stage_due_at, case.agency = new, due, agency
    if operator is not None:
        case.owner = operator
    for name, value in case_columns.items():
        setattr(case, name, value)
    detail = {"from": str(old), "to": str(new), "agency": agency}
    if operator is not None:
        detail["operator"] = operator.login
    if note and new != F.REVIEW:  # an answer is in the step; the audit log keeps reasons and notes
        detail["note"] = note
    audit(actor, f"case.flow.{new}", case, **detail)
    log.info("case %s: %s -> %s by %s", case.id, old, new, actor)
    return created


def _require_admin(user: User) -> None:
    if user.role != "admin":
        raise FlowError("admin_only")


def _operator(operator: User | None, agency: str) -> User:
    """An active operator who serves ``agency``: one of that agency's, or one tied to none."""
    if operator is None or operator.role != "operator" or not operator.active:
        raise FlowError("operator_unknown")
    if operator.agency and operator.agency != agency:
        raise FlowError("operator_other_agency")
    return operator


def _agency(agency: str | None) -> str:
    name = agency_name(agency)
    if not name:
        raise FlowError("agency_missing")
    if len(name) > MAX_AGENCY:
        raise FlowError("agency_too_long")
    return name


def verify(case: Case, admin: User, agency: str, operator: User | None, config: Config) -> CaseStep:
    """The central admin verified the case and gives it to ``agency``'s ``operator``."""
    _require_admin(admin)
    name = _agency(agency)
    chosen = _operator(operator, name)
    now = utcnow()
    with database_proxy.atomic():
        return _move(case, F.ASSIGNED, admin.login, now, _due(config, F.ASSIGNED, now), operator=chosen, agency=name)


def reassign(case: Case, admin: User, agency: str, operator: User | None, config: Config) -> CaseStep:
    """Give an assigned case to another agency or operator; the time so far stays with the first one."""
    _require_admin(admin)
    name = _agency(agency)
    chosen = _operator(operator, name)
    if case.stage == F.ASSIGNED and name == case.agency and chosen.id == case.owner_id:
        raise FlowError("same_assignment")
    now = utcnow()
    with database_proxy.atomic():
        due = _due(config, F.ASSIGNED, now)
        return _move(case, F.ASSIGNED, admin.login, now, due, operator=chosen, agency=name, same_stage=True)


def reject(case: Case, admin: User, kind: str, reason: str, config: Config) -> CaseStep:
    """Spam or a duplicate: the case is closed with the reason; nothing is sent to the citizen."""
    _require_admin(admin)
    if kind not in REJECT_KINDS:
        raise FlowError("reject_kind")
    text = _clean(reason)
    if not text:
        raise FlowError("reason_missing")
    if len(text) > MAX_TEXT:
        raise FlowError("too_long")
    now = utcnow()
    with database_proxy.atomic():
        status = check(case.status, CaseStatus.CLOSED)
        return _move(case, F.REJECTED, admin.login, now, None, note=f"{kind}: {text}", status=status, closed_at=now)


def submit_answer(case: Case, operator: User, text: str, config: Config) -> CaseStep:
    """The case's operator wrote the answer: it goes to the central admin for approval, not to the citizen."""
    if case.owner_id != operator.id or case.stage != F.ASSIGNED:
        raise FlowError("not_your_case" if case.owner_id != operator.id else f"stage_{case.stage}")
    body = _clean(text)
    if not body:
        raise FlowError("answer_empty")
    if len(body) > MAX_TEXT:
        raise FlowError("too_long")
    now = utcnow()
    with database_proxy.atomic():
        return _move(case, F.REVIEW, operator.login, now, _due(config, F.REVIEW, now), note=body)


def _stage_now(case: Case) -> str | None:
    """The stage as stored now (the page that asked may show an older one)."""
    return Case.select(Case.stage).where(Case.id == case.id).scalar()


def pending_answer(case: Case) -> CaseStep | None:
    """The review step holding the answer waiting for approval (None unless the case is in review)."""
    step = current_step(case)
    return step if step is not None and step.stage == F.REVIEW and case.stage == F.REVIEW else None


def approve(case: Case, admin: User, config: Config, send: Callable) -> object:
    """Approve the answer: ``send(case, author, text, config)`` queues it (webui.replies.send_reply); returns
    what ``send`` returned. The one who wrote the answer never approves it."""
    _require_admin(admin)
    step = pending_answer(case)
    if step is None:
        raise FlowError(f"stage_{_stage_now(case)}")
    # the operator who wrote it (a review step the daemon reopened after a failed reply keeps them too)
    author = User.get_or_none(User.id == step.operator_id) if step.operator_id else User.by_login(step.actor)
    if step.actor == admin.login or (author is not None and author.id == admin.id):
        raise FlowError("own_answer")
    if author is None:
        raise FlowError("operator_unknown")
    with database_proxy.atomic():
        _move(case, F.APPROVED, admin.login, utcnow(), None, note=step.note)
        return send(case, author, step.note, config)


def return_answer(case: Case, admin: User, note: str, config: Config) -> CaseStep:
    """Send the answer back to its operator with a note saying what to change."""
    _require_admin(admin)
    text = _clean(note)
    if not text:
        raise FlowError("note_missing")
    if len(text) > MAX_TEXT:
        raise FlowError("too_long")
    step = pending_answer(case)
    if step is None:
        raise FlowError(f"stage_{_stage_now(case)}")
    operator = User.get_or_none(User.id == step.operator_id) if step.operator_id else None
    now = utcnow()
    with database_proxy.atomic():
        return _move(case, F.ASSIGNED, admin.login, now, _due(config, F.ASSIGNED, now), operator=operator, note=text)


# --------------------------------------------------------------------------
# The reply's fate (called by modemd.cases.answers inside the sending transaction)


def reply_reached(case_id: int, at: datetime) -> None:
    """The approved reply reached the network: the case is archived (and closed)."""
    case = Case.get_or_none((Case.id == case_id) & (Case.stage == F.APPROVED))
    if case is None:
        return
    status = case.status if case.status == CaseStatus.CLOSED else check(case.status, CaseStatus.CLOSED)
    _move(case, F.ARCHIVED, "daemon", at, None, status=status, closed_at=case.closed_at or at)


def replies_failed(case_ids: Iterable[int], at: datetime) -> None:
    """Every reply of an approved case failed for good: it goes back to the central admin to send again,
    with as long to act as the admin had to approve it."""
    ids = sorted({i for i in case_ids if i is not None})
    if not ids:
        return
    for case in Case.select().where(Case.id.in_(ids), Case.stage == F.APPROVED, Case.status == CaseStatus.OPEN):
        review = (
            CaseStep.select()
            .where(CaseStep.case == case.id, CaseStep.stage == F.REVIEW)
            .order_by(CaseStep.id.desc())
            .first()
        )
        if review is None:  # cannot happen: an approved case went through review
            continue
        span = review.due_at - review.entered_at if review.due_at else timedelta(0)
        operator = User.get_or_none(User.id == review.operator_id) if review.operator_id else None
        _move(case, F.REVIEW, "daemon", at, at + span if review.due_at else None, operator=operator, note=review.note)
