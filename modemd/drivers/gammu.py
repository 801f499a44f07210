"""``driver = gammu``: a modem spoken to through libGammu (python-gammu).

Gammu knows the quirks of hundreds of phones and modems, so this driver is
the fallback when the raw AT driver does not get along with a device.

Settings of the ``[modem:NAME]`` section (all strings)::

    device              = /dev/ttyUSB0  ; port, or a directory for model = dummy
    connection          = at            ; Gammu connection type (at, at115200, none, ...)
    model               =               ; Gammu model; empty = autodetect, dummy = tests
    pin                 =               ; SIM PIN, only if the SIM asks for one
    smsc                =               ; SMSC number; empty = the one stored on the SIM
    validity            = max           ; max, NA, or a number with M/H/D/W (e.g. 1D)
    reassembly_timeout  = 1800          ; seconds to wait for missing parts of a long SMS
    sweep_interval      = 60            ; seconds between full storage scans when
                                        ; the storage counters did not change
    gammu_log           =               ; libGammu debug log file (troubleshooting only)

What Gammu does not give us, and what this driver does about it:

* python-gammu hands over decoded messages, never the raw PDU, so
  :attr:`IncomingSMS.pdus` and :attr:`StatusReport.pdu` stay empty. A PDU
  rebuilt from the decoded dict would not be what the modem gave (TP-PID,
  time zone and the text Gammu altered are not in it), so none is made up.
* libGammu (1.45.1) treats "~" as an escape character in UCS2 texts. Its
  decoder turns U+007E into "~~" and U+0001 into "~"; python-gammu then
  copies only ``Length`` units, the real count, so each "~" pushes one UTF-16
  unit off the end of the part. The driver undoes the doubling (UCS2 parts
  only: GSM texts are not escaped) and, when the end was cut off, stores what
  is left followed by :data:`~modemd.sms.reassembly.MISSING_MARKER`, flags the
  message ``incomplete`` and logs a warning. The cut-off characters cannot
  be recovered through python-gammu; only ``driver = at`` keeps them (and
  the raw PDUs). A U+0001 in a run of "~" may come back elsewhere in the
  run, and one ending a part as "~"; no handset puts U+0001 in a text.
* Its GSM decoder counts septets into ``Length``, so a text with extension
  characters (``€ [ ] { } ~ ^ | \\``) comes with NULs and junk after it; the
  text ends at the first NUL (no GSM character decodes to NUL).
* Its encoder reads "~~" as "~" and a lone "~" as U+0001 in UCS2, and its
  splitter measures text the same way. So the driver splits the text itself
  (:func:`modemd.sms.segmentation.split`, the count the rest of modemd shows), escapes
  "~" in UCS2 parts, encodes each part with Gammu's ``EncodePDU`` (the frame
  encoder libGammu's phone drivers use) and reads it back with
  :func:`modemd.sms.tpdu.decode`. If any part would still not carry its text
  exactly (e.g. a NUL, where libGammu stops), nothing is sent and the message
  fails permanently with the reason.
* There is no unsolicited notification without reading the port from
  another thread, which a :class:`Driver` must not do; ``wakeup`` is never
  set and the worker finds new messages by polling :meth:`receive`.

python-gammu is imported lazily, so modemd runs without it until a modem
is configured with ``driver = gammu``.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from modemd.sms.phone import for_log
from modemd.sms.reassembly import MISSING_MARKER

from ..sms import tpdu
from ..sms.errors import PduError
from ..sms.segmentation import split as sms_split
from . import causes
from .base import (
    Driver,
    Identity,
    IncomingSMS,
    ModemError,
    ModemGone,
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
    seconds_setting,
)

log = logging.getLogger("modemd.gammu")

T = TypeVar("T")

# --------------------------------------------------------------------------
# Gammu errors -> modemd errors, by the exception's class name so that this
# table can be read (and tested) without python-gammu installed.

GONE_ERRORS = frozenset(
    {
        "ERR_TIMEOUT",
        "ERR_DEVICENOTEXIST",
        "ERR_DEVICEOPENERROR",
        "ERR_DEVICENOPERMISSION",
        "ERR_DEVICENODRIVER",
        "ERR_DEVICENOTWORK",
        "ERR_DEVICEDTRRTSERROR",
        "ERR_DEVICECHANGESPEEDERROR",
        "ERR_DEVICEWRITEERROR",
        "ERR_DEVICEREADERROR",
        "ERR_DEVICEPARITYERROR",
        "ERR_NOTCONNECTED",
        "ERR_PHONEOFF",
        "ERR_NOSIM",
        "ERR_UNKNOWNRESPONSE",
        "ERR_UNKNOWNFRAME",
        "ERR_FRAMENOTREQUESTED",
        "ERR_ABORTED",
    }
)
BUSY_ERRORS = frozenset({"ERR_DEVICEBUSY", "ERR_DEVICELOCKED"})
PIN_ERRORS = frozenset({"ERR_SECURITYERROR"})
UNSUPPORTED_ERRORS = frozenset({"ERR_NOTSUPPORTED", "ERR_NOTIMPLEMENTED"})
# While sending: the 3GPP cause (modemd.drivers.causes) each Gammu error stands for. libGammu turns the
# modem's +CMS ERROR into one of these and keeps no code; the cause table then decides retry or give up,
# and gives the words officials read. A name not listed is an unknown cause: retried.
SEND_ERROR_CAUSES = {
    "ERR_INVALIDDATA": 304,  # Gammu could not build a valid PDU: the message itself
    "ERR_NOTSUPPORTED": 303,
    "ERR_NOTIMPLEMENTED": 303,  # the modem's trouble, not the message's
    "ERR_FULL": 322,
    "ERR_NETWORK_ERROR": 38,
    "ERR_GETTING_SMSC": 330,
    "ERR_NOSERVICE": 331,
    "ERR_BUSY": 302,
    "ERR_PHONE_INTERNAL": 300,
    "ERR_INVALIDLOCATION": 321,
}


def convert_error(exc: Exception, action: str, *, sending: bool = False) -> ModemError:
    """The modemd error for a ``gammu.GSMError`` raised while doing ``action``."""
    name = type(exc).__name__
    info = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
    text = info.get("Text", str(exc))
    message = f"{action}: {text} ({name})"
    if name in BUSY_ERRORS:
        return PortBusy(message + "; is ModemManager or another program using the port?")
    if name == "ERR_DEVICENOPERMISSION":
        return ModemGone(message + "; is the modemd user in the dialout group?")
    if name in GONE_ERRORS:
        return ModemGone(message)
    if name in PIN_ERRORS:
        return PinError(message)
    if sending:
        cause = SEND_ERROR_CAUSES.get(name)
        return SendFailed(message, permanent=causes.is_permanent(cause), code=cause)
    if name in UNSUPPORTED_ERRORS:
        return Unsupported(message)
    return ModemError(message)


def import_gammu() -> Any:
    """python-gammu, or a ModemError that tells the technician how to install it."""
    try:
        import gammu  # noqa: PLC0415 -- optional dependency, see module docstring
    except ImportError as exc:
        raise ModemError(
            "driver = gammu needs python-gammu: pip install 'modemd[gammu]' (or on Debian: apt install python3-gammu)"
        ) from exc
    return gammu


# --------------------------------------------------------------------------
# Settings


def parse_validity(value: str) -> str:
    """The ``validity`` setting as python-gammu spells it ("Max", "NA", "1D", ...).

    Gammu encodes TP-VP 00 (five minutes) when no validity is given, so the
    driver always sends one; the default is the maximum the network allows.
    """
    value = value.strip()
    if value.lower() in ("", "max"):
        return "Max"
    if value.lower() == "na":
        return "NA"
    if re.fullmatch(r"[1-9][0-9]*[mhdwMHDW]?", value):
        return value.upper()
    raise ValueError(f"validity = {value!r}: expected max, NA or a number with M, H, D or W (e.g. 1D)")


# --------------------------------------------------------------------------
# Conversions of Gammu's dictionaries

REGISTRATION = {
    "HomeNetwork": "home",
    "RoamingNetwork": "roaming",
    "RequestingNetwork": "searching",
    "RegistrationDenied": "denied",
    "NoNetwork": "not registered",
}
CONCATENATED = ("ConcatenatedMessages", "ConcatenatedMessages16bit")


def aware(value: datetime | None) -> datetime | None:
    """Gammu's time as an aware datetime; a naive one is taken as this PC's local time."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.astimezone()
    return value


