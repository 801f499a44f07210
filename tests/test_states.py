"""The state machines (modemd/states.py): the tables refuse forbidden moves, the code makes
exactly the moves the tables list, and docs/architecture-states.md is drawn from the tables.

"Exactly" is measured from outside the code: SQLite triggers log every change of a state column
while the real flows run (web UI, queue, claim, worker outcomes, status reports, broadcasts), and
the logged moves must equal the tables' moves: none missing from a table, none listed but never made.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from webfixtures import *  # noqa: F401,F403

from modemd import states
from modemd.config import Config
from modemd.drivers.base import StatusReport
from modemd.jobs import broadcasts
from modemd.jobs.broadcasts import BroadcastError
from modemd.send import outbound, outqueue, status_reports
from modemd.send.outbound import Eligibility
from modemd.states import BroadcastState, CaseStatus, OutboundState, TransitionError
from modemd.store.models import (
    BROADCAST_STATES,
    CASE_STATUSES,
    OUTBOUND_STATES,
    Broadcast,
    Case,
    Contact,
    ContactGroup,
    GroupMember,
    OutboundMessage,
    OutboundPart,
    database_proxy,
    utcnow,
)

DEFAULTS = Config.defaults()  # the schema's settings, no file

DOC = Path(__file__).resolve().parent.parent / "docs" / "architecture-states.md"
MACHINE_OF = {"outbound": OutboundState, "broadcast": BroadcastState, "case": CaseStatus}


# --------------------------------------------------------------------------
# The tables


def test_states_are_the_stored_words_and_the_check_constraints_keep_them():
    assert OutboundState.SENT == "sent" and isinstance(OutboundState.SENT, str) and f"{OutboundState.SENT}" == "sent"
    assert OUTBOUND_STATES == ("pending", "sending", "sent", "delivered", "failed", "cancelled")
    assert BROADCAST_STATES == ("draft", "pending", "approved", "rejected", "sending", "done", "cancelled")
    assert CASE_STATUSES == ("open", "answered", "closed")
    # a new row starts where the drawing's [*] arrow points
    assert (OutboundMessage.state.default, Broadcast.state.default, Case.status.default) == (
        states.INITIAL[OutboundState],
        states.INITIAL[BroadcastState],
        states.INITIAL[CaseStatus],
    )


@pytest.mark.parametrize(
    "current, new",
    [
        ("rejected", BroadcastState.APPROVED),
        ("cancelled", BroadcastState.SENDING),
        ("done", BroadcastState.CANCELLED),
        ("cancelled", OutboundState.SENT),
        ("cancelled", OutboundState.PENDING),
        ("pending", OutboundState.SENT),
        ("closed", CaseStatus.ANSWERED),
        ("open", CaseStatus.OPEN),
        ("lost", CaseStatus.OPEN),
        ("", OutboundState.SENT),
    ],
)
def test_a_forbidden_move_is_refused_naming_the_machine_and_both_states(current, new):
    assert not states.allowed(current, new)
    with pytest.raises(TransitionError, match=f"cannot go from {current} to {new}") as refused:
        states.check(current, new)
    assert (refused.value.current, refused.value.new) == (current, new)
    assert refused.value.machine in str(refused.value)


def test_an_allowed_move_returns_the_new_state():
    assert states.check("pending", BroadcastState.APPROVED) is BroadcastState.APPROVED
    assert states.check(OutboundState.SENDING, OutboundState.SENT) is OutboundState.SENT
    assert states.sources(CaseStatus.ANSWERED) == (CaseStatus.OPEN,)


def test_every_table_covers_its_states_and_names_only_its_own():
    for kind, (_name, table) in states.MACHINES.items():
        assert set(table) == set(kind)
        assert all(isinstance(target, kind) for targets in table.values() for target in targets)
        assert all(state not in table[state] for state in kind)  # staying put is not a move


def test_the_document_is_drawn_from_the_tables():
    """Regenerate with: python -m modemd.states > docs/architecture-states.md"""
    text = DOC.read_text(encoding="utf-8")
    assert text == states.document()
    assert text.count("```mermaid\nstateDiagram-v2") == 4
    assert "    rejected --> draft" in text and "| `cancelled` | (final) |" in text


# --------------------------------------------------------------------------
# Forbidden moves in the code


def _group(numbers: list[str]) -> ContactGroup:
    group = ContactGroup.create(name=f"Grup {ContactGroup.select().count()}")
    for number in numbers:
        GroupMember.create(group=group, contact=Contact.create(name=f"Kontak {number}", phone=number))
    return group


def _submitted(officials, group) -> Broadcast:
    bc = broadcasts.draft(officials["admin"], "Rapat koordinasi Senin 08.00.", groups=[group.id])
    return broadcasts.submit(bc, officials["admin"], DEFAULTS)


def _approve(bc, officials) -> Broadcast:
    return broadcasts.approve(bc, officials["ketua"], DEFAULTS, version=broadcasts.content_of(bc, DEFAULTS).version)


def test_approving_a_rejected_broadcast_is_refused_with_the_tables_reason(officials):
    bc = _submitted(officials, _group(["+6281311110001"]))
    bc = broadcasts.reject(bc, officials["ketua"], "tanggal salah")
    with pytest.raises(BroadcastError, match="cannot go from rejected to approved") as refused:
        _approve(bc, officials)
    assert refused.value.code == "wrong_state" and isinstance(refused.value.__cause__, TransitionError)
    assert Broadcast.get_by_id(bc.id).state == "rejected"
    with pytest.raises(BroadcastError, match="cannot go from rejected to rejected"):
        broadcasts.reject(bc, officials["ketua"], "lagi")


def test_sending_a_cancelled_message_is_refused_and_nothing_is_recorded(sqlite_db):
    message = outqueue.enqueue("081211112222", "jawaban", "manual", config=DEFAULTS)
    claimed = outbound.claim("pc", Eligibility.build("sim1", ["sim1"], None))
    OutboundMessage.update(state="cancelled").where(OutboundMessage.id == message.id).execute()
    claimed.state = OutboundMessage.get_by_id(message.id).state
    with pytest.raises(TransitionError, match="cannot go from cancelled to sent"):
        outbound.record_sent(claimed, "sim1", [5])
    assert OutboundMessage.get_by_id(message.id).state == "cancelled"
    assert OutboundPart.select().count() == 0


def test_a_sent_reply_does_not_answer_a_closed_case(officials, make_case):
    case = make_case("INFO")
    Case.update(status="closed").where(Case.id == case.id).execute()
    from modemd.cases import answers

    answers.reply_sent(case.id, utcnow())
    assert Case.get_by_id(case.id).status == "closed"
    with pytest.raises(TransitionError, match="a case cannot go from closed to answered"):
        states.check(Case.get_by_id(case.id).status, CaseStatus.ANSWERED)


# --------------------------------------------------------------------------
# Every move the code makes is in the table, and every move in the table is made


def _log_moves() -> None:
    """SQLite triggers: each change of a state column becomes a row (machine, old, new)."""
    db = database_proxy.obj
    db.execute_sql("CREATE TABLE moves (machine TEXT, old TEXT, new TEXT)")
    for machine, table, column in (
        ("outbound", "outbound_message", "state"),
        ("broadcast", "broadcast", "state"),
        ("case", '"case"', "status"),
    ):
        db.execute_sql(
            f"CREATE TRIGGER moves_{machine} AFTER UPDATE OF {column} ON {table} "
            f"WHEN OLD.{column} <> NEW.{column} "
            f"BEGIN INSERT INTO moves VALUES ('{machine}', OLD.{column}, NEW.{column}); END"
        )


def _moves() -> set[tuple[str, str, str]]:
    return set(database_proxy.obj.execute_sql("SELECT machine, old, new FROM moves").fetchall())


def _claim() -> OutboundMessage:
    claimed = outbound.claim("pc", Eligibility.build("sim1", ["sim1"], None))
    assert claimed is not None
    return claimed


def _report(recipient: str, reference: int, delivered: bool) -> None:
    status_reports.handle(
        "sim1",
        StatusReport(
            reference=reference,
            recipient=recipient,
            delivered=delivered,
            final=True,
            status_code=0 if delivered else 0x41,
        ),
    )


def test_the_flows_make_exactly_the_moves_the_tables_list(client, auth, make_case, officials, web_config):
    _log_moves()

    # a message: retried after a temporary error, sent in two parts, reported delivered, failed, delivered
    first = outqueue.enqueue("081211110001", "dua bagian", "manual", config=DEFAULTS)
    outbound.record_failure(_claim(), "+CMS ERROR: 38", permanent=False, retry_now=True, config=web_config)
    outbound.record_sent(_claim(), "sim1", [1, 2])
    _report("+6281211110001", 1, True)
    _report("+6281211110001", 2, True)
    _report("+6281211110001", 2, False)  # a later final report for part 2 says undeliverable
    _report("+6281211110001", 2, True)
    assert OutboundMessage.get_by_id(first.id).state == "delivered"
    # a message whose failed part is later reported delivered while the other still waits: sent again
    second = outqueue.enqueue("081211110002", "dua bagian", "manual", config=DEFAULTS)
    outbound.record_sent(_claim(), "sim1", [3, 4])
    _report("+6281211110002", 3, False)
    _report("+6281211110002", 3, True)
    assert OutboundMessage.get_by_id(second.id).state == "sent"
    # given up, sent again by the admin, then cancelled by the admin
    third = outqueue.enqueue("081211110003", "gagal", "manual", config=DEFAULTS)
    outbound.record_failure(_claim(), "+CMS ERROR: 1", permanent=True, code=1, config=web_config)
    auth.login("admin")
    assert client.post(f"/outbox/{third.id}/retry").status_code == 302
    assert client.post(f"/outbox/{third.id}/cancel").status_code == 302
    auth.logout()
    assert OutboundMessage.get_by_id(third.id).state == "cancelled"
    # expired unsent; released; left in sending by a crash
    fourth = outqueue.enqueue("081211110004", "terlambat", "manual", config=DEFAULTS)
    OutboundMessage.update(expires_at=utcnow()).where(OutboundMessage.id == fourth.id).execute()
    assert outbound.expire(utcnow()) == 1
    fifth = outqueue.enqueue("081211110005", "dilepas", "manual", config=DEFAULTS)
    outbound.release(_claim())
    _claim()
    assert outbound.recover("pc") == 1
    outbound.record_sent(_claim(), "sim1", [5])
    assert OutboundMessage.get_by_id(fifth.id).state == "sent"

    # broadcasts: cancelled as a draft; edited while pending and after a rejection; cancelled while pending
    group = _group(["+6281311110001", "+6281311110002"])
    broadcasts.cancel(broadcasts.draft(officials["admin"], "Draf saja.", groups=[group.id]), officials["admin"])
    bc = _submitted(officials, group)
    bc = broadcasts.submit(
        broadcasts.edit(bc, officials["admin"], text="Rapat Selasa 08.00."), officials["admin"], DEFAULTS
    )
    bc = broadcasts.reject(bc, officials["ketua"], "tanggal salah")
    bc = broadcasts.submit(
        broadcasts.edit(bc, officials["admin"], text="Rapat Rabu 08.00."), officials["admin"], DEFAULTS
    )
    broadcasts.cancel(bc, officials["ketua"])
    broadcasts.cancel(_approve(_submitted(officials, group), officials), officials["admin"])  # approved, cancelled
    # approved, sent (every recipient fails), done, failed ones retried, cancelled while sending
    bc = _approve(_submitted(officials, group), officials)
    assert broadcasts.queue_broadcast(bc.id, DEFAULTS) == 2
    for _ in range(2):
        outbound.record_failure(_claim(), "+CMS ERROR: 1", permanent=True, code=1, config=web_config)
    assert broadcasts.finish() == [bc.id]
    assert broadcasts.retry_failed(bc, officials["admin"], DEFAULTS) == 2
    assert broadcasts.cancel(bc, officials["admin"]) == 2
    assert Broadcast.get_by_id(bc.id).state == "cancelled"

    # a case: answered by a sent reply, open again when the network reports it undelivered, closed, reopened,
    # answered again and closed
    case = make_case("INFO")
    auth.login("humas")
    assert client.post(f"/cases/{case.id}/reply", data={"text": "Segera kami tangani."}).status_code == 302
    outbound.record_sent(_claim(), "sim1", [9])
    assert Case.get_by_id(case.id).status == "answered"
    _report(case.citizen, 9, False)
    assert Case.get_by_id(case.id).status == "open"
    assert client.post(f"/cases/{case.id}/close").status_code == 302
    assert client.post(f"/cases/{case.id}/reopen").status_code == 302
    assert client.post(f"/cases/{case.id}/reply", data={"text": "Sudah kami perbaiki."}).status_code == 302
    outbound.record_sent(_claim(), "sim1", [10])
    assert client.post(f"/cases/{case.id}/close").status_code == 302
    auth.logout()
    assert Case.get_by_id(case.id).status == "closed"

    made = _moves()
    listed = {
        (machine, str(old), str(new))
        for machine, kind in MACHINE_OF.items()
        for old, targets in states.MACHINES[kind][1].items()
        for new in targets
    }
    assert made - listed == set(), "moves the code made that the tables do not list"
    assert listed - made == set(), "moves the tables list that no flow made"
