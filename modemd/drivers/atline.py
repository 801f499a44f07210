"""The AT line layer: one reader thread owns the serial port.

Bytes from the modem are cut into lines. A line is either part of the answer
to the command in flight (ending with a final result code such as ``OK`` or
``+CMS ERROR: 38``) or an unsolicited result code (``+CMTI``, ``^RSSI``,
``RING`` ...) that goes to :attr:`ATLine.events`. Writes go through one lock,
and only one command is in flight at a time.

The port is opened with :func:`serial.serial_for_url`, so ``/dev/ttyUSB0``,
``loop://`` and ``spy:///dev/ttyUSB0`` all work.
"""

from __future__ import annotations

import errno
import logging
import queue
import termios
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import serial

from .base import CmeError, CmsError, ModemError, ModemGone, PortBusy

log = logging.getLogger("modemd.at")

CTRL_Z = b"\x1a"

#: never an answer to a command: new-message and status-report indications, USSD, calls, and the
#: boot-progress lines of Wavecom (+WIND: <event>, manual WM_DEV_OAT_UGD_049) and SIMCom
#: ("RDY", "Call Ready", "SMS Ready"; Seeed-Studio/GPRS_SIM900 issue #39). Huawei's ^RSSI, ^BOOT,
#: ^MODE... are caught by their "^" (see _is_unsolicited).
ALWAYS_UNSOLICITED = frozenset(
    {
        "+CMTI",
        "+CDSI",
        "+CDS",
        "+CMT",
        "+CBM",
        "+CBMI",
        "+CUSD",
        "RING",
        "+CRING",
        "+CLIP",
        "+CCWA",
        "NO CARRIER",
        "+WIND",
        "RDY",
        "CALL READY",
        "SMS READY",
    }
)
#: unsolicited unless they answer the command of the same name (AT+CREG? answers +CREG: 0,1);
#: SIMCom also prints "+CPIN: READY" and "+CFUN: 1" on its own while it boots
SOMETIMES_UNSOLICITED = frozenset(
    {"+CREG", "+CGREG", "+CEREG", "+CIEV", "+CSQ", "+CGEV", "+PSUTTZ", "+CTZV", "+CPIN", "+CFUN"}
)
#: unsolicited codes followed by one more line holding the PDU (PDU mode)
PDU_FOLLOWS = frozenset({"+CMT", "+CBM"})

#: what a port that vanished under us raises; termios.error is no OSError (tcdrain on an unplugged stick)
PORT_ERRORS = (serial.SerialException, OSError, termios.error)

ERROR_FINALS = ("ERROR", "COMMAND NOT SUPPORT", "TOO MANY PARAMETERS", "NO DIALTONE", "BUSY", "NO ANSWER")


class CommandTimeout(ModemGone):
    """The modem did not finish a command in time: it hangs, reconnect."""


class CommandError(ModemError):
    """A plain ``ERROR`` (or a vendor's equivalent) as the final result."""

    def __init__(self, command: str, final: str = "ERROR"):
        self.command = command
        self.final = final
        super().__init__(f"{final} ({command})")


@dataclass
class Unsolicited:
    """One unsolicited result code; ``pdu`` is the line after ``+CMT:``/``+CDS: <len>``."""

    line: str
    pdu: str | None = None
    received: float = 0.0

    @property
    def name(self) -> str:
        return _name_of(self.line)

    @property
    def value(self) -> str:
        return self.line.split(":", 1)[1].strip() if ":" in self.line else ""


_GONE = object()
_PROMPT = object()


def _name_of(line: str) -> str:
    """``+CMTI: "SM",3`` -> ``+CMTI``; ``RING`` -> ``RING``."""
    return line.split(":", 1)[0].strip().upper()


def shown(command: str) -> str:
    """The command as logs and error messages may show it: never the PIN or PUK."""
    if command.upper().startswith("AT+CPIN="):
        return "AT+CPIN=<hidden>"
    return command


def _command_name(command: str) -> str:
    """``AT+CREG?`` -> ``+CREG``; ``ATZ`` -> ``Z``."""
    body = command.strip().upper()[2:]
    for stop in "=?":
        body = body.split(stop, 1)[0]
    return body


