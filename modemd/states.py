"""The state machines: an outbound message, a broadcast, a case, a case's verified flow. States as types, moves as data.

Each state is a :class:`enum.StrEnum`, so a member *is* the stored word
(``OutboundState.SENT == "sent"``): peewee writes it unchanged, the CHECK
constraints of :mod:`modemd.store.models` are built from the members, and the
templates keep comparing with the words. No schema change came with them.

Each machine has ONE transition table (``TRANSITIONS[state]`` = the states it
may move to). The code that changes a state asks :func:`check` (or, for an
UPDATE guarded by ``WHERE state IN (...)``, takes the guard from
:func:`sources`), so a move the table does not list is refused with
:class:`TransitionError` instead of being written. docs/architecture-states.md
is drawn from these tables (:func:`mermaid`, :func:`markdown_table`) and
tests/test_states.py fails when the document and the tables disagree.

What the tables do not decide: who may make a move (roles, authorship:
:mod:`modemd.jobs.broadcasts`, :mod:`webui.access`) and when (due times, expiry).
A message's parts (``OutboundPart``) only record the network's verdict
(sent, delivered, failed) and have no machine of their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar


class OutboundState(StrEnum):
    """One SMS to one recipient (:mod:`modemd.send.outbound`, :mod:`modemd.send.status_reports`)."""

    PENDING = "pending"  # waiting in the queue
    SENDING = "sending"  # claimed by a worker, handed to a modem
    SENT = "sent"  # the network took every part
    DELIVERED = "delivered"  # every part's status report said delivered
    FAILED = "failed"  # given up, or a report said undeliverable
    CANCELLED = "cancelled"  # withdrawn before it left


class BroadcastState(StrEnum):
    """A coordination broadcast (:mod:`modemd.jobs.broadcasts`)."""

    DRAFT = "draft"
    PENDING = "pending"  # submitted, waiting for an approver
    APPROVED = "approved"
    REJECTED = "rejected"
    SENDING = "sending"  # queued (or being queued) recipient by recipient
    DONE = "done"
    CANCELLED = "cancelled"


class CaseStatus(StrEnum):
    """A citizen's case (:mod:`modemd.cases.answers`, webui/cases.py)."""

    OPEN = "open"  # needs an answer ("belum dijawab")
    ANSWERED = "answered"  # a reply reached the network
    CLOSED = "closed"  # archived by an official


class FlowStage(StrEnum):
    """Where a case of a ``flow = verified`` keyword is in Muara Enim's complaint flow (:mod:`modemd.cases.flow`).

    A ``flow = direct`` case has no stage. The case's :class:`CaseStatus` goes on
    as for any case: open until the approved answer reached the network.
    """

    VERIFY = "verify"  # the central admin's queue, "Perlu verifikasi"
    REJECTED = "rejected"  # spam or a duplicate, with a reason (the case is closed)
    ASSIGNED = "assigned"  # in the inbox of the agency's operator, who writes the answer
    REVIEW = "review"  # the answer waits for the central admin's approval
    APPROVED = "approved"  # approved: the reply is queued to the citizen
    ARCHIVED = "archived"  # the reply reached the network; the case is closed


class PartState(StrEnum):
    """One sent part of a message, as its status report left it (no machine: the network decides)."""

    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookState(StrEnum):
    """One event on its way to one endpoint (no machine: pending until posted or given up; a retry by hand
    makes it pending again)."""

    PENDING = "pending"  # waiting for its next attempt
    DELIVERED = "delivered"  # the endpoint answered 2xx
    FAILED = "failed"  # no 2xx within 24 hours of retries


O, B, C, F = OutboundState, BroadcastState, CaseStatus, FlowStage  # noqa: E741  (short names keep the tables readable)

OUTBOUND_TRANSITIONS: dict[OutboundState, frozenset[OutboundState]] = {
    O.PENDING: frozenset({O.SENDING, O.FAILED, O.CANCELLED}),  # claim; expire; cancel (one, or its broadcast)
    O.SENDING: frozenset({O.SENT, O.FAILED, O.PENDING}),  # modem took it; gave up; retry, release, crash recovery
    O.SENT: frozenset({O.DELIVERED, O.FAILED}),  # status reports
    O.DELIVERED: frozenset({O.FAILED}),  # a later final report for a part says undeliverable
    O.FAILED: frozenset({O.PENDING, O.DELIVERED, O.SENT}),  # sent again by hand; a later report overturns it
    O.CANCELLED: frozenset(),
}

BROADCAST_TRANSITIONS: dict[BroadcastState, frozenset[BroadcastState]] = {
    B.DRAFT: frozenset({B.PENDING, B.CANCELLED}),  # submit; cancel
    B.PENDING: frozenset({B.APPROVED, B.REJECTED, B.DRAFT, B.CANCELLED}),  # approve; reject; edit; cancel
    B.APPROVED: frozenset({B.SENDING, B.CANCELLED}),  # its time came (queue); cancel
    B.REJECTED: frozenset({B.DRAFT}),  # edit, to submit again
    B.SENDING: frozenset({B.DONE, B.CANCELLED}),  # nothing left to send; cancel, or text changed after approval
    B.DONE: frozenset({B.SENDING}),  # failed recipients retried
    B.CANCELLED: frozenset(),
}

