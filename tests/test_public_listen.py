"""``[web] public_listen``: ``modemd web`` serves the public pages, and only they, on a second address."""

from __future__ import annotations

import socket
import threading
import urllib.error
import urllib.request

import pytest

from modemd import config as config_module
from modemd.commands.web import create_servers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def status_of(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture
def two_servers(write_config, officials):
    office, public = free_port(), free_port()
    ini = f"""
[web]
secret_key_file = secret.key
listen = 127.0.0.1:{office}
public_listen = 127.0.0.1:{public}
"""
    config = config_module.load(write_config(ini))
    servers = create_servers(config, threads=2)
    threads = [threading.Thread(target=s.run, daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    yield f"http://127.0.0.1:{office}", f"http://127.0.0.1:{public}"
    for server, thread in zip(servers, threads, strict=True):
        # the loop ends, in its own thread, once its map is empty; only then are its sockets closed
        server.trigger.pull_trigger(server._map.clear)
        thread.join(5)
        server.close()


def test_the_public_address_serves_the_public_pages_and_nothing_else(two_servers):
    office, public = two_servers
    # the office address: everything, as before
    assert status_of(f"{office}/login")[0] == 200
    assert status_of(f"{office}/publik/")[0] == 200
    # the public address: the page, its feeds and their style sheet ...
    status, page = status_of(f"{public}/publik/")
    assert status == 200 and b'href="/publik/feed.atom"' in page
    assert b'href="/login"' not in page and b'class="brand" href="/publik/"' in page
    assert status_of(f"{public}/publik/feed.atom")[0] == 200
    assert status_of(f"{public}/publik/feed.json")[0] == 200
    assert status_of(f"{public}/static/style.css")[0] == 200
    # ... and 404 for the login, the inbox, the admin pages, a case, anything else
    for path in ("/", "/login", "/admin/users/", "/admin/webhooks/", "/cases/1", "/outbox/", "/nope", "/logo"):
        assert status_of(f"{public}{path}")[0] == 404, path


def test_without_public_listen_there_is_one_server(write_config, officials):
    config = config_module.load(
        write_config(f"[web]\nsecret_key_file = secret.key\nlisten = 127.0.0.1:{free_port()}\n")
    )
    servers = create_servers(config, threads=1)
    try:
        assert len(servers) == 1 and config.web.public_listen is None
    finally:
        servers[0].close()


def test_a_bad_public_listen_names_file_line_and_key(write_config):
    path = write_config("[web]\npublic_listen = 0.0.0.0\n")
    with pytest.raises(config_module.ConfigError) as caught:
        config_module.load(path)
    [problem] = caught.value.problems
    assert (problem.section, problem.key, problem.line) == ("web", "public_listen", 5)
    assert "expected HOST:PORT" in problem.message
