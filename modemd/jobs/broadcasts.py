"""Coordination broadcasts (Bekasi Pasal 6, 7 (6), 10): draft, approve, queue, follow, cancel, retry.

The life of a broadcast::

    draft --submit--> pending --approve--> approved --(its time)--> sending --> done
                        |  ^                  |                       |
                     reject |  edit          cancel                  cancel (what has not left)
                        v  |
                      rejected

The states and every allowed move are one table, ``BROADCAST_TRANSITIONS`` in
:mod:`modemd.states` (drawn in docs/architecture-states.md); each function here
asks it before it writes a new state, and a refused move is a
:class:`BroadcastError` with code ``wrong_state``.

* Admins, officials and approvers draft; an approver approves or rejects with a reason;
  nobody approves their own broadcast, and a second approval is refused.
* An approval names the version the approver was shown (:func:`content_of`:
  the SHA-256 of the final text, the chosen groups and contacts and the send
  time); if the author changed anything since, the approval is refused
  (Bekasi Pasal 7 (6)), so nobody approves a text they did not see. Each
  submission records its content in the audit log, which is what
  :mod:`modemd.jobs.broadcast_review` compares to show the approver what changed.
* At approval the ``[notify] signature`` is appended and the final text's
  SHA-256 stored; queueing refuses a text that no longer matches.
* Recipients are the active contacts of the chosen groups plus the chosen
  contacts, one per number (a number in two groups gets one SMS), without
  blocked or invalid numbers.
* Queueing writes one :class:`~modemd.store.models.OutboundMessage` per recipient
  (kind ``broadcast``, lower priority than replies) in chunks, each chunk
  in one transaction; the unique index (broadcast, recipient) plus
  ``INSERT ... ON CONFLICT DO NOTHING`` make a duplicate impossible, and a
  queueing cut short by a restart is resumed where it stopped
  (``state = 'sending'`` with no ``queued_at`` yet).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

import peewee
from peewee import fn

from modemd import states
from modemd.send import outqueue
from modemd.sms import phone
from modemd.sms.segmentation import count as sms_count
from modemd.states import BroadcastState as B
from modemd.states import OutboundState
from modemd.store.db import dialect
from modemd.store.models import (
    BlockedNumber,
    Broadcast,
    BroadcastTarget,
    Contact,
    ContactGroup,
    GroupMember,
    OutboundMessage,
    Template,
    User,
    audit,
    database_proxy,
    utcnow,
)
from modemd.store.sqlcache import CompiledInsert
from modemd.webhooks import events as webhook_events

if TYPE_CHECKING:
    from modemd.config import Config

log = logging.getLogger("modemd.broadcast")

# What a broadcast is about; the web UI shows the Indonesian words.
CATEGORIES = ("information", "invitation", "announcement", "warning")
DRAFTER_ROLES = ("admin", "official", "approver")
APPROVER_ROLES = ("approver",)
# Concatenated SMS beyond this many parts are costly and some phones show them badly.
MAX_PARTS = 10
# Rows per INSERT and per transaction when queueing (14 columns x 1000 stays under every database's limits).
CHUNK = 1000
# States in which the daemon still owes work (of a recipient's message).
OPEN_STATES = (OutboundState.PENDING, OutboundState.SENDING)
# A broadcast that can no longer be cancelled (the transition table has no move to cancelled from these).
FINISHED = tuple(state for state in B if not states.allowed(state, B.CANCELLED))
# The states an author may still change (an edit makes it a draft again).
EDITABLE = (B.DRAFT, *states.sources(B.DRAFT))


class BroadcastError(ValueError):
    """A request the rules refuse; the message says why (in English, for logs and the CLI).

    ``code`` names the rule, so the web UI can say it in the user's language.
    """

    def __init__(self, message: str, code: str = ""):
        super().__init__(message)
        self.code = code


def _check(broadcast: Broadcast, new: B, refusal: str = "") -> None:
    """Refuse a move the transition table does not allow, as a :class:`BroadcastError` the UI can word."""
    try:
        states.check(broadcast.state, new)
    except states.TransitionError as exc:
        raise BroadcastError(f"{refusal}: {exc}" if refusal else str(exc), code="wrong_state") from exc


# --------------------------------------------------------------------------
# Text


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


# --------------------------------------------------------------------------
# Recipients


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
    return _content(broadcast, config.notify.signature)


def _content(broadcast: Broadcast, signature: str) -> Content:
    groups, contacts = targets_of(broadcast)
    return Content(
        final_text(broadcast, signature), tuple(sorted(set(groups))), tuple(sorted(set(contacts))), broadcast.send_at
    )


# --------------------------------------------------------------------------
# Preview


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


# --------------------------------------------------------------------------
# Drafting


def _check_fields(text: str, category: str, group_ids, contact_ids) -> None:
    if not text or not text.strip():
        raise BroadcastError("the text is empty", code="empty")
    if category not in CATEGORIES:
        raise BroadcastError(
            f"unknown category {category!r} (expected one of: {', '.join(CATEGORIES)})", code="category"
        )
    missing_groups = (
        set(group_ids)
        - {g for (g,) in ContactGroup.select(ContactGroup.id).where(ContactGroup.id.in_(list(group_ids))).tuples()}
        if group_ids
        else set()
    )
    missing_contacts = (
        set(contact_ids) - {c for (c,) in Contact.select(Contact.id).where(Contact.id.in_(list(contact_ids))).tuples()}
        if contact_ids
        else set()
    )
    if missing_groups or missing_contacts:
        raise BroadcastError(
            f"no such group {sorted(missing_groups)} or contact {sorted(missing_contacts)}", code="unknown_target"
        )
    if not group_ids and not contact_ids:
        raise BroadcastError("choose at least one group or contact", code="no_target")


def _set_targets(broadcast: Broadcast, group_ids, contact_ids) -> None:
    BroadcastTarget.delete().where(BroadcastTarget.broadcast == broadcast).execute()
    # every row names both columns: insert_many takes its columns from the first row
    rows = [{"broadcast": broadcast.id, "group": g, "contact": None} for g in dict.fromkeys(group_ids)] + [
        {"broadcast": broadcast.id, "group": None, "contact": c} for c in dict.fromkeys(contact_ids)
    ]
    if rows:
        BroadcastTarget.insert_many(rows).execute()


def draft(
    author: User,
    text: str,
    *,
    title: str = "",
    category: str = "information",
    groups=(),
    contacts=(),
    send_at: datetime | None = None,
) -> Broadcast:
    """A new draft. ``send_at`` is naive UTC (None: as soon as approved)."""
    if author.role not in DRAFTER_ROLES or not author.active:
        raise BroadcastError(
            f"{author.login} may not draft broadcasts (admins, officials and approvers may)", code="not_allowed"
        )
    group_ids, contact_ids = list(groups), list(contacts)
    _check_fields(text, category, group_ids, contact_ids)
    with database_proxy.atomic():
        broadcast = Broadcast.create(
            title=title.strip()[:128], text=text, category=category, created_by=author, send_at=send_at, state=B.DRAFT
        )
        _set_targets(broadcast, group_ids, contact_ids)
        audit(author.login, "broadcast.draft", broadcast, category=category, groups=group_ids, contacts=contact_ids)
    return broadcast


def may_edit(broadcast: Broadcast, user: User) -> bool:
    return broadcast.state in EDITABLE and (user.id == broadcast.created_by_id or user.role == "admin")


def edit(
    broadcast: Broadcast,
    actor: User,
    *,
    text: str | None = None,
    title: str | None = None,
    category: str | None = None,
    groups=None,
    contacts=None,
    send_at: datetime | None | bool = False,
) -> Broadcast:
    """Change a draft, a pending or a rejected broadcast; it becomes a draft again. An approved one cannot change."""
    with database_proxy.atomic():
        broadcast = Broadcast.get_by_id(broadcast.id)
        if broadcast.approved_at is not None or broadcast.state not in EDITABLE:
            raise BroadcastError("an approved broadcast cannot change; cancel it and draft a new one", code="locked")
        if not may_edit(broadcast, actor):
            raise BroadcastError(
                f"{actor.login} may not edit this broadcast (its author or an admin may)", code="not_allowed"
            )
        was = broadcast.state
        before = _content(broadcast, "")  # what the author changed, signature aside
        old_groups, old_contacts = targets_of(broadcast)
        group_ids = list(old_groups if groups is None else groups)
        contact_ids = list(old_contacts if contacts is None else contacts)
        new_text = broadcast.text if text is None else text
        new_category = broadcast.category if category is None else category
        _check_fields(new_text, new_category, group_ids, contact_ids)
        broadcast.text, broadcast.category = new_text, new_category
        if title is not None:
            broadcast.title = title.strip()[:128]
        if send_at is not False:
            broadcast.send_at = send_at
        if was != B.DRAFT:
            states.check(was, B.DRAFT)
        broadcast.state, broadcast.rejected_reason = B.DRAFT, None
        broadcast.save()
        _set_targets(broadcast, group_ids, contact_ids)
        after = _content(broadcast, "")
        changed = [
            name for name in ("text", "groups", "contacts", "send_at") if getattr(before, name) != getattr(after, name)
        ]
        # a pending broadcast that is edited goes back to draft: the approver must see it again
        audit(actor.login, "broadcast.edit", broadcast, was=was, changed=changed)
    if was == B.PENDING:
        log.info("broadcast %d edited while waiting for approval; back to draft", broadcast.id)
    return broadcast


def submit(broadcast: Broadcast, actor: User, config: Config) -> Broadcast:
    """Ask for approval: draft -> pending, if it could go out as it is."""
    broadcast = Broadcast.get_by_id(broadcast.id)
    _check(broadcast, B.PENDING, f"only a draft can be submitted (this one is {broadcast.state})")
    if not may_edit(broadcast, actor):
        raise BroadcastError(
            f"{actor.login} may not submit this broadcast (its author or an admin may)", code="not_allowed"
        )
    shown = preview(broadcast, config)
    if shown.problems:
        raise BroadcastError("; ".join(shown.problems), code="problems")
    with database_proxy.atomic():
        changed = (
            Broadcast.update(state=B.PENDING, recipient_count=shown.count, parts_per_recipient=shown.parts)
            .where(Broadcast.id == broadcast.id, Broadcast.state == B.DRAFT)
            .execute()
        )
        if not changed:
            raise BroadcastError("the broadcast changed meanwhile; reload it", code="changed")
        audit(
            actor.login,
            "broadcast.submit",
            broadcast,
            recipients=shown.count,
            parts=shown.parts,
            **content_of(broadcast, config).as_record(),
        )
    return Broadcast.get_by_id(broadcast.id)


# --------------------------------------------------------------------------
# Approval


def may_approve(broadcast: Broadcast, user: User) -> bool:
    return (
        states.allowed(broadcast.state, B.APPROVED)
        and user.role in APPROVER_ROLES
        and user.active
        and user.id != broadcast.created_by_id
    )


def check_approvable(broadcast: Broadcast, approver: User) -> None:
    """Raise the reason why ``approver`` may not approve ``broadcast`` now.

    The command line asks this before it asks for the password."""
    if approver.role not in APPROVER_ROLES or not approver.active:
        raise BroadcastError(f"{approver.login} is not an approver", code="not_approver")
    if approver.id == broadcast.created_by_id:
        raise BroadcastError("nobody approves their own broadcast; another approver must", code="own")
    if broadcast.approved_at is not None:
        raise BroadcastError(
            f"this broadcast was already approved by {broadcast.approved_by.login if broadcast.approved_by else '?'}",
            code="already_approved",
        )
    _check(broadcast, B.APPROVED, f"only a pending broadcast can be approved (this one is {broadcast.state})")


def approve(
    broadcast: Broadcast, approver: User, config: Config, *, version: str, via: str = "web", now: datetime | None = None
) -> Broadcast:
    """An approver approves the version they were shown: the signature is appended and the final text's hash stored.

    ``version`` is :attr:`Content.version` of what the approver saw; if the
    broadcast changed since (text, groups, contacts or send time), the
    approval is refused with code ``changed_version``. ``via`` ("web", "cli")
    is written to the audit log.
    """
    moment = now or utcnow()
    with database_proxy.atomic():
        # locked: an edit cannot slip in between the version check and the approval
        locked = _lock(broadcast.id)
        if locked is None:
            raise BroadcastError("no such broadcast", code="missing")
        broadcast = locked
        check_approvable(broadcast, approver)
        if content_of(broadcast, config).version != version:
            raise BroadcastError(
                "the broadcast changed after it was shown to the approver; check it again", code="changed_version"
            )
        shown = preview(broadcast, config)
        if shown.problems:
            raise BroadcastError("; ".join(shown.problems), code="problems")
        # conditional, so two approvers clicking at once approve it once
        changed = (
            Broadcast.update(
                state=B.APPROVED,
                approved_by=approver,
                approved_at=moment,
                text=shown.text,
                text_sha256=text_hash(shown.text),
                recipient_count=shown.count,
                parts_per_recipient=shown.parts,
            )
            .where(
                Broadcast.id == broadcast.id,
                Broadcast.state.in_(states.sources(B.APPROVED)),
                Broadcast.approved_at.is_null(),
            )
            .execute()
        )
        if not changed:
            raise BroadcastError("this broadcast was already approved or changed meanwhile", code="already_approved")
        audit(
            approver.login,
            "broadcast.approve",
            broadcast,
            sha256=text_hash(shown.text),
            recipients=shown.count,
            version=version,
            via=via,
        )
    log.info(
        "broadcast %d approved by %s (%s): %d recipient(s), %d part(s) each",
        broadcast.id,
        approver.login,
        via,
        shown.count,
        shown.parts,
    )
    return Broadcast.get_by_id(broadcast.id)


def reject(broadcast: Broadcast, approver: User, reason: str) -> Broadcast:
    """An approver sends it back with a reason; the author may edit and submit again."""
    if not reason or not reason.strip():
        raise BroadcastError("a rejection needs a reason", code="reason")
    if approver.role not in APPROVER_ROLES or not approver.active:
        raise BroadcastError(f"{approver.login} is not an approver", code="not_approver")
    with database_proxy.atomic():
        current = _lock(broadcast.id)
        if current is None:
            raise BroadcastError("no such broadcast", code="missing")
        _check(current, B.REJECTED, "only a pending broadcast can be rejected")
        changed = (
            Broadcast.update(state=B.REJECTED, rejected_reason=reason.strip())
            .where(Broadcast.id == broadcast.id, Broadcast.state.in_(states.sources(B.REJECTED)))
            .execute()
        )
        if not changed:
            raise BroadcastError("only a pending broadcast can be rejected", code="wrong_state")
        audit(approver.login, "broadcast.reject", broadcast, reason=reason.strip())
    return Broadcast.get_by_id(broadcast.id)


# --------------------------------------------------------------------------
# Queueing


def _lock(broadcast_id: int) -> Broadcast | None:
    """Re-read the broadcast inside the current transaction, locked against a concurrent cancel."""
    query = Broadcast.select().where(Broadcast.id == broadcast_id)
    if dialect(database_proxy.obj) != "sqlite":  # SQLite's BEGIN IMMEDIATE already holds the write lock
        query = query.for_update()
    return query.first()


# peewee renders a bulk INSERT value by value (insert_many: 20,000 rows 2.2 s); rendered once and run with
# executemany instead (0.5 s), see modemd.store.sqlcache. A number queued already is skipped by the unique index.
_INSERT_IGNORING_DUPLICATES = CompiledInsert(OutboundMessage, ignore_conflicts=True)


def _insert_ignoring_duplicates(shared: dict, numbers: list[str]) -> None:
    """INSERT one row per number (``shared`` columns + recipient), skipping numbers already queued."""
    _INSERT_IGNORING_DUPLICATES.execute_many(shared, "recipient", numbers)


def queue_broadcast(broadcast_id: int, config: Config, *, now: datetime | None = None) -> int:
    """Queue an approved broadcast, or resume one cut short. Safe to run twice, also at the same time.

    Returns how many recipients' rows exist now that did not when this call began.
    """
    moment = now or utcnow()
    broadcast = Broadcast.get_or_none(Broadcast.id == broadcast_id)
    if broadcast is None:
        raise BroadcastError(f"no broadcast {broadcast_id}", code="missing")
    if broadcast.state == B.APPROVED:
        if broadcast.send_at is not None and broadcast.send_at > moment:
            raise BroadcastError(f"broadcast {broadcast_id} is due at {broadcast.send_at} UTC, not yet", code="not_due")
        (
            Broadcast.update(state=states.check(B.APPROVED, B.SENDING))
            .where(Broadcast.id == broadcast_id, Broadcast.state == B.APPROVED)
            .execute()
        )
    elif not (broadcast.state == B.SENDING and broadcast.queued_at is None):
        if broadcast.state == B.SENDING:
            return 0  # fully queued already
        raise BroadcastError(
            f"broadcast {broadcast_id} is {broadcast.state}; only an approved one is queued", code="wrong_state"
        )
    broadcast = Broadcast.get_by_id(broadcast_id)
    if broadcast.state != B.SENDING:
        return 0
    if not broadcast.text_sha256 or text_hash(broadcast.text) != broadcast.text_sha256:
        _refuse_changed_text(broadcast)
        raise BroadcastError(
            f"broadcast {broadcast_id}: the text changed after approval; it was cancelled", code="changed_text"
        )

    numbers = resolve(*targets_of(broadcast)).numbers
    present = {
        n
        for (n,) in OutboundMessage.select(OutboundMessage.recipient)
        .where(OutboundMessage.broadcast == broadcast_id)
        .tuples()
    }
    todo = [n for n in numbers if n not in present]
    shared = outqueue.row_values(
        broadcast.text, "broadcast", config=config, start=max(moment, broadcast.send_at or moment), now=moment
    )
    shared.update(broadcast=broadcast_id, created_by=broadcast.created_by_id)
    for chunk in peewee.chunked(todo, CHUNK):
        with database_proxy.atomic():
            current = _lock(broadcast_id)
            if current is None or current.state != B.SENDING:
                log.info(
                    "broadcast %d: queueing stopped, it is now %s",
                    broadcast_id,
                    current.state if current else "deleted",
                )
                return _row_count(broadcast_id) - len(present)
            # a row a concurrent or earlier run already wrote is skipped by the unique (broadcast, recipient)
            _insert_ignoring_duplicates(shared, chunk)
        outqueue.notify()  # committed: wake this process's dispatcher
    with database_proxy.atomic():
        total = _row_count(broadcast_id)
        (
            Broadcast.update(queued_at=moment, recipient_count=total)
            .where(Broadcast.id == broadcast_id, Broadcast.state == B.SENDING)
            .execute()
        )
        audit("daemon", "broadcast.queue", broadcast, recipients=total, resumed=bool(present))
    log.info(
        "broadcast %d queued: %d recipient(s)%s",
        broadcast_id,
        total,
        f", resumed after {len(present)}" if present else "",
    )
    return total - len(present)


def _row_count(broadcast_id: int) -> int:
    return OutboundMessage.select().where(OutboundMessage.broadcast == broadcast_id).count()


def _refuse_changed_text(broadcast: Broadcast) -> None:
    reason = "text changed after approval (SHA-256 mismatch); not sent"
    _check(broadcast, B.CANCELLED)
    Broadcast.update(state=B.CANCELLED, rejected_reason=reason).where(Broadcast.id == broadcast.id).execute()
    audit("daemon", "broadcast.refused", broadcast, reason=reason)
    log.error("broadcast %d: %s", broadcast.id, reason)


def due(now: datetime) -> list[int]:
    """Broadcasts to queue now: approved and due, or cut short while queueing."""
    query = (
        Broadcast.select(Broadcast.id)
        .where(
            ((Broadcast.state == B.APPROVED) & (Broadcast.send_at.is_null() | (Broadcast.send_at <= now)))
            | ((Broadcast.state == B.SENDING) & Broadcast.queued_at.is_null())
        )
        .order_by(Broadcast.id)
        .tuples()
    )
    return [i for (i,) in query]


def finish(now: datetime | None = None) -> list[int]:
    """Mark sending broadcasts with nothing left to send as done."""
    open_rows = OutboundMessage.select(OutboundMessage.id).where(
        OutboundMessage.broadcast == Broadcast.id, OutboundMessage.state.in_(OPEN_STATES)
    )
    finished = [
        i
        for (i,) in Broadcast.select(Broadcast.id)
        .where(Broadcast.state == B.SENDING, Broadcast.queued_at.is_null(False), ~fn.EXISTS(open_rows))
        .tuples()
    ]
    if finished:
        with database_proxy.atomic():  # the webhook events go with the change
            (
                Broadcast.update(state=states.check(B.SENDING, B.DONE))
                .where(Broadcast.id.in_(finished), Broadcast.state == B.SENDING)
                .execute()
            )
            if webhook_events.current():
                for broadcast in Broadcast.select(Broadcast.id, Broadcast.title).where(Broadcast.id.in_(finished)):
                    counts = dataclasses.asdict(progress(broadcast.id))
                    webhook_events.broadcast_done(broadcast.id, broadcast.title, counts, now)
        for broadcast_id in finished:
            log.info("broadcast %d done", broadcast_id)
    return finished


def run_due(now: datetime, config: Config) -> list[int]:
    """The scheduler's pass: queue what is due, close what is finished. Returns the ids queued."""
    queued = []
    for broadcast_id in due(now):
        try:
            queue_broadcast(broadcast_id, config, now=now)
            queued.append(broadcast_id)
        except BroadcastError as exc:
            log.error("%s", exc)
    finish(now)
    return queued


