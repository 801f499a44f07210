"""Group commit: the API's writes from many requests share one transaction, and so one disk flush.

SQLite commits with ``synchronous = FULL`` (modemd.store.db): every commit
waits for the disk, a few milliseconds, and only one writer commits at a time.
One commit per request caps sends at a few hundred per second whatever the
CPU. Here the writes of the requests waiting at the same moment run one after
the other in one thread, each in its own savepoint (a refused request undoes
only its own writes), and are committed together; every request gets its
answer only after that commit, so nothing is acknowledged before it is on
disk. With one request waiting, a batch is that request: no wait is added.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from modemd.store.models import database_proxy

log = logging.getLogger("modemd.web")
MAX_BATCH = 64


class _Work:
    __slots__ = ("run", "done", "result", "error")

    def __init__(self, run: Callable[[], Any]):
        self.run = run
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None


class GroupCommit:
    def __init__(self, max_batch: int = MAX_BATCH):
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[_Work] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def run(self, work: Callable[[], Any]) -> Any:
        """``work()`` in the writer thread, in a savepoint of a shared transaction; its result once committed.

        ``work`` gets no request or application context: it takes what it needs as arguments.
        An exception it raises is raised here (its savepoint rolled back, the others kept).
        """
        self._ensure_thread()
        item = _Work(work)
        self._queue.put(item)
        item.done.wait()
        if item.error is not None:
            raise item.error
        return item.result

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="api-group-commit", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._commit(batch)

    def _commit(self, batch: list[_Work]) -> None:
        try:
            with database_proxy.atomic():
                for item in batch:
                    try:
                        with database_proxy.atomic():  # a savepoint per request
                            item.result = item.run()
                    except Exception as exc:  # noqa: BLE001  (handed to the request that sent it)
                        item.error = exc
        except Exception as exc:  # noqa: BLE001  (the commit itself failed: nothing of the batch was kept)
            log.exception("API group commit of %d requests failed", len(batch))
            for item in batch:
                if item.error is None:
                    item.error, item.result = exc, None
        finally:
            for item in batch:
                item.done.set()
