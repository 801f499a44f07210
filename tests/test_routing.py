"""Routing by keyword, as conversations: ``0812… > DISHUB jalan rusak`` / ``0812… < Laporan #1 …``."""

from __future__ import annotations

import json
import sys
import textwrap
from datetime import UTC, timedelta

import peewee
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modemd.receive import inbound
from modemd.receive.keywords import load_keywords
from modemd.receive.routing import route_pending, split_keyword, unknown_keyword_text
from modemd.sms.segmentation import count as sms_count
from modemd.store.models import AuditLog, BlockedNumber, Case, InboundMessage, OutboundMessage
from tests.daemonharness import Conversation, sms

CITIZEN = "081211112222"
OTHER = "085712345678"
UNKNOWN_REPLY = "Maaf, kata kunci tidak dikenal. Kirim KATAKUNCI spasi pesan. Kata kunci: DINKES, DISHUB, INFO"


@pytest.fixture
def chat(officials, write_config):
    return Conversation(write_config())


def test_known_keyword_opens_a_case_in_the_owners_inbox_and_acknowledges(chat, officials):
    chat.run("""
        0812 1111 2222 > DISHUB jalan rusak di Jl. Merdeka
        0812 1111 2222 < Laporan #{case} diteruskan ke Dinas Perhubungan.
    """)
    case = chat.last.case
    assert case.keyword == "DISHUB" and case.owner_id == officials["dishub"].id
    assert case.citizen == "+6281211112222" and case.status == "open"
    assert abs((case.deadline_at - case.opened_at) - timedelta(hours=3)) < timedelta(seconds=1)
    stored = InboundMessage.get_by_id(chat.last.message.id)
    assert (stored.route, stored.keyword, stored.case_id) == ("case", "DISHUB", case.id)
    assert stored.text == "DISHUB jalan rusak di Jl. Merdeka"
    reply = OutboundMessage.get(OutboundMessage.case == case)
    assert (reply.kind, reply.state) == ("autoreply", "pending")
    assert AuditLog.select().where(AuditLog.action == "case.open", AuditLog.object_id == str(case.id)).exists()


def test_more_messages_from_the_citizen_join_the_open_case_as_a_conversation(chat):
    chat.run("""
        0812 1111 2222 > DISHUB lampu merah mati
        0812 1111 2222 < Laporan #{case} diteruskan ke Dinas Perhubungan.
        0812 1111 2222 > dishub sudah 3 hari
        0812 1111 2222 > Dishub: mohon segera
    """)
    case = chat.last.case
    assert Case.select().count() == 1
    assert [m.text for m in case.messages.order_by(InboundMessage.id)] == [
        "DISHUB lampu merah mati",
        "dishub sudah 3 hari",
        "Dishub: mohon segera",
    ]


def test_another_keyword_or_another_citizen_or_a_closed_case_opens_a_new_case(chat):
    chat.run(f"""
        0812 1111 2222 > DISHUB jalan rusak
        0812 1111 2222 < Laporan #{{case}} diteruskan ke Dinas Perhubungan.
        0812 1111 2222 > INFO jam buka kantor?
        0812 1111 2222 < Terima kasih. Pesan Anda tercatat dengan nomor #{{case}}.
        {OTHER} > DISHUB jalan rusak juga
        {OTHER} < Laporan #{{case}} diteruskan ke Dinas Perhubungan.
    """)
    assert Case.select().count() == 3
    Case.update(status="closed").execute()
    chat.run("""
        0812 1111 2222 > DISHUB lagi rusak
        0812 1111 2222 < Laporan #{case} diteruskan ke Dinas Perhubungan.
    """)
    assert Case.select().count() == 4


@pytest.mark.parametrize(
    "text, keyword, body",
    [
        ("DISHUB jalan rusak", "DISHUB", "jalan rusak"),
        ("dishub#jalan", "DISHUB", "jalan"),
        ("DisHub: jalan", "DISHUB", "jalan"),
        ("   dishub. jalan", "DISHUB", "jalan"),
        ("dishub,jalan", "DISHUB", "jalan"),
        ("PERHUBUNGAN jalan", "DISHUB", "jalan"),  # an alias
        ("tanya\njam buka", "INFO", "jam buka"),  # alias, newline after the keyword
        ("DISHUB", "DISHUB", ""),  # only the keyword
    ],
)
def test_keyword_is_the_first_word_in_any_case_glued_or_an_alias(chat, text, keyword, body):
    routed = chat.receive(CITIZEN, text)
    assert routed.keyword is not None and routed.keyword.name == keyword
    assert routed.body == body
    assert routed.route == "case"


