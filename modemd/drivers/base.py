"""The modem driver interface and the errors every driver raises.

The daemon only ever talks to a :class:`Driver`; which concrete driver it is
(raw AT, Gammu, simulated) is chosen by ``driver =`` in a ``[modem:NAME]``
section through :func:`modemd.drivers.create_driver`.

Two kinds of failure must be told apart by the caller:

* :class:`SendFailed` -- *this message* did not go (``+CMS ERROR: 38``, a bad
  number). Retry it later or fail it; the modem is fine.
* :class:`ModemGone` -- the modem stopped answering, was unplugged or hangs.
  Close it and reconnect with back-off; the message was not sent.
"""

from __future__ import annotations

import abc
import hashlib
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from . import causes

# --------------------------------------------------------------------------
# Errors


class ModemError(Exception):
    """Base class of every error a driver raises."""


class ModemGone(ModemError):
    """The modem is absent, unplugged, hung or answering nonsense: reconnect.

    Raised in the middle of :meth:`Driver.send`, it also says how far the send
    got: ``sent_references`` of the parts the network accepted before, and
    ``maybe_sent`` when the part in flight was handed over and its answer never
    came (the network may have it: a resend of it is in doubt).
    """

    sent_references: tuple[int, ...] = ()
    maybe_sent: bool = False


class PortBusy(ModemGone):
    """Another process (often ModemManager) holds the serial port."""


class PinError(ModemError):
    """The SIM needs a PIN/PUK that is missing or wrong. Reconnecting will not help."""


class PinRefused(PinError):
    """The SIM refused ``pin =`` (or would be given a PIN it refused before, see :func:`refuse_known_bad_pin`).

    Three wrong PINs lock the SIM (then only the PUK opens it): a refused PIN is
    never sent again until ``pin =`` changes.
    """


def pin_fingerprint(pin: str) -> str:
    """What the daemon remembers of a refused PIN: enough to recognise it, not the PIN."""
    return hashlib.sha256(f"modemd-pin:{pin}".encode()).hexdigest()[:16]


def refuse_known_bad_pin(name: str, pin: str, settings: Mapping[str, str]) -> None:
    """Raise :class:`PinRefused` instead of sending a PIN the SIM refused before (``settings["pin_refused"]``)."""
    if pin and settings.get("pin_refused") == pin_fingerprint(pin):
        raise PinRefused(
            f"the SIM in modem {name} refused this pin = before; it is not sent again (three wrong PINs lock "
            f"the SIM): correct pin = in [modem:{name}] and restart modemd"
        )


class Unsupported(ModemError):
    """The modem or driver cannot do this (e.g. USSD on a board without it)."""


class NoNetwork(ModemError):
    """The modem is not (yet) registered: a USSD or call needs the network. Try again once it registered."""


#: +CME ERROR codes that say "no network" (3GPP TS 27.007 9.2.1): 30 no network service,
#: 31 network timeout, 32 network not allowed (emergency calls only)
CME_NO_NETWORK = frozenset({30, 31, 32})


class CmeError(ModemError):
    """``+CME ERROR: <code>``: an equipment error reported by the modem."""

    def __init__(self, code: int | None, text: str = "", command: str = ""):
        self.code = code
        self.text = text
        self.command = command
        super().__init__(f"+CME ERROR: {code if code is not None else text} ({command})".strip())


class SendFailed(ModemError):
    """This message was not sent; the modem is still usable.

    ``permanent`` is True when retrying the same message cannot help (invalid
    destination, message refused by the network); the queue then fails it at once.
    """

    def __init__(self, reason: str, *, permanent: bool = False, code: int | None = None):
        self.reason = reason
        self.permanent = permanent
        self.code = code
        super().__init__(reason)


