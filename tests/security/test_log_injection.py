"""Issue 10, item 10: a logged value can never forge a log line.

An alphanumeric sender ``AB\\rFAKE`` or a citizen's text is logged as it
came; the formatter (both of them: journald's and the one for a terminal)
escapes every control character, so one event stays one line whatever the
values hold.
"""

from __future__ import annotations

import io
import logging

import pytest

from modemd.run.logsetup import setup_logging
from tests.daemonharness import Conversation

# C0 (CR, LF, VT, FF, the separators FS/GS/RS, NUL, ESC), DEL, C1 (NEL, CSI), Unicode line and paragraph separators
BREAKERS = [
    "\r",
    "\n",
    "\x0b",
    "\x0c",
    "\x1c",
    "\x1d",
    "\x1e",
    "\x00",
    "\x1b",
    "\x7f",
    "\x85",
    "\x9b",
    "\u2028",
    "\u2029",
]


@pytest.fixture(params=["journal", "terminal"])
def log_output(request, monkeypatch):
    """Logging set up as `modemd run` does (under journald, or by hand) into a buffer; restored afterwards."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    if request.param == "journal":
        monkeypatch.setenv("JOURNAL_STREAM", "8:12345")
    else:
        monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    stream = io.StringIO()
    setup_logging("INFO", stream=stream)
    yield stream
    root.handlers[:], root.level = saved[0], saved[1]


@pytest.mark.parametrize("breaker", BREAKERS, ids=[f"U+{ord(c):04X}" for c in BREAKERS])
def test_an_alphanumeric_sender_cannot_forge_a_log_line(officials, write_config, log_output, breaker):
    chat = Conversation(write_config())
    sender = f"AB{breaker}2026 FAKE"
    chat.receive(sender, "promo")
    lines = log_output.getvalue().splitlines()
    stored = [line for line in lines if "stored message" in line]
    assert len(stored) == 1, lines
    assert "AB" in stored[0] and "2026 FAKE" in stored[0]
    assert not any(line.lstrip("<0123456789>").startswith("2026 FAKE") for line in lines), lines
    assert all(not set(BREAKERS) & set(line) for line in lines), lines
    # the character stays visible as an escape, so the log still says what arrived
    assert repr(breaker)[1:-1] in stored[0] or f"\\u{ord(breaker):04x}" in stored[0]


@pytest.mark.parametrize("other_handler_first", [False, True])
def test_an_exception_message_cannot_forge_a_line(log_output, other_handler_first):
    if other_handler_first:  # a handler with a plain formatter caches the raw traceback on the record first
        logging.getLogger().handlers.insert(0, logging.StreamHandler(io.StringIO()))
    try:
        raise ValueError("bad\r<3>error modemd.at: FAKE")
    except ValueError:
        logging.getLogger("modemd.test").exception("failed for %s", "x\u2028y")
    text = log_output.getvalue()
    assert "\r" not in text and "\u2028" not in text
    forged = [line for line in text.splitlines() if line.startswith(("<3>error modemd.at", "error modemd.at"))]
    assert not forged, text
    assert "ValueError" in text and "\\r" in text


def test_logged_value_with_a_plain_tab_or_quote_is_kept_readable(log_output):
    logging.getLogger("modemd.test").warning("got %r and %s", "a'b", "café ✓")
    line = log_output.getvalue().splitlines()[0]
    assert "'a\\'b'" in line or '"a\'b"' in line
    assert "café ✓" in line
