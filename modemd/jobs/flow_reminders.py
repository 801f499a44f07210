"""Reminders for the steps of the verified flow (:mod:`modemd.cases.flow`) that passed their due time.

Like the deadline alerts of :mod:`modemd.jobs.notifications`: once per step
and person (``NotificationSent`` job ``flow_step``, period ``step-<id>``),
only in office hours, several steps due for one person in one SMS. A case
waiting for the central admin (to verify, or to approve an answer) reminds
every active admin account with a phone; a case at an agency reminds the
operator holding it. A step that ended before the pass is not reminded; a
step re-opened later (an answer returned) is a new step with its own reminder.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from modemd.cases.assignment import deadline_text
from modemd.config import Config
from modemd.jobs.notifications import (
    DEADLINE_LOOKBACK,
    FLOW_STEP,
    Hours,
    Outcome,
    Planned,
    _case_list,
    _keyword_list,
    already_sent,
    case_url,
    clean,
    deliver,
    local_time,
)
from modemd.jobs.recap import fill
from modemd.states import FlowStage
from modemd.store.models import Case, CaseStep, User

#: what waits, as the SMS says it
WAITING = {
    FlowStage.VERIFY: "menunggu verifikasi",
    FlowStage.REVIEW: "menunggu persetujuan jawaban",
    FlowStage.ASSIGNED: "menunggu jawaban instansi",
}


def overdue_steps(now: datetime) -> list[tuple[int, int, str, str | None, int | None, datetime]]:
    """(step id, case id, stage, keyword, operator id, due) of running steps past due, oldest due first."""
    return list(
        CaseStep.select(CaseStep.id, Case.id, CaseStep.stage, Case.keyword, CaseStep.operator, CaseStep.due_at)
        .join(Case, on=(CaseStep.case == Case.id))
        .where(
            CaseStep.left_at.is_null(),
            CaseStep.stage.in_(list(WAITING)),
            CaseStep.due_at <= now,
            CaseStep.due_at >= now - DEADLINE_LOOKBACK,
        )
        .order_by(CaseStep.due_at, CaseStep.id)
        .tuples()
    )


def remind(now: datetime, config: Config, keywords=None) -> Outcome:
    """One SMS per person and stage naming the cases whose step is past due and not reminded yet."""
    outcome = Outcome(FLOW_STEP)
    if not config.notify.deadline_alert:
        outcome.skipped = "disabled"
        return outcome
    if not Hours.from_config(config).may_remind(local_time(now, config.timezone)):
        outcome.skipped = "outside office hours"
        return outcome
    steps = overdue_steps(now)
    if not steps:
        return outcome
    admins = list(
        User.select()
        .where(User.role == "admin", User.active == True, User.phone.is_null(False))  # noqa: E712
        .order_by(User.login)
    )
    operator_ids = sorted({s[4] for s in steps if s[4] is not None})
    operators = {u.id: u for u in User.select().where(User.id.in_(operator_ids))} if operator_ids else {}
    done = already_sent(FLOW_STEP, [f"step-{s[0]}" for s in steps])
    due: dict[tuple[str, str], list[tuple]] = defaultdict(list)  # (login, stage) -> steps
    people: dict[str, User] = {}
    for step in steps:
        holder = operators.get(step[4]) if step[2] == FlowStage.ASSIGNED else None
        recipients = [holder] if holder is not None else admins if step[2] != FlowStage.ASSIGNED else []
        for person in recipients:
            if person.active and person.phone and (f"step-{step[0]}", person.login) not in done:
                due[(person.login, step[2])].append(step)
                people[person.login] = person
    plans = []
    for (login, stage), items in sorted(due.items()):
        ids = [s[1] for s in items]
        text = fill(
            config.notify.flow_text,
            case=_case_list(ids),
            keyword=_keyword_list(s[3] for s in items),
            step=WAITING[FlowStage(stage)],
            deadline=deadline_text(items[0][5], config.timezone),
            url=case_url(config, ids),
        )
        plans.append(Planned(people[login].phone, clean(text), [(FLOW_STEP, f"step-{s[0]}", login) for s in items]))
    outcome.queued = deliver(plans, config)
    return outcome
