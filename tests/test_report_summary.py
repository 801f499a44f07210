"""The report summary (report_hour, report_answer) equals a recount from the SMS, cases and replies after every kind of change.

The recount here is plain Python over ``SELECT *`` of the three tables, the
counting rules of :mod:`modemd.reports.figures` applied row by row.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from datetime import datetime, timedelta

from cli_run import modemd

from modemd.cases import answers
from modemd.store import db as db_module
from modemd.store import migrations, report_summary
from modemd.store.models import (
    Case,
    InboundMessage,
    OutboundMessage,
    ReportAnswer,
    ReportHour,
    User,
    database_proxy,
)

START = datetime(2025, 3, 1, 6, 30)
BOUNDS = report_summary.ANSWER_BOUNDS


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _segment(case: Case | None, message_keyword: str | None = None) -> tuple:
    if case is None:
        return (message_keyword or "", "", "", 0)
    return (case.keyword or "", case.category or "", case.flow or "", case.owner_id or 0)


def recount() -> tuple[dict[tuple, dict[str, int]], dict[tuple, datetime | None]]:
    """Per (hour, segment): the counts, and the latest time a case of it may change class."""
    counts: dict[tuple, dict[str, int]] = defaultdict(lambda: dict.fromkeys(report_summary.COUNTS, 0))
    settle: dict[tuple, datetime | None] = {}
    cases = {case.id: case for case in Case.select()}
    for case in cases.values():
        key = (_hour(case.opened_at), *_segment(case))
        line = counts[key]
        line["opened"] += 1
        answered = case.answered_at is not None
        waiting = not answered and case.status != "closed"
        line["answered"] += answered
        line["within"] += answered and case.answered_at <= case.deadline_at
        line["late"] += (answered and case.answered_at > case.deadline_at) or waiting
        line["still_open"] += waiting
        if answered:
            took = round((case.answered_at - case.opened_at).total_seconds())
            index = next((n for n, bound in enumerate(BOUNDS) if took < bound), len(BOUNDS))
            line[f"class{index}"] += 1
        moment = case.answered_at if answered else (case.deadline_at if waiting else None)
        if moment is not None and (settle.get(key) is None or moment > settle[key]):
            settle[key] = moment
    for message in InboundMessage.select():
        case = cases.get(message.case_id)
        counts[(_hour(message.received_at), *_segment(case, message.keyword))]["received"] += 1
    for reply in OutboundMessage.select().where(OutboundMessage.case.is_null(False)):
        if reply.kind == "reply" and reply.state == "failed":
            counts[(_hour(reply.created_at), *_segment(cases[reply.case_id]))]["replies_failed"] += 1
    return {key: line for key, line in counts.items() if any(line.values())}, settle


def stored() -> dict[tuple, ReportHour]:
    rows = {}
    for row in ReportHour.select():
        values = {name: getattr(row, name) for name in report_summary.COUNTS}
        if any(values.values()):
            rows[(row.hour, row.keyword, row.category, row.flow, row.owner)] = row
    return rows


def assert_summary_is_recount() -> None:
    expected, settle = recount()
    found = stored()
    assert ReportHour.select().count() == len(found), "a row with nothing counted was left behind"
    assert {key: {n: getattr(row, n) for n in report_summary.COUNTS} for key, row in found.items()} == expected
    for key, moment in settle.items():  # an upper bound: a row's cases never change class after it
        assert found[key].settle_max is not None and found[key].settle_max >= moment, key
    answers_now = {
        case.id: (
            round((case.answered_at - case.opened_at).total_seconds()),
            case.opened_at,
            case.answered_at,
            *_segment(case),
        )
        for case in Case.select().where(Case.answered_at.is_null(False))
    }
    kept = {
        row.case_id: (row.seconds, row.opened_at, row.answered_at, row.keyword, row.category, row.flow, row.owner)
        for row in ReportAnswer.select()
    }
    assert kept == answers_now


def _sms(citizen: str, when: datetime, **fields) -> InboundMessage:
    return InboundMessage.create(
        modem="m1", sender_raw=citizen, sender=citizen, text="jalan rusak", received_at=when, **fields
    )


def _route(when: datetime, keyword: str, citizen: str, owner: User | None, category: str | None = None) -> Case:
    """What routing writes: the SMS first, then its case, then the SMS's route."""
    message = _sms(citizen, when, route="new")
    case = Case.create(
        keyword=keyword,
        citizen=citizen,
        owner=owner,
        category=category,
        opened_at=when,
        deadline_at=when + timedelta(hours=3),
        last_message_at=when,
    )
    InboundMessage.update(case=case, keyword=keyword, route="new").where(InboundMessage.id == message.id).execute()
    return case


def _reply(case: Case, when: datetime, state: str) -> OutboundMessage:
    return OutboundMessage.create(
        recipient=case.citizen, text="jawaban", kind="reply", state=state, created_at=when, case=case
    )