CASE_TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    C.OPEN: frozenset({C.ANSWERED, C.CLOSED}),  # a reply reached the network; closed by an official
    C.ANSWERED: frozenset({C.OPEN, C.CLOSED}),  # every reply failed, or reopened; closed
    C.CLOSED: frozenset({C.OPEN}),  # reopened
}

FLOW_TRANSITIONS: dict[FlowStage, frozenset[FlowStage]] = {
    F.VERIFY: frozenset({F.ASSIGNED, F.REJECTED}),  # verified and given to an agency's operator; spam, duplicate
    F.REJECTED: frozenset(),
    # the operator answered (a re-assignment to another agency or operator is a new step, not a move)
    F.ASSIGNED: frozenset({F.REVIEW}),
    F.REVIEW: frozenset({F.APPROVED, F.ASSIGNED}),  # approved (reply queued); returned to the operator with a note
    F.APPROVED: frozenset({F.ARCHIVED, F.REVIEW}),  # the reply reached the network; it failed for good
    F.ARCHIVED: frozenset(),
}

#: the machines, by their state type: a name for messages and the transition table
MACHINES: dict[type, tuple[str, Mapping]] = {
    OutboundState: ("outbound message", OUTBOUND_TRANSITIONS),
    BroadcastState: ("broadcast", BROADCAST_TRANSITIONS),
    CaseStatus: ("case", CASE_TRANSITIONS),
    FlowStage: ("verified case flow", FLOW_TRANSITIONS),
}

#: where a new row starts (the column default in modemd.store.models)
INITIAL = {OutboundState: O.PENDING, BroadcastState: B.DRAFT, CaseStatus: C.OPEN, FlowStage: F.VERIFY}

S = TypeVar("S", OutboundState, BroadcastState, CaseStatus, FlowStage)


class TransitionError(ValueError):
    """A move the transition table does not allow; the message names the machine and both states."""

    def __init__(self, machine: str, current: str, new: str, allowed: frozenset):
        names = ", ".join(sorted(allowed)) or "nothing (it is final)"
        super().__init__(f"a {machine} cannot go from {current} to {new} (from {current} it may go to {names})")
        self.machine, self.current, self.new = machine, current, new


def allowed(current: S | str, new: S) -> bool:
    """Whether the table lets a row in ``current`` (a member or the stored word) move to ``new``."""
    kind = type(new)
    table = MACHINES[kind][1]
    try:
        return new in table[kind(current)]
    except ValueError:  # not a word of this machine
        return False


def check(current: S | str, new: S) -> S:
    """Return ``new`` when the table allows the move from ``current``; else raise :class:`TransitionError`."""
    if not allowed(current, new):
        kind = type(new)
        machine, table = MACHINES[kind]
        valid = current in kind.__members__.values()
        raise TransitionError(machine, str(current), str(new), table[kind(current)] if valid else frozenset())
    return new


def sources(new: S) -> tuple[S, ...]:
    """The states from which the table allows a move to ``new`` (for an UPDATE's ``WHERE state IN``)."""
    table = MACHINES[type(new)][1]
    return tuple(state for state in table if new in table[state])


def words(kind: type[StrEnum]) -> tuple[str, ...]:
    """The stored words of a state type, in declaration order (for CHECK constraints and choices)."""
    return tuple(member.value for member in kind)


# --------------------------------------------------------------------------
# Drawing (docs/architecture-states.md is generated from these)


def mermaid(kind: type[S]) -> str:
    """The machine as a Mermaid ``stateDiagram-v2`` block (without the fences)."""
    table = MACHINES[kind][1]
    lines = ["stateDiagram-v2", f"    [*] --> {INITIAL[kind]}"]
    for state in kind:
        for target in sorted(table[state]):
            lines.append(f"    {state} --> {target}")
        if not table[state]:
            lines.append(f"    {state} --> [*]")
    return "\n".join(lines)


def markdown_table(kind: type[S]) -> str:
    """The machine as a plain Markdown table: each state and where it may go."""
    table = MACHINES[kind][1]
    lines = ["| from | may go to |", "|---|---|"]
    for state in kind:
        lines.append(f"| `{state}` | {', '.join(f'`{t}`' for t in sorted(table[state])) or '(final)'} |")
    return "\n".join(lines)


def document() -> str:
    """The whole of docs/architecture-states.md."""
    parts = [
        "# State machines",
        "",
        "Generated from the transition tables in `modemd/states.py` by",
        "`python -m modemd.states > docs/architecture-states.md`; `tests/test_states.py` fails",
        "when this file and the tables disagree. Edit the tables, then regenerate.",
        "",
        "Every state change in modemd/ and webui/ goes through `states.check` (or an UPDATE",
        "guarded by `states.sources`), so a move not drawn here is refused, and a test logs",
        "the moves the real flows make and compares them with these tables.",
    ]
    for kind in MACHINES:
        parts += [
            "",
            f"## {MACHINES[kind][0].capitalize()} (`{kind.__name__}`)",
            "",
            "```mermaid",
            mermaid(kind),
            "```",
            "",
            markdown_table(kind),
        ]
    return "\n".join(parts) + "\n"


if __name__ == "__main__":  # regenerate the document: python -m modemd.states > docs/architecture-states.md
    print(document(), end="")