class CmsError(SendFailed):
    """``+CMS ERROR: <code>``: a message-service error reported by the modem.

    Whether it is worth another attempt comes from the one cause table,
    :mod:`modemd.drivers.causes` (3GPP TS 27.005 3.2.5, TS 24.011, TS 23.040).
    """

    def __init__(self, code: int | None, text: str = "", command: str = ""):
        self.command = command
        super().__init__(
            f"+CMS ERROR: {code if code is not None else text}",
            permanent=causes.is_permanent(code),
            code=code,
        )


# --------------------------------------------------------------------------
# Data handed between driver and daemon


@dataclass(frozen=True)
class Resume:
    """Where :meth:`Driver.send` starts a long message: its concatenation reference (the same on
    every attempt, so the recipient's phone joins the parts), and the first part not yet accepted."""

    concat_reference: int
    first_part: int = 1


@dataclass
class Identity:
    manufacturer: str = ""
    model: str = ""
    firmware: str = ""
    imei: str = ""
    imsi: str = ""
    operator: str = ""


@dataclass
class SignalInfo:
    """Signal and registration. ``dbm`` is None when the modem does not know."""

    dbm: int | None = None
    registration: str = "unknown"  # home | roaming | searching | denied | not registered | unknown
    operator: str = ""

    @property
    def bars(self) -> int:
        """0..5 bars, as a phone would show them."""
        if self.dbm is None:
            return 0
        for bars, floor in ((5, -65), (4, -75), (3, -85), (2, -95), (1, -109)):
            if self.dbm >= floor:
                return bars
        return 0


@dataclass
class Concat:
    """Concatenation info of one received message (from the UDH)."""

    reference: int
    total: int
    sequence: int


@dataclass
class IncomingSMS:
    """A received message, complete or (after the reassembly timeout) incomplete.

    ``text`` is exactly what the citizen sent, decoded; ``pdus`` the raw PDUs in
    hex as the modem gave them, one per part, in sequence order. When a PDU could
    not be decoded, ``decode_error`` says why and ``text`` is empty: the message
    is still handed over so that nothing is lost. An ``incomplete`` message
    carries a visible marker (``[…]``) where text is missing: a part that never
    arrived, or characters a driver's library lost (see the Gammu driver).
    ``handle`` is the driver's own token to acknowledge (delete) it later.
    """

    sender: str
    text: str
    smsc_time: datetime | None  # timezone-aware (UTC offset from the SMSC)
    pdus: list[str] = field(default_factory=list)
    concat_reference: int | None = None
    parts_total: int = 1
    parts_received: int = 1
    incomplete: bool = False
    decode_error: str | None = None
    smsc: str = ""
    handle: object = None


@dataclass
class StatusReport:
    """A delivery (status) report for one sent part."""

    reference: int
    recipient: str
    delivered: bool
    final: bool  # False for "still trying" reports (TP-ST 0x20..0x3F)
    status_code: int
    smsc_time: datetime | None = None  # when the SMSC took the message (aware)
    discharge_time: datetime | None = None  # when it was delivered or failed (aware)
    pdu: str = ""
    handle: object = None


@dataclass
class StorageInfo:
    used: int
    total: int


# --------------------------------------------------------------------------
# Settings: every driver reads its [modem:NAME] strings the same way

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smh]?)")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600}


def schema_default(key: str):
    """The parsed default of a ``[modem:NAME]`` key (of ``[sms]`` for a key a modem may override).

    A driver built from a partial settings mapping (tests, ``modemd probe``)
    falls back to these, so no default is written twice.
    """
    from ..config import MODEM_KEYS, SCHEMA  # at call time: modemd.config imports this package

    spec = MODEM_KEYS[key]
    if not spec.default and key in SCHEMA["sms"]:
        spec = SCHEMA["sms"][key]
    return spec.parse(spec.default)


def number_setting(settings: Mapping[str, str], key: str, low: float | None = None, high: float | None = None) -> float:
    """A numeric setting; empty means the schema's default; outside [low, high] is a ValueError naming the key."""
    raw = (settings.get(key) or "").strip()
    if not raw:
        return float(schema_default(key))
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{key} = {raw!r}: expected a number") from None
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{key} = {raw!r}: expected a number from {low} to {high}")
    return value


