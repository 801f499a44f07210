"""The author's side: draft a broadcast, edit it, submit it for approval.

A draft, a pending or a rejected broadcast may still change, by its author or
an admin; the change makes it a draft again, so an approver sees it anew. Each
submission writes the content it asks approval for into the audit log (what
:mod:`modemd.jobs.broadcast_review` compares later).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from modemd import states
from modemd.states import BroadcastState as B
from modemd.store.models import Broadcast, BroadcastTarget, Contact, ContactGroup, User, audit, database_proxy

from .content import content_of, content_signed, preview, targets_of
from .rules import CATEGORIES, DRAFTER_ROLES, BroadcastError, check_move, update_or_refuse

if TYPE_CHECKING:
    from modemd.config import Config

log = logging.getLogger("modemd.broadcast")

# The states an author may still change (an edit makes it a draft again).
EDITABLE = (B.DRAFT, *states.sources(B.DRAFT))


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
        before = content_signed(broadcast, "")  # what the author changed, signature aside
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
        after = content_signed(broadcast, "")
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
    check_move(broadcast, B.PENDING, f"only a draft can be submitted (this one is {broadcast.state})")
    if not may_edit(broadcast, actor):
        raise BroadcastError(
            f"{actor.login} may not submit this broadcast (its author or an admin may)", code="not_allowed"
        )
    shown = preview(broadcast, config)
    if shown.problems:
        raise BroadcastError("; ".join(shown.problems), code="problems")
    with database_proxy.atomic():
        update_or_refuse(
            Broadcast.update(state=B.PENDING, recipient_count=shown.count, parts_per_recipient=shown.parts).where(
                Broadcast.id == broadcast.id, Broadcast.state == B.DRAFT
            ),
            "the broadcast changed meanwhile; reload it",
            "changed",
        )
        audit(
            actor.login,
            "broadcast.submit",
            broadcast,
            recipients=shown.count,
            parts=shown.parts,
            **content_of(broadcast, config).as_record(),
        )
    return Broadcast.get_by_id(broadcast.id)
