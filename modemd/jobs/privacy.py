"""Retention of citizens' numbers (UU No. 27 Tahun 2022, Pelindungan Data Pribadi).

A citizen's number is needed while their case is worked on; after that only
the figures are. With ``[privacy] keep_days = N`` (0, the default, keeps
everything), a daily job (:mod:`modemd.jobs.scheduler`) replaces the number of
every case closed more than N days ago by its *purged form*; ``modemd privacy
purge --before DATE`` does the same on demand. Each purge is audited (one
``case.purge`` entry per case and one ``privacy.purge`` summary).

The purged form ``+62812*90#k3j5x7q2ab`` is the number masked (country and
operator prefix, last two digits) plus ten characters of an HMAC-SHA256 of
the number keyed with a secret salt. The same number always gives the same
form, so a citizen who wrote five times still counts as one repeat sender,
and every figure of the recap stays as it was; without the salt the number
cannot be found again by trying all numbers. The salt is kept in the data
folder (``state_dir/privacy.salt``, created 0600, like the web secret key):
losing it only means that later purges give different forms.
The form is 20 characters, so it fits every column that held a number.

What is purged, for each such case:

* ``case.citizen``;
* its received messages: ``sender`` and ``sender_raw`` become the purged
  form, and ``pdus`` (the raw PDUs, which contain the number) become ``[]``.
  The text stays exactly as received: it is the evidence (Banjarnegara
  Pasal 11 e), and the database trigger that keeps it read-only allows this
  one change and no other (:mod:`modemd.store.migrations`);
* the replies sent to that number, their parts and their delivery reports
  (whose raw PDU is emptied too).

Messages that never opened a case (from a blocked number) are purged the
same way once received before the cutoff. Numbers typed *inside* a text are
not touched, nor are officials', contacts' and blocked numbers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from peewee import fn

from modemd.privatefiles import secret_file
from modemd.states import CaseStatus
from modemd.store.models import (
    AuditLog,
    Case,
    DeliveryReport,
    InboundMessage,
    OutboundMessage,
    OutboundPart,
    database_proxy,
    utcnow,
)

if TYPE_CHECKING:
    from modemd.config import Config

log = logging.getLogger("modemd.privacy")

SALT_FILE = "privacy.salt"
HASH_CHARS = 10  # 50 bits of base32: no two of a centre's numbers share one
#: the purged form, as a regular expression (the database guard checks the same shape)
PURGED_REGEX = rf"^[+][0-9]{{5}}[*][0-9]{{2}}#[a-z2-7]{{{HASH_CHARS}}}$"
#: and as a SQLite GLOB pattern
PURGED_GLOB = "[+]" + "[0-9]" * 5 + "[*]" + "[0-9]" * 2 + "#" + "[a-z2-7]" * HASH_CHARS
_PURGED = re.compile(PURGED_REGEX)
PURGED_PDUS = "[]"
BATCH = 200  # numbers per transaction: the daemon's writes wait at most one batch


def salt_path(config: Config) -> Path:
    return Path(config.state_dir) / SALT_FILE


def load_salt(path: Path | str) -> bytes:
    """The secret salt from ``path``; a new random one is written (mode 0600) if the file is missing."""
    try:
        salt = bytes.fromhex(secret_file(path, "privacy salt"))
    except ValueError:
        salt = b""
    if len(salt) < 16:
        raise RuntimeError(f"{path}: not a privacy salt (expected at least 32 hexadecimal digits)")
    return salt


def purged_form(number: str, salt: bytes) -> str:
    """``+6281234567890`` -> ``+62812*90#`` and ten characters of its salted hash."""
    digits = re.sub(r"\D", "", number)
    masked = f"+{digits[:5]}*{digits[-2:]}" if len(digits) >= 7 else "+00000*00"
    digest = hmac.new(salt, number.encode("utf-8"), hashlib.sha256).digest()
    return masked + "#" + base64.b32encode(digest).decode("ascii").lower()[:HASH_CHARS]


def is_purged(value: str | None) -> bool:
    return value is not None and _PURGED.match(value) is not None


def sender_key(citizen: str, salt: bytes) -> str:
    """The same key for a number before and after its purge: what repeat senders are counted by."""
    return citizen if is_purged(citizen) else purged_form(citizen, salt)