def seconds_setting(settings: Mapping[str, str], key: str) -> float:
    """A duration setting: ``90``, ``90.0``, ``90s``, ``5m``, ``3h``; empty means the schema's default."""
    raw = (settings.get(key) or "").strip().lower()
    if not raw:
        return float(schema_default(key))
    match = _DURATION.fullmatch(raw)
    if not match:
        raise ValueError(f"{key} = {raw!r}: expected a duration such as 10, 10s, 5m or 1h")
    return float(match.group(1)) * _UNIT[match.group(2)]


# --------------------------------------------------------------------------
# The interface


class Driver(abc.ABC):
    """One modem. Not thread-safe: exactly one worker thread owns a driver.

    ``settings`` is the ``[modem:NAME]`` section as plain strings.
    ``wakeup`` is set by the driver whenever something arrives unsolicited
    (a new SMS, a status report), so the worker can stop waiting at once.
    """

    #: the ``driver =`` name
    kind: str = ""
    #: set by connect() when it entered the SIM PIN: the modem then still has to register with the network
    pin_entered: bool = False
    #: send() takes ``resume``: a long message cut off by a lost modem goes on from its next part
    resumes_long_messages: bool = False

    def __init__(self, name: str, settings: Mapping[str, str], wakeup: threading.Event | None = None):
        self.name = name
        self.settings = dict(settings)
        self.wakeup = wakeup or threading.Event()

    # lifecycle -----------------------------------------------------------
    @abc.abstractmethod
    def connect(self) -> None:
        """Open and initialise the modem. Raises ModemGone, PortBusy or PinError."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the modem; safe to call twice or after a failed connect."""

    # information ---------------------------------------------------------
    @abc.abstractmethod
    def identify(self) -> Identity: ...

    @abc.abstractmethod
    def signal(self) -> SignalInfo: ...

    @abc.abstractmethod
    def storage(self) -> StorageInfo:
        """SMS storage use on the SIM/modem."""

    def balance(self, ussd: str = "*888#") -> str:
        """Run a USSD balance check and return the network's answer."""
        raise Unsupported(f"{self.kind} driver cannot run USSD")

    # how long the driver may take (the worker's watchdog allowances, see modemd.run.progress) ----
    def longest_exchange(self) -> float:
        """Seconds one exchange with the modem may take before the driver gives up on it by itself."""
        return seconds_setting(self.settings, "command_timeout")

    def longest_send(self, parts: int) -> float:
        """Seconds sending ``parts`` parts may take before the driver gives up on it by itself."""
        return max(parts, 1) * (self.longest_exchange() + seconds_setting(self.settings, "send_timeout"))

    # sending -------------------------------------------------------------
    @abc.abstractmethod
    def send(self, number: str, text: str, *, status_report: bool = True, resume: Resume | None = None) -> list[int]:
        """Send ``text`` (split into parts as needed) to ``number``.

        Returns the message reference (0-255) of each part sent, in order.
        Raises SendFailed (this message) or ModemGone (the modem).
        ``resume`` only where :attr:`resumes_long_messages`: send from part
        ``first_part`` on, under ``concat_reference``.
        """

    # receiving -----------------------------------------------------------
    @abc.abstractmethod
    def receive(self) -> list[IncomingSMS]:
        """Messages that are ready: complete ones, and incomplete ones whose
        missing parts did not arrive within the reassembly timeout.
        Nothing is deleted here; call :meth:`acknowledge` once stored."""

    @abc.abstractmethod
    def status_reports(self) -> list[StatusReport]:
        """Status reports received since the last call (not yet acknowledged)."""

    @abc.abstractmethod
    def acknowledge(self, item: IncomingSMS | StatusReport) -> None:
        """Delete a stored message or report from the SIM: the daemon has it."""