class ATLine:
    """A serial port speaking AT: commands in, answers and unsolicited codes out."""

    def __init__(
        self,
        url: str,
        baudrate: int = 115200,
        *,
        on_event: Callable[[Unsolicited], None] | None = None,
    ):
        self.url = url
        self.baudrate = baudrate
        self.on_event = on_event
        self.events: queue.Queue[Unsolicited] = queue.Queue()
        self._answers: queue.Queue[object] = queue.Queue()
        self._port: serial.SerialBase | None = None
        self._reader: threading.Thread | None = None
        self._write_lock = threading.Lock()
        self._command_lock = threading.Lock()
        self._closing = threading.Event()
        self._current = ""  # name of the command in flight, e.g. "+CREG"
        self._pending_pdu: Unsolicited | None = None
        self._gone_reason = ""

    # ------------------------------------------------------------------
    # lifecycle

    def open(self) -> None:
        """Open the port and start the reader. Raises ModemGone or PortBusy."""
        self._closing.clear()
        self._gone_reason = ""
        try:
            port = serial.serial_for_url(self.url, baudrate=self.baudrate, timeout=0.2, do_not_open=True)
            if isinstance(port, serial.Serial):
                port.exclusive = True  # flock: refuse a port another modemd already holds
            port.open()
        except serial.SerialException as exc:
            text = str(exc)
            if "lock" in text.lower():
                raise PortBusy(
                    f"{self.url} is locked by another program (or by another [modem:...] section with the"
                    f" same device): {text}"
                ) from exc
            if exc.errno == errno.EACCES:
                text += " (the user running modemd must be in the dialout group)"
            raise ModemGone(f"cannot open {self.url}: {text}") from exc
        except (OSError, termios.error, ValueError) as exc:
            raise ModemGone(f"cannot open {self.url}: {exc}") from exc
        try:
            port.reset_input_buffer()
        except PORT_ERRORS as exc:
            port.close()
            raise ModemGone(f"cannot use {self.url}: {exc}") from exc
        self._port = port
        self._answers = queue.Queue()
        self._pending_pdu = None
        self._reader = threading.Thread(target=self._read_loop, name=f"atline {self.url}", daemon=True)
        self._reader.start()
        log.info("opened %s", self.url)

    def close(self) -> None:
        """Stop the reader and close the port; safe to call twice."""
        self._closing.set()
        port, self._port = self._port, None
        if port is not None:
            try:
                if hasattr(port, "cancel_read"):
                    port.cancel_read()
            except PORT_ERRORS:
                pass
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join(timeout=2)
        self._reader = None
        if port is not None:
            try:
                port.close()
            except PORT_ERRORS:
                pass
            log.info("closed %s", self.url)

    @property
    def is_open(self) -> bool:
        return self._port is not None and not self._gone_reason

    # ------------------------------------------------------------------
    # commands

    def command(self, command: str, timeout: float = 10.0, *, final_grace: float | None = None) -> list[str]:
        """Send ``command`` and return its information lines (without echo and ``OK``).

        ``final_grace``: once an information line has arrived, accept the
        answer without a final result if nothing more comes within this many
        seconds (old Wavecom firmware answers ``AT+CPIN?`` with ``+CPIN:
        READY`` and no ``OK``; python-gsmmodem's fakemodems.py records it). A
        late ``OK`` is dropped as stale before the next command.

        Raises CmsError, CmeError or CommandError for an error result,
        CommandTimeout when no final result arrives in time, ModemGone when
        the port vanished.
        """
        with self._command_lock:
            self._begin(command)
            self._write(command.encode("ascii") + b"\r")
            return self._collect(command, timeout, final_grace=final_grace)

    def command_with_prompt(
        self, command: str, payload: str, timeout: float = 10.0, final_timeout: float = 60.0
    ) -> list[str]:
        """``AT+CMGS=<len>`` style: wait for the ``> `` prompt, send ``payload`` and Ctrl-Z."""
        with self._command_lock:
            self._begin(command)
            self._write(command.encode("ascii") + b"\r")
            self._collect(command, timeout, until_prompt=True)
            try:
                self._write(payload.encode("ascii") + CTRL_Z)
                return self._collect(command, final_timeout, echo=payload)
            except ModemGone as exc:
                exc.maybe_sent = True  # the payload was handed over: the network may have it
                raise

    def cancel_input(self, settle: float = 0.2) -> None:
        """Send ESC: a modem left waiting at a ``> `` prompt (say, by a hang mid-send)
        drops that input. Whatever it answers within ``settle`` seconds is discarded."""
        with self._command_lock:
            self._write(b"\x1b")
            time.sleep(settle)
            self._drop_stale("ESC")

    def _drop_stale(self, before: str) -> None:
        while True:
            try:
                stale = self._answers.get_nowait()
            except queue.Empty:
                return
            if stale is _GONE:
                raise ModemGone(self._gone_reason or f"{self.url} vanished")
            log.debug("dropped stale line %r before %s", stale, before)

    def _begin(self, command: str) -> None:
        if self._port is None:
            raise ModemGone(f"{self.url} is not open")
        if self._gone_reason:
            raise ModemGone(self._gone_reason)
        self._drop_stale(command)
        self._current = _command_name(command)
        log.debug("> %s", shown(command))

    def _write(self, data: bytes) -> None:
        port = self._port
        if port is None:
            raise ModemGone(f"{self.url} is not open")
        try:
            with self._write_lock:
                port.write(data)
                port.flush()
        except PORT_ERRORS as exc:
            raise ModemGone(f"write to {self.url} failed: {exc}") from exc

    def _collect(
        self,
        command: str,
        timeout: float,
        *,
        until_prompt: bool = False,
        echo: str = "",
        final_grace: float | None = None,
    ) -> list[str]:
        deadline = time.monotonic() + timeout
        lines: list[str] = []
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._current = ""
                raise CommandTimeout(f"no answer to {shown(command)} from {self.url} within {timeout:g} s")
            wait = min(remaining, final_grace) if final_grace is not None and lines else remaining
            try:
                item = self._answers.get(timeout=wait)
            except queue.Empty:
                if final_grace is not None and lines:  # quiet after an answer: take it as complete
                    self._current = ""
                    log.debug("< %s (no final result; answer taken after %g s)", " | ".join(lines), final_grace)
                    return lines
                continue
            if item is _GONE:
                raise ModemGone(self._gone_reason or f"{self.url} vanished")
            if item is _PROMPT:
                if until_prompt:
                    return lines
                continue
            line = str(item)
            if line == command or (echo and line == echo):
                continue  # echo, before ATE0 took effect
            if line == "OK":
                if until_prompt:
                    raise CommandError(shown(command), "OK without > prompt")
                self._current = ""
                log.debug("< %s", " | ".join(lines + ["OK"]))
                return lines
            self._raise_if_error(command, line)
            lines.append(line)

    def _raise_if_error(self, command: str, line: str) -> None:
        command = shown(command)
        upper = line.upper()
        if upper.startswith("+CMS ERROR:"):
            self._current = ""
            code, text = _error_code(line)
            log.info("%s failed: %s", command.split("=")[0], line)
            raise CmsError(code, text, command)
        if upper.startswith("+CME ERROR:"):
            self._current = ""
            code, text = _error_code(line)
            log.info("%s failed: %s", command.split("=")[0], line)
            raise CmeError(code, text, command)
        if upper in ERROR_FINALS:
            self._current = ""
            log.debug("%s failed: %s", command, line)
            raise CommandError(command, line)

    # ------------------------------------------------------------------
    # reader thread

    def _read_loop(self) -> None:
        buffer = bytearray()
        port = self._port
        while not self._closing.is_set() and port is not None:
            try:
                data = port.read(max(1, port.in_waiting))
            except (*PORT_ERRORS, TypeError, AttributeError) as exc:
                # TypeError/AttributeError: pyserial's fd vanished under a concurrent close()
                if not self._closing.is_set():
                    self._gone(f"{self.url} vanished: {exc}")
                return
            if not data:
                continue
            buffer.extend(data)
            self._split(buffer)

    def _split(self, buffer: bytearray) -> None:
        while True:
            cut = min((i for i in (buffer.find(b"\r"), buffer.find(b"\n")) if i >= 0), default=-1)
            if cut < 0:
                break
            raw = bytes(buffer[:cut])
            del buffer[: cut + 1]
            line = raw.decode("latin-1").strip()
            if line:
                self._route(line)
        if buffer.strip() == b">":
            buffer.clear()
            self._answers.put(_PROMPT)

    def _route(self, line: str) -> None:
        if self._pending_pdu is not None:
            event, self._pending_pdu = self._pending_pdu, None
            event.pdu = line
            self._emit(event)
            return
        name = _name_of(line)
        if self._is_unsolicited(name):
            event = Unsolicited(line, received=time.monotonic())
            if name in PDU_FOLLOWS or (name == "+CDS" and event.value.isdigit()):
                self._pending_pdu = event
            else:
                self._emit(event)
            return
        self._answers.put(line)

    def _is_unsolicited(self, name: str) -> bool:
        if name in ALWAYS_UNSOLICITED:
            return True
        if name == self._current:
            return False
        return name in SOMETIMES_UNSOLICITED or name.startswith("^")

    def _emit(self, event: Unsolicited) -> None:
        log.debug("unsolicited %s%s", event.line, " + PDU" if event.pdu else "")
        self.events.put(event)
        if self.on_event is not None:
            self.on_event(event)

    def _gone(self, reason: str) -> None:
        self._gone_reason = reason
        log.warning("%s", reason)
        self._answers.put(_GONE)


#: the rates serial GSM modems are usually set to, most likely first
USUAL_BAUDRATES = (115200, 9600, 19200, 38400, 57600, 4800)


def answers_at(line: ATLine, timeout: float) -> bool:
    """Does the modem behind an open line answer ``AT`` (with anything final, even an error)?"""
    line.cancel_input(settle=0.1)
    try:
        line.command("AT", timeout)
    except CommandTimeout:
        return False
    except (CommandError, CmeError, CmsError):
        pass
    return True


def open_answering(
    url: str, rates: tuple[int, ...], timeout: float, on_event: Callable[[Unsolicited], None] | None = None
) -> ATLine | None:
    """Open ``url`` at each rate in turn; the open line at the first rate the modem answers, else None.

    A modem at another rate answers with garbage or nothing, which times out
    like silence. Raises ModemGone or PortBusy when the port cannot be opened.
    """
    for rate in rates:
        line = ATLine(url, rate, on_event=on_event)
        line.open()
        if answers_at(line, timeout):
            return line
        line.close()
    return None


def _error_code(line: str) -> tuple[int | None, str]:
    text = line.split(":", 1)[1].strip()
    try:
        return int(text), text
    except ValueError:
        return None, text
