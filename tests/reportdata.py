"""Generated report data, and the report's figures computed again in plain Python from the rows.

The expected figures here read every row and apply the counting rules of
:mod:`modemd.reports.figures` one by one, with no SQL beyond ``SELECT *``:
an independent computation to compare the database's answers with.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from modemd.reports.figures import ANSWER_BOUNDS, Counts, Scope
from modemd.reports.period import Period
from modemd.store.models import Case, InboundMessage, OutboundMessage, database_proxy

JAKARTA = ZoneInfo("Asia/Jakarta")
KEYWORDS = ("DISHUB", "DINKES", "INFO", None)
CATEGORIES = ("complaint", "question", None)
MODEMS = ("m1", "m2")


def generate(seed: int, start: datetime, end: datetime, cases: int = 300) -> None:
    """Cases, their SMS and replies between naive-UTC ``start`` and ``end``, whole seconds, by ``seed``."""
    rng = random.Random(seed)
    span = int((end - start).total_seconds())
    case_rows, message_rows, reply_rows = [], [], []
    citizens = [f"+62812{n:07d}" for n in range(40)]  # few numbers: many repeat senders
    for number in range(1, cases + 1):
        opened = start + timedelta(seconds=rng.randrange(span))
        deadline = opened + timedelta(hours=3)
        answered = None
        if rng.random() < 0.7:
            answered = opened + timedelta(seconds=rng.choice([rng.randrange(1, 900), rng.randrange(900, 4 * 86400)]))
        status = "answered" if answered else rng.choice(["open", "open", "closed"])
        citizen = rng.choice(citizens)
        case_rows.append(
            {
                "id": number,
                "keyword": rng.choice(KEYWORDS),
                "citizen": citizen,
                "status": status,
                "category": rng.choice(CATEGORIES),
                "opened_at": opened,
                "deadline_at": deadline,
                "last_message_at": opened,
                "answered_at": answered,
                "closed_at": opened + timedelta(hours=1) if status == "closed" else None,
            }
        )
        for extra in range(rng.choice([1, 1, 2, 3])):
            message_rows.append(
                {
                    "modem": rng.choice(MODEMS),
                    "sender_raw": citizen,
                    "sender": citizen,
                    "text": "jalan rusak",
                    "received_at": opened + timedelta(minutes=17 * extra),
                    "route": "new" if extra == 0 else "case",
                    "keyword": rng.choice(KEYWORDS),  # the keyword it came with; its case's may differ now
                    "case": number,
                }
            )
        for _ in range(rng.choice([0, 1, 1, 2])):
            reply_rows.append(
                {
                    "recipient": citizen,
                    "text": "jawaban",
                    "kind": "reply",
                    "state": rng.choice(["sent", "delivered", "failed", "pending"]),
                    "created_at": opened + timedelta(minutes=rng.randrange(1, 600)),
                    "case": number,
                }
            )
    for _ in range(cases // 5):  # SMS with no case: unrouted, and operator messages that are no number
        when = start + timedelta(seconds=rng.randrange(span))
        sender = rng.choice([*citizens[:5], "TELKOMSEL"])
        message_rows.append(
            {
                "modem": rng.choice(MODEMS),
                "sender_raw": sender,
                "sender": sender,
                "sender_kind": "alphanumeric" if sender == "TELKOMSEL" else "number",
                "text": "halo",
                "received_at": when,
                "route": "unrouted",
                "keyword": None,
                "case": None,
            }
        )
    with database_proxy.atomic():
        Case.insert_many(case_rows).execute()
        InboundMessage.insert_many(message_rows).execute()
        OutboundMessage.insert_many(reply_rows).execute()
    if database_proxy.obj.__class__.__name__.startswith("Postgres"):  # explicit ids: move the sequence on
        database_proxy.execute_sql(
            "SELECT setval(pg_get_serial_sequence('case', 'id'), (SELECT MAX(id) FROM \"case\"))"
        )


class Expected:
    """The figures of ``period`` as known at ``now``, from the rows, in Python."""

    def __init__(self, period: Period, now: datetime, scope: Scope | None = None, visible=None):
        self.period, self.scope = period, scope or Scope()
        self.visible = visible  # a Python twin of scope.narrow: case row -> bool
        self.cases = {row["id"]: row for row in Case.select().dicts()}
        self.messages = list(InboundMessage.select().dicts())
        self.replies = list(OutboundMessage.select().dicts())
        self.as_of = min(now, period.end)
        self.now = now

    # -- scope, as the rules say it
    def case_in_scope(self, case: dict) -> bool:
        scope = self.scope
        if scope.keywords is not None and case["keyword"] not in scope.keywords:
            return False
        if scope.category is not None and case["category"] != scope.category:
            return False
        if scope.modem is not None and not any(
            m["case"] == case["id"] and m["modem"] == scope.modem for m in self.messages
        ):
            return False
        return self.visible is None or self.visible(case)

    def message_in_scope(self, message: dict) -> bool:
        scope = self.scope
        case = self.cases.get(message["case"]) if message["case"] else None
        keyword = case["keyword"] if case else message["keyword"]
        if scope.modem is not None and message["modem"] != scope.modem:
            return False
        if scope.keywords is not None and keyword not in scope.keywords:
            return False
        if scope.category is not None and (case is None or case["category"] != scope.category):
            return False
        return self.visible is None or (case is not None and self.visible(case))

    def counts(self, start: datetime, as_of: datetime) -> dict[str | None, Counts]:
        lines: dict[str | None, Counts] = defaultdict(Counts)
        for case in self.cases.values():
            if not (start <= case["opened_at"] < as_of) or not self.case_in_scope(case):
                continue
            line = lines[case["keyword"]]
            line.cases += 1
            answered = case["answered_at"] is not None and case["answered_at"] <= as_of
            closed = case["status"] == "closed"
            if answered:
                line.answered += 1
                if case["answered_at"] <= case["deadline_at"]:
                    line.within += 1
                else:
                    line.late += 1
            elif not closed:
                line.open += 1
                if case["deadline_at"] < as_of:
                    line.late += 1
        for message in self.messages:
            if start <= message["received_at"] < as_of and self.message_in_scope(message):
                case = self.cases.get(message["case"]) if message["case"] else None
                lines[case["keyword"] if case else message["keyword"]].received += 1
        for reply in self.replies:
            case = self.cases[reply["case"]]
            if (
                reply["kind"] == "reply"
                and reply["state"] == "failed"
                and start <= reply["created_at"] < as_of
                and self.case_in_scope(case)
            ):
                lines[case["keyword"]].replies_failed += 1
        return dict(lines)

    def per_keyword(self) -> dict[str | None, Counts]:
        return self.counts(self.period.start, self.as_of)

    def totals(self) -> Counts:
        total = Counts()
        for line in self.per_keyword().values():
            total.add(line)
        return total

    def previous(self) -> Counts:
        before = self.period.previous()
        total = Counts()
        for line in self.counts(before.start, min(self.now, before.end)).values():
            total.add(line)
        return total

    def answer_times(self) -> list[int]:
        return sorted(
            int((c["answered_at"] - c["opened_at"]).total_seconds())
            for c in self.cases.values()
            if self.period.start <= c["opened_at"] < self.as_of
            and c["answered_at"] is not None
            and c["answered_at"] <= self.as_of
            and self.case_in_scope(c)
        )

    def percentile(self, share: float) -> int | None:
        times = self.answer_times()
        return times[math.ceil(share * len(times)) - 1] if times else None

    def answer_classes(self) -> list[int]:
        classes = [0] * (len(ANSWER_BOUNDS) + 1)
        for took in self.answer_times():
            classes[sum(1 for bound in ANSWER_BOUNDS if took >= bound)] += 1
        return classes

    def local(self, moment: datetime) -> datetime:
        return moment.replace(tzinfo=UTC).astimezone(self.period.zone)

    def received_messages(self) -> list[dict]:
        return [
            m for m in self.messages if self.period.start <= m["received_at"] < self.as_of and self.message_in_scope(m)
        ]

    def heat(self) -> list[list[int]]:
        grid = [[0] * 24 for _ in range(7)]
        for message in self.received_messages():
            local = self.local(message["received_at"])
            grid[local.weekday()][local.hour] += 1
        return grid

    def per_day(self):
        received = Counter(self.local(m["received_at"]).date() for m in self.received_messages())
        opened = Counter(
            self.local(c["opened_at"]).date()
            for c in self.cases.values()
            if self.period.start <= c["opened_at"] < self.as_of and self.case_in_scope(c)
        )
        return [(day, received[day], opened[day]) for day in self.period.dates()]

    def repeat_senders(self) -> tuple[list[tuple[str, int, int]], int]:
        by_sender: dict[str, list[dict]] = defaultdict(list)
        for message in self.received_messages():
            if message["sender_kind"] == "number":
                by_sender[message["sender"]].append(message)
        repeat = [
            (sender, len(rows), len({r["case"] for r in rows if r["case"]}))
            for sender, rows in by_sender.items()
            if len(rows) > 1
        ]
        repeat.sort(key=lambda r: (-r[1], r[0]))
        return repeat[:10], len(repeat)

    def oldest_open(self) -> list[int]:
        rows = [
            c
            for c in self.cases.values()
            if c["status"] == "open" and c["opened_at"] < self.period.end and self.case_in_scope(c)
        ]
        return [c["id"] for c in sorted(rows, key=lambda c: (c["opened_at"], c["id"]))[:10]]
