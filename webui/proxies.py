"""The client's address behind a reverse proxy, believed only from ``[web] trusted_proxies``.

``X-Forwarded-For`` is written by whoever sends the request, so it is read
only when the connection comes from a trusted proxy; otherwise it is ignored
and the throttle and the audit log see the connecting address. This is what
werkzeug's ``ProxyFix`` does, applied per request and for a chain of proxies:
the client is the right-most address of the header that is not itself a
trusted proxy (what the client wrote to the left of it is not believed).
``X-Forwarded-Proto`` from a trusted proxy sets the URL scheme.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable


def _address(text: str):
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


class TrustedProxies:
    """WSGI middleware: REMOTE_ADDR becomes the forwarded client for requests from a trusted proxy."""

    def __init__(self, wsgi_app, networks: Iterable):
        self.wsgi_app = wsgi_app
        self.networks = tuple(networks)

    def trusted(self, address) -> bool:
        return address is not None and any(address in network for network in self.networks)

    def client_of(self, remote_addr: str, forwarded_for: str) -> str | None:
        """The client's address, or None when the header is not to be believed (or says nothing usable)."""
        if not self.trusted(_address(remote_addr or "")):
            return None
        for text in reversed(forwarded_for.split(",")):
            address = _address(text)
            if address is None:
                return None  # a malformed hop: believe nothing further left
            if not self.trusted(address):
                return str(address)
        return None

    def __call__(self, environ, start_response):
        client = self.client_of(environ.get("REMOTE_ADDR", ""), environ.get("HTTP_X_FORWARDED_FOR", ""))
        if client is not None:
            environ["modemd.proxy_addr"] = environ["REMOTE_ADDR"]
            environ["REMOTE_ADDR"] = client
            proto = environ.get("HTTP_X_FORWARDED_PROTO", "").rpartition(",")[2].strip().lower()
            if proto in ("http", "https"):
                environ["wsgi.url_scheme"] = proto
        return self.wsgi_app(environ, start_response)
