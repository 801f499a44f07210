"""Re-assigning a misrouted case (Muara Enim Pasal 7 c-h): the new owner hears of it at once.

The case moves to its new keyword and owner; its deadline stays the one the
citizen was given (the 3 hours of Banjarnegara Pasal 13 run from the
citizen's SMS, not from the move). The new owner gets an SMS right away, like
the hourly notification, naming the case, the keyword, that deadline and the
link, so a moved case does not wait for the next hourly slot. The move, its
audit entry and the SMS (recorded once, like every notification) are one
transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from modemd.jobs.notifications import ASSIGN, Planned, case_url, clean, deliver
from modemd.jobs.recap import fill
from modemd.store.models import Case, User, audit, database_proxy

if TYPE_CHECKING:
    from modemd.config import Config

log = logging.getLogger("modemd.assign")


def deadline_text(deadline: datetime, zone: ZoneInfo) -> str:
    """Naive UTC -> ``23/11 12.00`` in the centre's time zone."""
    return f"{deadline.replace(tzinfo=ZoneInfo('UTC')).astimezone(zone):%d/%m %H.%M}"


def assignment_text(case: Case, config: Config) -> str:
    return clean(
        fill(
            config.notify.assign_text,
            case=case.id,
            keyword=case.keyword or "-",
            deadline=deadline_text(case.deadline_at, config.timezone),
            url=case_url(config, [case.id]),
        )
    )


def reassign(case: Case, keyword: str | None, owner: User | None, actor: str, config: Config) -> int | None:
    """Move ``case`` to ``keyword`` and ``owner``; returns the id of the SMS to the new owner, if one was queued."""
    old = {"keyword": case.keyword, "owner": case.owner.login if case.owner_id else None}
    tell = (
        owner is not None and owner.id != case.owner_id and owner.active and bool(owner.phone) and owner.login != actor
    )
    with database_proxy.atomic():
        case.keyword, case.owner = keyword, owner
        case.save(only=[Case.keyword, Case.owner])
        entry = audit(
            actor, "case.assign", case, old=old, new={"keyword": keyword, "owner": owner.login if owner else None}
        )
        if not tell or owner is None:  # (tell implies an owner; said again for the type checker)
            return None
        plan = Planned(
            owner.phone, assignment_text(case, config), [(ASSIGN, f"case-{case.id}-{entry.id}", owner.login)]
        )
        queued = deliver([plan], config)
    if queued and owner is not None:
        log.info("case %s assigned to %s by %s; notification #%d queued", case.id, owner.login, actor, queued[0])
    return queued[0] if queued else None
