"""Muara Enim's verified complaint flow (modemd/cases/flow.py) through the real router, queue and sending code."""

from __future__ import annotations

import pytest

from modemd.cases import flow
from modemd.cases.flow import FlowError
from modemd.config import Config
from modemd.send import outbound
from modemd.send.outbound import Eligibility
from modemd.states import CaseStatus, FlowStage
from modemd.store.models import AuditLog, Case, CaseStep, OutboundMessage, utcnow
from tests.daemonharness import Conversation
from webui.replies import send_reply

CITIZEN = "081211112222"
VERIFIED_KEYWORDS = """
[INFO]
owner = humas
reply = Terima kasih. Pesan Anda tercatat dengan nomor #{case}.

[DISHUB]
owner = dishub
agency = Dinas Perhubungan
flow = verified
reply = Laporan #{case} diterima dan akan diverifikasi.

[DINKES]
owner = dinkes
agency = Dinas Kesehatan
flow = verified
reply = Terima kasih, laporan Anda kami terima.
"""


@pytest.fixture
def people(officials, make_user):
    return {
        **officials,
        "op_dishub": make_user("op_dishub", "operator", phone_number="081200000021", sender_id="DISHUB"),
        "op_dinkes": make_user("op_dinkes", "operator", phone_number="081200000022", sender_id="DINKES"),
    }


@pytest.fixture
def chat(people, write_config):
    return Conversation(write_config(keywords=VERIFIED_KEYWORDS))


def config_of(chat) -> Config:
    return chat.config


def send_out(chat) -> list[OutboundMessage]:
    """Let the (simulated) modem take every queued SMS: each reaches the network."""
    sent = []
    reference = 1 + OutboundMessage.select().count()
    while (claimed := outbound.claim("pc", Eligibility.build("sim1", ["sim1"], None))) is not None:
        outbound.record_sent(claimed, "sim1", [reference])
        reference += 1
        sent.append(claimed)
    return sent


def fail_the_reply(config: Config) -> None:
    """The modem sends the queued acknowledgements; the approved reply fails for good."""
    claimed = outbound.claim("pc", Eligibility.build("sim1", ["sim1"], None))
    while claimed is not None and claimed.kind != "reply":
        outbound.record_sent(claimed, "sim1", [claimed.id])
        claimed = outbound.claim("pc", Eligibility.build("sim1", ["sim1"], None))
    assert claimed is not None, "no reply was queued"
    outbound.record_failure(claimed, "+CMS ERROR: 1", permanent=True, code=1, config=config)


def fresh(case: Case) -> Case:
    return Case.get_by_id(case.id)


def opened(chat, text: str = "DISHUB lampu merah mati di Jl. Merdeka") -> Case:
    chat.receive(CITIZEN, text)
    assert chat.last.case is not None
    return fresh(chat.last.case)


def test_a_verified_keyword_opens_the_case_in_the_admins_queue_owned_by_no_one(chat):
    chat.run("""
        0812 1111 2222 > DISHUB lampu merah mati
        0812 1111 2222 < Laporan #{case} diterima dan akan diverifikasi.
    """)
    case = fresh(chat.last.case)
    assert (case.flow, case.stage, case.agency, case.owner_id) == ("verified", "verify", "Dinas Perhubungan", None)
    assert case.status == CaseStatus.OPEN
    due = (case.stage_due_at - case.opened_at).total_seconds()
    assert abs(due - chat.config.notify.verify_within) < 2
    (step,) = flow.history(case)
    assert (step.stage, step.actor, step.left_at, step.agency) == ("verify", "daemon", None, "Dinas Perhubungan")


def test_the_acknowledgement_carries_the_case_number_even_when_the_reply_text_has_none(chat):
    chat.run("""
        0812 1111 2222 > DINKES puskesmas tutup
        0812 1111 2222 < Terima kasih, laporan Anda kami terima. No. laporan #{case}.
    """)


