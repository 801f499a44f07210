"""Issue 10, item 9: the run_on_receive hook gets every message, and every failure is logged.

A UCS-2 SMS may carry U+0000; in an environment variable or an argument it
made ``subprocess`` refuse to start the hook, inside the thread pool, with
nothing logged. The hook now gets the message id in ``MODEMD_MESSAGE_ID`` and
the message as a JSON document on its standard input.
"""

from __future__ import annotations

import json
import logging
import sys
import textwrap

import pytest

from tests.daemonharness import Conversation

CITIZEN = "081211112222"


def _hook(tmp_path):
    """A hook program that writes what it got (argv, MODEMD_* variables, stdin) to hook.json."""
    out = tmp_path / "hook.json"
    hook = tmp_path / "hook.py"
    hook.write_text(
        textwrap.dedent(f"""
        import json, os, sys
        env = {{k: v for k, v in os.environ.items() if k.startswith("MODEMD_")}}
        json.dump({{"argv": sys.argv[1:], "env": env, "stdin": sys.stdin.read()}}, open({str(out)!r}, "w"))
    """)
    )
    return hook, out


def _chat(write_config, hook_line: str, extra: str = "") -> Conversation:
    return Conversation(
        write_config(f"[modemd]\ndatabase = sqlite:///modemd.db\nstate_dir = .\nrun_on_receive = {hook_line}\n{extra}")
    )


@pytest.mark.parametrize(
    "text",
    [
        "DISHUB lampu\x00mati",  # U+0000 from a UCS-2 SMS
        "DISHUB baris\nbaru\r\u2028dan `rm -rf /` $HOME ';' \U0001f600",
    ],
)
def test_hook_gets_the_message_as_json_on_stdin_whatever_the_text(officials, write_config, tmp_path, text):
    hook, out = _hook(tmp_path)
    chat = _chat(write_config, f"{sys.executable} {hook} ';' '$(touch pwned)'")
    routed = chat.receive(CITIZEN, text)
    chat.router.close()  # waits for the hook
    data = json.loads(out.read_text())
    document = json.loads(data["stdin"])
    assert document["id"] == routed.message.id
    assert document["case"] == routed.case.id
    assert document["keyword"] == "DISHUB"
    assert document["sender"] == "+6281211112222"
    assert document["text"] == text
    assert document["received_at"] == routed.message.received_at.isoformat() + "Z"
    # only the message id travels outside stdin; nothing the citizen wrote is in argv or the environment
    assert data["env"]["MODEMD_MESSAGE_ID"] == str(routed.message.id)
    assert "MODEMD_TEXT" not in data["env"] and "MODEMD_SENDER" not in data["env"]
    assert data["argv"] == [";", "$(touch pwned)"]
    assert not (tmp_path / "pwned").exists()


def test_hook_of_an_unrouted_message_gets_nulls_for_keyword(officials, write_config, tmp_path):
    hook, out = _hook(tmp_path)
    chat = _chat(write_config, f"{sys.executable} {hook}")
    chat.receive(CITIZEN, "halo apa kabar")
    chat.router.close()
    document = json.loads(json.loads(out.read_text())["stdin"])
    assert document["keyword"] is None and document["route"] == "unrouted"


@pytest.mark.parametrize(
    "hook_line, extra, expected",
    [
        (f"{sys.executable} -c 'import sys; sys.stderr.write(\"rusak\"); sys.exit(3)'", "", "exit status 3: rusak"),
        (
            f"{sys.executable} -c 'import time; time.sleep(30)'",
            "run_on_receive_timeout = 1s\n",
            "still running after 1 s",
        ),
        ("/nonexistent/hook", "", "cannot start"),
        # an argument the operating system refuses (a NUL byte): the exception inside the thread pool
        ("/bin/echo 'a\x00b'", "", "embedded null byte"),
    ],
)
def test_every_failure_of_the_hook_is_logged_at_warning(officials, write_config, caplog, hook_line, extra, expected):
    chat = _chat(write_config, hook_line, extra)
    with caplog.at_level(logging.INFO, logger="modemd.routing"):
        routed = chat.receive(CITIZEN, "DISHUB jalan")
        chat.router.close()
    assert routed.route == "case"  # routing goes on whatever the hook does
    warnings = [r.getMessage() for r in caplog.records if r.name == "modemd.routing" and r.levelno == logging.WARNING]
    assert any(expected in line and f"message #{routed.message.id}" in line for line in warnings), warnings
