"""Logging to stderr in a form journald reads well.

Under systemd (``JOURNAL_STREAM`` is set) each line starts with a syslog
priority prefix such as ``<4>`` that journald turns into the entry's level,
and carries no timestamp of its own (journald adds one). Run by hand, lines
get a timestamp and the level in words.
"""

from __future__ import annotations

import logging
import os
import sys

_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}


class JournalFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        priority = _PRIORITY.get(record.levelno, 6)
        message = super().format(record)
        # one line per event: journald splits on newlines, so a traceback is folded into one entry
        return f"<{priority}>{record.levelname.lower()} {record.name}: " + message.replace("\n", " | ")


def under_journald() -> bool:
    return bool(os.environ.get("JOURNAL_STREAM"))


def setup_logging(level: str = "INFO", stream=None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    if under_journald():
        handler.setFormatter(JournalFormatter("%(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    # waitress and peewee are chatty at INFO/DEBUG; their warnings still show
    logging.getLogger("peewee").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