def test_the_whole_flow_from_verification_to_archive_with_who_and_when(chat, people):
    case = opened(chat)
    config = config_of(chat)
    flow.verify(case, people["admin"], "Dinas Perhubungan", people["op_dishub"], config)
    case = fresh(case)
    assert (case.stage, case.owner_id) == ("assigned", people["op_dishub"].id)
    flow.submit_answer(case, people["op_dishub"], "Lampu diperbaiki hari ini.", config)
    case = fresh(case)
    assert case.stage == "review" and case.status == "open"
    assert not OutboundMessage.select().where(OutboundMessage.kind == "reply").exists(), "nothing sent before approval"
    reply = flow.approve(case, people["admin"], config, send_reply)
    case = fresh(case)
    # approved and queued is not answered: only the network taking it is
    assert (case.stage, case.status, case.answered_at) == ("approved", "open", None)
    assert reply.text == "Lampu diperbaiki hari ini. -DISHUB"  # the operator's sender ID, as for any reply
    send_out(chat)
    case = fresh(case)
    assert (case.stage, case.status) == ("archived", "closed")
    assert case.answered_at is not None and case.closed_at is not None
    steps = flow.history(case)
    assert [(s.stage, s.actor) for s in steps] == [
        ("verify", "daemon"),
        ("assigned", "admin"),
        ("review", "op_dishub"),
        ("approved", "admin"),
        ("archived", "daemon"),
    ]
    assert all(s.left_at is not None and s.seconds is not None for s in steps[:-1])
    assert [s.left_by for s in steps[:-1]] == ["admin", "op_dishub", "admin", "daemon"]
    actions = [a.action for a in AuditLog.select().where(AuditLog.object_id == str(case.id)).order_by(AuditLog.id)]
    assert [a for a in actions if a.startswith("case.flow.")] == [
        "case.flow.assigned",
        "case.flow.review",
        "case.flow.approved",
        "case.flow.archived",
    ]
    assert "case.reply" in actions  # the approved answer was sent as a reply, by the operator's words


def test_a_returned_answer_goes_back_to_the_operator_with_the_note(chat, people):
    case = opened(chat)
    config = config_of(chat)
    flow.verify(case, people["admin"], "Dinas Perhubungan", people["op_dishub"], config)
    flow.submit_answer(fresh(case), people["op_dishub"], "Sudah.", config)
    with pytest.raises(FlowError, match="note_missing"):
        flow.return_answer(fresh(case), people["admin"], "  ", config)
    flow.return_answer(fresh(case), people["admin"], "Sebutkan kapan diperbaiki.", config)
    case = fresh(case)
    assert (case.stage, case.owner_id) == ("assigned", people["op_dishub"].id)
    assert flow.current_step(case).note == "Sebutkan kapan diperbaiki."
    flow.submit_answer(case, people["op_dishub"], "Diperbaiki Senin pagi.", config)
    assert flow.pending_answer(fresh(case)).note == "Diperbaiki Senin pagi."


def test_rejecting_needs_a_reason_and_a_kind_and_closes_the_case_without_sending(chat, people):
    case = opened(chat)
    config = config_of(chat)
    with pytest.raises(FlowError, match="reason_missing"):
        flow.reject(case, people["admin"], "spam", "   ", config)
    with pytest.raises(FlowError, match="reject_kind"):
        flow.reject(case, people["admin"], "boring", "iklan", config)
    assert fresh(case).stage == "verify"
    before = OutboundMessage.select().count()
    flow.reject(case, people["admin"], "duplicate", "sama dengan #1", config)
    case = fresh(case)
    assert (case.stage, case.status) == ("rejected", "closed") and case.closed_at is not None
    assert flow.current_step(case).note == "duplicate: sama dengan #1"
    assert OutboundMessage.select().count() == before
    with pytest.raises(FlowError, match="stage_rejected"):
        flow.verify(case, people["admin"], "Dinas Perhubungan", people["op_dishub"], config)


def test_approving_twice_sends_once(chat, people):
    case = opened(chat)
    config = config_of(chat)
    flow.verify(case, people["admin"], "Dinas Perhubungan", people["op_dishub"], config)
    flow.submit_answer(fresh(case), people["op_dishub"], "Sudah diperbaiki.", config)
    stale = fresh(case)  # a second browser tab with the page loaded before the first approval
    flow.approve(fresh(case), people["admin"], config, send_reply)
    with pytest.raises(FlowError, match="stage_approved"):
        flow.approve(stale, people["admin"], config, send_reply)
    assert OutboundMessage.select().where(OutboundMessage.kind == "reply").count() == 1


def test_nobody_approves_their_own_answer_and_operators_approve_nothing(chat, people, make_user):
    case = opened(chat)
    config = config_of(chat)
    flow.verify(case, people["admin"], "Dinas Perhubungan", people["op_dishub"], config)
    with pytest.raises(FlowError, match="admin_only"):
        flow.approve(fresh(case), people["op_dishub"], config, send_reply)
    flow.submit_answer(fresh(case), people["op_dishub"], "Sudah.", config)
    with pytest.raises(FlowError, match="admin_only"):
        flow.approve(fresh(case), people["op_dishub"], config, send_reply)
    # an admin who wrote the answer (the step's author) cannot approve it either
    step = flow.pending_answer(fresh(case))
    CaseStep.update(actor="admin").where(CaseStep.id == step.id).execute()
    with pytest.raises(FlowError, match="own_answer"):
        flow.approve(fresh(case), people["admin"], config, send_reply)
    assert fresh(case).stage == "review"


