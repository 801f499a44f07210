"""The AT driver: a GSM modem spoken to directly with AT commands in PDU mode.

Settings (``[modem:NAME]``, all strings)::

    device = /dev/ttyUSB0      ; a path or a pyserial URL (loop://, spy://...)
    baudrate = 115200          ; or auto: try the usual rates at connect
    pin =                      ; SIM PIN, if the SIM asks for one
    smsc =                     ; set the SMS centre with AT+CSCA (default: the SIM's)
    init =                     ; extra init commands, one per line or separated by ";"
    validity = max             ; max, none, or minutes (also 30m, 12h, 2d, 1w)
    reassembly_timeout = 1800  ; seconds to wait for the missing parts of a message
    command_timeout = 10       ; seconds per command before the modem counts as hung
    send_timeout = 60          ; seconds for the network to accept one part (AT+CMGS)
    sweep_interval = 60        ; seconds between AT+CMGL safety sweeps
    storage = SM               ; message storage to read and delete from
    ussd_timeout = 30          ; seconds to wait for the +CUSD answer

New messages are stored by the modem and announced with ``+CMTI``; a slow
``AT+CMGL=4`` sweep (at connect and every ``sweep_interval``) picks up what is
already stored and any lost indication. Nothing is deleted from the SIM until
the daemon calls :meth:`ATDriver.acknowledge`.

Real firmware bends the standard; the driver copes by behaviour, never by a
table of model names, so an unknown device with the same habit works too
(tests/fakeprofiles.py holds the families and the public record of each habit):

* an answer without a final result (``+CPIN: READY`` and no ``OK``): AT+CPIN?
  takes its answer after a short quiet spell (ATLine ``final_grace``);
* busy causes (``+CME ERROR: 14`` SIM busy, ``515`` please wait) are retried
  with a pause for up to ``command_timeout`` seconds, on every command;
* ``AT+CMGF=0`` is the SMS part's readiness check: refused while the modem
  boots (SIMCom before ``SMS Ready``), it is retried for up to
  ``SMS_READY_WAIT`` seconds;
* AT+CPMS with three memories refused: two, then one;
* ``+CMS ERROR: 330`` (SMSC unknown: some firmware wipes it on AT+CSMP=): the
  SMSC read at connect (or ``smsc =``) is set again and the part sent once more;
* a device that stores no messages and gives no indications (a phone in modem
  mode) sends only, and says so once in plain words;
* USSD refused in both encodings: ``AT^USSDMODE=0`` (Huawei) and once more.
"""

from __future__ import annotations

import logging
import os
import queue
import random
import re
import threading
import time
from collections.abc import Mapping
from typing import cast

from modemd.sms import gsm7, tpdu
from modemd.sms.errors import PduError
from modemd.sms.phone import for_log
from modemd.sms.reassembly import Assembled, Reassembler
from modemd.sms.segmentation import count as sms_count

from . import porthold
from .atanswers import info_value, quoted, sim_state, storage_figures
from .atline import USUAL_BAUDRATES, ATLine, CommandError, Unsolicited, open_answering, shown
from .base import (
    CME_NO_NETWORK,
    CmeError,
    CmsError,
    Driver,
    Identity,
    IncomingSMS,
    ModemGone,
    NoNetwork,
    PinError,
    PinRefused,
    PortBusy,
    Resume,
    SendFailed,
    SignalInfo,
    StatusReport,
    StorageInfo,
    Unsupported,
    refuse_known_bad_pin,
    schema_default,
    seconds_setting,
)

log = logging.getLogger("modemd.at")

# Message indications, tried in order: +CMTI for new SMS, status reports stored
# (+CDSI) or else delivered inline (+CDS); never +CMT, which would hand us an SMS
# that exists nowhere else if we crash before storing it.
CNMI_CHOICES = ("AT+CNMI=2,1,0,2,0", "AT+CNMI=2,1,0,1,0", "AT+CNMI=2,1,0,0,0")

