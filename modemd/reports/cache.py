"""Computed reports kept for a short while, so the page, its print, CSV and XLSX show the same figures.

A year's report at a busy centre takes most of a second on SQLite even from
the summary (bench/bench_reports.py), a filtered one counted live longer.
Opening the printable version or an
export right after the page, or a second person opening the same report,
reuses the computed figures instead of counting again, and shows exactly the
same numbers. A report of a period still running is kept for
:data:`RUNNING_SECONDS`, one that is over (where only late answers to old
cases still change a figure) for :data:`ENDED_SECONDS`; the page says when
its figures were counted.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime, timedelta
from typing import TypeVar

RUNNING_SECONDS = 60
ENDED_SECONDS = 600
MAX_ENTRIES = 32

T = TypeVar("T")


class ReportCache:
    def __init__(self, max_entries: int = MAX_ENTRIES):
        self._entries: OrderedDict[Hashable, tuple[datetime, object]] = OrderedDict()
        self._lock = threading.Lock()
        self.max_entries = max_entries

    def get(self, key: Hashable, now: datetime, period_end: datetime, compute: Callable[[], T]) -> T:
        """The value for ``key`` counted less than its lifetime ago, else ``compute()`` (kept for next time)."""
        keep = timedelta(seconds=RUNNING_SECONDS if period_end > now else ENDED_SECONDS)
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and now - hit[0] < keep:
                self._entries.move_to_end(key)
                return hit[1]  # type: ignore[return-value]
        value = compute()  # outside the lock: another report may be counted meanwhile
        with self._lock:
            self._entries[key] = (now, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
