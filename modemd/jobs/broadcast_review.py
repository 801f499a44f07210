"""What changed in a broadcast since an approver was shown it (Bekasi Pasal 7 (6), 10 c).

An approval names the version it was given (:attr:`modemd.jobs.broadcasts.Content.version`).
When the author changed the broadcast in the meantime the approval is
refused, and the approver is shown the difference: the old and the new text,
the groups and contacts added and removed, the old and new send time.

The old content comes from the audit log: every submission records its
content there with its version, so the server never has to trust a text or a
recipient list sent back by a browser. A version the log does not know
(forged, or submitted before versions were recorded) gives no difference,
only the refusal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from modemd.jobs.broadcasts import Content, content_of
from modemd.store.models import AuditLog, Broadcast, Contact, ContactGroup

if TYPE_CHECKING:
    from modemd.config import Config


@dataclass
class Changes:
    old_text: str
    new_text: str
    groups_added: list[str] = field(default_factory=list)
    groups_removed: list[str] = field(default_factory=list)
    contacts_added: list[str] = field(default_factory=list)  # "name (number)"
    contacts_removed: list[str] = field(default_factory=list)
    old_send_at: datetime | None = None
    new_send_at: datetime | None = None

    @property
    def text_changed(self) -> bool:
        return self.old_text != self.new_text

    @property
    def send_at_changed(self) -> bool:
        return self.old_send_at != self.new_send_at


def submitted_content(broadcast: Broadcast, version: str) -> Content | None:
    """The content of the submission of ``broadcast`` whose version is ``version``, from the audit log."""
    entries = (
        AuditLog.select(AuditLog.detail)
        .where(
            AuditLog.object_type == "broadcast",
            AuditLog.object_id == str(broadcast.id),
            AuditLog.action == "broadcast.submit",
        )
        .order_by(AuditLog.id.desc())
        .tuples()
    )
    for (detail,) in entries:
        record = json.loads(detail or "{}")
        if record.get("version") == version and "text" in record:
            send_at = datetime.fromisoformat(record["send_at"]) if record.get("send_at") else None
            content = Content(
                record["text"], tuple(record.get("groups", ())), tuple(record.get("contacts", ())), send_at
            )
            if content.version == version:  # the record is what the version names
                return content
    return None


def _group_names(ids) -> list[str]:
    return (
        [
            name
            for (name,) in ContactGroup.select(ContactGroup.name)
            .where(ContactGroup.id.in_(list(ids)))
            .order_by(ContactGroup.name)
            .tuples()
        ]
        if ids
        else []
    )


def _contact_labels(ids) -> list[str]:
    return (
        [
            f"{name} ({number})"
            for name, number in Contact.select(Contact.name, Contact.phone)
            .where(Contact.id.in_(list(ids)))
            .order_by(Contact.name)
            .tuples()
        ]
        if ids
        else []
    )


def changes_since(broadcast: Broadcast, version: str, config: Config) -> Changes | None:
    """The difference between the version an approver saw and the broadcast now (None if that version is unknown)."""
    old = submitted_content(broadcast, version)
    if old is None:
        return None
    new = content_of(broadcast, config)
    return Changes(
        old_text=old.text,
        new_text=new.text,
        groups_added=_group_names(set(new.groups) - set(old.groups)),
        groups_removed=_group_names(set(old.groups) - set(new.groups)),
        contacts_added=_contact_labels(set(new.contacts) - set(old.contacts)),
        contacts_removed=_contact_labels(set(old.contacts) - set(new.contacts)),
        old_send_at=old.send_at,
        new_send_at=new.send_at,
    )