def cases_per_sender(salt: bytes, since: datetime | None = None) -> Counter[str]:
    """Cases per citizen (by :func:`sender_key`, so purged and live cases of one number count together)."""
    query = Case.select(Case.citizen, fn.COUNT(Case.id)).group_by(Case.citizen)
    if since is not None:
        query = query.where(Case.opened_at >= since)
    counts: Counter[str] = Counter()
    for citizen, count in query.tuples():
        counts[sender_key(citizen, salt)] += count
    return counts


@dataclass
class PurgeResult:
    before: datetime  # naive UTC
    cases: int = 0
    numbers: int = 0
    messages: int = 0
    replies: int = 0
    parts: int = 0
    reports: int = 0

    def as_dict(self) -> dict:
        return {**asdict(self), "before": self.before.isoformat() + "Z"}


def cutoff(keep_days: int, now: datetime | None = None) -> datetime:
    return (now or utcnow()) - timedelta(days=keep_days)


def purge(before: datetime, salt: bytes, actor: str) -> PurgeResult:
    """Purge the numbers of cases closed before ``before`` (naive UTC), and of caseless messages received before it."""
    result = PurgeResult(before)
    by_number: dict[str, list[int]] = {}
    closed = (
        Case.select(Case.id, Case.citizen)
        .where(Case.status == CaseStatus.CLOSED, Case.closed_at < before)
        .order_by(Case.id)
        .tuples()
    )
    for case_id, citizen in closed:
        if not is_purged(citizen):
            by_number.setdefault(citizen, []).append(case_id)
    numbers = list(by_number.items())
    for start in range(0, len(numbers), BATCH):
        with database_proxy.obj.atomic():
            for number, case_ids in numbers[start : start + BATCH]:
                _purge_cases(number, case_ids, purged_form(number, salt), actor, result)
    with database_proxy.obj.atomic():
        _purge_caseless(before, salt, result)
        AuditLog.create(actor=actor, action="privacy.purge", detail=_json(result.as_dict()))
    if result.cases or result.messages:
        log.info(
            "privacy purge before %s: %d case(s) of %d number(s), %d message(s), %d reply(ies)",
            result.before.date(),
            result.cases,
            result.numbers,
            result.messages,
            result.replies,
        )
    return result


def _purge_cases(number: str, case_ids: list[int], form: str, actor: str, result: PurgeResult) -> None:
    Case.update(citizen=form).where(Case.id.in_(case_ids)).execute()
    result.cases += len(case_ids)
    result.numbers += 1
    result.messages += _purge_messages(InboundMessage.case.in_(case_ids), form)
    replies = [
        row[0]
        for row in OutboundMessage.select(OutboundMessage.id)
        .where(OutboundMessage.case.in_(case_ids), OutboundMessage.recipient == number)
        .tuples()
    ]
    if replies:
        result.replies += OutboundMessage.update(recipient=form).where(OutboundMessage.id.in_(replies)).execute()
        parts = [
            row[0] for row in OutboundPart.select(OutboundPart.id).where(OutboundPart.message.in_(replies)).tuples()
        ]
        if parts:
            result.parts += OutboundPart.update(recipient=form).where(OutboundPart.id.in_(parts)).execute()
            result.reports += (
                DeliveryReport.update(recipient=form, pdu="").where(DeliveryReport.part.in_(parts)).execute()
            )
    AuditLog.insert_many(
        [
            {
                "actor": actor,
                "action": "case.purge",
                "object_type": "case",
                "object_id": str(case_id),
                "detail": _json({"citizen": form}),
            }
            for case_id in case_ids
        ]
    ).execute()


def _purge_messages(which, form: str) -> int:
    """The one change the database guard allows to a received message: its sender and PDUs purged."""
    return InboundMessage.update(sender=form, sender_raw=form, pdus=PURGED_PDUS).where(which).execute()


def _purge_caseless(before: datetime, salt: bytes, result: PurgeResult) -> None:
    rows = (
        InboundMessage.select(InboundMessage.id, InboundMessage.sender)
        .where(
            InboundMessage.case.is_null(),
            InboundMessage.sender_kind == "number",
            InboundMessage.route != "new",
            InboundMessage.received_at < before,
        )
        .tuples()
    )
    for message_id, sender in rows:
        if not is_purged(sender):
            result.messages += _purge_messages(InboundMessage.id == message_id, purged_form(sender, salt))


def _json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, default=str)
