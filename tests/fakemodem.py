"""A fake GSM modem serving AT commands on a pseudo-terminal.

The AT driver, the real ``gammu`` CLI and the daemon's benchmarks open
``FakeModem.device`` exactly like ``/dev/ttyUSB0``; nothing is mocked. The
fake keeps a SIM with a capacity, records every message sent through it
(decoded with :mod:`modemd.sms.tpdu`) and can be told to misbehave at run time::

    with FakeModem(pin="1234", part_delay=0.5) as modem:
        driver = ATDriver("m1", {"device": modem.device, "pin": "1234"})
        modem.inject_sms("+6281234567890", "INFO jalan rusak")
        modem.fail_next_sends(2, code=500)
        modem.unplug(); modem.replug()

The API, by purpose:

* network side: ``inject_sms(sender, text, smsc_time=None, concat_reference=0,
  indicate=True) -> [index]``, ``inject_pdu(hex, indicate=True) -> index``
  (malformed PDUs too), ``send_status_report(reference, recipient, status)``;
  status reports also follow each send that asked for one, after
  ``status_report_delay`` s, as ``+CDS`` or ``+CDSI`` per the client's CNMI, from the modem's ``smsc``
  (``reports_carry_submit_time``: stamped with the part's submit time).
* what happened: ``sent`` (:class:`SentSMS`: number, text, reference, concat,
  status_report_requested, pdu, accepted_at), ``refused`` ((number, +CMS code) of each
  send answered with an error), ``sim`` (index -> :class:`StoredSMS`: pdu, stat, stored_at),
  ``commands`` (``command_times``: when each arrived, ``time.monotonic()``)
  and ``count(prefix)``, ``settings`` (echo, cmgf, cnmi...),
  ``ussd_requests``, ``pin_attempts_left``.
* faults: ``fail_next_sends(n, code)``, ``fail_number(number, code)``,
  ``hang()``/``resume()``, ``stall()``/``resume()`` (a USB stall: the client's
  writes block), ``unplug()``/``replug()``, ``set_sim_full()``,
  ``add_noise(*lines)``/``emit(line)``, ``clear_faults()``; for the fault
  campaign (tests/faults/): ``fail_randomly(share, codes, seed)``,
  ``interrupt_answers(*items, commands)`` (unsolicited lines or raw garbage
  in the middle of a ``+CMGS`` answer or a ``+CMGL`` listing), ``reboot()``
  (the stick restarts on its own: settings reset, PIN asked again),
  ``replug(port_name=...)`` (back under another name, ttyUSB0 -> ttyUSB2),
  ``unplug_during_send(part, before_answer, replug_after)`` (pulled out in
  ``AT+CMGS`` after the network took the part, or between two parts),
  ``inject_sms(..., wait_for_room=True)`` (the network holds what a full SIM
  cannot take and delivers it once there is room: ``network_waiting``); and the
  attributes ``command_delay`` (s per command), ``part_delay`` (s per sent
  part), ``rssi``, ``registration``, ``ussd_reply``, ``ussd_encoding``, ``ussd_delay``.
  Like a real stick, USSD needs the network: while ``registration`` is
  neither home nor roaming, ``AT+CUSD`` answers ``+CME ERROR: 30``.
* constructor only: ``pin``, ``capacity``, identity strings,
  ``register_after_pin`` (s: after the PIN the stick searches that long,
  then registers as ``registration``),
  ``cnmi_ds_supported`` (drop 2 for a modem that cannot store status
  reports), ``first_reference``, ``directory``, ``port_name``;
  ``quirks`` (:class:`Quirks`: the firmware habits of a device family, see
  ``tests/fakeprofiles.py`` for the families and their sources) and
  ``baudrate`` (a serial modem fixed at one rate: the fake reads the speed the
  client set on the pty, which tcgetattr on the master side reports on Linux,
  and answers garbage at any other rate).
* behaviour every profile shares: new-message indications are buffered while
  ``+CNMI`` mode is 0 (as after power-on) and flushed when the client sets
  mode 1-3 with <bfr> 0 (3GPP TS 27.005 3.4.1); a PDU sent without an SMSC
  while the modem has none answers ``+CMS ERROR: 330``.

``device`` is a symlink in a private temporary directory: pty paths are not
stable, so unplug removes the link and re-plug points it at a new pty.
``wait_until(condition, timeout)`` polls for asynchronous effects in tests.
"""

from __future__ import annotations

import errno
import logging
import os
import random
import re
import select
import shutil
import tempfile
import termios
import threading
import time
import tty
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from modemd.sms import gsm7, tpdu
from modemd.sms.errors import PduError

log = logging.getLogger("modemd.fakemodem")

CTRL_Z = 0x1A
ESC = 0x1B
WIB = timezone(timedelta(hours=7))

# 3GPP TS 27.007 / 27.005 codes the fake answers with
CME_SIM_PIN_REQUIRED = 11
CME_SIM_PUK_REQUIRED = 12
CME_INCORRECT_PASSWORD = 16
CME_NOT_SUPPORTED = 4
CME_NO_NETWORK_SERVICE = 30
CMS_INVALID_PDU = 304
CMS_UNKNOWN_MEMORY = 310
CMS_INVALID_INDEX = 321
CMS_MEMORY_FULL = 322
CMS_SMSC_UNKNOWN = 330
CME_SIM_BUSY = 14
CME_WAVECOM_BUSY = 515  # Wavecom: "please wait, init or command processing in progress"

#: commands a modem refuses while its SMS part is still starting (SIMCom before "SMS Ready")
SMS_COMMANDS = frozenset({"+CMGF", "+CPMS", "+CNMI", "+CMGL", "+CMGR", "+CMGS", "+CMGD", "+CMGW", "+CSCA", "+CSMP"})

STAT_WORDS = {0: "REC UNREAD", 1: "REC READ", 2: "STO UNSENT", 3: "STO SENT"}
REGISTRATION = {"not registered": 0, "home": 1, "searching": 2, "denied": 3, "unknown": 4, "roaming": 5}


@dataclass
class SentSMS:
    """One part the fake accepted through ``AT+CMGS``, decoded."""

    number: str
    text: str
    reference: int  # the +CMGS message reference the fake answered
    concat: tuple[int, int, int] | None  # (reference, total, sequence) from the UDH
    status_report_requested: bool
    pdu: str
    mode: str = "pdu"  # or "text"
    accepted_at: float = field(default_factory=time.monotonic)  # when +CMGS answered (time.monotonic)


@dataclass
class StoredSMS:
    """One SIM slot: the PDU (with SMSC prefix) and its <stat>."""

    pdu: str
    stat: int = 0  # 0 unread, 1 read, 2 unsent, 3 sent
    stored_at: float = field(default_factory=time.monotonic)  # when the network stored it (time.monotonic)


class CommandError(Exception):
    """Raised by a command handler: becomes ERROR / +CME ERROR / +CMS ERROR."""

    def __init__(self, kind: str = "ERROR", code: int | None = None):
        self.kind = kind
        self.code = code