ACK = "0812 1111 2222 < Laporan #{case} diteruskan ke Dinas Perhubungan."


@pytest.mark.parametrize(
    "text",
    [
        "#DISHUB jalan rusak",
        "*DISHUB jalan rusak",
        '"DISHUB" jalan rusak',
        "DISHUB-jalan rusak",
        "Dishub/jalan rusak",
        "DISHUB,jalan rusak",
        "DISHUB_jalan rusak",
        "(DISHUB) jalan rusak",
        "🙏 DISHUB jalan rusak",
        "🙏🏽DISHUB jalan rusak",  # an emoji with a skin tone, glued
        "1️⃣ DISHUB jalan rusak",  # a keycap emoji starts with a digit
        "   DISHUB jalan rusak",
        "\u200b\ufeffDISHUB jalan rusak",  # invisible characters some phones put first
        "ＤＩＳＨＵＢ jalan rusak",  # full-width letters
        "ｄｉｓｈｕｂ\u3000jalan rusak",  # full-width, ideographic space
        "DÍSHUB jalan rusak",  # an accent is not a typo
        "#perhubungan: jalan rusak",  # an alias
    ],
)
def test_every_form_of_a_keyword_is_understood(chat, text):
    chat.run(f"""
        0812 1111 2222 > {text}
        {ACK}
    """)
    assert chat.last.keyword.name == "DISHUB" and chat.last.route == "case"
    assert chat.last.body == "jalan rusak"
    assert not chat.last.corrected
    assert InboundMessage.get_by_id(chat.last.message.id).text == text  # never altered


@pytest.mark.parametrize("text", ["#DISHUB", "(DISHUB)", '"dishub"', "ＤＩＳＨＵＢ", "🙏DISHUB🙏", "DISHUB!"])
def test_a_message_that_is_only_a_keyword_in_any_form(chat, text):
    chat.run(f"""
        0812 1111 2222 > {text}
        {ACK}
    """)
    assert chat.last.keyword.name == "DISHUB" and chat.last.body in ("", "🙏")


@pytest.mark.parametrize(
    "text, typed",
    [
        ("DSHUB jalan rusak", "DSHUB"),  # a letter left out
        ("DISHBU jalan rusak", "DISHBU"),  # two letters swapped
        ("DISHUBB jalan rusak", "DISHUBB"),  # a letter too many
        ("#dishib: jalan rusak", "dishib"),  # a letter wrong, in another form
        ("PERHUBUNGN jalan rusak", "PERHUBUNGN"),  # an alias mistyped
    ],
)
def test_a_keyword_mistyped_by_one_letter_goes_to_its_owner_marked_corrected(chat, officials, text, typed):
    chat.run(f"""
        0812 1111 2222 > {text}
        {ACK}
    """)
    routed = chat.last
    assert (routed.keyword.name, routed.route, routed.corrected, routed.word) == ("DISHUB", "case", True, typed)
    assert routed.case.owner_id == officials["dishub"].id
    stored = InboundMessage.get_by_id(routed.message.id)
    assert (stored.text, stored.keyword) == (text, "DISHUB")  # the original text is kept
    [note] = AuditLog.select().where(AuditLog.action == "case.keyword_corrected")
    assert (note.object_type, note.object_id) == ("case", str(routed.case.id))
    assert json.loads(note.detail) == {"message": routed.message.id, "typed": typed, "keyword": "DISHUB"}


def test_a_corrected_message_joining_an_open_case_is_marked_too(chat):
    chat.run(f"""
        0812 1111 2222 > DISHUB jalan rusak
        {ACK}
        0812 1111 2222 > DSIHUB sudah 3 hari
    """)
    assert chat.last.corrected and chat.last.route == "case"
    [note] = AuditLog.select().where(AuditLog.action == "case.keyword_corrected")
    assert json.loads(note.detail)["message"] == chat.last.message.id


SIMILAR_KEYWORDS = """
[DINKES]
owner = dinkes
[DINSOS]
owner = humas
[PU]
owner = dishub
[PUPR]
owner = dishub
reply = PUPR #{case}
[SAMSAT]
owner = humas
[SAMSATKU]
owner = humas
[INFO]
owner = humas
"""