def signal_dbm(quality: Mapping[str, int]) -> int | None:
    """dBm from GetSignalQuality: Gammu gives dBm when it knows them, else a percentage."""
    strength = quality.get("SignalStrength", -1)
    if strength < -1:
        return strength
    percent = quality.get("SignalPercent", -1)
    if percent < 0:
        return None
    # Gammu derives the percentage from +CSQ's rssi 0..31, where rssi 0 is -113 dBm.
    rssi = round(percent * 31 / 100)
    return -113 + 2 * rssi


def concat_info(part: Mapping[str, Any]) -> tuple[int, int, int] | None:
    """(reference, total, sequence) of a part of a concatenated message, else None."""
    udh = part.get("UDH") or {}
    if udh.get("Type") not in CONCATENATED or udh.get("AllParts", -1) < 2:
        return None
    reference = udh["ID16bit"] if udh.get("ID16bit", -1) >= 0 else udh.get("ID8bit", -1)
    return reference, udh["AllParts"], udh.get("PartNumber", -1)


def is_complete(group: list[dict]) -> bool:
    concat = concat_info(group[0])
    if concat is None:
        return True
    sequences = {info[2] for info in map(concat_info, group) if info}
    return sequences == set(range(1, concat[1] + 1))


def merge_incomplete(groups: Iterable[list[dict]]) -> list[list[dict]]:
    """Gammu's linked groups, with the parts of one unfinished message put together.

    ``gammu.LinkSMS`` links only a complete run of parts; parts 1 and 3 of
    three come back as two groups. Those belong to one incomplete message.
    """
    merged: list[list[dict]] = []
    by_key: dict[tuple, list[dict]] = {}
    leftovers: list[list[dict]] = []
    for group in groups:
        if is_complete(group):
            merged.append(group)
            if concat_info(group[0]) is not None:
                by_key[message_key(group[0])] = group
        else:
            leftovers.append(group)
    # A part the network delivered twice joins its complete message, to be
    # deleted with it; other leftovers wait together for their missing parts.
    for group in leftovers:
        key = message_key(group[0])
        if key not in by_key:
            by_key[key] = []
            merged.append(by_key[key])
        by_key[key].extend(group)
    for group in merged:
        group.sort(key=lambda part: (concat_info(part) or (0, 0, 0))[2])
    return merged


