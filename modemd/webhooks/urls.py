"""Which webhook addresses modemd accepts (checked when modemd.ini and keywords.ini load).

The body carries citizens' messages, personal data (UU 27/2022): it travels
only over HTTPS, except to this same machine (``localhost``, ``127.0.0.0/8``,
``::1``), where a local relay or a test receiver may listen on plain HTTP.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

MIN_SECRET = 16  # characters; an HMAC key shorter than this is guessable


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def webhook_url(text: str) -> str:
    """``https://host[:port]/path`` (or ``http://`` to this machine), or empty for none."""
    value = text.strip()
    if not value:
        return ""
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise ValueError("expected a URL such as https://portal.example.go.id/modemd-hook") from None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host or parts.username or parts.password:
        raise ValueError("expected a URL such as https://portal.example.go.id/modemd-hook (no user or password)")
    if parts.scheme == "http" and not is_loopback(host):
        raise ValueError("expected https:// (plain http:// only to this machine: localhost, 127.0.0.1, ::1)")
    if port == 0:
        raise ValueError("expected a port between 1 and 65535")
    return value


def webhook_secret(text: str) -> str:
    value = text.strip()
    if value and len(value) < MIN_SECRET:
        raise ValueError(f"expected a secret of at least {MIN_SECRET} characters (e.g. from: openssl rand -hex 32)")
    return value