@pytest.mark.parametrize(
    "text",
    [
        "DINKOS halo",  # one letter from DINKES and from DINSOS: equally close
        "SAMSATK halo",  # one letter from SAMSAT and from SAMSATKU
        "INF0 halo",  # INFO is shorter than five letters: never corrected
        "PUPRR halo",  # PUPR likewise
        "PUPRjalan rusak",  # a keyword glued to a word is not that keyword
        "HALO pak",
    ],
)
def test_no_correction_when_two_keywords_are_equally_close_or_the_keyword_is_short(officials, write_config, text):
    chat = Conversation(write_config(keywords=SIMILAR_KEYWORDS))
    routed = chat.receive(CITIZEN, text)
    assert routed.route == "unrouted" and routed.keyword is None and not routed.corrected
    [reply] = chat.new_replies()
    assert reply.text.startswith("Maaf, kata kunci tidak dikenal.")
    assert not AuditLog.select().where(AuditLog.action == "case.keyword_corrected").exists()


@pytest.mark.parametrize(
    "text, keyword",
    [
        ("PU jalan", "PU"),
        ("pupr jalan", "PUPR"),
        ("#PUPR", "PUPR"),
        ("(pu) jalan", "PU"),
        ("DINKES halo", "DINKES"),
        ("SAMSAT halo", "SAMSAT"),
        ("samsatku halo", "SAMSATKU"),
    ],
)
def test_keywords_that_are_prefixes_of_others_are_told_apart(officials, write_config, text, keyword):
    chat = Conversation(write_config(keywords=SIMILAR_KEYWORDS))
    routed = chat.receive(CITIZEN, text)
    assert routed.keyword.name == keyword and not routed.corrected