# --------------------------------------------------------------------------
# While sending


def may_cancel(broadcast: Broadcast, user: User) -> bool:
    return broadcast.state not in FINISHED and (
        user.id == broadcast.created_by_id or user.role in ("admin", *APPROVER_ROLES)
    )


def cancel(broadcast: Broadcast, actor: User, reason: str = "") -> int:
    """Stop a broadcast: what has not left is cancelled, what has left stays. Returns the rows cancelled."""
    with database_proxy.atomic():
        current = _lock(broadcast.id)
        if current is None:
            raise BroadcastError("no such broadcast", code="missing")
        if current.state in FINISHED:
            raise BroadcastError(f"this broadcast is already {current.state}", code="finished")
        _check(current, B.CANCELLED)
        if not may_cancel(current, actor):
            raise BroadcastError(f"{actor.login} may not cancel this broadcast", code="not_allowed")
        Broadcast.update(state=B.CANCELLED, rejected_reason=reason.strip() or None).where(
            Broadcast.id == broadcast.id
        ).execute()
        cancelled = (
            OutboundMessage.update(
                state=states.check(OutboundState.PENDING, OutboundState.CANCELLED), failure_reason="broadcast cancelled"
            )
            .where(OutboundMessage.broadcast == broadcast.id, OutboundMessage.state == OutboundState.PENDING)
            .execute()
        )
        audit(actor.login, "broadcast.cancel", current, cancelled=cancelled, reason=reason.strip())
    log.info("broadcast %d cancelled by %s: %d pending SMS cancelled", broadcast.id, actor.login, cancelled)
    return cancelled