def message_key(part: Mapping[str, Any]) -> tuple:
    """What the parts of one concatenated message share: sender, reference, total."""
    info = concat_info(part)
    assert info is not None, "only the parts of a concatenated message are grouped by key"
    reference, total, _ = info
    return part.get("Number"), reference, total


def part_text(part: Mapping[str, Any]) -> tuple[str, int] | None:
    """(text, UTF-16 units lost at its end) of one received part; None if it is not text.

    Undoes what libGammu and python-gammu provably did to it (see the
    module docstring); what they cut off cannot be brought back, only counted.
    """
    text = part.get("Text")
    if not isinstance(text, str):
        return None
    coding = part.get("Coding")
    if coding == "Default_No_Compression":
        # Length counts septets, so an extension character leaves NULs and
        # junk after the text; no GSM character decodes to NUL.
        return text.split("\x00", 1)[0], 0
    if coding == "Unicode_No_Compression":
        return unescape_ucs2(text, part.get("Length"))
    return text, 0


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def unescape_ucs2(text: str, length: Any) -> tuple[str, int]:
    """Undo libGammu's "~" escape in a received UCS2 text.

    libGammu's decoder writes U+007E as "~~" and U+0001 as "~"; python-gammu
    then keeps only ``Length`` units (the real count), so each "~" pushes one
    unit off the end. Returns the text and how many units were lost.
    """
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        i += 1
        if char != "~":
            out.append(char)
        elif i < len(text) and text[i] == "~":
            out.append("~")
            i += 1
        elif i == len(text):
            # Half of a "~~" whose other half was cut off (U+0001 at the very
            # end would look the same, but no handset puts one there).
            out.append("~")
        else:
            out.append("\x01")
    repaired = "".join(out)
    lost = length - utf16_units(repaired) if isinstance(length, int) else 0
    return repaired, max(lost, 0)


def escape_ucs2(text: str) -> str:
    """``text`` as libGammu's UCS2 encoder must be given it to send it unchanged.

    The encoder reads "~~" as "~" and a lone "~" as U+0001 (a Nokia blink code).
    """
    return text.replace("~", "~~")


