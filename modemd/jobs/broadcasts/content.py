"""What a broadcast says and whom it reaches: the signed text and its hash, the recipients, the preview.

* The ``[notify] signature`` is appended to the author's text
  (:func:`signed`); an approved broadcast's text already carries it
  (:func:`final_text`), and its SHA-256 (:func:`text_hash`) is stored.
* Recipients are the active contacts of the chosen groups plus the chosen
  contacts, one per number (a number in two groups gets one SMS), without
  blocked or invalid numbers (:func:`resolve`).
* :class:`Content` is what an approver is shown; its :attr:`Content.version`
  names it, so an approval of something else is refused.
* :class:`Preview` is what the author and the approver see before they act:
  encoding, parts, recipients and what stops it from going out.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from modemd.sms import phone
from modemd.sms.segmentation import count as sms_count
from modemd.store.models import BlockedNumber, Broadcast, BroadcastTarget, Contact, GroupMember

from .rules import MAX_PARTS

if TYPE_CHECKING:
    from modemd.config import Config


def signed(text: str, signature: str) -> str:
    """The text with the centre's signature (at most 8 characters) appended, e.g. ``... -HUMAS``."""
    body = text.rstrip()
    if not signature:
        return body
    mark = signature if signature.startswith("-") else "-" + signature
    return f"{body} {mark}"


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def final_text(broadcast: Broadcast, signature: str) -> str:
    """What recipients will read: an approved broadcast's text already carries its signature."""
    return broadcast.text if broadcast.approved_at is not None else signed(broadcast.text, signature)


@lru_cache(maxsize=65536)
def _normalized(raw: str) -> str | None:
    """E.164 of a stored contact number, or None if invalid; cached so that the preview,
    the approval and the queueing of 20,000 numbers pay only once."""
    return phone.try_normalize(raw)


@dataclass
class Rejected:
    name: str
    phone: str
    reason: str  # "invalid" | "blocked"


@dataclass
class Recipients:
    numbers: list[str]  # E.164, sorted, one per number
    duplicates: int = 0  # contacts dropped because their number was already in
    inactive: int = 0
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def invalid(self) -> list[Rejected]:
        return [r for r in self.rejected if r.reason == "invalid"]

    @property
    def blocked(self) -> list[Rejected]:
        return [r for r in self.rejected if r.reason == "blocked"]


def resolve(group_ids: list[int], contact_ids: list[int]) -> Recipients:
    """The numbers a broadcast to these groups and contacts reaches."""
    rows: list[tuple[str, str, bool]] = []
    if group_ids:
        rows += list(
            Contact.select(Contact.name, Contact.phone, Contact.active)
            .join(GroupMember)
            .where(GroupMember.group.in_(group_ids))
            .order_by(Contact.id)
            .tuples()
        )
    if contact_ids:
        rows += list(
            Contact.select(Contact.name, Contact.phone, Contact.active)
            .where(Contact.id.in_(contact_ids))
            .order_by(Contact.id)
            .tuples()
        )
    blocked = {number for (number,) in BlockedNumber.select(BlockedNumber.phone).tuples()}
    result = Recipients(numbers=[])
    seen: set[str] = set()
    reported: set[str] = set()
    for name, raw, active in rows:
        if not active:
            result.inactive += 1
            continue
        number = _normalized(raw)
        if number is None or number in blocked or raw in blocked:
            if raw not in reported:
                reported.add(raw)
                result.rejected.append(Rejected(name, raw, "invalid" if number is None else "blocked"))
            continue
        if number in seen:
            result.duplicates += 1
            continue
        seen.add(number)
    result.numbers = sorted(seen)
    return result


def targets_of(broadcast: Broadcast) -> tuple[list[int], list[int]]:
    """(group ids, contact ids) the author picked."""
    groups, contacts = [], []
    for group_id, contact_id in (
        BroadcastTarget.select(BroadcastTarget.group, BroadcastTarget.contact)
        .where(BroadcastTarget.broadcast == broadcast)
        .tuples()
    ):
        if group_id is not None:
            groups.append(group_id)
        if contact_id is not None:
            contacts.append(contact_id)
    return groups, contacts


@dataclass(frozen=True)
class Content:
    """What an approver is shown and approves: the final text, the author's choice of recipients, the send time."""

    text: str  # as recipients will read it (signed)
    groups: tuple[int, ...]
    contacts: tuple[int, ...]
    send_at: datetime | None

    @property
    def version(self) -> str:
        """SHA-256 naming this content; an approval carries it, so a changed broadcast is not approved unseen."""
        payload = {
            "text": self.text,
            "groups": list(self.groups),
            "contacts": list(self.contacts),
            "send_at": self.send_at.isoformat() if self.send_at else None,
        }
        return text_hash(json.dumps(payload, sort_keys=True, ensure_ascii=False))

    def as_record(self) -> dict:
        """The content for the audit log (what :mod:`modemd.jobs.broadcast_review` compares later)."""
        return {
            "version": self.version,
            "text": self.text,
            "groups": list(self.groups),
            "contacts": list(self.contacts),
            "send_at": self.send_at.isoformat() if self.send_at else None,
        }


def content_of(broadcast: Broadcast, config: Config) -> Content:
    return content_signed(broadcast, config.notify.signature)


def content_signed(broadcast: Broadcast, signature: str) -> Content:
    """The content with ``signature`` on a text not yet approved (``""``: the author's words alone)."""
    groups, contacts = targets_of(broadcast)
    return Content(
        final_text(broadcast, signature), tuple(sorted(set(groups))), tuple(sorted(set(contacts))), broadcast.send_at
    )


@dataclass
class Preview:
    text: str  # as recipients will read it
    encoding: str  # gsm7 | ucs2
    chars: int
    parts: int  # per recipient
    per_part: int
    remaining: int
    recipients: Recipients

    @property
    def count(self) -> int:
        return len(self.recipients.numbers)

    @property
    def total_parts(self) -> int:
        return self.count * self.parts

    @property
    def problems(self) -> list[str]:
        """Why it cannot be submitted or approved as it is (empty: it can)."""
        found = []
        if not self.text.strip():
            found.append("the text is empty")
        if self.parts > MAX_PARTS:
            found.append(f"the text needs {self.parts} SMS parts; at most {MAX_PARTS} are allowed")
        if not self.count:
            found.append("there are no recipients (empty groups, or every number is invalid or blocked)")
        return found


def preview_of(text: str, group_ids: list[int], contact_ids: list[int], signature: str = "") -> Preview:
    """Encoding, parts, recipients after de-duplication, invalid or blocked numbers and total cost."""
    final = signed(text, signature) if text.strip() else ""
    shape = sms_count(final)
    return Preview(
        final,
        shape.encoding,
        shape.chars,
        shape.parts,
        shape.per_part,
        shape.remaining,
        resolve(group_ids, contact_ids),
    )


def preview(broadcast: Broadcast, config: Config) -> Preview:
    groups, contacts = targets_of(broadcast)
    if broadcast.approved_at is not None:
        shape = sms_count(broadcast.text)
        return Preview(
            broadcast.text,
            shape.encoding,
            shape.chars,
            shape.parts,
            shape.per_part,
            shape.remaining,
            resolve(groups, contacts),
        )
    return preview_of(broadcast.text, groups, contacts, config.notify.signature)