REGISTRATION_WORDS = {
    0: "not registered",
    1: "home",
    2: "searching",
    3: "denied",
    4: "unknown",
    5: "roaming",
}

# +CME codes that mean "wait": 14 SIM busy (Qualcomm/ZTE on AT+CSCA? after start), 515 "please wait"
# (Wavecom after power-on and AT+CFUN=1); retried on every command
CME_SIM_BUSY = {14, 515}
BUSY_PAUSE = 0.5
CME_NO_SIM = {10, 13}
CMS_EMPTY_INDEX = 321
CMS_SMSC_UNKNOWN = 330
#: how long a modem that is still booting may refuse AT+CMGF=0 (SIMCom: until "SMS Ready")
SMS_READY_WAIT = 30.0
#: seconds of quiet after which an answer without a final result is taken (old Wavecom AT+CPIN?)
FINAL_GRACE = 1.0
#: devices already reported as unable to receive (the worker makes a new driver per connect)
_SEND_ONLY_SAID: set[tuple[str, str]] = set()

#: AT+CFUN=<fun>,1 resets the modem; ^RESET is Huawei's own
RESET_COMMAND = re.compile(r"AT(\+CFUN=\d+,1|\^RESET)")


def parse_validity(value: str) -> str | int | None:
    """INI ``validity`` -> what :func:`modemd.sms.tpdu.encode_submit` takes."""
    text = value.strip().lower()
    if text in ("", "max"):
        return "max"
    if text == "none":
        return None
    match = re.fullmatch(r"(\d+)\s*([mhdw]?)", text)
    if not match:
        raise ValueError(f"validity must be max, none or a duration such as 90, 12h, 2d; got {value!r}")
    return int(match.group(1)) * {"": 1, "m": 1, "h": 60, "d": 1440, "w": 10080}[match.group(2)]


def init_commands(text: str) -> list[str]:
    """The extra init commands: one per line, or several on a line as ``AT^CURC=0;AT+CSMP=17,167,0,0``.

    Only a ";" followed by "AT" starts a new command: ``AT+CMEE=1;+CNMI=2,1`` stays one line, as the
    modem reads AT's own concatenation.
    """
    commands = []
    for line in text.splitlines():
        commands += [part.strip() for part in re.split(r";\s*(?=AT)", line, flags=re.IGNORECASE) if part.strip()]
    return commands