def test_only_the_cases_operator_answers_and_only_an_active_operator_is_chosen(chat, people, make_user):
    case = opened(chat)
    config = config_of(chat)
    with pytest.raises(FlowError, match="operator_unknown"):
        flow.verify(case, people["admin"], "Dinas Perhubungan", people["dishub"], config)  # an official
    idle = make_user("op_old", "operator")
    idle.active = False
    idle.save()
    with pytest.raises(FlowError, match="operator_unknown"):
        flow.verify(case, people["admin"], "Dinas Perhubungan", idle, config)
    with pytest.raises(FlowError, match="agency_missing"):
        flow.verify(case, people["admin"], "  ", people["op_dishub"], config)
    with pytest.raises(FlowError, match="not_your_case"):  # unverified: no operator holds it yet
        flow.submit_answer(case, people["op_dishub"], "Belum diverifikasi", config)
    flow.verify(case, people["admin"], "Dinas Perhubungan", people["op_dishub"], config)
    with pytest.raises(FlowError, match="not_your_case"):
        flow.submit_answer(fresh(case), people["op_dinkes"], "Bukan kasus saya", config)
    with pytest.raises(FlowError, match="answer_empty"):
        flow.submit_answer(fresh(case), people["op_dishub"], " \n ", config)


def test_an_operator_of_one_agency_is_not_given_another_agencys_case(chat, people, make_user):
    """Muara Enim Pasal 7 e: the central admin distributes to the agency's operator, not to any operator."""
    case = opened(chat)
    config = config_of(chat)
    tied = make_user("op_pu", "operator", agency="Dinas PUPR")
    with pytest.raises(FlowError, match="operator_other_agency"):
        flow.verify(case, people["admin"], "Dinas Perhubungan", tied, config)
    assert fresh(case).stage == "verify"
    flow.verify(case, people["admin"], "  Dinas   PUPR ", tied, config)  # the same name, spaced otherwise
    assert (fresh(case).agency, fresh(case).owner_id) == ("Dinas PUPR", tied.id)
    with pytest.raises(FlowError, match="operator_other_agency"):
        flow.reassign(fresh(case), people["admin"], "Dinas Kesehatan", tied, config)
    flow.reassign(fresh(case), people["admin"], "Dinas Kesehatan", people["op_dinkes"], config)  # serves any


def test_a_case_re_assigned_between_agencies_counts_each_agencys_time_apart(chat, people):
    case = opened(chat)
    config = config_of(chat)
    flow.verify(case, people["admin"], "Dinas Perhubungan", people["op_dishub"], config)
    with pytest.raises(FlowError, match="same_assignment"):
        flow.reassign(fresh(case), people["admin"], "Dinas Perhubungan", people["op_dishub"], config)
    flow.reassign(fresh(case), people["admin"], "Dinas Kesehatan", people["op_dinkes"], config)
    case = fresh(case)
    assert (case.stage, case.agency, case.owner_id) == ("assigned", "Dinas Kesehatan", people["op_dinkes"].id)
    with pytest.raises(FlowError, match="not_your_case"):
        flow.submit_answer(case, people["op_dishub"], "Masih saya?", config)
    flow.submit_answer(case, people["op_dinkes"], "Ditangani puskesmas.", config)
    steps = flow.history(fresh(case))
    assert [(s.stage, s.agency) for s in steps] == [
        ("verify", "Dinas Perhubungan"),
        ("assigned", "Dinas Perhubungan"),
        ("assigned", "Dinas Kesehatan"),
        ("review", "Dinas Kesehatan"),
    ]
    assert steps[1].left_by == "admin" and steps[1].seconds is not None


def test_a_failed_approved_reply_goes_back_to_the_admin_and_keeps_the_case_unanswered(chat, people):
    case = opened(chat)
    config = config_of(chat)
    flow.verify(case, people["admin"], "Dinas Perhubungan", people["op_dishub"], config)
    flow.submit_answer(fresh(case), people["op_dishub"], "Sudah.", config)
    flow.approve(fresh(case), people["admin"], config, send_reply)
    fail_the_reply(config)
    case = fresh(case)
    assert (case.stage, case.status, case.answered_at) == ("review", "open", None)
    assert case.reply_failed_at is not None
    assert flow.pending_answer(case).note == "Sudah."  # the admin can approve (send) it again
    flow.approve(case, people["admin"], config, send_reply)
    send_out(chat)
    assert fresh(case).stage == "archived"