@dataclass(frozen=True)
class Quirks:
    """Firmware habits of a device family; the defaults are a well-behaved stick.

    Which real devices have which habit, with the public source for each, is
    in ``tests/fakeprofiles.py``.
    """

    error_text: str = "ERROR"  # a refused command's final result when no +CME/+CMS code is given
    cpin_final_ok: bool = True  # False: AT+CPIN? answers "+CPIN: READY" and never OK
    busy_after_power_on: int = 0  # commands answered +CME ERROR: 515 after power-on and after AT+CFUN=1
    cpms_memories: int = 3  # most memories AT+CPMS= accepts; 0: the device stores no messages
    cnmi_supported: bool = True  # False: AT+CNMI refused in every form (no new-message indications)
    sms_supported: bool = True  # False: a port that answers AT but refuses every SMS command
    boot_lines: tuple[str, ...] = ()  # unsolicited lines shortly after the client starts talking
    sms_ready_after: float = 0.0  # s from the first command during which SMS commands answer an error
    sms_ready_line: str = ""  # written when SMS commands start working, e.g. "SMS Ready"
    periodic_lines: tuple[str, ...] = ()  # written in turn every periodic_interval s, between answers
    periodic_interval: float = 0.3
    ussd_needs_mode0: bool = False  # AT+CUSD refused until AT^USSDMODE=0
    csca_busy_reads: int = 0  # AT+CSCA? answers +CME ERROR: 14 this many times after power-on
    csmp_clears_smsc: bool = False  # AT+CSMP= wipes the SMSC address
    first_index: int = 0  # the lowest message storage index


@dataclass
class _Settings:
    """What ATZ resets; the SIM and the fault switches survive it."""

    echo: bool = True
    cmee: int = 0
    cmgf: int = 0
    cscs: str = "IRA"
    cnmi: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)
    creg_n: int = 0
    cgreg_n: int = 0
    cops_format: int = 0


@dataclass
class _Faults:
    fail_sends: list[tuple[int, int]] = field(default_factory=list)  # (remaining, code)
    fail_numbers: dict[str, int] = field(default_factory=dict)
    hang: bool = False
    stall: bool = False  # not even reading: the client's writes block once the pty's buffer is full
    sim_full: bool = False
    noise: list[str] = field(default_factory=list)
    noise_every_command: bool = False
    random_share: float = 0.0  # fail_randomly: this share of sends answers one of random_codes
    random_codes: tuple[int, ...] = ()
    rng: random.Random | None = None
    interruptions: list[str | bytes] = field(default_factory=list)  # woven into the answers of ...
    interrupted_commands: frozenset[str] = frozenset()  # ... these commands (+CMGS, +CMGL)
    unplug_at_part: int = 0  # unplug_during_send: unplug at the n-th next part the network takes ...
    unplug_before_answer: bool = True  # ... before its +CMGS answer (True) or right after it
    replug_after: float | None = None  # ... and plug back in after this many seconds
    unplug_at_next_command: bool = False  # the answer went out whole; the next command finds the stick gone


#: what a reader set to the wrong baud rate makes of a modem's answer
GARBAGE = b"\x80\xf8\xfe\x1c\x0d\x9f\xe0\x00"


def wait_until(condition: Callable[[], object], timeout: float = 5.0, interval: float = 0.01) -> bool:
    """Poll ``condition`` until it is true or ``timeout`` passes; return its last truth."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return bool(condition())
        time.sleep(interval)


Handler = Callable[["FakeModem", str, str], "list[str] | None"]


def _identity_handler(attribute: str) -> Handler:
    """AT+CGMI, AT+GMI...: answer one of the fake's identity attributes."""

    def handler(fake: FakeModem, kind: str, args: str) -> list[str]:
        if kind == "test":
            return []
        if kind != "exec":
            raise CommandError()
        return [getattr(fake, attribute)]

    return handler


def _registration_handler(name: str, setting: str) -> Handler:
    """AT+CREG / AT+CGREG: the <n> setting and the registration state (with LAC/CI for n=2)."""

    def handler(fake: FakeModem, kind: str, args: str) -> list[str]:
        if kind == "test":
            return [f"{name}: (0-2)"]
        if kind == "set":
            setattr(fake.settings, setting, _ints(args, 1)[0])
            return []
        n = getattr(fake.settings, setting)
        stat = REGISTRATION.get(fake.registration, 4)
        if n == 2:
            return [f'{name}: {n},{stat},"0A1B","3C4D"']
        return [f"{name}: {n},{stat}"]

    return handler


