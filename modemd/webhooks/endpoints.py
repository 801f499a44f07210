"""Where events go: ``[api] webhook_url`` gets every event, a keyword's ``webhook`` its own cases' events.

The daemon installs the endpoints with :func:`use` when it starts and each
time keywords.ini is reloaded; the code paths that cause events (routing,
sending, status reports, broadcasts) ask :func:`current`, so none of them
needs the configuration passed down for this. With no endpoint configured
nothing is queued and nothing is looked up.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

GLOBAL = "api"  # the endpoint name of [api] webhook_url


@dataclass(frozen=True)
class Endpoint:
    name: str  # "api" or "keyword:DISHUB": where it is configured
    url: str
    secret: str = field(repr=False)


@dataclass(frozen=True)
class Endpoints:
    everything: Endpoint | None = None
    by_keyword: dict[str, Endpoint] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.everything is not None or bool(self.by_keyword)

    def for_keyword(self, keyword: str | None) -> list[Endpoint]:
        """The endpoints of an event about a case of ``keyword`` (None: an unrouted case)."""
        found = [self.everything] if self.everything else []
        if keyword and keyword in self.by_keyword:
            found.append(self.by_keyword[keyword])
        return found

    def for_all(self) -> list[Endpoint]:
        """The endpoints of an event about no keyword (a broadcast)."""
        return [self.everything] if self.everything else []

    def named(self, name: str) -> Endpoint | None:
        if self.everything is not None and name == self.everything.name:
            return self.everything
        for endpoint in self.by_keyword.values():
            if endpoint.name == name:
                return endpoint
        return None

    def names(self) -> list[str]:
        return [e.name for e in (self.for_all() + list(self.by_keyword.values()))]


def build(url: str, secret: str, keywords: Iterable) -> Endpoints:
    """From ``[api]`` and the keyword table's ``Keyword`` rows (their ``webhook`` and ``webhook_secret``)."""
    everything = Endpoint(GLOBAL, url, secret) if url else None
    by_keyword = {k.name: Endpoint(f"keyword:{k.name}", k.webhook, k.webhook_secret) for k in keywords if k.webhook}
    return Endpoints(everything, by_keyword)


def from_config(config, table) -> Endpoints:
    return build(config.api.webhook_url, config.api.webhook_secret, table.keywords.values())


_current = Endpoints()
_lock = threading.Lock()


def use(endpoints: Endpoints) -> None:
    """Install the endpoints the daemon's code paths queue events for (start, keyword reload)."""
    global _current
    with _lock:
        _current = endpoints


def current() -> Endpoints:
    return _current
