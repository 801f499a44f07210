"""Requests per token: a token bucket per API token, in the memory of the web process.

``[api] rate_limit`` requests per minute, up to ``rate_burst`` at once. A
request over it gets 429 with ``Retry-After`` (whole seconds until a request
would be allowed). Counting in memory is enough: ``modemd web`` is one process
(waitress threads), and a restart forgets at most a minute of counts.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class RateLimiter:
    def __init__(self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate = per_minute / 60.0  # tokens per second
        self.burst = float(max(1, burst))
        self.clock = clock
        self._buckets: dict[int, tuple[float, float]] = {}  # token id -> (tokens left, when counted)
        self._lock = threading.Lock()

    def wait(self, key: int) -> float:
        """0 when a request of ``key`` may go now (and counts it), else the seconds to wait."""
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        with self._lock:
            left, since = self._buckets.get(key, (self.burst, now))
            left = min(self.burst, left + (now - since) * self.rate)
            if left >= 1.0:
                self._buckets[key] = (left - 1.0, now)
                return 0.0
            self._buckets[key] = (left, now)
            return (1.0 - left) / self.rate


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