class FakeModem:
    """A Huawei-E173-like GSM stick on a pty, run by one server thread."""

    def __init__(
        self,
        *,
        pin: str | None = None,
        puk: str = "12345678",
        capacity: int = 30,
        manufacturer: str = "huawei",
        model: str = "E173",
        firmware: str = "11.126.85.00.209",
        imei: str = "358880041234567",
        imsi: str = "510101234567890",
        operator: str = "TELKOMSEL",
        operator_short: str = "TSEL",
        operator_numeric: str = "51010",
        smsc: str = "+6281100000",
        rssi: int = 20,
        registration: str = "home",
        cnmi_ds_supported: tuple[int, ...] = (0, 1, 2),
        status_report_delay: float = 0.05,
        status_report_status: int = 0,
        ussd_reply: str = "Sisa pulsa Anda Rp 12.345, aktif s.d. 31-12-2026.",
        ussd_encoding: str = "plain",
        ussd_packed_requests: bool = False,
        ussd_delay: float = 0.05,
        command_delay: float = 0.0,
        part_delay: float = 0.0,
        first_reference: int = 0,
        directory: str | None = None,
        register_after_pin: float = 0.0,
        port_name: str = "ttyUSB0",
        quirks: Quirks | None = None,
        baudrate: int | None = None,
    ):
        self.pin = pin
        self.puk = puk
        self.capacity = capacity
        self.manufacturer = manufacturer
        self.model = model
        self.firmware = firmware
        self.imei = imei
        self.imsi = imsi
        self.operator = operator
        self.operator_short = operator_short
        self.operator_numeric = operator_numeric
        self.smsc = smsc
        self.rssi = rssi
        self.registration = registration
        self.cnmi_ds_supported = cnmi_ds_supported
        self.status_report_delay = status_report_delay
        self.status_report_status = status_report_status
        #: True: a status report's SMSC time is when the part was submitted, as a real SMSC stamps it (a report
        #: that comes late still names its send); False: shortly before the report, whatever the delay
        self.reports_carry_submit_time = False
        self.ussd_reply = ussd_reply
        self.ussd_encoding = ussd_encoding  # plain | ucs2 | gsm7 (Huawei packed hex)
        self.ussd_packed_requests = ussd_packed_requests  # Huawei: "*888#" must come packed, as hex
        self.ussd_delay = ussd_delay  # s until the operator's answer (+CUSD); real networks take 2-10 s
        self.command_delay = command_delay
        self.part_delay = part_delay
        self.register_after_pin = register_after_pin
        self._registers_as = registration
        self.quirks = quirks or Quirks()
        self.baudrate = baudrate

        self.sent: list[SentSMS] = []
        self.commands: list[str] = []
        self.command_times: list[float] = []  # time.monotonic() each of ``commands`` arrived
        self.sim: dict[int, StoredSMS] = {}
        self.ussd_requests: list[str] = []
        self.plug_count = 0
        self.reboot_count = 0
        #: (number, code) of every AT+CMGS answered with +CMS ERROR, in order
        self.refused: list[tuple[str, int]] = []
        #: PDUs the network holds for a full SIM (inject_sms(wait_for_room=True)), delivered as room appears
        self.network_waiting: list[str] = []

        self._own_dir = directory is None
        self._dir = directory or tempfile.mkdtemp(prefix="fakemodem-")
        self.device = os.path.join(self._dir, port_name)

        self._lock = threading.RLock()
        self._settings = _Settings()
        self._faults = _Faults()
        self._sim_locked = pin is not None
        self._pin_attempts = 3
        self._next_reference = first_reference % 256
        self._inbuf = bytearray()
        self._prompt: Callable[[bytes], None] | None = None  # handler for "> " input
        self._urcs: list[tuple[float, Callable[[], None]]] = []
        self._master: int | None = None
        self.pty_path = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # power-on state (reset by replug)
        self._busy_left = 0
        self._csca_busy_left = 0
        self._booted_at: float | None = None  # first command after power-on
        self._ussd_mode = 1
        self._buffered: list[str] = []  # indications held while CNMI mode is 0
        self._next_periodic = 0.0
        self._periodic_turn = 0

    # ------------------------------------------------------------------
    # lifecycle

    def start(self) -> FakeModem:
        self.replug()
        self._thread = threading.Thread(target=self._serve, name="fakemodem", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.unplug()
        if self._own_dir:
            shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> FakeModem:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def unplug(self) -> None:
        """Pull the stick: the pty closes under the client and the path disappears."""
        with self._lock:
            if self._master is not None:
                os.close(self._master)
                self._master = None
            try:
                os.unlink(self.device)
            except FileNotFoundError:
                pass
            self._inbuf.clear()
            self._prompt = None
            self._urcs.clear()

    def replug(self, port_name: str | None = None) -> None:
        """Plug a (freshly booted) stick in again at the same ``device`` path; the SIM keeps its messages.

        ``port_name``: the kernel gave it another name this time (``ttyUSB0`` comes back as
        ``ttyUSB2`` while the old node is still held); ``device`` follows.
        """
        with self._lock:
            if self._master is not None:
                self.unplug()
            if port_name is not None:
                self.device = os.path.join(self._dir, port_name)
            master, slave = os.openpty()
            # raw from the start: no line discipline echo or CR/LF translation
            tty.setraw(slave)
            self.pty_path = os.ttyname(slave)
            os.close(slave)
            os.set_blocking(master, False)
            self._master = master
            os.symlink(self.pty_path, self.device)
            self._settings = _Settings()
            self._sim_locked = self.pin is not None
            self._faults.hang = False
            self.plug_count += 1
            self._busy_left = self.quirks.busy_after_power_on
            self._csca_busy_left = self.quirks.csca_busy_reads
            self._booted_at = None
            self._ussd_mode = 1
            self._buffered = []

    # ------------------------------------------------------------------
    # faults, switchable while running

    def fail_next_sends(self, count: int = 1, code: int = 500) -> None:
        """Answer the next ``count`` AT+CMGS with ``+CMS ERROR: code``."""
        with self._lock:
            self._faults.fail_sends.append((count, code))

    def fail_number(self, number: str, code: int = 38) -> None:
        """Answer every AT+CMGS to ``number`` with ``+CMS ERROR: code``."""
        with self._lock:
            self._faults.fail_numbers[number] = code

    def clear_faults(self) -> None:
        with self._lock:
            self._faults = _Faults()

    def hang(self) -> None:
        """Stop answering; input is swallowed until :meth:`resume`."""
        with self._lock:
            self._faults.hang = True

    def resume(self) -> None:
        with self._lock:
            self._faults.hang = False
            self._faults.stall = False

    def stall(self) -> None:
        """A USB stall: the stick stops taking data at all, until :meth:`resume`.

        Its input buffer is filled with empty lines (ignored when it reads them
        again), so the client's next write blocks: pyserial has no write timeout.
        """
        with self._lock:
            self._faults.stall = True
            slave = os.open(self.pty_path, os.O_WRONLY | os.O_NOCTTY | os.O_NONBLOCK)
            try:
                # the kernel moves buffered input along in the background and makes room again: fill until a
                # pause frees nothing more
                idle = 0
                while idle < 3:
                    try:
                        while True:
                            os.write(slave, b"\r" * 1024)
                    except BlockingIOError:
                        pass
                    time.sleep(0.05)
                    try:
                        idle = 0 if os.write(slave, b"\r") else idle + 1
                    except BlockingIOError:
                        idle += 1
            finally:
                os.close(slave)

    def set_sim_full(self, full: bool = True) -> None:
        """A full SIM: incoming messages are not stored and AT+CMGW answers +CMS ERROR: 322."""
        with self._lock:
            self._faults.sim_full = full

    def fail_randomly(self, share: float, codes: tuple[int, ...], seed: int = 0) -> None:
        """Answer about ``share`` of all AT+CMGS with ``+CMS ERROR: c``, ``c`` drawn from ``codes`` (seeded)."""
        with self._lock:
            self._faults.random_share = share
            self._faults.random_codes = tuple(codes)
            self._faults.rng = random.Random(seed)

    def interrupt_answers(self, *items: str | bytes, commands: tuple[str, ...] = ("+CMGS", "+CMGL")) -> None:
        """Weave ``items`` into the answers of ``commands``: a ``str`` is an unsolicited line (``^RSSI: 17``,
        ``RING``, ``+CREG: 1``), ``bytes`` are written raw (line noise). They come after the first line of
        the answer, between whole entries of a listing, never inside an entry."""
        with self._lock:
            self._faults.interruptions = list(items)
            self._faults.interrupted_commands = frozenset(c.upper() for c in commands)

    def unplug_during_send(
        self, part: int = 1, *, before_answer: bool = True, replug_after: float | None = 2.0
    ) -> None:
        """Pull the stick out at the ``part``-th next part the network accepts: ``before_answer`` in the
        middle of AT+CMGS (the part is out, its ``+CMGS:`` answer never comes), else right after the
        answer (between two parts of a long message). Plugged back in ``replug_after`` s later."""
        with self._lock:
            self._faults.unplug_at_part = part
            self._faults.unplug_before_answer = before_answer
            self._faults.replug_after = replug_after

    def _unplug_in_send(self) -> None:
        """Called as a part was taken: unplug now if unplug_during_send asked for this part."""
        faults = self._faults
        if faults.unplug_at_part <= 0:
            return
        faults.unplug_at_part -= 1
        if not faults.unplug_at_part:
            self._unplug_for_a_while()

    def _unplug_for_a_while(self) -> None:
        faults = self._faults
        faults.unplug_at_next_command = False
        self.unplug()
        if faults.replug_after is not None:
            timer = threading.Timer(faults.replug_after, self.replug)
            timer.daemon = True
            timer.start()

    def reboot(self) -> None:
        """The stick restarts on its own, on the same port: echo on, CNMI and CMEE back to power-on
        values, a pending ``> `` prompt dropped, and the SIM asks for its PIN again."""
        with self._lock:
            self._settings = _Settings()
            self._sim_locked = self.pin is not None
            self._inbuf.clear()
            self._prompt = None
            self._urcs.clear()
            self._busy_left = self.quirks.busy_after_power_on
            self._booted_at = None
            self._buffered = []
            self.reboot_count += 1
            self._write_line("^BOOT:0,0,0,0,0")  # what a Huawei stick prints as it comes up

    def add_noise(self, *lines: str, every_command: bool = True) -> None:
        """Write these unsolicited lines before answers (all before each answer if ``every_command``)."""
        with self._lock:
            self._faults.noise.extend(lines)
            self._faults.noise_every_command = every_command

    def emit(self, line: str) -> None:
        """Write one unsolicited line now (between answers)."""
        self._schedule(0.0, lambda: self._write_line(line))

    # ------------------------------------------------------------------
    # the network side

    def inject_sms(
        self,
        sender: str,
        text: str,
        smsc_time: datetime | None = None,
        *,
        concat_reference: int = 0,
        indicate: bool = True,
        wait_for_room: bool = False,
    ) -> list[int]:
        """Deliver a message from ``sender`` (split into parts as needed); return the SIM indexes.

        ``wait_for_room``: a part the SIM has no room for is held by the network (``network_waiting``)
        and delivered, with its indication, as soon as a slot is free, as an SMSC retries.
        """
        pdus = tpdu.encode_deliver(
            sender,
            text,
            smsc_time=smsc_time or datetime.now(WIB).replace(microsecond=0),
            concat_reference=concat_reference,
        )
        indexes = []
        for hex_pdu in pdus:
            if wait_for_room:
                with self._lock:
                    if self.network_waiting or self._faults.sim_full or len(self.sim) >= self.capacity:
                        self.network_waiting.append(hex_pdu)
                        continue
            index = self.inject_pdu(hex_pdu, indicate=indicate)
            if index is not None:
                indexes.append(index)
        return indexes

    def inject_pdu(self, hex_pdu: str, *, indicate: bool = True, stat: int = 0) -> int | None:
        """Store a raw (possibly malformed) PDU on the SIM as the network would; None when full."""
        with self._lock:
            mode, mt = self._settings.cnmi[0], self._settings.cnmi[1]
            if mt in (2, 3) and mode != 0 and indicate:
                length = _tpdu_length(hex_pdu)
                self._schedule(0.0, lambda: self._write_lines([f"+CMT: ,{length}", hex_pdu]))
                return None
            index = self._store(hex_pdu, stat)
            if index is None:
                log.info("SIM full, message not stored")
                return None
            if indicate and self.quirks.cnmi_supported:
                if mode == 0:  # as after power-on: held until the client sets a mode
                    self._buffered.append(f'+CMTI: "SM",{index}')
                elif mt == 1:
                    self._schedule(0.0, lambda: self._write_line(f'+CMTI: "SM",{index}'))
            return index

    def send_status_report(self, reference: int, recipient: str, status: int = 0) -> None:
        """Emit a status report now, as the CNMI <ds> setting asks."""
        with self._lock:
            self._deliver_status_report(reference, recipient, status)

    # ------------------------------------------------------------------
    # inspection

    def count(self, prefix: str) -> int:
        """How many commands starting with ``prefix`` (case-insensitive) the fake received."""
        prefix = prefix.upper()
        with self._lock:
            return sum(1 for command in self.commands if command.upper().startswith(prefix))

    def sent_texts(self) -> list[tuple[str, str]]:
        with self._lock:
            return [(s.number, s.text) for s in self.sent]

    @property
    def settings(self) -> _Settings:
        """What the client set: echo, CMEE, CMGF, CNMI... (reset by ATZ and re-plug)."""
        return self._settings

    @property
    def pin_attempts_left(self) -> int:
        return self._pin_attempts

    # ------------------------------------------------------------------
    # server thread

    def _serve(self) -> None:
        while not self._stop.is_set():
            self._periodic()
            self._deliver_waiting()
            self._flush_urcs()
            fd = self._master
            if fd is None or self._faults.stall:
                time.sleep(0.01)
                continue
            try:
                readable, _, _ = select.select([fd], [], [], 0.01)
            except (OSError, ValueError):
                continue
            if not readable:
                continue
            with self._lock:
                if fd != self._master or self._faults.stall:
                    continue
                try:
                    data = os.read(fd, 4096)
                except BlockingIOError:
                    continue
                except OSError as exc:
                    if exc.errno != errno.EIO:
                        raise
                    data = b""
                if not data:
                    # nobody holds the slave side: wait for a client
                    pass
                elif self._faults.hang:
                    self.commands.append("<hung> " + data.decode("ascii", "replace").strip())
                    self.command_times.append(time.monotonic())
                elif not self._speed_matches():
                    self._write(GARBAGE)  # what a modem at another rate looks like
                else:
                    self._feed(data)
            if not data:
                time.sleep(0.01)

    def _deliver_waiting(self) -> None:
        """The network tries again with what a full SIM could not take."""
        with self._lock:
            while self.network_waiting and not self._faults.sim_full and len(self.sim) < self.capacity:
                self.inject_pdu(self.network_waiting.pop(0))

    def _speed_matches(self) -> bool:
        """On a pty the kernel ignores the rate; the client's setting is still readable from the master."""
        if self.baudrate is None or self._master is None:
            return True
        try:
            speed = termios.tcgetattr(self._master)[5]
        except termios.error:
            return True
        return speed == getattr(termios, f"B{self.baudrate}")

    def _periodic(self) -> None:
        lines = self.quirks.periodic_lines
        if not lines or self._master is None or time.monotonic() < self._next_periodic:
            return
        self._next_periodic = time.monotonic() + self.quirks.periodic_interval
        line = lines[self._periodic_turn % len(lines)]
        self._periodic_turn += 1
        self._schedule(0.0, lambda: self._write_line(line))

    def _pause(self, delay: float) -> None:
        """Take ``delay`` seconds to answer, without blocking inject_sms() and friends meanwhile.

        Only the server thread calls this, holding the lock exactly once (in _serve).
        """
        self._lock.release()
        try:
            time.sleep(delay)
        finally:
            self._lock.acquire()

    def _schedule(self, delay: float, action: Callable[[], None]) -> None:
        with self._lock:
            self._urcs.append((time.monotonic() + delay, action))

    def _flush_urcs(self) -> None:
        with self._lock:
            if self._prompt is not None or self._faults.hang or not self._urcs:
                return
            now = time.monotonic()
            due = [u for u in self._urcs if u[0] <= now]
            self._urcs = [u for u in self._urcs if u[0] > now]
            for _, action in sorted(due, key=lambda u: u[0]):
                action()

    def _write(self, data: bytes) -> None:
        fd = self._master
        if fd is None:
            return
        view = memoryview(data)
        deadline = time.monotonic() + 2.0
        while view:
            try:
                written = os.write(fd, view)
                view = view[written:]
            except BlockingIOError:
                if time.monotonic() > deadline:
                    log.warning("client not reading, dropped %d bytes", len(view))
                    return
                select.select([], [fd], [], 0.05)
            except OSError:
                return  # no client on the slave side

    def _write_line(self, line: str) -> None:
        self._write(f"\r\n{line}\r\n".encode("latin-1"))

    def _write_lines(self, lines: list[str]) -> None:
        self._write("".join(f"\r\n{line}\r\n" for line in lines).encode("latin-1"))

    def _feed(self, data: bytes) -> None:
        for byte in data:
            if self._prompt is not None:
                if byte in (CTRL_Z, ESC):
                    body = bytes(self._inbuf)
                    self._inbuf.clear()
                    handler, self._prompt = self._prompt, None
                    if byte == ESC:
                        self._write(b"\r\nOK\r\n")
                    else:
                        handler(body)
                    continue
                if byte == ord("\r") and self._settings.cmgf == 0:
                    continue
                self._inbuf.append(byte)
                if self._settings.echo:
                    self._write(bytes([byte]))
                continue
            if byte == ESC:
                self._inbuf.clear()  # cancels a half-typed command
                continue
            if byte == ord("\r"):
                line = self._inbuf.decode("latin-1").strip()
                self._inbuf.clear()
                if self._settings.echo:
                    self._write(line.encode("latin-1") + b"\r")
                if line:
                    self._command(line)
            elif byte != ord("\n"):
                self._inbuf.append(byte)

    # ------------------------------------------------------------------
    # command dispatch

    def _command(self, line: str) -> None:
        if self._faults.unplug_at_next_command:
            self._unplug_for_a_while()  # unplug_during_send(before_answer=False): between two parts
            return
        self.commands.append(line)
        self.command_times.append(time.monotonic())
        log.debug("fake got %r", line)
        upper = line.upper()
        if not upper.startswith("AT"):
            return
        if self.command_delay:
            self._pause(self.command_delay)
        self._boot()
        self._noise()
        if self._busy_left > 0:
            self._busy_left -= 1
            self._write_line(f"+CME ERROR: {CME_WAVECOM_BUSY}")
            return
        try:
            lines = self._dispatch(line[2:])
        except CommandError as exc:
            self._write_line(self._error_text(exc))
            return
        except Exception:  # a bug in the fake: answer ERROR and keep serving, but say so
            log.exception("fake modem failed on %r", line)
            self._write_line("ERROR")
            return
        if lines is None:  # the handler answers later (prompt)
            return
        if not self.quirks.cpin_final_ok and upper.replace(" ", "") == "AT+CPIN?":
            self._write_lines(lines)  # old Wavecom firmware: the answer, and no final result
            return
        self._write_answer(upper[2:].split("=")[0].split("?")[0], [*lines, "OK"])

    def _write_answer(self, command: str, lines: list[str]) -> None:
        """An answer, with interrupt_answers()'s items after its first line when ``command`` is interrupted."""
        faults = self._faults
        if not faults.interruptions or command.upper() not in faults.interrupted_commands or len(lines) < 2:
            self._write_lines(lines)
            return
        # after the first whole entry: a +CMGL entry is a header and its PDU (two lines)
        cut = 2 if command.upper() in ("+CMGL", "+CMGR") and len(lines) > 2 else 1
        self._write_lines(lines[:cut])
        for item in faults.interruptions:
            self._write(item if isinstance(item, bytes) else f"\r\n{item}\r\n".encode("latin-1"))
        self._write_lines(lines[cut:])

    def _boot(self) -> None:
        """The first command after power-on: the modem finishes booting while the client talks."""
        if self._booted_at is not None:
            return
        self._booted_at = time.monotonic()
        for position, line in enumerate(self.quirks.boot_lines):
            self._schedule(0.05 * (position + 1), lambda line=line: self._write_line(line))
        if self.quirks.sms_ready_line:
            self._schedule(self.quirks.sms_ready_after, lambda: self._write_line(self.quirks.sms_ready_line))

    def _sms_ready(self) -> bool:
        if not self.quirks.sms_ready_after:
            return True
        return self._booted_at is not None and time.monotonic() >= self._booted_at + self.quirks.sms_ready_after

    def _noise(self) -> None:
        faults = self._faults
        if not faults.noise:
            return
        if faults.noise_every_command:
            self._write_lines(list(faults.noise))
        else:
            self._write_line(faults.noise.pop(0))

    def _error_text(self, exc: CommandError) -> str:
        if exc.kind == "CMS":
            return f"+CMS ERROR: {exc.code}"
        if exc.kind == "CME" and self._settings.cmee:
            return f"+CME ERROR: {exc.code}"
        return self.quirks.error_text

    def _dispatch(self, rest: str) -> list[str] | None:
        if not rest:
            return []
        if rest[0] in "+^":
            match = re.match(r"([+^][A-Z0-9]+)(=\?|\?|=)?(.*)$", rest, re.IGNORECASE)
            if not match:
                raise CommandError()
            name, form, args = match.group(1).upper(), match.group(2) or "", match.group(3)
            kind = {"=?": "test", "?": "read", "=": "set", "": "exec"}[form]
            handler = self._EXTENDED.get(name)
            if handler is None:
                raise CommandError()
            if name in self._NEEDS_SIM and self._sim_locked:
                raise CommandError("CME", CME_SIM_PIN_REQUIRED if self._pin_attempts else CME_SIM_PUK_REQUIRED)
            if name in SMS_COMMANDS and not (self.quirks.sms_supported and self._sms_ready()):
                raise CommandError()
            return handler(self, kind, args)
        return self._basic(rest.upper())

    def _basic(self, rest: str) -> list[str]:
        """Basic commands, possibly chained: ATZ, ATE0, ATV1, AT&F, ATI, ATE0V1..."""
        lines: list[str] = []
        for cmd, digits in re.findall(r"(&?[A-Z])(\d*)", rest):
            value = int(digits) if digits else 0
            if cmd in ("Z", "&F"):
                self._settings = _Settings()
            elif cmd == "E":
                self._settings.echo = bool(value)
            elif cmd in ("V", "Q", "&C", "&D", "X", "S", "&W"):
                pass
            elif cmd == "I":
                lines += [
                    f"Manufacturer: {self.manufacturer}",
                    f"Model: {self.model}",
                    f"Revision: {self.firmware}",
                    f"IMEI: {self.imei}",
                    "+GCAP: +CGSM,+DS,+ES",
                ]
            else:
                raise CommandError()
        return lines

    # identity -------------------------------------------------------------
    def _cimi(self, kind: str, args: str) -> list[str]:
        if kind == "test":
            return []
        return [self.imsi]

    def _huawei_ok(self, kind: str, args: str) -> list[str]:
        """^CURC (periodic ^RSSI on/off) and friends: accepted, changes nothing."""
        return []

    def _gcap(self, kind: str, args: str) -> list[str]:
        return ["+GCAP: +CGSM,+DS,+ES"]

    # settings ---------------------------------------------------------------
    def _cmee(self, kind: str, args: str) -> list[str]:
        if kind == "test":
            return ["+CMEE: (0-2)"]
        if kind == "read":
            return [f"+CMEE: {self._settings.cmee}"]
        value = _ints(args, 1)[0]
        if value not in (0, 1, 2):
            raise CommandError("CME", CME_NOT_SUPPORTED)
        self._settings.cmee = value
        return []

    def _cpin(self, kind: str, args: str) -> list[str]:
        if kind == "test":
            return []
        if kind == "read":
            if not self._sim_locked:
                return ["+CPIN: READY"]
            return ["+CPIN: SIM PIN" if self._pin_attempts else "+CPIN: SIM PUK"]
        values = [a.strip().strip('"') for a in args.split(",")]
        if not self._sim_locked:
            return []
        if self._pin_attempts == 0:
            if len(values) == 2 and values[0] == self.puk:
                self.pin = values[1]
                self._sim_locked = False
                self._pin_attempts = 3
                return []
            raise CommandError("CME", CME_INCORRECT_PASSWORD)
        if values[0] == self.pin:
            self._sim_locked = False
            self._pin_attempts = 3
            self._search_network()
            return []
        self._pin_attempts -= 1
        raise CommandError("CME", CME_INCORRECT_PASSWORD)

    def _search_network(self) -> None:
        """After the PIN a real stick needs a few seconds to find and register with the network."""
        if not self.register_after_pin:
            return
        if self.registration != "searching":  # (a re-plug while searching keeps the first target)
            self._registers_as = self.registration
        self.registration = "searching"

        def register() -> None:
            if self.registration == "searching":
                self.registration = self._registers_as

        self._schedule(self.register_after_pin, register)

    def _cfun(self, kind: str, args: str) -> list[str]:
        if kind == "test":
            return ["+CFUN: (0,1,4),(0-1)"]
        if kind == "read":
            return ["+CFUN: 1"]
        if kind == "set" and args.strip().startswith("1"):
            self._busy_left = self.quirks.busy_after_power_on  # the radio restarts
        return []

    def _cscs(self, kind: str, args: str) -> list[str]:
        if kind == "test":
            return ['+CSCS: ("IRA","GSM","UCS2")']
        if kind == "read":
            return [f'+CSCS: "{self._settings.cscs}"']
        value = args.strip().strip('"').upper()
        if value not in ("IRA", "GSM", "UCS2"):
            raise CommandError("CME", CME_NOT_SUPPORTED)
        self._settings.cscs = value
        return []

    def _cmgf(self, kind: str, args: str) -> list[str]:
        if kind == "test":
            return ["+CMGF: (0,1)"]
        if kind == "read":
            return [f"+CMGF: {self._settings.cmgf}"]
        value = _ints(args, 1)[0]
        if value not in (0, 1):
            raise CommandError("CMS", CMS_INVALID_PDU)
        self._settings.cmgf = value
        return []

    def _cnmi(self, kind: str, args: str) -> list[str]:
        if not self.quirks.cnmi_supported:
            raise CommandError()
        if kind == "test":
            ds = ",".join(str(d) for d in self.cnmi_ds_supported)
            return [f"+CNMI: (0-2),(0-3),(0,2),({ds}),(0,1)"]
        if kind == "read":
            return ["+CNMI: " + ",".join(str(v) for v in self._settings.cnmi)]
        values = (_ints(args, 5) + [0, 0, 0, 0, 0])[:5]
        if values[3] not in self.cnmi_ds_supported or values[0] > 3 or values[1] > 3:
            raise CommandError("CMS", 303)
        self._settings.cnmi = tuple(values)  # type: ignore[assignment]
        if values[0] in (1, 2, 3) and values[4] == 0 and self._buffered:
            held, self._buffered = self._buffered, []
            self._schedule(0.0, lambda: self._write_lines(held))  # after the OK
        return []

    def _csms(self, kind: str, args: str) -> list[str]:
        if kind == "test":
            return ["+CSMS: (0,1)"]
        if kind == "read":
            return ["+CSMS: 0,1,1,1"]
        return ["+CSMS: 1,1,1"]

    def _csca(self, kind: str, args: str) -> list[str]:
        if kind == "test":
            return []
        if kind == "read":
            if self._csca_busy_left > 0:
                self._csca_busy_left -= 1
                raise CommandError("CME", CME_SIM_BUSY)
            return [f'+CSCA: "{self.smsc}",145']
        self.smsc = args.split(",")[0].strip().strip('"')
        return []

    def _cpms(self, kind: str, args: str) -> list[str]:
        used, room, count = len(self.sim), self.capacity, self.quirks.cpms_memories
        if kind == "test":
            return ["+CPMS: " + ",".join(['("SM")'] * count if count else ["()"] * 3)]
        if kind == "read":
            if not count:
                return ["+CPMS: ,,,,,,,,"]
            return ["+CPMS: " + ",".join([f'"SM",{used},{room}'] * count)]
        memories = [a.strip().strip('"').upper() for a in args.split(",") if a.strip()]
        if len(memories) > count:
            raise CommandError()
        if not memories or any(m != "SM" for m in memories):
            raise CommandError("CMS", CMS_UNKNOWN_MEMORY)
        return ["+CPMS: " + ",".join([f"{used},{room}"] * count)]

    def _csmp(self, kind: str, args: str) -> list[str]:
        if kind == "test":
            return ["+CSMP: (0-255),(0-255),(0-255),(0-255)"]
        if kind == "read":
            return ["+CSMP: 17,167,0,0"]
        if self.quirks.csmp_clears_smsc:
            self.smsc = ""
        return []

    def _ussdmode(self, kind: str, args: str) -> list[str]:
        if kind == "read":
            return [f"^USSDMODE: {self._ussd_mode}"]
        if kind == "set":
            self._ussd_mode = _ints(args, 1)[0]
        return []

    # network ---------------------------------------------------------------
    def _csq(self, kind: str, args: str) -> list[str]:
        if kind == "test":
            return ["+CSQ: (0-31,99),(0-7,99)"]
        return [f"+CSQ: {self.rssi},99"]

    def _cops(self, kind: str, args: str) -> list[str]:
        if kind == "test":
            return [f'+COPS: (2,"{self.operator}","{self.operator_short}","{self.operator_numeric}",2),,(0-4),(0-2)']
        if kind == "set":
            values = _ints(args, 2)
            if values and values[0] == 3 and len(values) > 1:
                self._settings.cops_format = values[1]
            return []
        if self.registration not in ("home", "roaming"):
            return ["+COPS: 0"]
        fmt = self._settings.cops_format
        name = {0: self.operator, 1: self.operator_short, 2: self.operator_numeric}[fmt]
        return [f'+COPS: 0,{fmt},"{name}",2']

    def _cgatt(self, kind: str, args: str) -> list[str]:
        if kind == "test":
            return ["+CGATT: (0,1)"]
        return ["+CGATT: 1"] if kind == "read" else []

    def _cclk(self, kind: str, args: str) -> list[str]:
        if kind != "read":
            return []
        return [datetime.now(WIB).strftime('+CCLK: "%y/%m/%d,%H:%M:%S+28"')]

    def _cbc(self, kind: str, args: str) -> list[str]:
        return ["+CBC: 0,100"]  # bus powered, like a USB stick

    def _cusd(self, kind: str, args: str) -> list[str]:
        if kind == "test":
            return ["+CUSD: (0,1,2)"]
        if kind == "read":
            return ["+CUSD: 1"]
        parts = [a.strip() for a in args.split(",")]
        if len(parts) >= 2 and self.registration not in ("home", "roaming"):
            raise CommandError("CME", CME_NO_NETWORK_SERVICE)
        if self.quirks.ussd_needs_mode0 and self._ussd_mode != 0:
            raise CommandError()
        if len(parts) >= 2 and parts[0] in ("1", "0"):
            request = parts[1].strip('"')
            if self.ussd_packed_requests:
                if not re.fullmatch(r"(?:[0-9A-Fa-f]{2})+", request):
                    raise CommandError()
                request = gsm7.unpack_gsm7(bytes.fromhex(request))
            self.ussd_requests.append(request)
            self._schedule(self.ussd_delay, self._ussd_answer)
        return []

    def _ussd_answer(self) -> None:
        text = self.ussd_reply
        if self.ussd_encoding == "ucs2":
            self._write_line(f'+CUSD: 0,"{text.encode("utf-16-be").hex().upper()}",72')
        elif self.ussd_encoding == "gsm7":
            self._write_line(f'+CUSD: 0,"{gsm7.pack_gsm7(text).hex().upper()}",15')
        else:
            self._write_line(f'+CUSD: 0,"{text}",15')

    # messages ---------------------------------------------------------------
    def _store(self, hex_pdu: str, stat: int) -> int | None:
        if self._faults.sim_full or len(self.sim) >= self.capacity:
            return None
        first = self.quirks.first_index
        index = next(i for i in range(first, first + self.capacity + 1) if i not in self.sim)
        self.sim[index] = StoredSMS(hex_pdu, stat)
        return index

    def _listing_line(self, index: int, stored: StoredSMS, command: str) -> list[str]:
        prefix = f"+{command}: " + ("" if command == "CMGR" else f"{index},")
        if self._settings.cmgf == 1:
            return self._text_listing(prefix, stored)
        return [f"{prefix}{stored.stat},,{_tpdu_length(stored.pdu)}", stored.pdu]

    def _text_listing(self, prefix: str, stored: StoredSMS) -> list[str]:
        try:
            decoded = tpdu.decode(stored.pdu)
        except PduError:
            return [f'{prefix}"{STAT_WORDS[stored.stat]}","",,""', ""]
        sender = getattr(decoded, "sender", "") or getattr(decoded, "recipient", "")
        text = getattr(decoded, "text", "")
        when = getattr(decoded, "smsc_time", None)
        stamp = when.strftime("%y/%m/%d,%H:%M:%S+28") if when else ""
        return [f'{prefix}"{STAT_WORDS[stored.stat]}","{sender}",,"{stamp}"', text]

    def _cmgl(self, kind: str, args: str) -> list[str]:
        if not self.quirks.cpms_memories:
            raise CommandError()  # a phone in modem mode: nothing stored to list
        if kind == "test":
            if self._settings.cmgf == 1:
                return ['+CMGL: ("REC UNREAD","REC READ","STO UNSENT","STO SENT","ALL")']
            return ["+CMGL: (0-4)"]
        wanted = (
            args.strip().strip('"').upper() if kind == "set" else ("0" if self._settings.cmgf == 0 else "REC UNREAD")
        )
        words = {v: k for k, v in STAT_WORDS.items()}
        if wanted in ("4", "ALL"):
            stats = {0, 1, 2, 3}
        elif wanted.isdigit() and int(wanted) in STAT_WORDS:
            stats = {int(wanted)}
        elif wanted in words:
            stats = {words[wanted]}
        else:
            raise CommandError("CMS", CMS_INVALID_PDU)
        lines: list[str] = []
        for index in sorted(self.sim):
            stored = self.sim[index]
            if stored.stat in stats:
                lines += self._listing_line(index, stored, "CMGL")
                if stored.stat == 0:
                    stored.stat = 1
        return lines

    def _cmgr(self, kind: str, args: str) -> list[str]:
        if not self.quirks.cpms_memories:
            raise CommandError()
        if kind == "test":
            return []
        index = _ints(args, 1)[0]
        stored = self.sim.get(index)
        if stored is None:
            raise CommandError("CMS", CMS_INVALID_INDEX)
        lines = self._listing_line(index, stored, "CMGR")
        if stored.stat == 0:
            stored.stat = 1
        return lines

    def _cmgd(self, kind: str, args: str) -> list[str]:
        if kind == "test":
            return [f"+CMGD: ({','.join(str(i) for i in sorted(self.sim))}),(0-4)"]
        values = _ints(args, 2)
        index, flag = values[0], (values[1] if len(values) > 1 else 0)
        if flag == 0:
            if not self.quirks.first_index <= index < self.quirks.first_index + self.capacity:
                raise CommandError("CMS", CMS_INVALID_INDEX)
            self.sim.pop(index, None)
            return []
        drop = {1: {1}, 2: {1, 3}, 3: {1, 2, 3}, 4: {0, 1, 2, 3}}.get(flag, set())
        for i in [i for i, s in self.sim.items() if s.stat in drop]:
            del self.sim[i]
        return []

    def _cmgw(self, kind: str, args: str) -> list[str] | None:
        if kind == "test":
            return []

        def store(body: bytes) -> None:
            hex_pdu = body.decode("latin-1").strip()
            index = self._store(hex_pdu, 2)
            if index is None:
                self._write_line(f"+CMS ERROR: {CMS_MEMORY_FULL}")
            else:
                self._write_lines([f"+CMGW: {index}", "OK"])

        if self._faults.sim_full or len(self.sim) >= self.capacity:
            raise CommandError("CMS", CMS_MEMORY_FULL)
        self._prompt = store
        self._write(b"\r\n> ")
        return None

    def _cmgs(self, kind: str, args: str) -> list[str] | None:
        if kind == "test":
            return []
        if kind != "set":
            raise CommandError()
        if self._settings.cmgf == 1:
            number = args.split(",")[0].strip().strip('"')
            self._prompt = lambda body: self._finish_text_send(number, body)
        else:
            length = _ints(args, 1)[0]
            self._prompt = lambda body: self._finish_pdu_send(length, body)
        self._write(b"\r\n> ")
        return None

    def _finish_pdu_send(self, declared: int, body: bytes) -> None:
        hex_pdu = body.decode("latin-1").strip().replace("\r", "").replace("\n", "")
        try:
            smsc_octets = int(hex_pdu[:2], 16)
            if len(hex_pdu) // 2 - smsc_octets - 1 != declared:
                raise PduError(f"length {declared} does not match the PDU")
            decoded = tpdu.decode(hex_pdu)
        except (ValueError, PduError) as exc:
            log.info("fake refused PDU %s: %s", hex_pdu, exc)
            self._write_line(f"+CMS ERROR: {CMS_INVALID_PDU}")
            return
        if smsc_octets == 0 and not self.smsc:
            self._write_line(f"+CMS ERROR: {CMS_SMSC_UNKNOWN}")  # nobody to hand the message to
            return
        self._accept(
            number=decoded.recipient,
            text=decoded.text,
            concat=_concat_tuple(decoded.concat),
            status_report=bool(decoded.status_report_requested),
            raw=hex_pdu,
            mode="pdu",
        )

    def _finish_text_send(self, number: str, body: bytes) -> None:
        self._accept(number=number, text=body.decode("latin-1"), concat=None, status_report=False, raw="", mode="text")

    def _accept(self, *, number: str, text: str, concat, status_report: bool, raw: str, mode: str) -> None:
        code = self._send_fault(number)
        if self.part_delay:
            self._pause(self.part_delay)
        if code is not None:
            self.refused.append((number, code))
            self._write_line(f"+CMS ERROR: {code}")
            return
        reference = self._next_reference
        self._next_reference = (reference + 1) % 256
        self.sent.append(SentSMS(number, text, reference, concat, status_report, raw, mode))
        if self._faults.unplug_at_part and self._faults.unplug_before_answer:
            self._unplug_in_send()
            if self._master is None:
                return
        self._write_answer("+CMGS", [f"+CMGS: {reference}", "OK"])
        if self._faults.unplug_at_part and not self._faults.unplug_before_answer:
            self._faults.unplug_at_part -= 1
            self._faults.unplug_at_next_command = not self._faults.unplug_at_part
        if status_report and self._settings.cnmi[3]:
            submitted = datetime.now(WIB) if self.reports_carry_submit_time else None
            self._schedule(
                self.status_report_delay,
                lambda: self._deliver_status_report(reference, number, self.status_report_status, submitted),
            )

    def _send_fault(self, number: str) -> int | None:
        faults = self._faults
        if number in faults.fail_numbers:
            return faults.fail_numbers[number]
        if faults.rng is not None and faults.rng.random() < faults.random_share:
            return faults.rng.choice(faults.random_codes)
        while faults.fail_sends:
            remaining, code = faults.fail_sends[0]
            if remaining <= 0:
                faults.fail_sends.pop(0)
                continue
            if remaining == 1:
                faults.fail_sends.pop(0)
            else:
                faults.fail_sends[0] = (remaining - 1, code)
            return code
        return None

    def _deliver_status_report(
        self, reference: int, recipient: str, status: int, submitted: datetime | None = None
    ) -> None:
        now = datetime.now(WIB).replace(microsecond=0)
        smsc_time = submitted.replace(microsecond=0) if submitted is not None else now - timedelta(seconds=2)
        hex_pdu = tpdu.encode_status_report(
            reference,
            recipient,
            status=status,
            smsc_time=smsc_time,
            discharge_time=now,
            smsc=self.smsc or "+62816124",  # the report comes from the SMSC the message went to
        )
        ds = self._settings.cnmi[3]
        if ds == 1:
            self._write_lines([f"+CDS: {_tpdu_length(hex_pdu)}", hex_pdu])
        elif ds == 2:
            index = self._store(hex_pdu, 0)
            if index is not None:
                self._write_line(f'+CDSI: "SM",{index}')

    _EXTENDED: dict[str, Handler] = {
        "+CGMI": _identity_handler("manufacturer"),
        "+GMI": _identity_handler("manufacturer"),
        "+CGMM": _identity_handler("model"),
        "+GMM": _identity_handler("model"),
        "+CGMR": _identity_handler("firmware"),
        "+GMR": _identity_handler("firmware"),
        "+CGSN": _identity_handler("imei"),
        "+GSN": _identity_handler("imei"),
        "+CIMI": _cimi,
        "+GCAP": _gcap,
        "^CURC": _huawei_ok,
        "^PORTSEL": _huawei_ok,
        "+CMEE": _cmee,
        "+CPIN": _cpin,
        "+CFUN": _cfun,
        "+CSCS": _cscs,
        "+CMGF": _cmgf,
        "+CNMI": _cnmi,
        "+CSMS": _csms,
        "+CSCA": _csca,
        "+CSMP": _csmp,
        "^USSDMODE": _ussdmode,
        "+CPMS": _cpms,
        "+CSQ": _csq,
        "+CREG": _registration_handler("+CREG", "creg_n"),
        "+CGREG": _registration_handler("+CGREG", "cgreg_n"),
        "+COPS": _cops,
        "+CGATT": _cgatt,
        "+CCLK": _cclk,
        "+CBC": _cbc,
        "+CUSD": _cusd,
        "+CMGL": _cmgl,
        "+CMGR": _cmgr,
        "+CMGD": _cmgd,
        "+CMGW": _cmgw,
        "+CMGS": _cmgs,
    }
    _NEEDS_SIM = frozenset({"+CIMI", "+CMGL", "+CMGR", "+CMGD", "+CMGW", "+CMGS", "+CPMS", "+CSCA", "+CUSD", "+COPS"})


def _ints(args: str, most: int) -> list[int]:
    values = []
    for item in args.split(",")[:most]:
        item = item.strip().strip('"')
        if item:
            try:
                values.append(int(item))
            except ValueError:
                raise CommandError() from None
    if not values:
        raise CommandError()
    return values


def _tpdu_length(hex_pdu: str) -> int:
    """Octets after the SMSC prefix, as +CMGL/+CMGR/+CDS announce them."""
    try:
        return len(hex_pdu) // 2 - int(hex_pdu[:2], 16) - 1
    except ValueError:
        return len(hex_pdu) // 2


def _concat_tuple(concat: object) -> tuple[int, int, int] | None:
    if concat is None:
        return None
    if isinstance(concat, tuple):
        return concat  # type: ignore[return-value]
    return (concat.reference, concat.total, concat.sequence)  # type: ignore[attr-defined]
