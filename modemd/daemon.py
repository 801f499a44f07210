"""The daemon's main loop (skeleton until the worker/dispatcher land)."""

from __future__ import annotations

import logging
import signal
import threading

from .checks import CheckResult
from .sdnotify import Notifier

log = logging.getLogger("modemd.daemon")


def run_daemon(result: CheckResult, instance: str | None = None) -> int:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    notifier = Notifier()
    notifier.ready(f"{len(result.config.modems)} modems configured")
    log.info("started with %d modem(s), %d keyword(s)", len(result.config.modems), len(result.keywords))
    while not stop.wait(notifier.watchdog_interval or 10):
        notifier.watchdog()
    notifier.stopping()
    return 0
