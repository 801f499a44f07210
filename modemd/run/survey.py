"""What ``modemd probe`` finds out about one connected modem: identity, signal, registration, storage, balance.

One function for both ways a probe is answered: by ``modemd probe`` itself
on a free port, and by the daemon's worker when the daemon holds the port
(:mod:`modemd.run.remoteprobe`).

Right after the SIM PIN was entered a modem still searches for the network
for some seconds: the probe then waits for it to register (up to
:data:`REGISTRATION_WAIT`, saying so), so that it reports the network the
modem will use rather than "searching". A balance USSD refused for want of a
network (``+CME ERROR: 30``, 31, 32) is reported as "no network yet", never as
"not supported".
"""

from __future__ import annotations

import time
from collections.abc import Callable

from modemd.drivers.base import Driver, ModemError, ModemGone, NoNetwork, SignalInfo, Unsupported

#: seconds a probe waits for a modem that is searching for the network after its PIN
REGISTRATION_WAIT = 30.0
#: the registration states the search ends in
SETTLED = frozenset({"home", "roaming", "denied"})


def survey(
    driver: Driver,
    ussd: str,
    *,
    balance: bool = True,
    registration_wait: float = REGISTRATION_WAIT,
    say: Callable[[str], None] = lambda text: None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict:
    """Ask a connected driver everything a probe shows; errors of the modem itself propagate."""
    identity = driver.identify()
    result: dict = {
        "manufacturer": identity.manufacturer,
        "model": identity.model,
        "firmware": identity.firmware,
        "imei": identity.imei,
        "imsi": identity.imsi,
    }
    signal = registered(driver, registration_wait, say, sleep)
    result.update(
        signal_dbm=signal.dbm,
        bars=signal.bars,
        registration=signal.registration,
        operator=signal.operator or identity.operator,
    )
    try:
        storage = driver.storage()
        result["storage"] = {"used": storage.used, "total": storage.total}
    except Unsupported as exc:
        result["storage"] = f"not supported ({exc})"
    if balance:
        result["balance"] = balance_text(driver, ussd) if ussd else "not checked (no balance_ussd set)"
    return result


def registered(
    driver: Driver, wait: float, say: Callable[[str], None], sleep: Callable[[float], None] = time.sleep
) -> SignalInfo:
    """The modem's signal, once it registered if it is still searching after its PIN (at most ``wait`` s)."""
    signal = driver.signal()
    searching = signal.registration == "searching" or (driver.pin_entered and signal.registration not in SETTLED)
    if not searching or wait <= 0:
        return signal
    after_pin = " (the SIM PIN was just entered)" if driver.pin_entered else ""
    say(
        f"{driver.name}: the modem is still looking for the network{after_pin}; "
        f"waiting up to {wait:.0f} s for it to register"
    )
    deadline = time.monotonic() + wait
    while signal.registration not in SETTLED and time.monotonic() < deadline:
        sleep(1.0)
        signal = driver.signal()
    return signal


def balance_text(driver: Driver, ussd: str) -> str:
    """The operator's answer, or a sentence saying why there is none."""
    try:
        return driver.balance(ussd)
    except ModemGone:
        raise
    except NoNetwork as exc:
        return f"no network yet: the modem is not registered, try again in a minute ({exc})"
    except Unsupported as exc:
        return f"not supported ({exc})"
    except ModemError as exc:
        return f"no answer ({exc})"
