"""Subcommands of ``modemd`` and what they share: loading and checking the configuration."""

from __future__ import annotations

import ctypes
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..checks import CheckResult, check_all
from ..config import config_path_from


def print_problems(problems, stream=None) -> None:
    stream = stream or sys.stderr
    for problem in problems:
        print(str(problem), file=stream)


def checked(args, *, upgrade_database: bool = True) -> CheckResult | None:
    """Check everything (as `modemd check` does); print problems; None if there are errors."""
    result = check_all(config_path_from(args.config), upgrade_database=upgrade_database)
    print_problems(result.problems)
    if not result.ok:
        print(
            f"modemd: {len(result.errors)} problem(s) found; nothing was started. Fix them and run `modemd check`.",
            file=sys.stderr,
        )
        return None
    return result


def load_config_or_exit(args):
    """modemd.ini loaded, or its problems printed and exit status 2."""
    from .. import config as config_module

    try:
        config = config_module.load(config_path_from(args.config))
    except config_module.ConfigError as exc:
        print_problems(exc.problems)
        raise SystemExit(2) from None
    return config


def open_configured_database(args):
    """Config plus an open, upgraded database, for commands that only need storage."""
    from modemd.store import db, migrations

    config = load_config_or_exit(args)
    database = db.open_database(config.database_url)
    migrations.upgrade(database)
    return config, database


#: where print_json writes while json_only_stdout() holds standard output for the JSON
_json_stream = None


def print_json(data: Any, *, one_line: bool = False) -> None:
    """Print ``data`` as JSON; ``one_line`` for JSON Lines (one object per line, e.g. while watching)."""
    stream = _json_stream or sys.stdout
    json.dump(data, stream, ensure_ascii=False, indent=None if one_line else 2, default=str)
    stream.write("\n")
    stream.flush()


def _flush_c_stdio() -> None:
    """Flush C's stdout buffer, where libGammu's printf output waits (fully buffered on a pipe)."""
    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):
        pass


@contextmanager
def json_only_stdout() -> Iterator[None]:
    """Keep standard output for the JSON alone for the life of a ``--json`` command.

    Libraries write to file descriptor 1 below Python (python-gammu's "WARNING:
    Adding USSD to queue" comes from C), so replacing ``sys.stdout`` is not
    enough: fd 1 itself is pointed at stderr, the real standard output is kept
    on a saved descriptor, and :func:`print_json` writes there. Everything else
    still reaches the technician, on stderr.
    """
    global _json_stream
    try:
        fd = sys.stdout.fileno()
        err = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        fd = None  # standard output is no file (a test's buffer): nothing below Python can write to it
    sys.stdout.flush()
    if fd is None:
        _json_stream, saved_stdout = sys.stdout, sys.stdout
        sys.stdout = sys.stderr
        try:
            yield
        finally:
            sys.stdout, _json_stream = saved_stdout, None
        return
    _flush_c_stdio()
    saved = os.dup(fd)
    os.dup2(err, fd)
    _json_stream = os.fdopen(saved, "w", encoding="utf-8")
    try:
        yield
    finally:
        sys.stdout.flush()
        _flush_c_stdio()
        os.dup2(saved, fd)
        stream, _json_stream = _json_stream, None
        stream.close()


def print_table(rows: list[dict], columns: list[str]) -> None:
    if not rows:
        print("(none)")
        return
    widths = {c: max(len(c), *(len(str(r.get(c, "") or "")) for r in rows)) for c in columns}
    print("  ".join(c.upper().ljust(widths[c]) for c in columns))
    for row in rows:
        print("  ".join(str(row.get(c, "") if row.get(c) is not None else "").ljust(widths[c]) for c in columns))
