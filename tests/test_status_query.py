"""Citizens follow their case: "CEK 123" through the real router, as conversations (modemd/receive/status_query.py)."""

from __future__ import annotations

import pytest

from modemd import checks
from modemd.cases import flow
from modemd.receive import status_query
from modemd.store.models import Case, InboundMessage, OutboundMessage
from tests.daemonharness import Conversation
from tests.test_daemon import SIM, run_daemon  # noqa: F401  (the running daemon's fixture)
from tests.test_flow import VERIFIED_KEYWORDS, send_out
from webui.replies import send_reply

CITIZEN = "0812 1111 2222"
OTHER = "0857 1234 5678"
INI = """
[sms]
autoreply_limit = 100
"""
HELP = "Untuk mengecek laporan, kirim CEK spasi nomor laporan, contoh: CEK 123"


@pytest.fixture
def people(officials, make_user):
    return {**officials, "op_dishub": make_user("op_dishub", "operator", phone_number="081200000021")}


@pytest.fixture
def chat(people, write_config):
    return Conversation(write_config(INI, keywords=VERIFIED_KEYWORDS))


def verified_case(chat) -> Case:
    chat.run(f"""
        {CITIZEN} > DISHUB lampu merah mati
        {CITIZEN} < Laporan #{{case}} diterima dan akan diverifikasi.
    """)
    return Case.get_by_id(chat.last.case.id)


def ask(chat, number: str, case_id: int | str, expected: str) -> None:
    chat.run(f"""
        {number} > CEK {case_id}
        {number} < {expected}
    """)


def test_each_state_of_a_verified_case_as_the_citizen_reads_it(chat, people):
    config = chat.config
    case = verified_case(chat)
    ask(chat, CITIZEN, case.id, f"Laporan #{case.id} (DISHUB): menunggu verifikasi.")
    flow.verify(case, people["admin"], "Dinas Perhubungan", people["op_dishub"], config)
    ask(chat, CITIZEN, case.id, f"Laporan #{case.id} (DISHUB): sedang ditangani Dinas Perhubungan.")
    flow.submit_answer(Case.get_by_id(case.id), people["op_dishub"], "Lampu diganti besok.", config)
    ask(chat, CITIZEN, case.id, f"Laporan #{case.id} (DISHUB): jawaban sedang diperiksa.")
    flow.approve(Case.get_by_id(case.id), people["admin"], config, send_reply)
    chat.new_replies()  # the approved reply itself
    ask(chat, CITIZEN, case.id, f"Laporan #{case.id} (DISHUB): jawaban sedang dikirim.")
    send_out(chat)
    ask(chat, CITIZEN, case.id, f"Laporan #{case.id} (DISHUB): sudah dijawab. Jawaban: Lampu diganti besok.")
    # the question joined the citizen's own case: its history shows they asked
    asked = InboundMessage.select().where(InboundMessage.case == case.id, InboundMessage.text.startswith("CEK"))
    assert asked.count() == 5 and {m.route for m in asked} == {"case"}
    assert Case.select().count() == 1, "CEK opens no case"


def test_a_rejected_case_says_so_without_the_reason(chat, people):
    case = verified_case(chat)
    flow.reject(case, people["admin"], "spam", "iklan pinjaman", chat.config)
    ask(chat, CITIZEN, case.id, f"Laporan #{case.id} (DISHUB): tidak dapat diproses.")


def test_each_state_of_a_direct_case(chat, people):
    chat.run(f"""
        {CITIZEN} > INFO jadwal samsat keliling
        {CITIZEN} < Terima kasih. Pesan Anda tercatat dengan nomor #{{case}}.
    """)
    case = Case.get_by_id(chat.last.case.id)
    ask(chat, CITIZEN, case.id, f"Laporan #{case.id} (INFO): sedang diproses.")
    send_reply(case, people["humas"], "Senin di kantor camat.", chat.config)
    chat.new_replies()
    ask(chat, CITIZEN, case.id, f"Laporan #{case.id} (INFO): sedang diproses.")  # queued is not answered
    send_out(chat)
    answered = f"Laporan #{case.id} (INFO): sudah dijawab. Jawaban: Senin di kantor camat."
    ask(chat, CITIZEN, case.id, answered)
    Case.update(status="closed").where(Case.id == case.id).execute()
    ask(chat, CITIZEN, case.id, answered)


def test_another_citizens_number_or_an_unknown_case_is_only_not_found(chat):
    case = verified_case(chat)
    not_found = f"Laporan #{case.id} tidak ditemukan."
    ask(chat, OTHER, case.id, not_found)
    ask(chat, OTHER, 999, "Laporan #999 tidak ditemukan.")
    ask(chat, CITIZEN, 999, "Laporan #999 tidak ditemukan.")
    # the other number's question is kept, but joins no one's case
    kept = InboundMessage.select().where(InboundMessage.sender == "+6285712345678")
    assert [(m.route, m.case_id) for m in kept] == [("unrouted", None), ("unrouted", None)]