class ATDriver(Driver):
    """A modem on a serial port (or pyserial URL), driven with AT commands."""

    kind = "at"

    def __init__(self, name: str, settings: Mapping[str, str], wakeup: threading.Event | None = None):
        super().__init__(name, settings, wakeup)
        s = self.settings
        self.device = s["device"].strip()
        rate = (s.get("baudrate") or schema_default("baudrate")).strip().lower()
        self.baudrate: int | None = None if rate == "auto" else int(rate)
        self.pin = s.get("pin", "").strip()
        self.smsc = s.get("smsc", "").strip()
        self.init_commands = init_commands(s.get("init", ""))
        self.validity = parse_validity(s.get("validity", "max"))
        self.command_timeout = seconds_setting(s, "command_timeout")
        self.send_timeout = seconds_setting(s, "send_timeout")
        self.sweep_interval = seconds_setting(s, "sweep_interval")
        self.storage_name = (s.get("storage", "").strip() or schema_default("storage")).upper()
        self.ussd_timeout = seconds_setting(s, "ussd_timeout")
        self.reassembler = Reassembler(seconds_setting(s, "reassembly_timeout"))
        #: the clock the reassembly timeout runs on
        self.clock = time.monotonic

        self._line: ATLine | None = None
        self._ready: list[IncomingSMS] = []
        self._reports: list[StatusReport] = []
        self._ussd: list[Unsolicited] = []
        # storage index -> PDU read from it and not yet acknowledged: the sweep must
        # not hand the same stored message over twice
        self._taken: dict[int, str] = {}
        self._next_sweep = 0.0
        self._concat_reference = random.randrange(256)
        self.status_report_mode = ""  # "stored" (+CDSI), "inline" (+CDS) or "none"
        self.can_receive = True  # False: the device stores no messages (a phone in modem mode)
        self._storage_command = ""  # the AT+CPMS= form this modem accepted
        self._smsc_at_connect = ""  # what AT+CSCA? said, to set again after +CMS ERROR: 330

    # ------------------------------------------------------------------
    # lifecycle

    def connect(self) -> None:
        self.close()
        is_url = "://" in self.device
        if not is_url and not os.path.exists(self.device):
            raise ModemGone(f"{self.device} does not exist: is the modem plugged in?")
        if not is_url:
            found = porthold.holders(self.device)
            if found:
                raise PortBusy(porthold.busy_message(self.device, found))
        self._line = self._open_line()
        try:
            self._initialise()
        except (CmsError, CmeError, CommandError) as exc:
            self.close()
            raise ModemGone(f"modem {self.name} refused initialisation: {exc}") from exc
        except BaseException:
            self.close()
            raise
        log.info("modem %s ready on %s (status reports: %s)", self.name, self.device, self.status_report_mode)

    def _open_line(self) -> ATLine:
        if self.baudrate is not None:
            line = ATLine(self.device, self.baudrate, on_event=self._on_event)
            line.open()
            return line
        answering = open_answering(self.device, USUAL_BAUDRATES, min(2.0, self.command_timeout), self._on_event)
        if answering is None:
            raise ModemGone(
                f"no modem answers AT on {self.device} at any of {', '.join(str(r) for r in USUAL_BAUDRATES)} baud"
            )
        log.info("modem %s answers at %d baud (baudrate = auto)", self.name, answering.baudrate)
        return answering

    def close(self) -> None:
        line, self._line = self._line, None
        if line is not None:
            line.close()

    def _initialise(self) -> None:
        self._wake()
        self._at("ATZ")
        self._at("ATE0")
        self._at("AT+CMEE=1")
        self._unlock_sim()
        self._wait_for_sms_part()
        self._choose_storage()
        self._choose_indications()
        self._say_if_send_only()
        self._smsc_at_connect = self._read_smsc()
        if self.smsc:
            self._set_smsc(self.smsc)
        for command in self.init_commands:
            if RESET_COMMAND.match(re.sub(r"\s", "", command.upper())):
                # a reset reboots Huawei E173 sticks into mass-storage mode (Gammu issue 687)
                log.warning("modem %s: refusing init command %s", self.name, command)
                continue
            self._at(command)
        if self.can_receive:
            self._sweep()

    def _wake(self) -> None:
        """Leave a ``> `` prompt a hang may have left behind; a modem fresh from USB
        sometimes also swallows the first command."""
        self._line_or_gone().cancel_input()
        for attempt in range(3):
            try:
                self._at("AT", timeout=min(2.0, self.command_timeout))
                return
            except (CommandError, CmeError, CmsError):
                return
            except ModemGone:
                if attempt == 2 or (self._line is not None and not self._line.is_open):
                    raise

    def _wait_for_sms_part(self) -> None:
        """AT+CMGF=0 until accepted: a booting modem refuses SMS commands for a while."""
        deadline = time.monotonic() + SMS_READY_WAIT
        while True:
            try:
                self._at("AT+CMGF=0")
                return
            except (CommandError, CmsError, CmeError) as exc:
                if time.monotonic() >= deadline:
                    raise ModemGone(
                        f"modem {self.name} refuses PDU mode (AT+CMGF=0) for {SMS_READY_WAIT:g} s: {exc}"
                    ) from exc
                log.debug("modem %s: SMS part not ready yet (%s)", self.name, exc)
                time.sleep(BUSY_PAUSE)

    def _choose_storage(self) -> None:
        """AT+CPMS with three memories, else two (old Wavecom), else one; none: the device stores nothing."""
        storage = f'"{self.storage_name}"'
        for count in (3, 2, 1):
            command = "AT+CPMS=" + ",".join([storage] * count)
            try:
                self._at(command)
            except (CommandError, CmsError, CmeError):
                continue
            self._storage_command = command
            return
        self.can_receive = False

    def _say_if_send_only(self) -> None:
        if self.can_receive:
            return
        key = (self.name, self.device)
        if key not in _SEND_ONLY_SAID:
            _SEND_ONLY_SAID.add(key)
            log.warning(
                "modem %s on %s can send SMS but cannot receive them: it keeps no message storage and"
                " announces no new messages (AT+CPMS and AT+CNMI refused). Replies and notifications go"
                " out; citizens' SMS to this number will not arrive here. Use a GSM modem to receive.",
                self.name,
                self.device,
            )

    def _read_smsc(self) -> str:
        return quoted(self._answer_or_nothing("AT+CSCA?"), r'\+CSCA:\s*"([^"]*)"')

    def _set_smsc(self, number: str) -> None:
        kind = 145 if number.startswith("+") else 129
        self._at(f'AT+CSCA="{number}",{kind}')

    def _unlock_sim(self) -> None:
        state = self._sim_state()
        if state == "READY":
            return
        if state != "SIM PIN":
            raise PinError(f"the SIM in modem {self.name} asks for {state}; unlock it in a phone first")
        if not self.pin:
            raise PinError(f"the SIM in modem {self.name} needs a PIN: set pin = in [modem:{self.name}]")
        refuse_known_bad_pin(self.name, self.pin, self.settings)
        try:
            self._at(f'AT+CPIN="{self.pin}"')
        except (CmeError, CommandError) as exc:
            # never try again on our own: three wrong PINs lock the SIM
            raise PinRefused(
                f"the SIM in modem {self.name} refused the PIN ({exc}); check pin = in [modem:{self.name}]"
            ) from exc
        log.info("modem %s: SIM unlocked", self.name)
        self.pin_entered = True  # the modem registers with the network only from now on
        deadline = time.monotonic() + self.command_timeout
        while self._sim_state() != "READY":
            if time.monotonic() > deadline:
                raise ModemGone(f"the SIM in modem {self.name} did not become ready after the PIN")
            time.sleep(0.2)

    def _sim_state(self) -> str:
        try:
            lines = self._at("AT+CPIN?", final_grace=FINAL_GRACE)
        except CmeError as exc:
            if exc.code in CME_NO_SIM:
                raise ModemGone(f"modem {self.name} has no usable SIM ({exc})") from exc
            if exc.code in CME_SIM_BUSY:
                raise ModemGone(f"the SIM in modem {self.name} stays busy ({exc})") from exc
            raise
        return sim_state(lines)

    def _choose_indications(self) -> None:
        for command in CNMI_CHOICES:
            try:
                self._at(command)
            except (CmsError, CmeError, CommandError):
                continue
            self.status_report_mode = {"2": "stored", "1": "inline", "0": "none"}[command.split(",")[3]]
            return
        self.status_report_mode = "none"
        if self.can_receive:
            log.warning("modem %s accepts no AT+CNMI setting: new messages only found by the sweep", self.name)

    # ------------------------------------------------------------------
    # information

    def identify(self) -> Identity:
        return Identity(
            manufacturer=self._info("AT+CGMI"),
            model=self._info("AT+CGMM"),
            firmware=self._info("AT+CGMR"),
            imei=self._info("AT+CGSN"),
            imsi=self._info("AT+CIMI"),
            operator=self._operator(),
        )

    def signal(self) -> SignalInfo:
        dbm: int | None = None
        for line in self._at("AT+CSQ"):
            match = re.match(r"\+CSQ:\s*(\d+)", line)
            if match:
                rssi = int(match.group(1))
                dbm = None if rssi == 99 or rssi > 31 else -113 + 2 * rssi
        registration = "unknown"
        for line in self._at("AT+CREG?"):
            stat = _creg_answer_stat(line)
            if stat is not None:
                registration = REGISTRATION_WORDS.get(stat, "unknown")
        return SignalInfo(dbm=dbm, registration=registration, operator=self._operator())

    def storage(self) -> StorageInfo:
        if not self.can_receive:
            raise Unsupported(f"modem {self.name} keeps no message storage")
        figures = storage_figures(self._at("AT+CPMS?"))
        if figures is not None:
            return figures
        raise ModemGone(f"modem {self.name} gave no storage figures to AT+CPMS?")

    def balance(self, ussd: str = "*888#") -> str:
        self._pump()
        self._ussd.clear()
        try:
            self._at(f'AT+CUSD=1,"{ussd}",15')
        except (CommandError, CmeError) as first:
            _raise_if_no_network(first, self.name)
            # Huawei sticks want the request packed into GSM 7-bit hex
            try:
                self._at(f'AT+CUSD=1,"{gsm7.pack_gsm7(ussd).hex().upper()}",15')
            except (CommandError, CmeError) as exc:
                _raise_if_no_network(exc, self.name)
                if not self._ussd_text_mode():
                    raise Unsupported(f"modem {self.name} refuses USSD: {exc}") from exc
                try:
                    self._at(f'AT+CUSD=1,"{ussd}",15')
                except (CommandError, CmeError) as again:
                    _raise_if_no_network(again, self.name)
                    raise Unsupported(f"modem {self.name} refuses USSD: {again}") from again
        answer = self._wait_for_ussd(self.ussd_timeout)
        if answer is None:
            raise Unsupported(f"no USSD answer to {ussd} within {self.ussd_timeout:g} s")
        return answer

    def _ussd_text_mode(self) -> bool:
        """Huawei firmware refuses AT+CUSD until ^USSDMODE=0 (python-gsmmodem fakemodems.py, HuaweiE1752)."""
        try:
            self._at("AT^USSDMODE=0")
        except (CommandError, CmeError, CmsError):
            return False
        return True

    def _info(self, command: str) -> str:
        try:
            return info_value(self._at(command))
        except (CommandError, CmeError, CmsError):
            return ""

    def _operator(self) -> str:
        return quoted(self._answer_or_nothing("AT+COPS=3,0", "AT+COPS?"), r'\+COPS:\s*\d+\s*,\s*\d+\s*,\s*"([^"]*)"')

    def _answer_or_nothing(self, *commands: str) -> list[str]:
        """The last command's answer; nothing when any of them is refused."""
        lines: list[str] = []
        try:
            for command in commands:
                lines = self._at(command)
        except (CommandError, CmeError, CmsError):
            return []
        return lines

    # ------------------------------------------------------------------
    # sending

    #: a long message cut off by a lost modem goes on from its next part, under the same reference
    resumes_long_messages = True

    def send(self, number: str, text: str, *, status_report: bool = True, resume: Resume | None = None) -> list[int]:
        multipart = sms_count(text).parts > 1
        if not multipart:
            reference = 0
        elif resume is not None:
            reference = resume.concat_reference % 256
        else:
            reference = self._take_concat_reference()
        first_part = resume.first_part if resume is not None else 1
        try:
            parts = tpdu.encode_submit(
                number, text, status_report=status_report, validity=self.validity, concat_reference=reference
            )
        except PduError as exc:
            raise SendFailed(f"cannot encode message to {for_log(number)}: {exc}", permanent=True) from exc
        references: list[int] = []
        for position, part in enumerate(parts, start=1):
            if position < first_part:
                continue  # accepted by the network in an earlier attempt
            try:
                lines = self._send_part(part)
            except ModemGone as exc:
                exc.sent_references = tuple(references)  # these parts are out: the next attempt goes on after them
                raise
            except CmsError as exc:
                log.warning(
                    "modem %s: part %d/%d to %s refused: %s", self.name, position, len(parts), for_log(number), exc
                )
                raise
            except (CmeError, CommandError) as exc:
                raise SendFailed(f"part {position}/{len(parts)} to {for_log(number)} refused: {exc}") from exc
            message_reference = _cmgs_reference(lines)
            if message_reference is None:
                raise SendFailed(f"part {position}/{len(parts)} to {for_log(number)}: no +CMGS reference in {lines}")
            log.info(
                "modem %s sent part %d/%d to %s, reference %d",
                self.name,
                position,
                len(parts),
                for_log(number),
                message_reference,
            )
            references.append(message_reference)
        return references

    def _send_part(self, part: tpdu.SubmitPdu) -> list[str]:
        """AT+CMGS one part; after +CMS ERROR: 330 (SMSC unknown) set the SMSC again and send once more."""

        def attempt() -> list[str]:
            return self._line_or_gone().command_with_prompt(
                f"AT+CMGS={part.tpdu_length}", part.hex, self.command_timeout, self.send_timeout
            )

        try:
            return attempt()
        except CmsError as exc:
            smsc = self.smsc or self._smsc_at_connect
            if exc.code != CMS_SMSC_UNKNOWN or not smsc:
                raise
            log.warning("modem %s lost its SMS centre number (+CMS ERROR: 330); setting it again", self.name)
            self._set_smsc(smsc)
            return attempt()

    def _take_concat_reference(self) -> int:
        self._concat_reference = (self._concat_reference + 1) % 256
        return self._concat_reference

    # ------------------------------------------------------------------
    # receiving

    def receive(self) -> list[IncomingSMS]:
        self._pump()
        if self.can_receive and time.monotonic() >= self._next_sweep:
            self._sweep()
        for assembled in self.reassembler.expire(self.clock()):
            log.warning(
                "modem %s: message from %s incomplete after %g s (%d of %d parts)",
                self.name,
                for_log(assembled.sender),
                self.reassembler.timeout,
                assembled.parts_received,
                assembled.parts_total,
            )
            self._ready.append(self._incoming(assembled))
        for index in self.reassembler.take_duplicates():
            if isinstance(index, int):
                self._delete(index)
        ready, self._ready = self._ready, []
        return ready

    def status_reports(self) -> list[StatusReport]:
        self._pump()
        reports, self._reports = self._reports, []
        return reports

    def acknowledge(self, item: IncomingSMS | StatusReport) -> None:
        if isinstance(item, IncomingSMS):
            for index in cast("tuple[int, ...]", item.handle or ()):  # this driver's handle: the SIM indexes
                self._delete(index)
        elif item.handle is not None:
            memory, index = cast("tuple[str | None, int]", item.handle)  # as _take_pdu made it
            self._delete(index, memory)

    def _delete(self, index: int, memory: str | None = None) -> None:
        switch = memory is not None and memory != self.storage_name
        try:
            if switch:
                self._at(f'AT+CPMS="{memory}"')
            self._at(f"AT+CMGD={index}")
        except CmsError as exc:
            if exc.code != CMS_EMPTY_INDEX:
                raise ModemGone(f"modem {self.name} cannot delete message {index}: {exc}") from exc
        finally:
            if switch and self._line is not None:
                self._at(self._storage_command)
        if not switch:
            self._taken.pop(index, None)
        log.info("modem %s deleted %s index %d", self.name, memory or self.storage_name, index)

    def _on_event(self, event: Unsolicited) -> None:
        """Reader thread: only wake the worker; the work happens in its thread."""
        if event.name in ("+CMTI", "+CDSI", "+CDS", "+CMT", "+CUSD"):
            self.wakeup.set()

    def _pump(self) -> None:
        """Handle the unsolicited codes that arrived since last time."""
        line = self._line
        if line is None:
            return
        while True:
            try:
                event = line.events.get_nowait()
            except queue.Empty:
                return
            self._handle_event(event)

    def _handle_event(self, event: Unsolicited) -> None:
        name = event.name
        if name in ("+CMTI", "+CDSI"):
            match = re.match(r'"?(\w*)"?\s*,\s*(\d+)', event.value)
            if match:
                memory = match.group(1).upper() or self.storage_name
                index = int(match.group(2))
                if memory == self.storage_name and index in self._taken:
                    return  # a buffered indication (flushed by AT+CNMI) for a message the sweep already read
                self._read_stored(memory, index)
        elif name == "+CDS" and event.pdu:
            self._take_pdu(None, event.pdu, memory=None)
        elif name == "+CMT" and event.pdu:
            # direct delivery despite our CNMI: nothing on the SIM to delete later
            self._take_pdu(None, event.pdu, memory=None)
        elif name == "+CUSD":
            self._ussd.append(event)
        else:
            log.debug("modem %s: %s", self.name, event.line)

    def _read_stored(self, memory: str, index: int) -> None:
        switch = memory != self.storage_name
        try:
            if switch:
                self._at(f'AT+CPMS="{memory}"')
            lines = self._at(f"AT+CMGR={index}")
        except CmsError as exc:
            log.info("modem %s: %s index %d not readable: %s", self.name, memory, index, exc)
            return
        finally:
            if switch:
                self._at(self._storage_command)
        for _, hex_pdu in _listing(lines, "+CMGR:"):
            self._take_pdu(index, hex_pdu, memory=memory)

    def _sweep(self) -> None:
        """List everything stored: messages already there and indications we missed."""
        self._next_sweep = time.monotonic() + self.sweep_interval
        try:
            lines = self._at("AT+CMGL=4")
        except (CmsError, CmeError, CommandError) as exc:
            log.warning("modem %s: AT+CMGL sweep failed: %s", self.name, exc)
            return
        for header, hex_pdu in _listing(lines, "+CMGL:"):
            match = re.match(r"\+CMGL:\s*(\d+)", header)
            if match:
                self._take_pdu(int(match.group(1)), hex_pdu, memory=self.storage_name)

    def _take_pdu(self, index: int | None, hex_pdu: str, memory: str | None) -> None:
        stored_here = index is not None and memory == self.storage_name
        if stored_here:
            if self._taken.get(index) == hex_pdu:  # type: ignore[arg-type]
                return  # already handed over or waiting for its other parts
            self._taken[index] = hex_pdu  # type: ignore[index]
        try:
            decoded = tpdu.decode(hex_pdu)
        except PduError as exc:
            log.warning("modem %s: undecodable PDU at index %s handed over raw: %s", self.name, index, exc)
            self._ready.append(
                IncomingSMS(
                    sender="",
                    text="",
                    smsc_time=None,
                    pdus=[hex_pdu],
                    decode_error=str(exc),
                    handle=(index,) if stored_here else (),
                )
            )
            return
        if isinstance(decoded, tpdu.StatusReportPdu):
            handle = None if index is None else (memory, index)
            self._reports.append(
                StatusReport(
                    reference=decoded.reference,
                    recipient=decoded.recipient,
                    delivered=decoded.delivered,
                    final=decoded.final,
                    status_code=decoded.status,
                    smsc_time=decoded.smsc_time,
                    discharge_time=decoded.discharge_time,
                    pdu=hex_pdu,
                    handle=handle,
                )
            )
            log.info(
                "modem %s: status report for reference %d: status %d", self.name, decoded.reference, decoded.status
            )
        elif isinstance(decoded, tpdu.DeliverPdu):
            part_handle = index if stored_here else None
            for assembled in self.reassembler.add(decoded, part_handle, self.clock()):
                self._ready.append(self._incoming(assembled))
        else:
            log.debug("modem %s: ignoring stored outgoing message at index %s", self.name, index)

    def _incoming(self, assembled: Assembled) -> IncomingSMS:
        handles = tuple(h for h in assembled.handles if isinstance(h, int))
        log.info(
            "modem %s received %s from %s (%d/%d parts)",
            self.name,
            "an incomplete message" if assembled.incomplete else "a message",
            for_log(assembled.sender),
            assembled.parts_received,
            assembled.parts_total,
        )
        return IncomingSMS(
            sender=assembled.sender,
            text=assembled.text,
            smsc_time=assembled.smsc_time,
            pdus=list(assembled.pdus),
            concat_reference=assembled.concat_reference,
            parts_total=assembled.parts_total,
            parts_received=assembled.parts_received,
            incomplete=assembled.incomplete,
            smsc=assembled.smsc,
            handle=handles,
        )

    def _wait_for_ussd(self, timeout: float) -> str | None:
        line = self._line_or_gone()
        deadline = time.monotonic() + timeout
        while not self._ussd:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                event = line.events.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                continue
            self._handle_event(event)
        return _decode_ussd(self._ussd.pop(0).value)

    # ------------------------------------------------------------------
    # plumbing

    def _line_or_gone(self) -> ATLine:
        if self._line is None:
            raise ModemGone(f"modem {self.name} is not connected")
        return self._line

    def _at(self, command: str, timeout: float | None = None, *, final_grace: float | None = None) -> list[str]:
        """One command; busy causes (+CME ERROR: 14 SIM busy, 515 please wait) are retried for up to
        ``command_timeout`` seconds (Wavecom after AT+CFUN=1, Qualcomm/ZTE's AT+CSCA? after start)."""
        timeout = self.command_timeout if timeout is None else timeout
        deadline = time.monotonic() + self.command_timeout
        while True:
            try:
                return self._line_or_gone().command(command, timeout, final_grace=final_grace)
            except CmeError as exc:
                if exc.code not in CME_SIM_BUSY or time.monotonic() >= deadline:
                    raise
                log.debug("modem %s busy (%s); %s again", self.name, exc, shown(command))
                time.sleep(BUSY_PAUSE)