# Failed recipients can be sent again while the broadcast sends, or once it is done (it then sends again).
RETRYABLE = (B.SENDING, B.DONE)


def may_retry(broadcast: Broadcast, user: User) -> bool:
    return broadcast.state in RETRYABLE and (
        user.id == broadcast.created_by_id or user.role in ("admin", *APPROVER_ROLES)
    )


def retry_failed(broadcast: Broadcast, actor: User, config: Config, *, now: datetime | None = None) -> int:
    """Put every failed recipient back in the queue (one click). Returns how many."""
    moment = now or utcnow()
    expiry = config.sms.expiry
    with database_proxy.atomic():
        current = _lock(broadcast.id)
        if current is None or current.state not in RETRYABLE:
            raise BroadcastError(
                "only a broadcast that is sending or done can retry its failed recipients", code="wrong_state"
            )
        if not may_retry(current, actor):
            raise BroadcastError(f"{actor.login} may not retry this broadcast", code="not_allowed")
        retried = (
            OutboundMessage.update(
                state=states.check(OutboundState.FAILED, OutboundState.PENDING),
                attempts=0,
                next_attempt_at=moment,
                failure_reason=None,
                expires_at=moment + timedelta(seconds=expiry),
                claimed_by=None,
                claimed_at=None,
            )
            .where(OutboundMessage.broadcast == broadcast.id, OutboundMessage.state == OutboundState.FAILED)
            .execute()
        )
        if retried and current.state == B.DONE:
            _check(current, B.SENDING)
            Broadcast.update(state=B.SENDING).where(Broadcast.id == broadcast.id).execute()
        audit(actor.login, "broadcast.retry_failed", current, retried=retried)
    outqueue.notify()
    return retried


