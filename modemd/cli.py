"""The ``modemd`` command: one entry point, one module per subcommand.

Each module in :mod:`modemd.commands` listed in ``COMMANDS`` provides
``HELP`` (one line), ``configure(parser)`` and ``main(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from . import __version__
from .commands import json_only_stdout
from .privatefiles import restrict_umask

COMMANDS = (
    "check",
    "db",
    "user",
    "run",
    "web",
    "demo",
    "broadcast",
    "send",
    "outbox",
    "inbox",
    "status",
    "simulate",
    "probe",
    "detect",
    "privacy",
    "webhooks",
    "token",
    "reports",
)


def _global_options(parser: argparse.ArgumentParser, default) -> None:
    parser.add_argument(
        "--config",
        "-c",
        metavar="FILE",
        default=default,
        help="modemd.ini to use (default: $MODEMD_CONFIG, else /etc/modemd/modemd.ini)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="modemd",
        description="modemd: the on-premise SMS Center (SMS gateway, keyword routing, web inbox).",
    )
    parser.add_argument("--version", action="version", version=f"modemd {__version__}")
    _global_options(parser, None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        module = importlib.import_module(f"modemd.commands.{name}")
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        _global_options(command, argparse.SUPPRESS)  # listed in every --help; parsed by _pull_config
        module.configure(command)
        command.set_defaults(handler=module.main)
    return parser


def _pull_config(argv: list[str]) -> tuple[list[str], str | None]:
    """Take --config/-c from anywhere on the line, so `modemd user list -c x.ini` works too."""
    rest, value, i = [], None, 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("--config", "-c") and i + 1 < len(argv):
            value, i = argv[i + 1], i + 2
            continue
        if arg.startswith("--config="):
            value = arg.split("=", 1)[1]
        else:
            rest.append(arg)
        i += 1
    return rest, value


def main(argv: list[str] | None = None) -> int:
    restrict_umask()  # whatever a command writes (database, keys, spool) stays away from other users
    parser = build_parser()
    rest, config = _pull_config(list(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(rest)
    if config is not None:
        args.config = config
    try:
        if getattr(args, "json", False):
            with json_only_stdout():
                return int(args.handler(args) or 0)
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
