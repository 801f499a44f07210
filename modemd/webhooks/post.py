"""One webhook POST: signed, with a timeout for the whole attempt, redirects not followed.

A redirect is a failure, not followed: the signed body would go to an
address nobody configured. The timeout covers the whole attempt (connect,
send, the answer's status line and headers): a timer closes the socket when
it runs out, so a server that trickles its answer a byte at a time cannot hold
the endpoint's lane past it. The answer's body is not read beyond a little.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from modemd import __version__

from .signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature

USER_AGENT = f"modemd/{__version__} (webhook)"


@dataclass(frozen=True)
class Outcome:
    """What one attempt got: the status code (None without an answer), why it failed (None when it did not)."""

    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.error is None


def headers_for(secret: str, body: bytes, event: str, delivery_id: int, now: float | None = None) -> dict[str, str]:
    timestamp = int(now if now is not None else time.time())
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Modemd-Event": event,
        "X-Modemd-Delivery": str(delivery_id),
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }


def _close(connection: http.client.HTTPConnection, expired: threading.Event) -> None:
    expired.set()
    sock = connection.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Outcome:
    """POST ``body`` to ``url``; never raises."""
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    started = time.monotonic()
    expired = threading.Event()
    connection = connection_class(parts.hostname or "", parts.port, timeout=timeout)
    timer = threading.Timer(timeout, _close, (connection, expired))
    timer.daemon = True
    timer.start()
    status: int | None = None
    error: str | None = None
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        status = response.status
        response.read(1024)  # a little, so a keep-alive server is not cut mid-answer; the rest is dropped
        if 300 <= status < 400:
            error = f"redirect (HTTP {status} to {response.getheader('Location', '?')}) not followed"
        elif not 200 <= status < 300:
            error = f"HTTP {status} {response.reason}".strip()
    except TimeoutError:
        error = f"no answer within {timeout:g} s"
    except ConnectionRefusedError:
        error = "connection refused (nothing listens at that address)"
    except ssl.SSLError as exc:
        error = f"TLS failed: {exc.reason or exc}"
    except socket.gaierror as exc:
        error = f"host name not found: {exc.strerror or exc}"
    except (OSError, http.client.HTTPException) as exc:
        error = (
            f"no answer within {timeout:g} s" if expired.is_set() else f"connection failed: {exc or type(exc).__name__}"
        )
    finally:
        timer.cancel()
        connection.close()
    if expired.is_set() and status is None:
        error = f"no answer within {timeout:g} s"
    return Outcome(status, error, int((time.monotonic() - started) * 1000))
