"""The approver's side: approve the version they were shown, or reject with a reason.

Nobody approves their own broadcast and a second approval is refused. An
approval names the version the approver saw (:attr:`~.content.Content.version`);
if the author changed anything since, it is refused (Bekasi Pasal 7 (6)). At
approval the signature is appended and the final text's SHA-256 stored.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from modemd import states
from modemd.states import BroadcastState as B
from modemd.store.models import Broadcast, User, audit, database_proxy, utcnow

from .content import content_of, preview, text_hash
from .rules import APPROVER_ROLES, BroadcastError, check_move, lock_broadcast, update_or_refuse

if TYPE_CHECKING:
    from modemd.config import Config

log = logging.getLogger("modemd.broadcast")


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
    check_move(broadcast, B.APPROVED, f"only a pending broadcast can be approved (this one is {broadcast.state})")


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
        locked = lock_broadcast(broadcast.id)
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
        update_or_refuse(
            Broadcast.update(
                state=B.APPROVED,
                approved_by=approver,
                approved_at=moment,
                text=shown.text,
                text_sha256=text_hash(shown.text),
                recipient_count=shown.count,
                parts_per_recipient=shown.parts,
            ).where(
                Broadcast.id == broadcast.id,
                Broadcast.state.in_(states.sources(B.APPROVED)),
                Broadcast.approved_at.is_null(),
            ),
            "this broadcast was already approved or changed meanwhile",
            "already_approved",
        )
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
        current = lock_broadcast(broadcast.id)
        if current is None:
            raise BroadcastError("no such broadcast", code="missing")
        check_move(current, B.REJECTED, "only a pending broadcast can be rejected")
        update_or_refuse(
            Broadcast.update(state=B.REJECTED, rejected_reason=reason.strip()).where(
                Broadcast.id == broadcast.id, Broadcast.state.in_(states.sources(B.REJECTED))
            ),
            "only a pending broadcast can be rejected",
            "wrong_state",
        )
        audit(approver.login, "broadcast.reject", broadcast, reason=reason.strip())
    return Broadcast.get_by_id(broadcast.id)
