"""Reminders of verified-flow steps past their due time (modemd/jobs/flow_reminders.py): once per step and person."""

from __future__ import annotations

from datetime import datetime

import pytest

from modemd.cases import flow
from modemd.jobs import flow_reminders, notifications
from modemd.store.models import Case, CaseStep, OutboundMessage
from tests.daemonharness import Conversation
from tests.test_flow import VERIFIED_KEYWORDS

DUE = datetime(2026, 11, 23, 3, 0)  # Monday 10.00 WIB, in office hours
NOW = datetime(2026, 11, 23, 3, 5)


@pytest.fixture
def people(officials, make_user):
    return {
        **officials,
        "op_dishub": make_user("op_dishub", "operator", phone_number="081200000021"),
        "admin2": make_user("admin2", "admin", phone_number="081200000019"),
    }


@pytest.fixture
def chat(people, write_config):
    return Conversation(write_config("[web]\nbase_url = http://sms.pemkab.local\n", keywords=VERIFIED_KEYWORDS))


def overdue(case: Case) -> None:
    """Make the case's running step due at DUE."""
    CaseStep.update(due_at=DUE).where(CaseStep.case == case.id, CaseStep.left_at.is_null()).execute()


def notifications_to(number: str) -> list[str]:
    return [
        m.text
        for m in OutboundMessage.select()
        .where(OutboundMessage.kind == "notification", OutboundMessage.recipient == number)
        .order_by(OutboundMessage.id)
    ]


def test_a_case_waiting_for_verification_reminds_every_admin_once(chat, people):
    chat.receive("081211112222", "DISHUB lampu mati")
    case = chat.last.case
    overdue(case)
    assert flow_reminders.remind(datetime(2026, 11, 23, 2, 59), chat.config).queued == []  # not due yet
    outcome = flow_reminders.remind(NOW, chat.config)
    assert len(outcome.queued) == 2
    text = (
        f"Laporan #{case.id} (DISHUB) menunggu verifikasi, batas 23/11 10.00 lewat. "
        f"Buka http://sms.pemkab.local/cases/{case.id}"
    )
    assert notifications_to("+6281200000009") == [text] and notifications_to("+6281200000019") == [text]
    assert notifications_to("+6281200000021") == []  # no operator hears of an unverified case
    assert flow_reminders.remind(NOW, chat.config).queued == []  # once


def test_a_case_at_the_agency_reminds_its_operator_and_a_returned_answer_is_a_new_step(chat, people):
    chat.receive("081211112222", "DISHUB lampu mati")
    case = chat.last.case
    flow.verify(Case.get_by_id(case.id), people["admin"], "Dinas Perhubungan", people["op_dishub"], chat.config)
    overdue(case)
    assert len(flow_reminders.remind(NOW, chat.config).queued) == 1
    assert notifications_to("+6281200000021") == [
        f"Laporan #{case.id} (DISHUB) menunggu jawaban instansi, batas 23/11 10.00 lewat. "
        f"Buka http://sms.pemkab.local/cases/{case.id}"
    ]
    assert notifications_to("+6281200000009") == []
    flow.submit_answer(Case.get_by_id(case.id), people["op_dishub"], "Sudah.", chat.config)
    flow.return_answer(Case.get_by_id(case.id), people["admin"], "Kapan?", chat.config)
    overdue(case)
    assert len(flow_reminders.remind(NOW, chat.config).queued) == 1
    assert len(notifications_to("+6281200000021")) == 2


def test_no_reminder_outside_office_hours_or_when_alerts_are_off(chat, people, write_config):
    chat.receive("081211112222", "DISHUB lampu mati")
    overdue(chat.last.case)
    sunday = datetime(2026, 11, 22, 3, 5)
    assert flow_reminders.remind(sunday, chat.config).skipped == "outside office hours"
    off = Conversation(write_config("[notify]\ndeadline_alert = no\n", keywords=VERIFIED_KEYWORDS)).config
    assert flow_reminders.remind(NOW, off).skipped == "disabled"
    # the catch-up pass at start-up runs it too
    outcomes = {o.job: o for o in notifications.run_all(NOW, chat.config, None)}
    assert len(outcomes["flow_step"].queued) == 2