def _edits(a: str, b: str) -> int:
    """Optimal string alignment distance, the textbook table: the reference for the deletion index."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


@settings(max_examples=500, derandomize=True, deadline=None, database=None)
@given(
    st.sampled_from(["DINKES", "DINSOS", "SAMSAT", "SAMSATKU", "PUPR", "PU", "INFO"]),
    st.lists(st.tuples(st.sampled_from("dis"), st.integers(0, 9), st.sampled_from("ADIKNOSU")), max_size=2),
)
def test_correction_is_the_one_keyword_one_edit_away(tmp_path_factory, keyword, edits):
    """correct() through the deletion index gives what comparing with every keyword gives."""
    path = tmp_path_factory.mktemp("kw") / "keywords.ini"
    path.write_text(SIMILAR_KEYWORDS, encoding="utf-8")
    table = load_keywords(path)
    word = keyword
    for kind, at, letter in edits:
        at = min(at, len(word))
        if kind == "d" and at < len(word) - 1:
            word = word[:at] + word[at + 1 :]
        elif kind == "i":
            word = word[:at] + letter + word[at:]
        elif kind == "s" and at < len(word) - 1:
            word = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    near = {name for name in table.names() if len(name) >= 5 and _edits(word, name) == 1}
    expected = table.keywords[near.pop()] if len(near) == 1 and table.find(word) is None else None
    assert (table.correct(word.lower()) if table.find(word) is None else None) == expected


def test_split_keyword_on_odd_input():
    assert split_keyword("") == (None, "")
    assert split_keyword("   ") == (None, "")
    assert split_keyword("#.:,") == (None, "#.:,")
    assert split_keyword("DISHUBjalan") == ("DISHUBjalan", "")
    assert split_keyword("🙏🙏") == (None, "🙏🙏")
    assert split_keyword("<script>DISHUB</script> x") == ("script", "DISHUB</script> x")
    assert split_keyword("٣ DISHUB") == ("٣", "DISHUB")  # a digit of another script is a word of its own
    # symbols only, keycaps among them: no word, found without trying every way to read them (no hang)
    assert split_keyword("#\u20e3*\ufe0f\u20e3" * 40 + "!") == (None, "#\u20e3*\ufe0f\u20e3" * 40 + "!")


def test_keyword_without_a_reply_opens_a_case_silently(chat, officials):
    chat.run("""
        0812 1111 2222 > DINKES puskesmas tutup
    """)
    assert chat.last.case.owner_id == officials["dinkes"].id


@pytest.mark.parametrize("text", ["HALO pak", "", "   ", "?", "dis hub jalan"])
def test_unknown_or_missing_keyword_gets_the_list_and_goes_to_the_unrouted_inbox(chat, text):
    routed = chat.receive(CITIZEN, text)
    assert routed.route == "unrouted"
    assert routed.case.keyword is None and routed.case.owner_id is None
    assert [m.text for m in chat.new_replies()] == [UNKNOWN_REPLY]
    assert InboundMessage.get_by_id(routed.message.id).text == text  # kept exactly, even when empty


def test_unknown_keyword_reply_is_kept_within_one_sms(officials, write_config):
    many = "".join(f"[LAYANAN{i:02d}]\nowner = humas\n\n" for i in range(40))
    chat = Conversation(write_config(keywords=many))
    routed = chat.receive(CITIZEN, "HALO")
    [reply] = routed.replies
    assert sms_count(reply.text).parts == 1
    assert reply.text.endswith("dll.") and "LAYANAN00" in reply.text


def test_unknown_keyword_text_lists_all_when_they_fit():
    template = "Kata kunci: {keywords}"
    assert unknown_keyword_text(template, ["A1", "B2"]) == "Kata kunci: A1, B2"
    assert unknown_keyword_text(template, []) == "Kata kunci: "


def test_blocked_numbers_and_unanswerable_senders_are_kept_and_never_answered(chat, officials):
    BlockedNumber.create(phone="+6285712345678", reason="spam", created_by=officials["admin"])
    for sender in (OTHER, "TELKOMSEL", "3636", "+1 555", "INFO-PLN"):
        routed = chat.receive(sender, "DISHUB promo paket internet murah")
        assert routed.route == ("blocked" if sender == OTHER else "unanswerable"), sender
        assert routed.case is None
    assert OutboundMessage.select().count() == 0
    assert InboundMessage.select().count() == 5
    kept = InboundMessage.get(InboundMessage.sender_raw == "+1 555")
    assert (kept.sender, kept.sender_kind) == ("+1 555", "alphanumeric")


def test_a_thousand_messages_from_one_number_in_a_minute_cost_three_replies(chat):
    for n in range(1000):
        chat.receive(CITIZEN, f"HALO {n}")
    assert InboundMessage.select().count() == 1000
    assert OutboundMessage.select().where(OutboundMessage.recipient == "+6281211112222").count() == 3
    assert Case.select().count() == 1  # one unrouted conversation, not a thousand cases


def test_two_robots_cannot_loop(chat):
    # a robot that answers every SMS with an unknown word: our side stops after the limit
    for _ in range(10):
        chat.receive(OTHER, "Nomor yang Anda tuju sedang sibuk")
    assert OutboundMessage.select().count() == 3


def test_deadline_and_limits_come_from_the_ini(officials, write_config):
    chat = Conversation(write_config("[sms]\ndeadline = 30m\nautoreply_limit = 1\n"))
    first = chat.receive(CITIZEN, "DISHUB jalan")
    assert abs((first.case.deadline_at - first.case.opened_at) - timedelta(minutes=30)) < timedelta(seconds=1)
    chat.receive(CITIZEN, "HALO")
    assert OutboundMessage.select().count() == 1


def test_the_original_text_cannot_be_changed_after_routing(chat):
    routed = chat.receive(CITIZEN, "DISHUB jalan rusak")
    with pytest.raises(peewee.DatabaseError):
        InboundMessage.update(text="DISHUB diubah").where(InboundMessage.id == routed.message.id).execute()


def test_messages_stored_before_a_crash_but_not_routed_are_routed_at_start(chat):
    message, _ = inbound.store("sim1", sms(CITIZEN, "DISHUB jalan rusak"))
    assert message.route == "new"
    assert route_pending(chat.router) == 1
    assert InboundMessage.get_by_id(message.id).route == "case"
    assert route_pending(chat.router) == 0


def test_run_on_receive_gets_the_message_on_stdin_without_a_shell(officials, write_config, tmp_path):
    out = tmp_path / "hook.json"
    hook = tmp_path / "hook.py"
    hook.write_text(
        textwrap.dedent(f"""
        import json, os, sys
        json.dump({{"argv": sys.argv[1:], "id": os.environ["MODEMD_MESSAGE_ID"], "stdin": json.load(sys.stdin)}},
                  open({str(out)!r}, "w"))
    """)
    )
    chat = Conversation(
        write_config(
            f"[modemd]\ndatabase = sqlite:///modemd.db\nstate_dir = .\n"
            f"run_on_receive = {sys.executable} {hook} ';' '$(touch pwned)'\n"
        )
    )
    routed = chat.receive(CITIZEN, "DISHUB jalan `rm -rf /` $HOME")
    chat.router.close()  # waits for the hook
    data = json.loads(out.read_text())
    assert data["argv"] == [";", "$(touch pwned)"]
    assert data["id"] == str(routed.message.id)
    assert data["stdin"]["text"] == "DISHUB jalan `rm -rf /` $HOME"
    assert data["stdin"]["sender"] == "+6281211112222"
    assert data["stdin"]["keyword"] == "DISHUB"
    assert data["stdin"]["case"] == routed.case.id
    assert not (tmp_path / "pwned").exists()


def test_run_on_receive_that_hangs_is_stopped_and_routing_goes_on(officials, write_config, tmp_path, caplog):
    chat = Conversation(
        write_config(
            f"[modemd]\ndatabase = sqlite:///modemd.db\nstate_dir = .\n"
            f"run_on_receive = {sys.executable} -c 'import time; time.sleep(30)'\nrun_on_receive_timeout = 1s\n"
        )
    )
    routed = chat.receive(CITIZEN, "DISHUB jalan")
    assert routed.route == "case"
    chat.router.close()
    assert "still running after 1 s" in caplog.text


def test_run_on_receive_program_missing_is_logged(officials, write_config, caplog):
    chat = Conversation(
        write_config("[modemd]\ndatabase = sqlite:///modemd.db\nstate_dir = .\nrun_on_receive = /nonexistent/hook\n")
    )
    chat.receive(CITIZEN, "DISHUB jalan")
    chat.router.close()
    assert "cannot start" in caplog.text


def test_statements_per_routed_message_are_pinned(chat):
    """Storing and routing one message is a fixed, short list of statements (each SQL text compiled once)."""
    from datetime import datetime

    from playhouse.test_utils import count_queries

    chat.receive(OTHER, "DISHUB pertama")  # the keyword owners' ids are cached from here on
    when = datetime.now(UTC)
    with count_queries() as opening:
        [opened] = inbound.store_batch("sim1", [sms(CITIZEN, "DISHUB jalan rusak", when, handle=(1,))], chat.router)
    # repeat check, insert, savepoint, blocked?, open case?, case insert, audit, replies in the window,
    # reply insert, route update, release, received_total
    assert opening.count == 12, [q.msg for q in opening.get_queries()]
    with count_queries() as joining:
        [joined] = inbound.store_batch("sim1", [sms(CITIZEN, "DISHUB sudah 3 hari", when, handle=(2,))], chat.router)
    # repeat check, insert, savepoint, blocked?, open case?, case touched, route update, release, received_total
    assert joining.count == 9, [q.msg for q in joining.get_queries()]
    assert joined.routing.case.id == opened.routing.case.id
    case = Case.get_by_id(opened.routing.case.id)
    assert case.last_message_at == joined.routing.case.last_message_at
    assert [m.id for m in case.messages.order_by(InboundMessage.id)] == [opened.message.id, joined.message.id]


def test_the_rows_built_without_reading_back_match_the_database(chat, officials):
    """Routing keeps the case and the replies it wrote as models built from the values, not re-read."""

    def columns(row):
        return {f.name: row.__data__.get(f.name) for f in type(row)._meta.sorted_fields}

    def same_as_stored(row):
        return columns(row) == columns(type(row).get_by_id(row.id))

    routed = chat.receive(CITIZEN, "DISHUB jalan rusak")
    [reply] = routed.replies
    assert same_as_stored(routed.case) and same_as_stored(reply)
    stored, _ = inbound.store(
        "sim1",
        sms(
            CITIZEN,
            "DISHUB ☺ lagi",
            handle=(9,),
            pdus=["0791"],
            parts_total=2,
            parts_received=1,
            incomplete=True,
            decode_error="bagian 2 hilang",
        ),
    )
    assert same_as_stored(stored)
    unknown = chat.receive(OTHER, "HALO")
    assert same_as_stored(unknown.case) and same_as_stored(unknown.replies[0])
    joined = chat.receive(CITIZEN, "DISHUB sudah 3 hari")
    assert same_as_stored(joined.case)
    [entry] = AuditLog.select().where(AuditLog.action == "case.open", AuditLog.object_id == str(routed.case.id))
    assert (entry.actor, entry.object_type) == ("daemon", "case")
    assert json.loads(entry.detail) == {"message": routed.message.id, "keyword": "DISHUB", "owner": "dishub"}
