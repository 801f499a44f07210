"""Driver registry: ``driver =`` names to implementations, imported lazily.

Nothing outside this package imports a concrete driver; the daemon calls
:func:`create_driver` and gets a :class:`~modemd.drivers.base.Driver`.
Lazy imports keep python-gammu optional: only ``driver = gammu`` needs it,
and it is the ``modemd[gammu]`` extra. :func:`missing_library` says what a
driver lacks on this machine; the configuration check reports it as a problem
on the ``driver =`` line, so a machine without python-gammu is told how to
install it instead of starting a daemon that cannot open its modem.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Mapping

from .base import Driver

#: driver name -> (module, class, settings keys it cannot work without)
DRIVERS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "at": ("modemd.drivers.at", "ATDriver", ("device",)),
    "gammu": ("modemd.drivers.gammu", "GammuDriver", ("device",)),
    "sim": ("modemd.drivers.sim", "SimDriver", ()),
}


#: driver name -> (module it imports, PyPI distribution, modemd extra that installs it)
OPTIONAL_LIBRARIES: dict[str, tuple[str, str, str]] = {
    "gammu": ("gammu", "python-gammu", "gammu"),
}


class UnknownDriver(ValueError):
    pass


def missing_library(kind: str) -> str | None:
    """What driver ``kind`` lacks here and how to install it, or None when it can load."""
    if kind not in OPTIONAL_LIBRARIES:
        return None
    module, distribution, extra = OPTIONAL_LIBRARIES[kind]
    try:
        importlib.import_module(module)
    except ImportError:  # also a library that is there but cannot load (e.g. libGammu missing)
        return f"{kind} needs {distribution}: pip install 'modemd[{extra}]'"
    return None


def required_settings(kind: str) -> tuple[str, ...]:
    if kind not in DRIVERS:
        raise UnknownDriver(f"unknown driver {kind!r}, expected one of: {', '.join(DRIVERS)}")
    return DRIVERS[kind][2]


def create_driver(name: str, settings: Mapping[str, str], wakeup: threading.Event | None = None) -> Driver:
    """Build the driver named by ``settings['driver']`` for modem ``name``."""
    kind = settings.get("driver", "")
    required_settings(kind)
    module_name, class_name, _ = DRIVERS[kind]
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls(name, settings, wakeup)


def inject_simulated(settings: Mapping[str, str], sender: str, text: str) -> str:
    """Put an incoming SMS on a ``driver = sim`` modem's simulated SIM; returns the file.

    Works from any process (``modemd simulate``, the web UI's demo page) while
    the daemon runs: the simulated modem notices the file within a second.
    """
    if settings.get("driver") != "sim":
        raise ValueError(
            f"only a driver = sim modem can be sent simulated SMS, not driver = {settings.get('driver', '')!r}"
        )
    if not settings.get("device"):
        raise ValueError("the simulated modem has no device = (its spool directory)")
    from .sim import inject  # lazily, like the drivers themselves

    return inject(settings["device"], sender, text)
