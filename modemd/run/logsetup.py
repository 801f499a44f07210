"""Logging to stderr in a form journald reads well.

Under systemd (``JOURNAL_STREAM`` is set) each line starts with a syslog
priority prefix such as ``<4>`` that journald turns into the entry's level,
and carries no timestamp of its own (journald adds one). Run by hand, lines
get a timestamp and the level in words.

One event is one line, whatever the logged values hold. Senders, texts and
modem answers come from outside: a sender ``AB\\r<3>error ...`` must not
forge a second entry. Both formatters therefore escape every character that
a terminal, journald or a log viewer may take as a line break or a control
sequence (C0, DEL, C1, U+2028/U+2029, bidirectional overrides) in the
message, as ``\\r``, ``\\x1b`` or ``\\u2028``. Escaping happens here, in the
formatter, so every logger is covered without each call site remembering it.
A traceback keeps its own lines only as a folded (journald) or indented
(terminal) continuation of its event.
"""

from __future__ import annotations

import logging
import os
import re
import sys

_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}

# Cc (C0, DEL, C1), Zl/Zp (U+2028, U+2029) and the bidirectional overrides that reorder what a viewer shows
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_one(match: re.Match) -> str:
    char = match.group()
    return _SHORT_ESCAPES.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def escape_controls(text: str) -> str:
    """``text`` with every control or line-separating character written as an escape."""
    return _CONTROL.sub(_escape_one, text)


class OneLineFormatter(logging.Formatter):
    """Escapes control characters in the message; a traceback continues the event with ``continuation``."""

    continuation = "\n    "

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = escape_controls(record.message)
        return super().formatMessage(record)

    def format(self, record: logging.LogRecord) -> str:
        # the message has no newline left; any other line is a traceback (perhaps cached by another handler)
        return self.continuation.join(escape_controls(line) for line in super().format(record).split("\n"))


class JournalFormatter(OneLineFormatter):
    # journald splits on newlines: a traceback is folded into the one entry
    continuation = " | "

    def format(self, record: logging.LogRecord) -> str:
        priority = _PRIORITY.get(record.levelno, 6)
        return f"<{priority}>{record.levelname.lower()} {record.name}: " + super().format(record)


def under_journald() -> bool:
    return bool(os.environ.get("JOURNAL_STREAM"))


def setup_logging(level: str = "INFO", stream=None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    if under_journald():
        handler.setFormatter(JournalFormatter("%(message)s"))
    else:
        handler.setFormatter(OneLineFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    # waitress and peewee are chatty at INFO/DEBUG; their warnings still show
    logging.getLogger("peewee").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
