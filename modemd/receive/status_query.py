"""Citizens follow their case: ``CEK 123`` (the word is ``[sms] status_keyword``).

From the number that opened case 123 the reply says the case's state and, once
answered, the answer again (the last reply that reached the network). From any
other number, and for a number no case has, the reply is the same "tidak
ditemukan": whether a case exists is never told to someone else. ``CEK`` with
no number, with letters or with a number longer than any case number gets the
help text.

The word must not be a keyword or an alias of keywords.ini, or one of the two
would never be reached: :func:`check_clash` reports it as a configuration error
(``modemd check``, daemon start and reload).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from modemd.config import Config, Problem, key_lines
from modemd.receive.keywords import KeywordTable, comparable
from modemd.states import CaseStatus, FlowStage, OutboundState
from modemd.store.models import Case, OutboundMessage

# "123", "#123", "No. 123", "no 123": digits, then the end or a space; case ids fit in 9 digits here
_NUMBER = re.compile(r"^(?:no\.?\s*)?#?\s*(\d+)(?:\s|$)", re.IGNORECASE)
MAX_DIGITS = 9  # beyond this it is no case number (and no integer column overflows on any database)

#: what a citizen reads for each state, in plain words
DIRECT_STATES = {
    CaseStatus.OPEN: "sedang diproses",
    CaseStatus.ANSWERED: "sudah dijawab",
    CaseStatus.CLOSED: "selesai",
}
FLOW_STATES = {
    FlowStage.VERIFY: "menunggu verifikasi",
    FlowStage.REJECTED: "tidak dapat diproses",
    FlowStage.ASSIGNED: "sedang ditangani {agency}",
    FlowStage.REVIEW: "jawaban sedang diperiksa",
    FlowStage.APPROVED: "jawaban sedang dikirim",
    FlowStage.ARCHIVED: "sudah dijawab",
}


@dataclass(frozen=True)
class Query:
    """What a ``CEK …`` message asked: a case number, or None when it needs the help text."""

    case_id: int | None


def is_status_word(word: str | None, config: Config) -> bool:
    return bool(word) and comparable(word or "") == config.sms.status_keyword


def parse(body: str) -> Query:
    """The text after the word -> the case number asked for, or None (missing, letters, too long)."""
    match = _NUMBER.match(body.strip())
    if not match or len(match.group(1).lstrip("0")) > MAX_DIGITS:
        return Query(None)
    return Query(int(match.group(1)))


def state_words(case: Case) -> str:
    if case.stage:
        return FLOW_STATES[FlowStage(case.stage)].format(agency=case.agency or "instansi terkait")
    if case.status == CaseStatus.CLOSED and case.answered_at is not None:
        return DIRECT_STATES[CaseStatus.ANSWERED]
    return DIRECT_STATES[CaseStatus(case.status)]


def last_answer(case: Case) -> str | None:
    """The text of the case's last reply that reached the network, if any."""
    row = (
        OutboundMessage.select(OutboundMessage.text)
        .where(
            OutboundMessage.case == case.id,
            OutboundMessage.kind == "reply",
            OutboundMessage.state.in_((OutboundState.SENT, OutboundState.DELIVERED)),
        )
        .order_by(OutboundMessage.id.desc())
        .first()
    )
    return row.text if row is not None else None


def reply_text(body: str, sender: str, config: Config) -> tuple[str, Case | None]:
    """The SMS answering ``CEK <body>`` from ``sender`` (E.164), and the case it is about if it is theirs."""
    sms = config.sms
    query = parse(body)
    if query.case_id is None:
        return sms.status_help.format(word=sms.status_keyword), None
    case = Case.get_or_none(Case.id == query.case_id)
    if case is None or case.citizen != sender:
        return sms.status_not_found.format(case=query.case_id, keyword="", state="", answer=""), None
    values = {"case": case.id, "keyword": case.keyword or "-", "state": state_words(case), "answer": ""}
    answer = last_answer(case) if case.answered_at is not None else None
    if answer:
        return sms.status_answer_reply.format(**{**values, "answer": answer}), case
    return sms.status_reply.format(**values), case


def check_clash(config: Config, table: KeywordTable, problems: list[Problem]) -> None:
    """The status word must not be a keyword or alias: a configuration error naming both places."""
    word = config.sms.status_keyword
    keyword = table.find(word)
    if keyword is None:
        return
    line = key_lines(config.path).get(("sms", "status_keyword"))
    problems.append(
        Problem(
            str(config.path),
            f"{word} is also a keyword or alias of [{keyword.name}] in {table.path}: citizens checking their case "
            "and citizens writing to that keyword would be mixed up (expected a word keywords.ini does not use)",
            "sms",
            "status_keyword",
            line,
        )
    )
