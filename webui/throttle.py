"""Slowing down password guessing: per account and per address, in memory.

After a few failures a key is locked for a time that doubles with each further
failure (capped), so a person who mistyped waits seconds and a script waits
forever. A success clears the account's record.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable


@dataclass
class _Record:
    failures: int = 0
    locked_until: float = 0.0


class LoginThrottle:
    def __init__(self, free_failures: int = 3, base_delay: float = 2.0, max_delay: float = 900.0,
                 clock: Callable[[], float] = time.monotonic):
        self.free_failures = free_failures
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.clock = clock
        self._records: dict[str, _Record] = {}
        self._lock = threading.Lock()

    def wait_left(self, *keys: str) -> float:
        """Seconds until every key may try again (0 = may try now)."""
        now = self.clock()
        with self._lock:
            return max((max(0.0, r.locked_until - now) for k in keys if (r := self._records.get(k))), default=0.0)

    def failed(self, key: str, free_failures: int | None = None) -> None:
        allowed = self.free_failures if free_failures is None else free_failures
        with self._lock:
            record = self._records.setdefault(key, _Record())
            record.failures += 1
            over = record.failures - allowed
            if over > 0:
                delay = min(self.max_delay, self.base_delay * 2 ** (over - 1))
                record.locked_until = self.clock() + delay
            if len(self._records) > 100_000:
                # a flood of made-up logins must not eat the memory: forget the unlocked ones
                now = self.clock()
                for stale in [k for k, r in self._records.items() if r.locked_until < now]:
                    del self._records[stale]

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._records.pop(key, None)
