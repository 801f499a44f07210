from __future__ import annotations

import threading

from . import checked

HELP = "serve the web UI (officials' inbox, replies, administration) with waitress"


def configure(parser) -> None:
    parser.add_argument("--listen", default=None, help="HOST:PORT, overrides [web] listen")
    parser.add_argument("--threads", type=int, default=8, help="waitress worker threads (default 8)")


def create_servers(config, listen: tuple[str, int] | None = None, threads: int = 8) -> list:
    """The waitress server of the web UI, and with ``[web] public_listen`` a second one of the public pages only."""
    import logging

    import waitress

    from webui import create_app

    log = logging.getLogger("modemd.web")
    host, port = listen or config.web.listen
    servers = [waitress.create_server(create_app(config=config), host=host, port=port, threads=threads, ident="modemd")]
    log.info("web UI on http://%s:%d/", host, port)
    if config.web.public_listen:
        public_host, public_port = config.web.public_listen
        public_app = create_app(config=config, public_only=True)
        servers.append(
            waitress.create_server(public_app, host=public_host, port=public_port, threads=threads, ident="modemd")
        )
        log.info("public pages only on http://%s:%d/publik/", public_host, public_port)
    return servers


def run_servers(servers: list) -> None:
    """Run every server; each has its own socket map, the extra ones on threads of their own."""
    for server in servers[1:]:
        threading.Thread(target=server.run, name=f"waitress {server.effective_port}", daemon=True).start()
    servers[0].run()


def main(args) -> int:
    from modemd.run.logsetup import setup_logging

    result = checked(args)
    if result is None:
        return 2
    config = result.config
    assert config is not None, "checked() returns a result only when the configuration loaded"
    setup_logging(config.modemd.log_level)
    listen = None
    if args.listen:
        host, _, port_text = args.listen.rpartition(":")
        listen = (host, int(port_text))
    run_servers(create_servers(config, listen, args.threads))
    return 0