# --------------------------------------------------------------------------
# answer parsing


def _listing(lines: list[str], prefix: str) -> list[tuple[str, str]]:
    """Pair each ``+CMGL:``/``+CMGR:`` header with the PDU line after it."""
    pairs: list[tuple[str, str]] = []
    for position, line in enumerate(lines):
        if line.upper().startswith(prefix):
            following = lines[position + 1] if position + 1 < len(lines) else ""
            pairs.append((line, "" if following.upper().startswith(prefix) else following.strip()))
    return pairs


def _raise_if_no_network(exc: Exception, name: str) -> None:
    """A USSD refused for want of a network is not "unsupported": the modem is not registered yet."""
    if isinstance(exc, CmeError) and exc.code in CME_NO_NETWORK:
        raise NoNetwork(f"modem {name} has no network yet ({exc})") from exc


def _cmgs_reference(lines: list[str]) -> int | None:
    for line in lines:
        match = re.match(r"\+CMGS:\s*(\d+)", line)
        if match:
            return int(match.group(1))
    return None


def _creg_answer_stat(line: str) -> int | None:
    """<stat> from an AT+CREG? answer ``+CREG: <n>,<stat>[,"lac","ci"[,act]]``.

    Unsolicited ``+CREG: <stat>[,"lac","ci"]`` lines look alike; in those the
    second field, if any, is a quoted LAC, so they are told apart by it.
    """
    if not line.upper().startswith("+CREG:"):
        return None
    fields = [f.strip() for f in line.split(":", 1)[1].split(",")]
    if len(fields) < 2 or not fields[1].isdigit():
        return None
    return int(fields[1])


def _decode_ussd(value: str) -> str:
    """The text of ``+CUSD: <m>,"<str>",<dcs>``: plain, UCS2 hex or (Huawei) packed GSM 7-bit hex."""
    match = re.match(r'\s*(\d+)\s*(?:,\s*"(.*)"\s*(?:,\s*(\d+))?)?\s*$', value, re.DOTALL)
    if not match:
        return value
    mode, text, dcs_text = match.group(1), match.group(2) or "", match.group(3)
    if mode == "4":
        raise Unsupported("the network does not support this USSD request")
    dcs = int(dcs_text) if dcs_text else 15
    is_hex = bool(re.fullmatch(r"(?:[0-9A-Fa-f]{2})+", text))
    if is_hex and (dcs == 72 or dcs & 0xF0 == 0x40 and dcs & 0x0C == 0x08 or dcs == 0x11):
        return bytes.fromhex(text).decode("utf-16-be", errors="replace")
    if is_hex and len(text) >= 8:
        return gsm7.unpack_gsm7(bytes.fromhex(text))
    return text
