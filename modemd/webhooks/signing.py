"""The signature on each webhook POST, and how a receiver checks it.

``X-Modemd-Timestamp`` is the Unix time of the attempt; ``X-Modemd-Signature``
is ``sha256=`` and the hex HMAC-SHA256, keyed with the endpoint's secret, of
the timestamp, a dot and the body bytes. The timestamp is inside the MAC so a
captured POST cannot be replayed later: a receiver refuses a timestamp older
than a few minutes (:func:`verify`'s ``tolerance``).
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Modemd-Signature"
TIMESTAMP_HEADER = "X-Modemd-Timestamp"
PREFIX = "sha256="


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), str(timestamp).encode("ascii") + b"." + body, hashlib.sha256)
    return PREFIX + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signed: str, *, tolerance: float = 300, now=None) -> bool:
    """What a receiver does: the timestamp is recent and the signature matches (compared in constant time)."""
    try:
        moment = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - moment) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, moment, body), signed or "")
