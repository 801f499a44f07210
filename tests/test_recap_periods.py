"""Recaps and reports miss nothing, and agree with the database.

Every recap SMS covers the 24 hours since the previous one and says so; the
per-keyword lines count each case and its SMS under the case's current
keyword. The expected figures are computed here from the rows themselves, in
plain Python, not by the recap code.

Times are the centre's local time (Asia/Jakarta, UTC+7); the recap goes out
at 17:00. 23 November 2026 is a Monday.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from webfixtures import *  # noqa: F401,F403

from modemd.config import Config
from modemd.jobs import notifications, recap
from modemd.receive.keywords import load_keywords
from modemd.send import outbound, outqueue
from modemd.send.outbound import Eligibility
from modemd.store.models import Case, InboundMessage, OutboundMessage, User

DEFAULTS = Config.defaults()  # the schema's settings, no file

JAKARTA = ZoneInfo("Asia/Jakarta")

INI = WEB_INI.replace("[web]\n", "[web]\nbase_url = https://sms.pemda.go.id\n") + (  # noqa: F405
    "[notify]\nrecap_numbers = 081300000001\n"
)


@pytest.fixture
def web_ini():
    return INI


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """Local Jakarta time in November 2026 -> naive UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=JAKARTA).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def sms(case: Case | None, keyword: str | None, when: datetime, citizen: str = "+6281311112222") -> InboundMessage:
    """A citizen's SMS as the router leaves it: the keyword it came with, its case."""
    return InboundMessage.create(
        modem="sim1",
        sender_raw=citizen,
        sender=citizen,
        text=f"{keyword or 'HALO'} jalan",
        received_at=when,
        route="case" if case else "unrouted",
        keyword=keyword,
        case=case,
    )


def open_case(owner: User | None, keyword: str | None, when: datetime, citizen: str = "+6281311112222") -> Case:
    case = Case.create(
        keyword=keyword,
        owner=owner,
        citizen=citizen,
        opened_at=when,
        deadline_at=when + timedelta(hours=3),
        last_message_at=when,
    )
    sms(case, keyword, when, citizen)
    return case


def send_reply(case: Case, when: datetime, *, fail: bool = False, config: Config = DEFAULTS) -> None:
    """A reply through the queue, then sent (or failed for good) as the daemon records it."""
    outqueue.enqueue(case.citizen, "jawaban", "reply", case=case, config=config)
    claimed = outbound.claim("pc", Eligibility.build("sim1", ["sim1"], None))
    if fail:
        outbound.record_failure(claimed, "+CMS ERROR: 1", permanent=True, code=1, config=config, now=when)
    else:
        outbound.record_sent(claimed, "sim1", [1], now=when)


def recap_sms() -> list[str]:
    return [
        m.text
        for m in OutboundMessage.select()
        .where(OutboundMessage.kind == "notification", OutboundMessage.recipient == "+6281300000001")
        .order_by(OutboundMessage.id)
    ]


def test_an_sms_after_recap_time_is_in_the_next_days_recap(officials, web_config):
    open_case(officials["dishub"], "DISHUB", at(23, 16, 30))
    open_case(officials["dishub"], "DISHUB", at(23, 17, 30), citizen="+6281399990000")  # after Monday's recap
    open_case(officials["dishub"], "DISHUB", at(23, 23, 50), citizen="+6281399991111")
    keywords = load_keywords(web_config.keywords_path)
    notifications.recap(at(23, 17, 0), web_config, keywords)
    notifications.recap(at(24, 17, 0), web_config, keywords)
    monday, tuesday = recap_sms()
    assert monday.startswith("Rekap SMS 22/11 17.00 s.d. 23/11 17.00: masuk 1 (1 kasus)")
    assert tuesday.startswith("Rekap SMS 23/11 17.00 s.d. 24/11 17.00: masuk 2 (2 kasus)")


def test_a_reassigned_case_counts_with_its_sms_under_its_new_keyword_only(client, auth, officials, web_config):
    case = open_case(officials["dishub"], "DISHUB", at(23, 9, 0))
    sms(case, "DISHUB", at(23, 9, 5))
    sms(case, "DISHUB", at(23, 9, 10))
    auth.login("admin")
    client.post(f"/cases/{case.id}/assign", data={"keyword": "INFO"})
    summary = recap.daily_recap(date(2026, 11, 23), JAKARTA, as_of=at(23, 17, 0), recap_time=DEFAULTS.notify.recap_time)
    lines = {k.keyword: (k.received, k.cases) for k in summary.keywords}
    assert lines == {"INFO": (3, 1)}  # not "DISHUB: SMS masuk 3, kasus 0" beside "INFO: kasus 1"
    text = recap.sms_text(summary, DEFAULTS.notify.recap_text)
    assert "INFO 1/0" in text and "DISHUB" not in text


def _expected_from_rows(start: datetime, end: datetime) -> dict[str, dict[str, int]]:
    """The recap rules applied to the rows in plain Python (no recap code)."""
    figures: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    cases = {c.id: c for c in Case.select()}
    for message in InboundMessage.select():
        if start <= message.received_at < end:
            keyword = cases[message.case_id].keyword if message.case_id else message.keyword
            figures[keyword or "-"]["received"] += 1
    for case in cases.values():
        if not start <= case.opened_at < end:
            continue
        line = figures[case.keyword or "-"]
        line["cases"] += 1
        sent = [
            r.sent_at
            for r in OutboundMessage.select().where(
                OutboundMessage.case == case.id,
                OutboundMessage.kind == "reply",
                OutboundMessage.state.in_(("sent", "delivered")),
            )
        ]
        if sent and min(sent) <= end:
            line["answered"] += 1
            line["within" if min(sent) <= case.deadline_at else "overdue"] += 1
        elif case.status != "closed":
            line["overdue" if case.deadline_at < end else "waiting"] += 1
    return figures


