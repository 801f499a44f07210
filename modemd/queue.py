"""Putting SMS into the outbound queue: the one way any part of modemd sends.

Replies from the web UI, automatic replies, notifications and broadcasts all
become :class:`~modemd.models.OutboundMessage` rows here (one per recipient);
the daemon's dispatcher takes them from the database.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from . import phone
from .models import PRIORITY, OutboundMessage, utcnow

DEFAULT_MAX_ATTEMPTS = 4
DEFAULT_EXPIRY = 24 * 3600.0


class EmptyMessage(ValueError):
    pass


def sms_shape(text: str) -> tuple[str, int]:
    """(encoding, parts) of a text as it will be sent."""
    from .pdu import count

    shape = count(text)
    return shape.encoding, shape.parts


def enqueue(recipient: str, text: str, kind: str, *, config=None, case=None, broadcast=None, created_by=None,
            preferred_modem: str | None = None, send_at: datetime | None = None) -> OutboundMessage:
    """Queue one SMS. Raises phone.InvalidNumber for a bad number, EmptyMessage for no text.

    ``config`` (a loaded :class:`~modemd.config.Config`) supplies attempts,
    expiry and the delivery-report setting; without it the defaults apply.
    ``send_at`` is naive UTC.
    """
    if not text or not text.strip():
        raise EmptyMessage("the message is empty")
    number = phone.normalize(recipient)
    encoding, parts = sms_shape(text)
    now = utcnow()
    max_attempts = config.get("sms", "max_attempts") if config else DEFAULT_MAX_ATTEMPTS
    expiry = config.get("sms", "expiry") if config else DEFAULT_EXPIRY
    status_report = config.get("sms", "status_report") if config else True
    start = send_at or now
    return OutboundMessage.create(
        recipient=number, text=text, kind=kind, priority=PRIORITY[kind], state="pending",
        max_attempts=max_attempts, next_attempt_at=start, expires_at=start + timedelta(seconds=expiry),
        created_at=now, parts=parts, encoding=encoding, status_report=status_report,
        preferred_modem=preferred_modem, case=case, broadcast=broadcast, created_by=created_by,
    )
