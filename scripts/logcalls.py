"""Every WARNING and ERROR modemd can log, read from the code, against the technician's guide.

    python scripts/logcalls.py            the rows the guide lacks, ready to paste and complete
    python scripts/logcalls.py --all      a row for every call (e.g. to start the table again)

The calls are found with :mod:`ast` in modemd/ and webui/: ``log.warning(...)``,
``log.error(...)``, ``log.exception(...)``, ``log.critical(...)`` and
``log.log(logging.WARNING, ...)`` on a logger (or on :mod:`logging` itself), keyed by level,
module and the message's format string as written. The guide's table (docs/panduan-teknisi.md)
has one row per key plus what it means and what to do; tests/test_docs.py fails when a call
has no row, or a row names a call that is gone, so a new log line cannot ship undocumented.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("modemd", "webui")
GUIDE = REPO / "docs" / "panduan-teknisi.md"
LEVELS = {"warning": "WARNING", "error": "ERROR", "exception": "ERROR", "critical": "CRITICAL"}
LOGGERS = {"log", "logger", "logging"}
#: the header row that starts the guide's table
HEADER = re.compile(r"^\|\s*tingkat\s*\|\s*modul\s*\|\s*pesan log", re.IGNORECASE)


class LogCall(NamedTuple):
    level: str
    module: str  # path from the repository root
    message: str  # the format string as written (an f-string's fields as {…})

    def row(self, meaning: str = "…", action: str = "…") -> str:
        return f"| {self.level} | `{self.module}` | `{self.message}` | {meaning} | {action} |"


def _message(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            part.value if isinstance(part, ast.Constant) else "{" + ast.unparse(part.value) + "}"  # type: ignore[attr-defined]
            for part in node.values
        )
    return None


def _is_logger(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return node.id in LOGGERS
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr == "getLogger"
    return False


def _level_of_log_call(node: ast.Call) -> str | None:
    # log.log(logging.WARNING, ...)
    if node.args and isinstance(node.args[0], ast.Attribute) and node.args[0].attr in ("WARNING", "ERROR", "CRITICAL"):
        return node.args[0].attr
    return None


def calls_in(path: Path, root: Path = REPO) -> list[LogCall]:
    """The WARNING/ERROR/CRITICAL calls of one file, in the order they are written."""
    found: list[tuple[int, LogCall]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _is_logger(node.func.value)):
            continue
        method = node.func.attr
        if method in LEVELS and node.args:
            level, first = LEVELS[method], node.args[0]
        elif method == "log" and len(node.args) > 1 and (level_name := _level_of_log_call(node)):
            level, first = level_name, node.args[1]
        else:
            continue
        message = _message(first)
        if message is None:
            raise ValueError(f"{path}:{node.lineno}: a log message that is not a literal string: write one")
        found.append((node.lineno, LogCall(level, path.relative_to(root).as_posix(), message)))
    return [call for _line, call in sorted(found)]


def all_calls(root: Path = REPO) -> list[LogCall]:
    """Every WARNING/ERROR/CRITICAL call of the packages, once per (level, module, message)."""
    seen: dict[LogCall, None] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            for call in calls_in(path, root):
                seen.setdefault(call, None)
    return list(seen)


def _cells(line: str) -> list[str]:
    # split on | that are not escaped (\|) inside a cell
    cells = re.split(r"(?<!\\)\|", line.strip().strip("|"))
    return [cell.strip().replace("\\|", "|") for cell in cells]


def documented(guide: Path = GUIDE) -> list[LogCall]:
    """The rows of the guide's log table, as keys."""
    rows, inside = [], False
    for line in guide.read_text(encoding="utf-8").splitlines():
        if HEADER.match(line):
            inside = True
            continue
        if inside:
            if not line.startswith("|"):
                break
            cells = _cells(line)
            if set(cells[0]) <= set("-: "):
                continue
            level, module, message = cells[0], cells[1].strip("`"), cells[2]
            if message.startswith("`") and message.endswith("`"):
                message = message[1:-1]
            rows.append(LogCall(level, module, message))
    return rows


def main(argv: list[str] | None = None) -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options.add_argument("--all", action="store_true", help="print a row for every call, not only missing ones")
    args = options.parse_args(argv)
    calls = all_calls()
    have = set() if args.all else set(documented())
    missing = [call for call in calls if call not in have]
    for call in missing:
        print(call.row())
    stale = [row for row in documented() if row not in set(calls)]
    for row in stale:
        print(f"logcalls: the guide has a row for a call that is gone: {row.module}: {row.message}", file=sys.stderr)
    return 1 if (missing and not args.all) or stale else 0


if __name__ == "__main__":
    sys.exit(main())
