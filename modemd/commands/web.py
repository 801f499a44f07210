from __future__ import annotations

from . import checked

HELP = "serve the web UI (officials' inbox, replies, administration) with waitress"


def configure(parser) -> None:
    parser.add_argument("--listen", default=None, help="HOST:PORT, overrides [web] listen")
    parser.add_argument("--threads", type=int, default=8, help="waitress worker threads (default 8)")


def main(args) -> int:
    import logging

    import waitress

    from modemd.run.logsetup import setup_logging

    result = checked(args)
    if result is None:
        return 2
    config = result.config
    assert config is not None, "checked() returns a result only when the configuration loaded"
    setup_logging(config.modemd.log_level)
    from webui import create_app

    app = create_app(config=config)
    host, port = config.web.listen
    if args.listen:
        host, _, port_text = args.listen.rpartition(":")
        port = int(port_text)
    logging.getLogger("modemd.web").info("web UI on http://%s:%d/", host, port)
    waitress.serve(app, host=host, port=port, threads=args.threads, ident="modemd")
    return 0