@pytest.mark.parametrize(
    "text", ["CEK", "CEK abc", "cek satu dua", "CEK 12a", "CEK 99999999999999999999999", "CEK 1.5", "CEK 🙏"]
)
def test_cek_with_letters_no_number_or_a_huge_one_gets_the_help_text(chat, text):
    chat.run(f"""
        {CITIZEN} > {text}
        {CITIZEN} < {HELP}
    """)
    assert Case.select().count() == 0


@pytest.mark.parametrize("written", ["cek {id}", "CEK #{id}", "Cek: {id}", "CEK no. {id}", "CEK {id} tolong"])
def test_cek_in_the_forms_citizens_write_it(chat, written):
    case = verified_case(chat)
    chat.run(f"""
        {CITIZEN} > {written.format(id=case.id)}
        {CITIZEN} < Laporan #{case.id} (DISHUB): menunggu verifikasi.
    """)


def test_the_status_word_is_configurable(people, write_config):
    chat = Conversation(write_config(INI + "status_keyword = STATUS\n", keywords=VERIFIED_KEYWORDS))
    case = verified_case(chat)
    chat.run(f"""
        {CITIZEN} > status {case.id}
        {CITIZEN} < Laporan #{case.id} (DISHUB): menunggu verifikasi.
        {CITIZEN} > STATUS
        {CITIZEN} < Untuk mengecek laporan, kirim STATUS spasi nomor laporan, contoh: STATUS 123
    """)


def test_a_status_word_that_is_also_a_keyword_is_a_configuration_error(people, write_config):
    keywords = VERIFIED_KEYWORDS + "\n[CEKJALAN]\nowner = dishub\naliases = CEK\n"
    result = checks.check_all(write_config(INI, keywords=keywords))
    clash = [p for p in result.errors if p.key == "status_keyword"]
    assert len(clash) == 1 and "[CEKJALAN]" in str(clash[0]) and "modemd.ini" in str(clash[0])
    assert clash[0].section == "sms"


def test_a_bad_status_word_or_template_names_the_key(people, write_config):
    from modemd.config import ConfigError, load

    with pytest.raises(ConfigError) as bad:
        load(write_config("[sms]\nstatus_keyword = CEK STATUS\nstatus_reply = {case} {nomor}\n"))
    text = str(bad.value)
    assert "[sms] status_keyword: expected one word of 2 to 20 letters or digits" in text
    assert "[sms] status_reply: expected a text using only {case}, {keyword}, {state}, {answer}" in text


def test_parse_reads_the_number_or_none():
    assert status_query.parse("123").case_id == 123
    assert status_query.parse("#0042").case_id == 42
    assert status_query.parse("").case_id is None
    assert status_query.parse("abc").case_id is None
    assert status_query.parse("1234567890").case_id is None


def test_no_reply_is_sent_beyond_the_autoreply_limit(people, write_config):
    """CEK answers are automatic replies: a robot texting CEK in a loop gets at most autoreply_limit of them."""
    chat = Conversation(write_config("[sms]\nautoreply_limit = 2\n", keywords=VERIFIED_KEYWORDS))
    for _ in range(4):
        chat.receive("081299990000", "CEK 1")
    assert OutboundMessage.select().where(OutboundMessage.recipient == "+6281299990000").count() == 2


# --------------------------------------------------------------------------
# The whole way on the running daemon and its simulated modem


def test_the_verified_flow_and_cek_on_the_running_daemon(run_daemon, people):
    from tests.fakemodem import wait_until

    running = run_daemon(SIM + INI, VERIFIED_KEYWORDS)
    config = running.config

    def texts_to(number: str) -> list[str]:
        return [s["text"] for s in running.sent_log() if s["number"] == number]

    running.inject("081211112222", "DISHUB lampu merah mati")
    assert wait_until(lambda: len(texts_to("+6281211112222")) == 1, 10)
    case = Case.get()
    assert texts_to("+6281211112222") == [f"Laporan #{case.id} diterima dan akan diverifikasi."]
    flow.verify(case, people["admin"], "Dinas Perhubungan", people["op_dishub"], config)
    flow.submit_answer(Case.get_by_id(case.id), people["op_dishub"], "Lampu diganti besok.", config)
    flow.approve(Case.get_by_id(case.id), people["admin"], config, send_reply)
    assert wait_until(lambda: Case.get_by_id(case.id).stage == "archived", 10)  # sent by the daemon's worker
    running.inject("081211112222", f"CEK {case.id}")
    running.inject("085712345678", f"CEK {case.id}")
    assert wait_until(lambda: len(texts_to("+6285712345678")) == 1 and len(texts_to("+6281211112222")) == 3, 10)
    assert texts_to("+6281211112222")[1:] == [
        "Lampu diganti besok.",
        f"Laporan #{case.id} (DISHUB): sudah dijawab. Jawaban: Lampu diganti besok.",
    ]
    assert texts_to("+6285712345678") == [f"Laporan #{case.id} tidak ditemukan."]


def test_a_keyword_named_like_the_status_word_is_refused_on_reload(run_daemon, caplog):
    running = run_daemon()
    running.config.keywords_path.write_text("[CEK]\nowner = humas\n", encoding="utf-8")
    assert running.daemon.reload_keywords() is False
    assert "status_keyword: CEK is also a keyword or alias of [CEK]" in caplog.text
    assert running.daemon.keywords().names() == ["DINKES", "DISHUB", "INFO"]
