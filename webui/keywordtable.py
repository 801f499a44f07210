"""The keyword table as the web UI needs it: from keywords.ini, re-read when the file changes.

If the file cannot be read or has errors, the table the daemon last
published (DaemonState "keywords") is used, so access rules keep working
while the administrator fixes a typo.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

from modemd.config import Problem
from modemd.receive.keywords import KeywordTable, load_keywords
from modemd.store.models import DaemonState

from . import modemd_config

log = logging.getLogger("modemd.web")
_cache: dict[str, tuple[float, KeywordTable, list[Problem]]] = {}
_lock = threading.Lock()


def keywords_path() -> Path:
    return modemd_config().keywords_path


def checked_table(path: Path) -> tuple[KeywordTable, list[Problem]]:
    """The file's table and its problems, cached until the file's mtime changes."""
    try:
        mtime = path.stat().st_mtime
    except OSError:
        mtime = -1.0
    key = str(path)
    with _lock:
        hit = _cache.get(key)
        if hit and hit[0] == mtime:
            return hit[1], hit[2]
    problems: list[Problem] = []
    table = load_keywords(path, problems)
    with _lock:
        _cache[key] = (mtime, table, problems)
    return table, problems


#: a keyword published as a bare name (an old daemon): no owner, the direct flow
BLANK_ROW = {"owner": "", "aliases": [], "description": "", "reply": "", "flow": "direct", "agency": ""}


def daemon_keywords() -> list[dict]:
    """The keyword table the daemon published (a JSON list), as dicts with at least name and owner."""
    raw = DaemonState.read("keywords")
    if not raw:
        return []
    try:
        data = json.loads(raw)
    except ValueError:
        log.warning("DaemonState keywords is not JSON")
        return []
    rows = []
    for item in data if isinstance(data, list) else []:
        if isinstance(item, dict) and item.get("name"):
            rows.append(
                {
                    "name": str(item["name"]),
                    "owner": str(item.get("owner", "")),
                    "aliases": item.get("aliases") or [],
                    "description": str(item.get("description", "")),
                    "reply": str(item.get("reply", "")),
                    "flow": str(item.get("flow") or "direct"),  # a daemon older than the flow publishes none
                    "agency": str(item.get("agency", "")),
                }
            )
        elif isinstance(item, str):
            rows.append({**BLANK_ROW, "name": item})
    return rows


def agencies() -> list[str]:
    """The agencies keywords.ini names (the admin picks one of them)."""
    table, _problems = checked_table(keywords_path())
    return table.agencies()


def keyword_owners() -> dict[str, str]:
    """Keyword name -> owner login."""
    table, problems = checked_table(keywords_path())
    if not any(not p.warning for p in problems):
        return {k.name: k.owner for k in table.keywords.values()}
    return {row["name"].upper(): row["owner"] for row in daemon_keywords()}


def owned_keywords(login: str) -> list[str]:
    return sorted(name for name, owner in keyword_owners().items() if owner == login)


def keyword_names() -> list[str]:
    return sorted(keyword_owners())
