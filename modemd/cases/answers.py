"""A case is answered when a reply reached the network, not when an official queued it.

Banjarnegara Pasal 12 (8) and 13: officials, the Ketua and the Bupati decide
from "dijawab", "tepat waktu" and the deadline alerts, so these must be true.
The rule:

* a case counts as answered once one of its replies is ``sent`` (the network
  took it) or ``delivered``; ``answered_at`` is the first such moment, and the
  deadline is judged against it;
* while every reply is pending, sending or failed the case stays open
  ("belum dijawab"), keeps its deadline and gets the deadline alerts;
* when a reply fails for good and none reached the citizen, the case is open
  again with ``reply_failed_at`` set: the owner's inbox shows it on top with
  the reason in plain words;
* an administrator sending a failed reply again clears that flag: the reply
  is waiting again, and fails (flagged anew) or answers the case;
* ``replied_at`` keeps when an official first wrote a reply (accountability);
* a case of the verified flow (:mod:`modemd.cases.flow`) is archived once its
  approved reply is answered this way, and goes back to the central admin
  when that reply failed for good.

These functions run inside the transaction that changes the reply's state
(:mod:`modemd.send.outbound`, :mod:`modemd.send.status_reports`), so the case and its reply
never disagree, whatever the database (single UPDATEs with a CASE expression,
valid on SQLite, PostgreSQL and MariaDB).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from peewee import Case as SqlCase
from peewee import fn

from modemd.cases import flow
from modemd.states import CaseStatus as C
from modemd.states import OutboundState, check, sources
from modemd.store.models import Case, OutboundMessage

#: reply states in which the citizen has (or will surely get from the network) the answer
REACHED = (OutboundState.SENT, OutboundState.DELIVERED)


def reply_sent(case_id: int, at: datetime) -> None:
    """A reply of the case was taken by the network at ``at``: the case is answered."""
    # only the states the table lets become answered do (a closed case stays closed)
    (
        Case.update(
            status=SqlCase(None, [(Case.status == s, C.ANSWERED) for s in sources(C.ANSWERED)], Case.status),
            answered_at=fn.COALESCE(Case.answered_at, at),
            reply_failed_at=None,
        )
        .where(Case.id == case_id)
        .execute()
    )
    flow.reply_reached(case_id, at)


def replies_failed(case_ids: Iterable[int], at: datetime) -> None:
    """Replies of these cases failed for good: a case none of whose replies reached the citizen is open again."""
    ids = sorted({i for i in case_ids if i is not None})
    if not ids:
        return
    reached = OutboundMessage.select(OutboundMessage.case).where(
        OutboundMessage.case.in_(ids), OutboundMessage.kind == "reply", OutboundMessage.state.in_(REACHED)
    )
    unanswered = Case.id.in_(ids) & Case.id.not_in(reached)
    reopened = check(C.ANSWERED, C.OPEN)
    (
        Case.update(status=SqlCase(None, [(Case.status == C.ANSWERED, reopened)], Case.status), answered_at=None)
        .where(unanswered)
        .execute()
    )
    # the owner must act: the case goes on top of the inbox (a closed case stays closed)
    Case.update(reply_failed_at=at).where(Case.id.in_(ids), Case.status == C.OPEN).execute()
    flow.replies_failed(ids, at)


def reply_retried(case_id: int | None) -> None:
    """A failed reply of the case is queued again: the case waits for it instead of being flagged."""
    if case_id is not None:
        Case.update(reply_failed_at=None).where(Case.id == case_id).execute()