def status_report_from(part: Mapping[str, Any]) -> StatusReport:
    status = int(part.get("DeliveryStatus", 0))
    return StatusReport(
        reference=int(part.get("MessageReference", 0)) % 256,
        recipient=part.get("Number", ""),
        # TP-ST 0x00..0x1F: transaction completed (delivered); 0x20..0x3F: still trying.
        delivered=status < 0x20,
        final=not 0x20 <= status < 0x40,
        status_code=status,
        smsc_time=aware(part.get("SMSCDateTime")),
        discharge_time=aware(part.get("DateTime")),
        handle=[part["Location"]],
    )


# --------------------------------------------------------------------------
# The driver


class GammuDriver(Driver):
    """A modem behind ``gammu.StateMachine``. See the module docstring for settings."""

    kind = "gammu"

    #: seconds to wait for the network's answer to a USSD code
    USSD_TIMEOUT = 30.0

    def __init__(self, name: str, settings: Mapping[str, str], wakeup: threading.Event | None = None):
        super().__init__(name, settings, wakeup)
        self.device = self.settings.get("device", "")
        self.connection = self.settings.get("connection", "").strip() or "at"
        self.model = self.settings.get("model", "").strip()
        self.pin = self.settings.get("pin", "").strip()
        self.validity = parse_validity(self.settings.get("validity", "max"))
        self.reassembly_timeout = seconds_setting(self.settings, "reassembly_timeout")
        self.sweep_interval = seconds_setting(self.settings, "sweep_interval")
        self.gammu_log = self.settings.get("gammu_log", "").strip()
        self.smsc = self.settings.get("smsc", "").strip()
        self._gammu: Any = None
        self._machine: Any = None
        # Concatenation reference of the last long message sent (8 bits, as phones use).
        self._concat_reference = random.randrange(256)
        self._reset_session()

    def _reset_session(self) -> None:
        # Per connection: what was handed over (and not acknowledged) is offered
        # again after a reconnect, like a phone re-listing its SIM.
        self._handed: set[tuple[int, ...]] = set()
        self._first_seen: dict[tuple, float] = {}
        self._scan: tuple[list[list[dict]], list[dict]] = ([], [])
        self._scan_fingerprint: tuple | None = None
        self._scan_time = float("-inf")
        self._storage_dirty = True

    # lifecycle -----------------------------------------------------------

    def connect(self) -> None:
        self.close()
        gammu = import_gammu()
        machine = gammu.StateMachine()
        config = {
            "Device": self.device,
            "Connection": self.connection,
            "Model": self.model,
            "LockDevice": False,
            "StartInfo": False,
            "SyncTime": False,
            "UseGlobalDebugFile": False,
        }
        if self.gammu_log:
            config.update(DebugFile=self.gammu_log, DebugLevel="textall")
        machine.SetConfig(0, config)
        try:
            machine.Init()
        except gammu.GSMError as exc:
            raise convert_error(exc, f"opening {self.device} ({self.connection})") from exc
        self._gammu, self._machine = gammu, machine
        self._reset_session()
        try:
            self._unlock_sim()
            if not self.smsc:
                self.smsc = self._stored_smsc()
        except ModemError:
            self.close()
            raise
        log.info("%s: connected to %s via Gammu (%s)", self.name, self.device, self.connection)

    def close(self) -> None:
        machine, self._machine = self._machine, None
        if machine is None:
            return
        try:
            machine.Terminate()
        except self._gammu.GSMError as exc:
            log.debug("%s: Terminate failed, port released anyway: %s", self.name, exc)

    def _unlock_sim(self) -> None:
        status = self._optional(lambda m: m.GetSecurityStatus(), "asking for the SIM lock", None)
        if status is None:
            return
        if status != "PIN":
            raise PinError(f"{self.name}: the SIM asks for its {status} code; unlock it in a phone")
        if not self.pin:
            raise PinError(f"{self.name}: the SIM asks for a PIN and no pin = is set")
        refuse_known_bad_pin(self.name, self.pin, self.settings)
        try:
            self._call(lambda m: m.EnterSecurityCode("PIN", self.pin), "entering the PIN")
        except PinError as exc:  # libGammu's ERR_SECURITYERROR: the SIM refused it
            raise PinRefused(str(exc)) from exc
        still = self._optional(lambda m: m.GetSecurityStatus(), "asking for the SIM lock", None)
        if still is not None:
            raise PinRefused(f"{self.name}: the SIM still asks for {still} after the PIN; is pin = right?")

    def _stored_smsc(self) -> str:
        smsc: dict[str, Any] = self._optional(lambda m: m.GetSMSC(Location=1), "reading the SMSC", {})
        number = smsc.get("Number", "") if smsc else ""
        if not number:
            log.warning("%s: no SMSC number on the SIM; set smsc = in the modem section", self.name)
        return number

    # calling Gammu -------------------------------------------------------

    def _connected(self) -> Any:
        if self._machine is None:
            raise ModemGone(f"{self.name}: not connected")
        return self._machine

    def _call(self, call: Callable[[Any], T], action: str, *, sending: bool = False) -> T:
        machine = self._connected()
        try:
            return call(machine)
        except self._gammu.GSMError as exc:
            raise convert_error(exc, f"{self.name}: {action}", sending=sending) from exc

    def _optional(self, call: Callable[[Any], T], action: str, default: T) -> T:
        """Like _call, but an answer the modem cannot give is logged, not raised."""
        try:
            return self._call(call, action)
        except (ModemGone, PinError):
            raise
        except ModemError as exc:
            log.debug("%s", exc)
            return default

    # information ---------------------------------------------------------

    def identify(self) -> Identity:
        model = self._call(lambda m: m.GetModel(), "reading the model")
        firmware = self._optional(lambda m: m.GetFirmware(), "reading the firmware", ("",))
        network: dict[str, Any] = self._optional(lambda m: m.GetNetworkInfo(), "reading the network", {})
        return Identity(
            manufacturer=self._optional(lambda m: m.GetManufacturer(), "reading the manufacturer", ""),
            model=model[1] or model[0],
            firmware=str(firmware[0]),
            imei=self._optional(lambda m: m.GetIMEI(), "reading the IMEI", ""),
            imsi=self._optional(lambda m: m.GetSIMIMSI(), "reading the IMSI", ""),
            operator=network.get("NetworkName") or network.get("NetworkCode", ""),
        )

    def signal(self) -> SignalInfo:
        quality = self._call(lambda m: m.GetSignalQuality(), "reading the signal")
        network: dict[str, Any] = self._optional(lambda m: m.GetNetworkInfo(), "reading the network", {})
        return SignalInfo(
            dbm=signal_dbm(quality),
            registration=REGISTRATION.get(network.get("State", ""), "unknown"),
            operator=network.get("NetworkName") or network.get("NetworkCode", ""),
        )

    def storage(self) -> StorageInfo:
        status = self._call(lambda m: m.GetSMSStatus(), "reading SMS storage")
        return StorageInfo(
            used=status["SIMUsed"] + status["PhoneUsed"],
            total=status["SIMSize"] + status["PhoneSize"],
        )

    def balance(self, ussd: str = "*888#") -> str:
        answers: list[str] = []

        def on_incoming(_machine: Any, kind: str, data: Mapping[str, Any]) -> None:
            if kind == "USSD":
                answers.append(data.get("Text", ""))

        self._call(lambda m: m.SetIncomingCallback(on_incoming), "listening for USSD")
        self._call(lambda m: m.SetIncomingUSSD(True), "listening for USSD")
        try:
            self._call(lambda m: m.DialService(ussd), f"dialling {ussd}")
            deadline = time.monotonic() + self.USSD_TIMEOUT
            while not answers and time.monotonic() < deadline:
                self._call(lambda m: m.ReadDevice(), "waiting for the USSD answer")
                time.sleep(0.2)
        finally:
            self._optional(lambda m: m.SetIncomingUSSD(False), "stopping USSD", None)
        if not answers:
            raise ModemError(f"{self.name}: no answer to {ussd} within {self.USSD_TIMEOUT:.0f} s")
        return answers[-1]

    # sending -------------------------------------------------------------

    def send(self, number: str, text: str, *, status_report: bool = True, resume: Resume | None = None) -> list[int]:
        if resume is not None:
            raise Unsupported(f"{self.name}: Gammu sends a message whole")
        self._connected()
        smsc = {"Location": 0, "Number": self.smsc, "Validity": self.validity}
        parts = self._split(text)
        for part in parts:
            part.update(SMSC=smsc, Number=number, Type="Status_Report" if status_report else "Submit")
        try:
            # Every part is checked before the first goes out: none or all.
            parts = [self._faithful(part, index, len(parts)) for index, part in enumerate(parts, start=1)]
        except ValueError as exc:  # python-gammu refuses the dict, e.g. a too long number
            raise SendFailed(f"{self.name}: cannot send to {for_log(number)}: {exc}", permanent=True) from exc
        references: list[int] = []
        for index, part in enumerate(parts, start=1):
            try:
                reference = self._call(
                    lambda m: m.SendSMS(part),  # noqa: B023 (called at once, in this iteration)
                    f"sending part {index}/{len(parts)} to {for_log(number)}",
                    sending=True,
                )
            except ValueError as exc:  # python-gammu refuses the dict, e.g. a too long number
                raise SendFailed(f"{self.name}: cannot send to {for_log(number)}: {exc}", permanent=True) from exc
            except SendFailed:
                if references:
                    log.warning(
                        "%s: %d of %d parts to %s went out before the failure",
                        self.name,
                        len(references),
                        len(parts),
                        for_log(number),
                    )
                raise
            references.append(int(reference) % 256)
        log.info("%s: sent %d part(s) to %s, references %s", self.name, len(parts), for_log(number), references)
        return references

    def _split(self, text: str) -> list[dict]:
        """Gammu SMS dictionaries, one per part, cut as :func:`modemd.sms.segmentation.split` cuts.

        Not ``gammu.EncodeSMS``: its splitter measures UCS2 text the way the
        encoder reads "~" ("~~" as one character), so its parts of a text
        with "~" come out too long or too short once escaped.
        """
        encoding, segments = sms_split(text)
        if len(segments) > 255:
            raise SendFailed(
                f"{self.name}: the text needs {len(segments)} parts, at most 255 can be joined", permanent=True
            )
        self._concat_reference = (self._concat_reference + 1) % 256
        parts = []
        for sequence, segment in enumerate(segments, start=1):
            udh: dict[str, Any] = {"Type": "NoUDH", "Text": b""}
            if len(segments) > 1:
                header = bytes([5, 0x00, 3, self._concat_reference, len(segments), sequence])
                udh = {
                    "Type": "ConcatenatedMessages",
                    "Text": header,
                    "ID8bit": self._concat_reference,
                    "PartNumber": sequence,
                    "AllParts": len(segments),
                }
            parts.append(
                {
                    "Folder": 0,  # EncodePDU wants a folder and location; sending ignores them
                    "Location": 0,
                    "Class": -1,
                    "Coding": "Default_No_Compression" if encoding == "gsm7" else "Unicode_No_Compression",
                    "Text": segment,
                    "UDH": udh,
                }
            )
        return parts

    def _faithful(self, part: dict, index: int, total: int) -> dict:
        """``part`` as Gammu must be handed it to send its text unaltered.

        The text is escaped for libGammu's UCS2 "~" handling, then encoded
        with Gammu's own frame encoder (``EncodePDU``; ``SendSMS`` uses the same)
        and read back with :mod:`modemd.sms.tpdu`: a part Gammu would still alter
        is refused rather than sent garbled to a citizen.
        """
        wanted = part["Text"]
        if part.get("Coding") == "Unicode_No_Compression":
            part = dict(part, Text=escape_ucs2(wanted))
        try:
            encoded = self._gammu.EncodePDU(part).hex().upper()
        except self._gammu.GSMError as exc:
            raise convert_error(exc, f"{self.name}: encoding part {index}/{total}", sending=True) from exc
        try:
            sent = tpdu.decode(encoded)
        except PduError as exc:
            raise SendFailed(
                f"{self.name}: cannot read back Gammu's part {index}/{total}: {exc}; nothing was sent", permanent=True
            ) from exc
        log.debug("%s: part %d/%d as Gammu encodes it: %s", self.name, index, total, encoded)
        if isinstance(sent, tpdu.StatusReportPdu):
            raise SendFailed(
                f"{self.name}: Gammu encoded part {index}/{total} as a status report; nothing was sent", permanent=True
            )
        udh = part["UDH"]
        concat = (udh["ID8bit"], udh["AllParts"], udh["PartNumber"]) if udh["Type"] != "NoUDH" else None
        if sent.concat != concat:
            raise SendFailed(
                f"{self.name}: Gammu would number part {index}/{total} as {sent.concat}; nothing was sent",
                permanent=True,
            )
        if sent.text != wanted:
            where = next(
                (n for n, (a, b) in enumerate(zip(sent.text, wanted, strict=False)) if a != b),
                min(len(sent.text), len(wanted)),
            )
            raise SendFailed(
                f"{self.name}: Gammu would alter part {index}/{total} of the text "
                f"(from character {where + 1} on); nothing was sent",
                permanent=True,
            )
        return part

    # receiving -----------------------------------------------------------

    def receive(self) -> list[IncomingSMS]:
        delivers, _ = self._scan_storage()
        if not delivers:
            return []
        ready: list[IncomingSMS] = []
        for group in merge_incomplete(self._gammu.LinkSMS(delivers)):
            locations = tuple(part["Location"] for part in group)
            if locations in self._handed:
                continue
            message = self._assemble(group)
            if message is not None:
                self._handed.add(locations)
                ready.append(message)
        return ready

    def status_reports(self) -> list[StatusReport]:
        _, reports = self._scan_storage()
        fresh: list[StatusReport] = []
        for part in reports:
            if (part["Location"],) not in self._handed:
                self._handed.add((part["Location"],))
                fresh.append(status_report_from(part))
        return fresh

    def acknowledge(self, item: IncomingSMS | StatusReport) -> None:
        machine = self._connected()
        locations = cast("list[int]", item.handle or [])  # this driver's handle: Gammu's locations
        for location in locations:
            try:
                # Folder 0: Gammu's locations already say which folder they are in.
                machine.DeleteSMS(Folder=0, Location=location)
            except self._gammu.ERR_EMPTY:
                log.debug("%s: SMS %s was already deleted", self.name, location)
            except self._gammu.GSMError as exc:
                raise convert_error(exc, f"{self.name}: deleting SMS {location}") from exc
        self._handed.discard(tuple(locations))
        self._storage_dirty = True

    def _assemble(self, group: list[dict]) -> IncomingSMS | None:
        """The message a linked group forms, or None while parts may still come."""
        first = group[0]
        concat = concat_info(first)
        sequences = {info[2] for info in map(concat_info, group) if info}
        complete = is_complete(group)
        if not complete:
            assert concat is not None, "a single-part message is always complete"
            if not self._expired(message_key(first), group):
                return None
            log.warning(
                "%s: handing over %d of %d parts from %s: the rest did not come in time",
                self.name,
                len(sequences),
                concat[1],
                for_log(first.get("Number", "")),
            )
        text, error, lost = self._text_of(group, complete)
        if lost:
            log.warning(
                '%s: libGammu cut %d UTF-16 unit(s) off the message from %s (its "~" handling); '
                "stored with %s where they were",
                self.name,
                lost,
                for_log(first.get("Number", "")),
                MISSING_MARKER,
            )
        if concat is not None:
            self._first_seen.pop(message_key(first), None)
        return IncomingSMS(
            sender=first.get("Number", ""),
            text=text,
            smsc_time=aware(first.get("DateTime")),
            pdus=[],
            concat_reference=concat[0] if concat else None,
            parts_total=concat[1] if concat else 1,
            parts_received=len(sequences) if concat else 1,
            incomplete=not complete or lost > 0,
            decode_error=error,
            smsc=(first.get("SMSC") or {}).get("Number", ""),
            handle=[part["Location"] for part in group],
        )

    def _text_of(self, group: list[dict], complete: bool) -> tuple[str, str | None, int]:
        """(text, decode error, UTF-16 units libGammu lost) of a linked group.

        The parts are joined here, not by ``gammu.DecodeSMS``: that joins the
        texts as python-gammu gave them, with the artefacts part_text removes.
        """
        by_sequence: dict[int, dict] = {}
        for part in group:
            # A part the network delivered twice is deleted with the rest but read once.
            by_sequence.setdefault((concat_info(part) or (0, 0, 0))[2], part)
        maybe_read = {sequence: part_text(part) for sequence, part in by_sequence.items()}
        read = {sequence: value for sequence, value in maybe_read.items() if value is not None}
        if len(read) < len(maybe_read):
            return "", f"not a text message (coding {group[0].get('Coding', '?')})", 0
        lost = sum(units for _, units in read.values())
        # Where libGammu cut a part short, mark it as modemd.sms.reassembly marks a missing part.
        texts = {sequence: text + (MISSING_MARKER if units else "") for sequence, (text, units) in read.items()}
        concat = concat_info(group[0])
        if complete or concat is None:
            return "".join(texts[sequence] for sequence in sorted(texts)), None, lost
        # Show where text is missing, as modemd.sms.reassembly does for the AT driver.
        return "".join(texts.get(sequence, MISSING_MARKER) for sequence in range(1, concat[1] + 1)), None, lost

    def _expired(self, key: tuple, group: list[dict]) -> bool:
        now = time.monotonic()
        waited = now - self._first_seen.setdefault(key, now)
        # After a restart the parts may have sat on the SIM for long: count from the SMSC time too.
        stamps = [stamp for stamp in (aware(part.get("DateTime")) for part in group) if stamp is not None]
        if stamps:
            waited = max(waited, (datetime.now(UTC) - max(stamps)).total_seconds())
        return waited >= self.reassembly_timeout

    # scanning the storage --------------------------------------------------

    def _scan_storage(self) -> tuple[list[list[dict]], list[dict]]:
        """(received parts, status reports) on the SIM and phone, rescanned only when needed.

        Listing the whole storage is slow on a real modem, so it is done when
        the storage counters changed, after an acknowledge, or every
        ``sweep_interval`` seconds (a new message can replace an acknowledged
        one without changing the counters).
        """
        fingerprint = self._storage_fingerprint()
        now = time.monotonic()
        stale = (
            self._storage_dirty
            or fingerprint is None
            or fingerprint != self._scan_fingerprint
            or now - self._scan_time >= self.sweep_interval
        )
        if stale:
            self._scan = self._list_storage()
            self._scan_fingerprint, self._scan_time, self._storage_dirty = fingerprint, now, False
        return self._scan

    def _storage_fingerprint(self) -> tuple | None:
        status = self._optional(lambda m: m.GetSMSStatus(), "reading SMS storage", None)
        if status is None:
            return None
        return tuple(sorted(status.items()))

    def _list_storage(self) -> tuple[list[list[dict]], list[dict]]:
        delivers: list[list[dict]] = []
        reports: list[dict] = []
        for part in self._every_stored_sms():
            if part.get("Type") == "Status_Report":
                reports.append(part)
            elif part.get("Type") == "Deliver":
                delivers.append([part])
            # Submit: a copy in an outbox folder, not ours to read or delete.
        return delivers, reports

    def _every_stored_sms(self) -> Iterable[dict]:
        gammu, machine = self._gammu, self._connected()
        location: int | None = None
        while True:
            try:
                if location is None:
                    found = machine.GetNextSMS(Folder=0, Start=True)
                else:
                    found = machine.GetNextSMS(Folder=0, Location=location)
            except gammu.ERR_EMPTY:
                return
            except gammu.ERR_CORRUPTED as exc:
                log.warning("%s: stopped listing SMS at a corrupted entry after %s: %s", self.name, location, exc)
                return
            except (gammu.ERR_NOTSUPPORTED, gammu.ERR_NOTIMPLEMENTED):
                yield from self._every_stored_sms_by_location()
                return
            except gammu.GSMError as exc:
                raise convert_error(exc, f"{self.name}: listing SMS") from exc
            if not found:
                return
            yield from found
            location = found[0]["Location"]

    def _every_stored_sms_by_location(self) -> Iterable[dict]:
        """For phones without GetNextSMS: read location after location until all are found."""
        status = self._call(lambda m: m.GetSMSStatus(), "reading SMS storage")
        remaining = status["SIMUsed"] + status["PhoneUsed"]
        location = 0
        limit = status["SIMSize"] + status["PhoneSize"]
        while remaining > 0 and location < limit:
            location += 1
            try:
                found = self._connected().GetSMS(Folder=0, Location=location)
            except self._gammu.ERR_EMPTY:
                continue
            except self._gammu.GSMError as exc:
                raise convert_error(exc, f"{self.name}: reading SMS {location}") from exc
            remaining -= 1
            yield from found
