"""modemd.store.sqlcache: a query compiled with named Params gives what the plain peewee query gives, on every database."""

from __future__ import annotations

from datetime import timedelta

import peewee
import pytest

from modemd.store.models import BlockedNumber, Broadcast, Case, OutboundMessage, User, utcnow
from modemd.store.sqlcache import Compiled, CompiledInsert, Param, get_or_none_by_id


def _cases(user: User) -> None:
    now = utcnow()
    for row in [
        Case.create(
            citizen="+6281211112222",
            keyword="DISHUB",
            status="open",
            opened_at=now - timedelta(days=2),
            deadline_at=now - timedelta(hours=1),
            owner=user,
        ),
        Case.create(
            citizen="+6281211112222",
            keyword="DISHUB",
            status="closed",
            opened_at=now - timedelta(days=1),
            deadline_at=now + timedelta(days=1),
        ),
        Case.create(citizen="+6281211112222", keyword=None, status="open", opened_at=now, deadline_at=now),
        Case.create(
            citizen="+6281299990000",
            keyword="INFO",
            status="open",
            opened_at=now,
            deadline_at=now + timedelta(days=3),
            owner=user,
        ),
    ]:
        assert row.id is not None


_BY_CITIZEN = Compiled(
    lambda: Case.select().where(Case.citizen == Param("citizen"), Case.status == "open").order_by(Case.id)
)
_OVERDUE_OF = Compiled(
    lambda: Case.select(Case.id).where(Case.owner == Param("owner"), Case.deadline_at < Param("now")).order_by(Case.id)
)
_BY_KEYWORD = Compiled(
    lambda keywords: Case.select().where(Case.keyword.in_(list(keywords))).order_by(Case.id), shapes=4
)


def test_compiled_selects_give_the_rows_of_the_plain_query(any_db, make_user):
    user = make_user("dishub")
    _cases(user)
    now = utcnow()
    for citizen in ("+6281211112222", "+6281299990000", "+62000", "x' OR '1'='1"):
        plain = list(Case.select().where(Case.citizen == citizen, Case.status == "open").order_by(Case.id))
        assert [c.__data__ for c in _BY_CITIZEN.rows(citizen=citizen)] == [c.__data__ for c in plain]
        first = _BY_CITIZEN.first(citizen=citizen)
        assert (first.__data__ if first else None) == (plain[0].__data__ if plain else None)
    # a model where the field wants its id, converted as peewee converts it; a datetime
    plain_overdue = [
        c for (c,) in Case.select(Case.id).where(Case.owner == user, Case.deadline_at < now).order_by(Case.id).tuples()
    ]
    assert [r[0] for r in _OVERDUE_OF.execute(owner=user, now=now).fetchall()] == plain_overdue
    assert len(plain_overdue) == 1
    # the shape (here an IN list's length) is part of what is rendered
    for keywords in (("DISHUB",), ("DISHUB", "INFO")):
        assert [c.id for c in _BY_KEYWORD.rows(keywords)] == [
            c.id for c in Case.select().where(Case.keyword.in_(list(keywords))).order_by(Case.id)
        ]
    assert get_or_none_by_id(Case, plain_overdue[0]).__data__ == Case.get_by_id(plain_overdue[0]).__data__
    assert get_or_none_by_id(Case, -1) is None
    assert get_or_none_by_id(User, user.id).login == "dishub"


def test_a_param_used_twice_and_a_missing_value(any_db):
    BlockedNumber.create(phone="+6281211112222")
    either = Compiled(
        lambda: BlockedNumber.select(BlockedNumber.phone).where(
            (BlockedNumber.phone == Param("a"))
            | (BlockedNumber.phone == Param("b"))
            | (BlockedNumber.phone == Param("a"))
        )
    )
    assert either.scalar(a="+6281211112222", b="0") == "+6281211112222"
    assert either.scalar(a="0", b="+6281211112222") == "+6281211112222"
    assert either.scalar(a="0", b="1") is None
    with pytest.raises(KeyError):
        either.execute(a="0")


def test_compiled_insert_fills_the_defaults_peewee_fills(any_db):
    shared = {"text": "Rapat Senin", "kind": "autoreply"}
    before = utcnow().replace(microsecond=0)
    CompiledInsert(OutboundMessage, ignore_conflicts=True).execute_many(
        shared, "recipient", [f"+6281200000{i}" for i in range(3)]
    )
    new_id = CompiledInsert(OutboundMessage).execute(dict(shared, recipient="+628120001"))
    plain = OutboundMessage.create(recipient="+628129999", **shared)
    compiled = list(OutboundMessage.select().where(OutboundMessage.id != plain.id))
    assert len(compiled) == 4 and new_id in {m.id for m in compiled}
    same = (
        "priority",
        "state",
        "attempts",
        "max_attempts",
        "parts",
        "encoding",
        "status_report",
        "doubt",
        "expires_at",
        "broadcast_id",
        "case_id",
    )
    for message in compiled:
        assert {n: getattr(message, n) for n in same} == {n: getattr(plain, n) for n in same}
        assert message.created_at >= before and message.next_attempt_at >= before


def test_compiled_insert_with_ignore_skips_a_row_breaking_a_unique_index(any_db, make_user):
    author = make_user("admin", "admin")
    broadcast = Broadcast.create(text="Rapat", created_by=author, state="sending")
    insert = CompiledInsert(OutboundMessage, ignore_conflicts=True)
    shared = {"text": "Rapat", "kind": "broadcast", "broadcast": broadcast, "created_by": author}
    insert.execute_many(shared, "recipient", ["+62811", "+62812"])
    insert.execute_many(shared, "recipient", ["+62812", "+62813", "+62811"])
    rows = OutboundMessage.select().where(OutboundMessage.broadcast == broadcast).order_by(OutboundMessage.recipient)
    assert [m.recipient for m in rows] == ["+62811", "+62812", "+62813"]
    assert {m.created_by_id for m in rows} == {author.id}
    with pytest.raises(peewee.IntegrityError):
        with any_db.atomic():
            CompiledInsert(OutboundMessage).execute(dict(shared, recipient="+62811"))
