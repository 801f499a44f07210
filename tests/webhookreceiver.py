"""A real HTTP server in a thread that plays a webhook receiver, well or badly, for the webhook tests.

Paths choose its behaviour:

* ``/ok``       answers 204 when the signature checks out with one of ``secrets``, 401 when not;
* ``/slow``     waits ``slow_seconds`` and answers 200;
* ``/hang``     answers only once ``release`` is set (a dead endpoint that accepts connections);
* ``/error``    answers 500;
* ``/redirect`` answers 302 to ``/ok`` (modemd must not follow it);
* ``/drop``     answers 200 as if keeping the connection, then closes it (an idle keep-alive timing out).

A query string does not change the behaviour (``/ok?kw=dishub`` is ``/ok``). Every request is kept
in ``received`` (path, headers, body, whether the signature was valid).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from modemd.webhooks.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    signed: bool
    port: int  # the client's: one connection per port


class Receiver:
    def __init__(self, *secrets: str, slow_seconds: float = 0.3):
        self.secrets = list(secrets)
        self.slow_seconds = slow_seconds
        self.release = threading.Event()
        self.received: list[Received] = []
        self.started: dict[str, int] = {}  # requests begun, by path (a hanging one is counted at once)
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                with receiver._lock:
                    receiver.started[self.path] = receiver.started.get(self.path, 0) + 1
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                signed = any(
                    verify(secret, self.headers.get(TIMESTAMP_HEADER), body, self.headers.get(SIGNATURE_HEADER))
                    for secret in receiver.secrets
                )
                route = self.path.split("?")[0]
                if route == "/slow":
                    receiver.release.wait(receiver.slow_seconds)
                if route == "/hang":
                    receiver.release.wait(60)
                with receiver._lock:
                    receiver.received.append(
                        Received(self.path, dict(self.headers), body, signed, self.client_address[1])
                    )
                status = {"/ok": 204 if signed else 401, "/error": 500, "/redirect": 302}.get(route, 200)
                self.send_response(status)
                if status == 302:
                    self.send_header("Location", "/ok")
                self.send_header("Content-Length", "0")
                self.end_headers()
                if route == "/drop":
                    self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="webhook-receiver", daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def on(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path == path]
