"""``modemd probe``: connect to each configured modem and say what it is and how it is doing.

When the running daemon holds a modem's port, the probe asks the daemon
instead of refusing (:mod:`modemd.run.remoteprobe`): its worker answers between
two sends. What the probe finds is gathered by :func:`modemd.run.survey.survey`.
"""

from __future__ import annotations

import sys

from modemd.run import pinmemory, remoteprobe
from modemd.run.survey import survey

from ..config import Config, ModemConfig
from ..drivers import create_driver
from ..drivers.base import ModemError, ModemGone, PinError, PortBusy
from . import load_config_or_exit, print_json

#: ModemStatus states in which the daemon's worker is connected, so holds the port and answers probes
WORKER_HOLDS_PORT = frozenset({"ready", "resting"})

HELP = "connect to each modem and show identity, signal, registration, operator, SIM storage and balance"


def configure(parser) -> None:
    parser.add_argument("--modem", default=None, metavar="NAME", help="only this [modem:NAME]")
    parser.add_argument("--no-balance", action="store_true", help="skip the USSD balance check")
    parser.add_argument("--json", action="store_true", help="print as JSON")


def explain(exc: Exception, device: str) -> str:
    """A sentence a technician can act on."""
    if isinstance(exc, PortBusy):
        return (
            f"the port {device} is in use by another program: stop the running daemon "
            f"(systemctl stop modemd) or ModemManager (systemctl stop ModemManager), then probe again ({exc})"
        )
    if isinstance(exc, PinError):
        return f"the SIM card needs its PIN, or the pin = in modemd.ini is wrong; fix it before the SIM locks ({exc})"
    if isinstance(exc, ModemGone):
        return (
            f"no modem answers on {device or '(no device set)'}: is it plugged in, is the device name right "
            f"(ls -l /dev/ttyUSB* /dev/modemd-*), and is the modemd user in the dialout group? ({exc})"
        )
    if isinstance(exc, ImportError):
        return f"the driver's library is not installed ({exc})"
    return f"{type(exc).__name__}: {exc}"


def _say(text: str) -> None:
    print(f"modemd probe: {text}", file=sys.stderr, flush=True)


def probe(name: str, modem: ModemConfig, *, balance: bool, config: Config, remembers: bool = False) -> dict:
    """Connect, ask, close; or ask the daemon when it holds the port. Never raises: a failure is described.

    ``remembers``: the database is open (:func:`open_memory`), so a PIN the SIM refused is not sent again.
    """
    result: dict = {"name": name, "driver": modem.driver, "device": modem.settings.get("device", ""), "ok": False}
    driver = None
    settings = pinmemory.with_memory(name, modem.settings) if remembers else dict(modem.settings)
    try:
        driver = create_driver(name, settings)
        driver.connect()
        result.update(survey(driver, modem.typed.balance_ussd, balance=balance, say=_say))
        result["ok"] = True
    except PortBusy as exc:
        answer = ask_daemon(name, modem, balance=balance, config=config)
        if isinstance(answer, dict):
            result.update(answer, answered_by="daemon")
        else:
            result["error"] = explain(exc, result["device"]) + (f"; {answer}" if answer else "")
    except (ModemError, OSError, ImportError) as exc:
        result["error"] = explain(exc, result["device"])
        if remembers:
            pinmemory.remember(name, modem.settings, exc)
    finally:
        if driver is not None:
            try:
                driver.close()
            except (ModemError, OSError):
                pass
    return result


def open_memory(config: Config) -> bool:
    """Open the database for the refused-PIN memory the daemon shares (:mod:`modemd.run.pinmemory`).

    False without one (a centre not set up yet): the probe then cannot know a PIN the SIM refused before.
    A SQLite file that does not exist yet is not made: made by a probe run as root, the daemon's user
    could not open it.
    """
    from pathlib import Path

    import peewee

    from modemd.store import backup, db, migrations

    path = backup.sqlite_path(config.database_url)
    if path is not None and not Path(path).exists():
        return False
    try:
        return migrations.current_version(db.open_database(config.database_url)) > 0
    except peewee.DatabaseError:
        return False


def ask_daemon(name: str, modem: ModemConfig, *, balance: bool, config: Config) -> dict | str | None:
    """The running daemon's survey of a modem whose port it holds; else a sentence why not, or None (no daemon)."""
    if not modem.enabled:
        return None
    import peewee

    from modemd.store import db
    from modemd.store.models import ModemStatus

    from .status import daemon_heartbeat

    try:
        db.open_database(config.database_url)
        running, _beat = daemon_heartbeat()
    except peewee.DatabaseError:  # no database yet, or no daemon ever wrote to it
        return None
    status = ModemStatus.get_or_none(ModemStatus.name == name)
    if not running or status is None or status.state not in WORKER_HOLDS_PORT:
        return None  # the daemon is not the one holding the port (ModemManager, another program)
    timeout = remoteprobe.ANSWER_MARGIN + (modem.typed.ussd_timeout if balance else 0.0)
    _say(f"{name}: the running daemon holds the port; asking it (waiting up to {timeout:.0f} s)")
    answer = remoteprobe.ask(name, balance=balance, timeout=timeout)
    if answer is not None:
        return answer
    status = ModemStatus.get_or_none(ModemStatus.name == name) or status
    last = f"state {status.state}" + (f", last error: {status.last_error}" if status.last_error else "")
    return f"the running daemon did not answer within {timeout:.0f} s (its last word on {name}: {last})"


def main(args) -> int:
    """Probe each enabled modem (or the one named); exit status 1 when any could not be used."""
    config = load_config_or_exit(args)
    if args.modem is not None and args.modem not in config.modems:
        print(
            f"modemd probe: no [modem:{args.modem}] in {config.path} (modems: {', '.join(config.modems) or 'none'})",
            file=sys.stderr,
        )
        return 2
    chosen = {n: m for n, m in config.modems.items() if (args.modem is None and m.enabled) or n == args.modem}
    if not chosen:
        print(f"modemd probe: no enabled modem in {config.path}", file=sys.stderr)
        return 2
    remembers = open_memory(config)
    results = [
        probe(name, modem, balance=not args.no_balance, config=config, remembers=remembers)
        for name, modem in chosen.items()
    ]
    if args.json:
        print_json(results)
    else:
        for r in results:
            print(f"[{r['name']}] driver = {r['driver']}, device = {r['device'] or '-'}")
            if r.get("answered_by") == "daemon":
                print("  (answered by the running daemon, which holds the port)")
            if not r["ok"]:
                print(f"  PROBLEM: {r['error']}")
                continue
            print(
                f"  modem:        {r['manufacturer']} {r['model']} "
                f"(firmware {r['firmware'] or '?'}, IMEI {r['imei'] or '?'})"
            )
            dbm = f"{r['signal_dbm']} dBm" if r["signal_dbm"] is not None else "unknown"
            print(f"  signal:       {dbm}, {r['bars']}/5 bars")
            print(f"  registration: {r['registration']}, operator {r['operator'] or '?'}")
            storage = r.get("storage")
            print(
                f"  SIM storage:  {storage['used']} of {storage['total']} used"
                if isinstance(storage, dict)
                else f"  SIM storage:  {storage}"
            )
            if "balance" in r:
                print(f"  balance:      {r['balance']}")
    return 0 if all(r["ok"] for r in results) else 1
