"""Replying to a citizen: the sender ID suffix, the size limit and queueing.

Queueing a reply does not answer the case: it is answered when the daemon
records the reply as sent (:mod:`modemd.cases.answers`). Here only ``replied_at``,
when an official first wrote a reply, is kept.
"""

from __future__ import annotations

import logging

from modemd.config import Config
from modemd.send import outqueue
from modemd.sms import phone
from modemd.sms.segmentation import count as sms_count
from modemd.store.models import Case, User, audit, utcnow

log = logging.getLogger("modemd.web")

# A reply longer than this many SMS parts is refused: it costs as much as ten
# messages and most phones show it badly. The reply box shows the same limit.
MAX_REPLY_PARTS = 10


class ReplyError(ValueError):
    """A reply that cannot be sent; the message says why, for the person who wrote it."""


def sender_suffix(user: User, config: Config) -> str:
    """What every reply of ``user`` ends with: " -DISHUB" (their sender ID, else [sms] sender_id)."""
    sender = (user.sender_id or "").strip().lstrip("-")
    if not sender:
        sender = config.sms.sender_id.strip().lstrip("-")
    return f" -{sender}" if sender else ""


def full_text(text: str, user: User, config: Config) -> str:
    return text.rstrip() + sender_suffix(user, config)


def send_reply(case: Case, user: User, text: str, config: Config, *, token: str = ""):
    """Queue a reply to the case's citizen; the case is answered once the daemon has sent it.

    ``token``: the name of the API token it came through (webui/api), kept in the audit log.
    """

    body = (text or "").replace("\r\n", "\n").strip()
    if not body:
        raise ReplyError("empty")
    message = full_text(body, user, config)
    shape = sms_count(message)
    if shape.parts > MAX_REPLY_PARTS:
        raise ReplyError("too_long")
    if phone.try_normalize(case.citizen) is None:
        raise ReplyError("unanswerable")
    database = Case._meta.database
    with database.atomic():
        outbound = outqueue.enqueue(case.citizen, message, "reply", case=case, created_by=user, config=config)
        if case.replied_at is None:
            case.replied_at = utcnow()
            case.save(only=[Case.replied_at])
        via = {"token": token} if token else {}
        audit(user.login, "case.reply", case, message=outbound.id, parts=shape.parts, encoding=shape.encoding, **via)
    log.info("reply queued: case=%s message=%s by=%s parts=%d", case.id, outbound.id, user.login, shape.parts)
    return outbound