def test_recap_sms_page_and_csv_agree_with_the_rows(client, auth, officials, web_config):
    dishub, humas = officials["dishub"], officials["humas"]
    # before the period (Sunday 16:00): not counted, but its follow-up inside the period is
    old = open_case(dishub, "DISHUB", at(22, 16, 0), citizen="+6281300000101")
    sms(old, "DISHUB", at(22, 17, 30))
    # opened before 17:00, joined by SMS after 17:00 and after midnight: one case, three SMS in this period
    joined = open_case(humas, "INFO", at(22, 16, 50), citizen="+6281300000102")
    sms(joined, "INFO", at(22, 17, 10))
    sms(joined, "INFO", at(23, 0, 10))
    midnight = open_case(humas, "INFO", at(22, 23, 50), citizen="+6281300000103")
    sms(midnight, "INFO", at(23, 0, 5))
    send_reply(midnight, at(23, 1, 0))  # within the deadline
    late = open_case(dishub, "DISHUB", at(23, 8, 0), citizen="+6281300000104")
    send_reply(late, at(23, 12, 0))  # after the deadline
    failed = open_case(dishub, "DISHUB", at(23, 9, 0), citizen="+6281300000105")
    send_reply(failed, at(23, 9, 30), fail=True, config=web_config)  # failed: not answered, overdue at 17:00
    moved = open_case(dishub, "DISHUB", at(23, 10, 0), citizen="+6281300000106")
    sms(moved, "DISHUB", at(23, 10, 5))
    open_case(None, None, at(23, 11, 0), citizen="+6281300000107")  # unknown keyword
    open_case(humas, "INFO", at(23, 15, 0), citizen="+6281300000108")  # waiting until 18:00
    open_case(humas, "INFO", at(23, 17, 0), citizen="+6281300000109")  # the next period
    auth.login("admin")
    client.post(f"/cases/{moved.id}/assign", data={"keyword": "INFO"})

    start, end = at(22, 17, 0), at(23, 17, 0)
    expected = _expected_from_rows(start, end)
    assert expected["INFO"]["received"] == 7 and expected["DISHUB"]["cases"] == 2  # the data is what it says

    summary = recap.daily_recap(date(2026, 11, 23), JAKARTA, as_of=end, recap_time=DEFAULTS.notify.recap_time)
    got = {
        k.keyword: {
            "received": k.received,
            "cases": k.cases,
            "answered": k.answered,
            "within": k.within_deadline,
            "overdue": k.overdue,
            "waiting": k.waiting,
        }
        for k in summary.keywords
    }
    assert got == {
        k: {f: v.get(f, 0) for f in ("received", "cases", "answered", "within", "overdue", "waiting")}
        for k, v in expected.items()
    }
    total = lambda f: sum(v.get(f, 0) for v in expected.values())  # noqa: E731
    assert (summary.received, summary.cases, summary.answered, summary.unrouted) == (
        total("received"),
        total("cases"),
        total("answered"),
        expected["-"]["received"],
    )

    notifications.recap(at(23, 17, 0), web_config, load_keywords(web_config.keywords_path))
    [text] = recap_sms()
    assert text.startswith(
        f"Rekap SMS 22/11 17.00 s.d. 23/11 17.00: masuk {total('received')} "
        f"({total('cases')} kasus), dijawab {total('answered')}, tepat waktu {total('within')}, "
        f"terlambat {total('overdue')}."
    )
    for keyword, line in expected.items():
        assert f"{keyword} {line.get('cases', 0)}/{line.get('answered', 0)}" in text

    page = html.unescape(client.get("/rekap/?tanggal=2026-11-23").get_data(as_text=True))
    assert text in page and "22/11 17.00 s.d. 23/11 17.00" in page
    for field, figure in (
        ("received", total("received")),
        ("cases", total("cases")),
        ("within", total("within")),
        ("overdue", total("overdue")),
        ("waiting", total("waiting")),
    ):
        assert re.search(rf'data-recap="{field}"><strong>{figure}<', page), field
    csv_text = client.get("/rekap/csv?tanggal=2026-11-23").get_data(as_text=True)
    info = expected["INFO"]
    assert (
        f"2026-11-23,INFO,{info['received']},{info['cases']},{info.get('answered', 0)},{info.get('within', 0)},"
        f"{info.get('overdue', 0)},{info.get('waiting', 0)}"
    ) in csv_text


def test_recap_queries_work_on_each_database(any_db, make_user):
    """The CASE expression over a LEFT JOIN and the grouping, on SQLite, PostgreSQL and MariaDB."""
    dishub = make_user("dishub", phone_number="081200000002")
    case = open_case(dishub, "DISHUB", at(23, 9, 0))
    sms(case, "DISHUB", at(23, 9, 5))
    sms(None, None, at(23, 9, 10), citizen="+6281300000999")  # no case at all (e.g. blocked)
    Case.update(keyword="INFO").where(Case.id == case.id).execute()
    summary = recap.daily_recap(date(2026, 11, 23), JAKARTA, as_of=at(23, 17, 0), recap_time=DEFAULTS.notify.recap_time)
    assert {k.keyword: (k.received, k.cases) for k in summary.keywords} == {"INFO": (2, 1), "-": (1, 0)}
    assert (summary.received, summary.unrouted) == (3, 1)
