"""Subcommands of ``modemd`` and what they share: loading and checking the configuration."""

from __future__ import annotations

import json
import sys
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
        print(f"modemd: {len(result.errors)} problem(s) found; nothing was started. Fix them and run `modemd check`.", file=sys.stderr)
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
    from .. import db, migrations

    config = load_config_or_exit(args)
    database = db.open_database(config.database_url)
    migrations.upgrade(database)
    return config, database


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def print_table(rows: list[dict], columns: list[str]) -> None:
    if not rows:
        print("(none)")
        return
    widths = {c: max(len(c), *(len(str(r.get(c, "") or "")) for r in rows)) for c in columns}
    print("  ".join(c.upper().ljust(widths[c]) for c in columns))
    for row in rows:
        print("  ".join(str(row.get(c, "") if row.get(c) is not None else "").ljust(widths[c]) for c in columns))
