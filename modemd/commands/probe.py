"""``modemd probe``: connect to each configured modem and say what it is and how it is doing."""

from __future__ import annotations

import sys

from ..drivers import create_driver
from ..drivers.base import ModemError, ModemGone, PinError, PortBusy, Unsupported
from . import load_config_or_exit, print_json

HELP = "connect to each modem and show identity, signal, registration, operator, SIM storage and balance"


def configure(parser) -> None:
    parser.add_argument("--modem", default=None, metavar="NAME", help="only this [modem:NAME]")
    parser.add_argument("--no-balance", action="store_true", help="skip the USSD balance check")
    parser.add_argument("--json", action="store_true", help="print as JSON")


def explain(exc: Exception, device: str) -> str:
    """A sentence a technician can act on."""
    if isinstance(exc, PortBusy):
        return (f"the port {device} is in use by another program: stop the running daemon "
                f"(systemctl stop modemd) or ModemManager (systemctl stop ModemManager), then probe again ({exc})")
    if isinstance(exc, PinError):
        return f"the SIM card needs its PIN, or the pin = in modemd.ini is wrong; fix it before the SIM locks ({exc})"
    if isinstance(exc, ModemGone):
        return (f"no modem answers on {device or '(no device set)'}: is it plugged in, is the device name right "
                f"(ls -l /dev/ttyUSB* /dev/modemd-*), and is the modemd user in the dialout group? ({exc})")
    if isinstance(exc, ImportError):
        return f"the driver's library is not installed ({exc})"
    return f"{type(exc).__name__}: {exc}"


def probe(name: str, modem, *, balance: bool) -> dict:
    """Connect, ask, close. Never raises: a failure is described in the result."""
    result: dict = {"name": name, "driver": modem.driver, "device": modem.settings.get("device", ""), "ok": False}
    driver = None
    try:
        driver = create_driver(name, modem.settings)
        driver.connect()
        identity = driver.identify()
        result.update(manufacturer=identity.manufacturer, model=identity.model, firmware=identity.firmware,
                      imei=identity.imei, imsi=identity.imsi)
        signal = driver.signal()
        result.update(signal_dbm=signal.dbm, bars=signal.bars, registration=signal.registration,
                      operator=signal.operator or identity.operator)
        try:
            storage = driver.storage()
            result["storage"] = {"used": storage.used, "total": storage.total}
        except Unsupported as exc:
            result["storage"] = f"not supported ({exc})"
        if balance:
            try:
                result["balance"] = driver.balance(modem.settings.get("balance_ussd") or "*888#")
            except Unsupported as exc:
                result["balance"] = f"not supported ({exc})"
            except ModemError as exc:
                result["balance"] = f"no answer ({exc})"
        result["ok"] = True
    except (ModemError, OSError, ImportError) as exc:
        result["error"] = explain(exc, result["device"])
    finally:
        if driver is not None:
            try:
                driver.close()
            except (ModemError, OSError):
                pass
    return result


def main(args) -> int:
    """Probe each enabled modem (or the one named); exit status 1 when any could not be used."""
    config = load_config_or_exit(args)
    if args.modem is not None and args.modem not in config.modems:
        print(f"modemd probe: no [modem:{args.modem}] in {config.path} (modems: {', '.join(config.modems) or 'none'})",
              file=sys.stderr)
        return 2
    chosen = {n: m for n, m in config.modems.items() if (args.modem is None and m.enabled) or n == args.modem}
    if not chosen:
        print(f"modemd probe: no enabled modem in {config.path}", file=sys.stderr)
        return 2
    results = [probe(name, modem, balance=not args.no_balance) for name, modem in chosen.items()]
    if args.json:
        print_json(results)
    else:
        for r in results:
            print(f"[{r['name']}] driver = {r['driver']}, device = {r['device'] or '-'}")
            if not r["ok"]:
                print(f"  PROBLEM: {r['error']}")
                continue
            print(f"  modem:        {r['manufacturer']} {r['model']} (firmware {r['firmware'] or '?'}, IMEI {r['imei'] or '?'})")
            dbm = f"{r['signal_dbm']} dBm" if r["signal_dbm"] is not None else "unknown"
            print(f"  signal:       {dbm}, {r['bars']}/5 bars")
            print(f"  registration: {r['registration']}, operator {r['operator'] or '?'}")
            storage = r.get("storage")
            print(f"  SIM storage:  {storage['used']} of {storage['total']} used" if isinstance(storage, dict)
                  else f"  SIM storage:  {storage}")
            if "balance" in r:
                print(f"  balance:      {r['balance']}")
    return 0 if all(r["ok"] for r in results) else 1
