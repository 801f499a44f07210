"""``modemd probe`` while the daemon holds the port: the question and the answer go through the database.

The port is the worker's (one owner per serial port), so a probe does not
fight it for the modem: it writes a request row, the worker of that modem
picks it up at its next turn (it looks every :data:`REQUEST_POLL` seconds,
between two sends), surveys its own driver (:func:`modemd.run.survey.survey`)
and writes the answer back. The probe waits a bounded time and prints the
answer, or says the daemon did not answer and what it last knew.

Rows are :class:`~modemd.store.models.DaemonState` entries, one request and one
answer per modem (``probe-request:NAME``, ``probe-answer:NAME``), each a JSON
object carrying the request's random id, so a stale answer is never taken
for a fresh one. Works the same on SQLite, PostgreSQL and MariaDB.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable

from modemd.drivers.base import Driver, ModemError
from modemd.run.survey import survey
from modemd.store.models import DaemonState

log = logging.getLogger("modemd.probe")

#: seconds between two looks of a worker for a probe request
REQUEST_POLL = 1.0
#: seconds a probe waits beyond the USSD timeout (a send in progress, the worker's next turn)
ANSWER_MARGIN = 20.0


def _request_key(modem: str) -> str:
    return f"probe-request:{modem}"


def _answer_key(modem: str) -> str:
    return f"probe-answer:{modem}"


def ask(modem: str, *, balance: bool, timeout: float, sleep: Callable[[float], None] = time.sleep) -> dict | None:
    """Ask the daemon's worker of ``modem`` to probe; its answer, or None after ``timeout`` seconds."""
    token = secrets.token_hex(8)
    DaemonState.put(_request_key(modem), json.dumps({"id": token, "balance": balance}))
    deadline = time.monotonic() + timeout
    while True:
        answer = _read(_answer_key(modem))
        if answer and answer.get("id") == token:
            return answer.get("result")
        if time.monotonic() >= deadline:
            DaemonState.delete().where(DaemonState.key == _request_key(modem)).execute()  # nobody took it
            return None
        sleep(0.2)


def answer_pending(modem: str, driver: Driver, ussd: str) -> bool:
    """In the worker: answer a waiting probe request with a survey of ``driver``. True if there was one.

    A modem error is answered too (the probe says what happened) and then raised for the worker to handle.
    """
    request = _read(_request_key(modem))
    if request is None:
        return False
    DaemonState.delete().where(DaemonState.key == _request_key(modem)).execute()
    log.info("%s: answering a probe from the command line", modem)
    try:
        result = {"ok": True, **survey(driver, ussd, balance=bool(request.get("balance")), registration_wait=0)}
    except ModemError as exc:
        _write_answer(modem, request.get("id"), {"ok": False, "error": f"{type(exc).__name__}: {exc}"})
        raise
    _write_answer(modem, request.get("id"), result)
    return True


def _write_answer(modem: str, token, result: dict) -> None:
    DaemonState.put(_answer_key(modem), json.dumps({"id": token, "result": result}, ensure_ascii=False, default=str))


def _read(key: str) -> dict | None:
    value = DaemonState.read(key)
    if not value:
        return None
    try:
        data = json.loads(value)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