def test_a_flow_changed_from_direct_to_verified_leaves_open_cases_in_their_flow(people, write_config):
    direct = VERIFIED_KEYWORDS.replace("flow = verified\nreply = Laporan", "flow = direct\nreply = Laporan")
    path = write_config(keywords=direct)
    chat = Conversation(path)
    chat.receive(CITIZEN, "DISHUB jalan berlubang")
    old = fresh(chat.last.case)
    assert (old.flow, old.stage, old.owner_id) == ("direct", None, people["dishub"].id)
    (path.parent / "keywords.ini").write_text(VERIFIED_KEYWORDS, encoding="utf-8")
    chat = Conversation(path)  # the daemon reloaded keywords.ini
    # the same citizen writes again: the open case goes on as it was
    chat.receive(CITIZEN, "DISHUB masih berlubang")
    assert chat.last.case.id == old.id
    again = fresh(old)
    assert (again.flow, again.stage, again.owner_id) == ("direct", None, people["dishub"].id)
    with pytest.raises(FlowError, match="not_verified_flow"):
        flow.verify(again, people["admin"], "Dinas Perhubungan", people["op_dishub"], chat.config)
    # the owner still answers it directly, and it is answered when sent
    send_reply(again, people["dishub"], "Sudah kami tambal.", chat.config)
    send_out(chat)
    assert fresh(old).status == "answered" and fresh(old).stage is None
    # another citizen's new case takes the new flow
    chat.receive("085712345678", "DISHUB lampu mati")
    assert (fresh(chat.last.case).flow, fresh(chat.last.case).stage) == ("verified", "verify")


def test_the_flow_moves_are_the_ones_the_table_lists(chat, people):
    """Every move the flows above make, logged by the stage column, is in FLOW_TRANSITIONS, and all are made."""
    from modemd.states import FLOW_TRANSITIONS

    made: set[tuple[str, str]] = set()
    config = config_of(chat)

    def moves(case):
        stages = [s.stage for s in flow.history(case)]
        made.update(zip(stages, stages[1:], strict=False))

    a = opened(chat)
    flow.reject(a, people["admin"], "spam", "iklan", config)
    moves(a)
    b = opened(chat, "DISHUB jalan rusak lagi")
    flow.verify(b, people["admin"], "Dinas Perhubungan", people["op_dishub"], config)
    flow.submit_answer(fresh(b), people["op_dishub"], "Satu.", config)
    flow.return_answer(fresh(b), people["admin"], "Lengkapi.", config)
    flow.submit_answer(fresh(b), people["op_dishub"], "Dua.", config)
    flow.approve(fresh(b), people["admin"], config, send_reply)
    fail_the_reply(config)
    flow.approve(fresh(b), people["admin"], config, send_reply)
    send_out(chat)
    moves(b)
    made.discard(("assigned", "assigned"))
    listed = {(str(old), str(new)) for old, targets in FLOW_TRANSITIONS.items() for new in targets}
    assert made == listed
    assert all(FlowStage(s) for pair in made for s in pair)


def test_due_times_follow_the_notify_settings(chat, people):
    case = opened(chat)
    config = config_of(chat)
    before = utcnow()
    flow.verify(case, people["admin"], "Dinas Perhubungan", people["op_dishub"], config)
    step = flow.current_step(fresh(case))
    assert abs((step.due_at - before).total_seconds() - config.notify.answer_within) < 5


def test_bad_flow_and_agency_values_in_keywords_ini_name_file_line_and_key(tmp_path):
    from modemd.receive.keywords import KeywordError, load_keywords

    path = tmp_path / "keywords.ini"
    path.write_text(
        "[DISHUB]\nowner = dishub\nflow = Verified\nagency =   Dinas   Perhubungan \n\n"
        "[DINKES]\nowner = dinkes\nflow = sideways\n\n"
        f"[INFO]\nowner = humas\nagency = {'x' * 129}\n",
        encoding="utf-8",
    )
    with pytest.raises(KeywordError) as bad:
        load_keywords(path)
    problems = {(p.section, p.key): p for p in bad.value.problems}
    assert set(problems) == {("DINKES", "flow"), ("INFO", "agency")}
    assert str(problems[("DINKES", "flow")]) == (
        f"{path}:8: error: [DINKES] flow: unknown flow 'sideways' (expected one of: direct, verified)"
    )
    assert problems[("INFO", "agency")].line == 12 and "at most 128 characters" in str(problems[("INFO", "agency")])
    collected: list = []
    table = load_keywords(path, collected)
    dishub = table.find("DISHUB")
    assert (dishub.flow, dishub.agency) == ("verified", "Dinas Perhubungan")  # any case; spaces tidied
    assert table.find("INFO") is None and table.agencies() == ["Dinas Perhubungan"]


def test_a_keyword_without_flow_or_agency_is_direct_with_no_agency(tmp_path):
    from modemd.receive.keywords import load_keywords

    path = tmp_path / "keywords.ini"
    path.write_text("[INFO]\nowner = humas\n", encoding="utf-8")
    info = load_keywords(path).find("INFO")
    assert (info.flow, info.agency) == ("direct", "")
