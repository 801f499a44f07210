from __future__ import annotations

from . import checked

HELP = "run the SMS Center daemon (modems, routing, outbound queue, scheduler) in the foreground"


def configure(parser) -> None:
    parser.add_argument(
        "--instance", default=None, help="name of this daemon when several share one database (default: host name)"
    )


def main(args) -> int:
    from modemd.run.logsetup import setup_logging

    result = checked(args)
    if result is None:
        return 2
    assert result.config is not None, "checked() returns a result only when the configuration loaded"
    setup_logging(result.config.modemd.log_level)
    from modemd.run.daemon import run_daemon

    return run_daemon(result, instance=args.instance)
