"""A PIN the SIM refused is remembered in the database and never sent again, by the daemon or by a probe.

Three wrong PINs lock a SIM, and only its PUK opens it then. The daemon's
worker reconnects with back-off and restarts under systemd; a technician runs
``modemd probe`` again and again while looking for the fault. Each of them
would send ``pin =`` once more. So the first refusal is written down (as a
fingerprint, :func:`modemd.drivers.base.pin_fingerprint`, not the PIN) under
the modem's name, and the drivers refuse to send that PIN again
(:func:`modemd.drivers.base.refuse_known_bad_pin`) until ``pin =`` changes.
"""

from __future__ import annotations

from modemd.drivers.base import PinRefused, pin_fingerprint
from modemd.store.models import DaemonState


def key(modem: str) -> str:
    return f"pin_refused.{modem}"


def with_memory(modem: str, settings: dict[str, str]) -> dict[str, str]:
    """The modem's driver settings with the refused PIN's fingerprint (``pin_refused``) the drivers check."""
    return {**settings, "pin_refused": DaemonState.read(key(modem)) or ""}


def remember(modem: str, settings: dict[str, str], exc: BaseException) -> None:
    """Write down that the SIM refused ``pin =``, when ``exc`` says so."""
    pin = settings.get("pin", "")
    if isinstance(exc, PinRefused) and pin:
        DaemonState.put(key(modem), pin_fingerprint(pin))
