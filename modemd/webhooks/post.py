"""One webhook POST: signed, with a timeout for the whole attempt, redirects not followed, the connection kept.

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

# how each kind of failure begins (modemd.webhooks.errors words them for people)
REDIRECT = "redirect"
HTTP_STATUS = "HTTP"
NO_ANSWER = "no answer within"
REFUSED = "connection refused"
TLS_FAILED = "TLS failed"
HOST_UNKNOWN = "host name not found"
CONNECTION_FAILED = "connection failed"


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


#: an answer body read to the end (keeping the connection for the next POST) when it is no longer than this
SMALL_ANSWER = 64 * 1024


class Poster:
    """POSTs to one endpoint over one kept-alive connection (a lane's), opened again when it cannot be reused.

    A TLS handshake per event would cost the centre's CPU more than the POST;
    a server may close an idle connection any time, so a POST that finds its
    reused connection closed before any answer is sent once more on a new one.
    """

    def __init__(self) -> None:
        self._connection: http.client.HTTPConnection | None = None
        self._origin: tuple[str, str, int | None] | None = None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
        self._connection, self._origin = None, None

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> Outcome:
        """POST ``body`` to ``url``; never raises."""
        parts = urlsplit(url)
        origin = (parts.scheme, parts.hostname or "", parts.port)
        if origin != self._origin:
            self.close()
        reused = self._connection is not None
        started = time.monotonic()
        outcome = self._attempt(parts, origin, body, headers, timeout, started)
        if reused and outcome.status_code is None and not (outcome.error or "").startswith("no answer"):
            outcome = self._attempt(parts, origin, body, headers, timeout, started)  # the server closed it meanwhile
        return outcome

    def _attempt(self, parts, origin, body: bytes, headers: dict[str, str], timeout: float, started: float) -> Outcome:
        if self._connection is None:
            connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
            self._connection, self._origin = connection_class(origin[1], origin[2], timeout=timeout), origin
        connection = self._connection
        connection.timeout = timeout
        if connection.sock is not None:
            connection.sock.settimeout(timeout)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        expired = threading.Event()
        timer = threading.Timer(max(timeout - (time.monotonic() - started), 0.001), _close, (connection, expired))
        timer.daemon = True
        timer.start()
        status: int | None = None
        error: str | None = None
        keep = False
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            status = response.status
            if response.length is not None and response.length <= SMALL_ANSWER:
                response.read()
                keep = not response.will_close
            else:
                response.read(1024)  # a little, so the server is not cut mid-answer; the rest is dropped
            if 300 <= status < 400:
                error = f"{REDIRECT} (HTTP {status} to {response.getheader('Location', '?')}) not followed"
            elif not 200 <= status < 300:
                error = f"{HTTP_STATUS} {status} {response.reason}".strip()
        except TimeoutError:
            error = f"{NO_ANSWER} {timeout:g} s"
        except ConnectionRefusedError:
            error = f"{REFUSED} (nothing listens at that address)"
        except ssl.SSLError as exc:
            error = f"{TLS_FAILED}: {exc.reason or exc}"
        except socket.gaierror as exc:
            error = f"{HOST_UNKNOWN}: {exc.strerror or exc}"
        except (OSError, http.client.HTTPException) as exc:
            error = (
                f"{NO_ANSWER} {timeout:g} s"
                if expired.is_set()
                else f"{CONNECTION_FAILED}: {exc or type(exc).__name__}"
            )
        finally:
            timer.cancel()
        if expired.is_set():
            keep = False
            if status is None:
                error = f"{NO_ANSWER} {timeout:g} s"
        if not keep:
            self.close()
        return Outcome(status, error, int((time.monotonic() - started) * 1000))


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Outcome:
    """POST ``body`` to ``url`` on a connection of its own; never raises."""
    poster = Poster()
    try:
        return poster.post(url, body, headers, timeout)
    finally:
        poster.close()