@dataclass
class Progress:
    total: int = 0
    pending: int = 0
    sending: int = 0
    sent: int = 0  # left the modem, no delivery report yet
    delivered: int = 0
    failed: int = 0
    cancelled: int = 0

    @property
    def left(self) -> int:
        return self.pending + self.sending

    def share(self, state: str) -> float:
        """Percentage of the total in a state, for a progress bar."""
        return 100.0 * getattr(self, state) / self.total if self.total else 0.0


def progress(broadcast_id: int) -> Progress:
    """Per-state counts of a broadcast's recipients (one query)."""
    result = Progress()
    for state, number in (
        OutboundMessage.select(OutboundMessage.state, fn.COUNT(OutboundMessage.id))
        .where(OutboundMessage.broadcast == broadcast_id)
        .group_by(OutboundMessage.state)
        .tuples()
    ):
        setattr(result, state, number)
        result.total += number
    return result


def recipient_rows(
    broadcast_id: int, *, state: str | None = None, search: str = "", limit: int = 100, offset: int = 0
) -> list[dict]:
    """Per-recipient states with the contact's name, for "I did not receive it" (Bekasi Pasal 10 e)."""
    query = OutboundMessage.select(
        OutboundMessage.id,
        OutboundMessage.recipient,
        OutboundMessage.state,
        OutboundMessage.attempts,
        OutboundMessage.sent_at,
        OutboundMessage.delivered_at,
        OutboundMessage.failure_reason,
        OutboundMessage.failure_code,
    ).where(OutboundMessage.broadcast == broadcast_id)
    if state:
        query = query.where(OutboundMessage.state == state)
    if search.strip():
        number = phone.try_normalize(search) or search.strip()
        query = query.where(OutboundMessage.recipient.contains(number.lstrip("0")))
    rows = list(query.order_by(OutboundMessage.recipient).limit(limit).offset(offset).dicts())
    names = (
        dict(
            Contact.select(Contact.phone, Contact.name)
            .where(Contact.phone.in_([r["recipient"] for r in rows]))
            .tuples()
        )
        if rows
        else {}
    )
    for row in rows:
        row["name"] = names.get(row["recipient"], "")
    return rows


# --------------------------------------------------------------------------
# Templates


def save_template(name: str, text: str, actor: User) -> Template:
    """Create or replace a template for recurring messages."""
    name = name.strip()
    if not name or len(name) > 64:
        raise BroadcastError("a template needs a name of at most 64 characters", code="template_name")
    if not text or not text.strip():
        raise BroadcastError("the template text is empty", code="empty")
    with database_proxy.atomic():
        template = Template.get_or_none(Template.name == name)
        if template is None:
            template = Template.create(name=name, text=text)
        else:
            template.text = text
            template.save()
        audit(actor.login, "template.save", template)
    return template


def delete_template(template: Template, actor: User) -> None:
    with database_proxy.atomic():
        audit(actor.login, "template.delete", template, name=template.name)
        template.delete_instance()


def visible_to(user: User) -> peewee.ModelSelect:
    """Broadcasts a user may see: admins and approvers all, others their own."""
    query = Broadcast.select().order_by(Broadcast.created_at.desc(), Broadcast.id.desc())
    if user.role in ("admin", *APPROVER_ROLES):
        return query
    return query.where(Broadcast.created_by == user)