def test_every_kind_of_change_keeps_the_summary_equal_to_a_recount(any_db, make_user):
    dishub, dinkes = make_user("dishub"), make_user("dinkes")
    first = _route(START, "DISHUB", "+6281200000001", dishub, "complaint")
    second = _route(START + timedelta(minutes=40), "DINKES", "+6281200000002", dinkes)
    _sms(first.citizen, START + timedelta(hours=1), route="case", keyword="DISHUB", case=first)  # in the next hour
    _sms("+6281200000009", START + timedelta(minutes=5), route="unrouted")
    assert_summary_is_recount()

    reply = _reply(first, START + timedelta(hours=2), "sent")  # an answer, within the deadline
    answers.reply_sent(first.id, START + timedelta(hours=2))
    assert_summary_is_recount()

    late = _reply(second, START + timedelta(hours=5), "failed")  # a reply that failed for good
    answers.replies_failed([second.id], START + timedelta(hours=5))
    assert_summary_is_recount()
    OutboundMessage.update(state="failed").where(OutboundMessage.id == reply.id).execute()
    answers.replies_failed([first.id], START + timedelta(hours=6))
    assert_summary_is_recount()

    # re-assigned to another keyword and owner: its SMS and its failed reply move with it
    Case.update(keyword="DINKES", owner=dinkes).where(Case.id == first.id).execute()
    assert_summary_is_recount()
    Case.update(category="question").where(Case.id == second.id).execute()
    assert_summary_is_recount()
    Case.update(status="closed", closed_at=START + timedelta(days=1)).where(Case.id == second.id).execute()
    assert_summary_is_recount()
    OutboundMessage.update(state="pending").where(OutboundMessage.id == late.id).execute()  # retried
    assert_summary_is_recount()
    Case.update(keyword="KESEHATAN").where(Case.keyword == "DINKES").execute()  # a keyword renamed: every case moves
    assert_summary_is_recount()
    answers.reply_sent(first.id, START + timedelta(days=4))  # answered after days: another answer-time class
    assert_summary_is_recount()


def test_a_rebuild_counts_what_the_triggers_kept(any_db, make_user):
    owner = make_user("dishub")
    for n in range(6):
        case = _route(START + timedelta(hours=n * 7), "DISHUB" if n % 2 else "INFO", f"+62812000000{n:02d}", owner)
        if n % 3:
            _reply(case, case.opened_at + timedelta(hours=n), "failed" if n == 4 else "sent")
            answers.reply_sent(case.id, case.opened_at + timedelta(hours=n))
    kept = {key: {n: getattr(row, n) for n in report_summary.COUNTS} for key, row in stored().items()}
    with database_proxy.atomic():
        report_summary.rebuild(any_db)
    assert {key: {n: getattr(row, n) for n in report_summary.COUNTS} for key, row in stored().items()} == kept
    assert_summary_is_recount()


def test_v13_to_v14_counts_the_existing_rows(any_db, make_user):
    owner = make_user("dishub")
    for n in range(5):
        case = _route(START + timedelta(hours=n * 5), "DISHUB", f"+62812000001{n:02d}", owner, "complaint")
        if n % 2:
            _reply(case, case.opened_at + timedelta(minutes=50 * n), "failed")
            Case.update(answered_at=case.opened_at + timedelta(minutes=50 * n)).where(Case.id == case.id).execute()
    # the database as v13 left it: no summary table, no trigger
    report_summary.drop_triggers(any_db)
    any_db.drop_tables([ReportHour, ReportAnswer])
    for table, index in (
        ("inbound_message", "inbound_message_sender_kind_sender_received_at_case_id"),
        ("case", "case_keyword_flow"),
        ("case", "case_owner_id_keyword_flow"),
    ):
        any_db.execute_sql(f"DROP INDEX {index}" + (f" ON `{table}`" if migrations.dialect(any_db) == "mysql" else ""))
    with database_proxy.atomic():
        migrations._v13_to_v14(any_db, migrations._migrator(any_db))
    assert stored()
    assert_summary_is_recount()
    _route(START + timedelta(days=2), "INFO", "+6281200000200", None)  # and the triggers keep it from now on
    assert_summary_is_recount()
    assert math.isclose(sum(row.received for row in ReportHour.select()), InboundMessage.select().count())


def test_modemd_reports_rebuild_counts_a_damaged_summary_again(write_config, tmp_path):
    config = write_config()
    database = db_module.open_database(f"sqlite:///{tmp_path / 'modemd.db'}")
    migrations.upgrade(database)
    case = _route(START, "INFO", "+6281200000300", None)
    _reply(case, START + timedelta(hours=1), "failed")
    Case.update(answered_at=START + timedelta(minutes=20)).where(Case.id == case.id).execute()
    ReportHour.update(received=ReportHour.received + 5, opened=0).execute()  # as a case deleted by hand leaves it
    ReportAnswer.delete().execute()
    done = modemd(config, "reports", "rebuild", "--json")
    assert json.loads(done.stdout) == {"rows": ReportHour.select().count()}
    assert_summary_is_recount()
    database.close()
