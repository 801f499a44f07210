"""Everything ``modemd check`` verifies, shared with ``run`` and ``web``.

They refuse to start on the same problems with the same messages, so a
technician who sees a unit fail can run ``modemd check`` and read why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import peewee

from modemd.receive import keywords as keywords_module
from modemd.receive import status_query
from modemd.receive.keywords import KeywordTable

from . import config as config_module
from .config import Config, ConfigError, Problem


@dataclass
class CheckResult:
    config: Config | None = None
    keywords: KeywordTable | None = None
    database: peewee.Database | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if not p.warning]

    @property
    def ok(self) -> bool:
        return not self.errors


def check_all(config_path: Path, *, upgrade_database: bool = False) -> CheckResult:
    """Check modemd.ini, keywords.ini and the database; collect every problem."""
    result = CheckResult()
    try:
        result.config = config_module.load(config_path)
        result.problems.extend(result.config.warnings)
    except ConfigError as exc:
        result.problems.extend(exc.problems)
        return result
    config = result.config
    result.keywords = keywords_module.load_keywords(config.keywords_path, result.problems)
    status_query.check_clash(config, result.keywords, result.problems)
    result.database = _check_database(config, result.problems, upgrade_database)
    if result.database is not None:
        keywords_module.check_owners(result.keywords, _user_state, result.problems)
        _check_user_sender_ids(config, result.problems)
    return result


def _check_database(config: Config, problems: list[Problem], upgrade: bool) -> peewee.Database | None:
    from modemd.store import db, migrations

    key_line = config_module.key_lines(config.path).get(("modemd", "database"))
    try:
        database = db.open_database(config.database_url)
        if upgrade:
            migrations.upgrade(database)
        version = migrations.current_version(database)
    except db.DatabaseURLError as exc:
        problems.append(Problem(str(config.path), str(exc), "modemd", "database", key_line))
        return None
    except (peewee.PeeweeException, OSError, ImportError) as exc:
        problems.append(
            Problem(
                str(config.path),
                f"cannot open the database {config.database_url!r}: {exc}",
                "modemd",
                "database",
                key_line,
            )
        )
        return None
    if version == 0:
        problems.append(
            Problem(str(config.path), "the database is empty: run `modemd db upgrade`", "modemd", "database", key_line)
        )
        return None
    if version < migrations.LATEST:
        problems.append(
            Problem(
                str(config.path),
                f"the database has schema version {version}, this modemd needs {migrations.LATEST}: "
                "run `modemd db upgrade`",
                "modemd",
                "database",
                key_line,
            )
        )
        return None
    return database


def _user_state(login: str) -> str | None:
    from modemd.store.models import User

    user = User.by_login(login)
    if user is None:
        return None
    return "active" if user.active else "disabled"


def _check_user_sender_ids(config: Config, problems: list[Problem]) -> None:
    from modemd.store.models import User

    for user in User.select().where(peewee.fn.LENGTH(User.sender_id) > 8):
        problems.append(
            Problem(
                "database",
                f"user {user.login!r} has sender ID {user.sender_id!r}, longer than 8 characters",
                "user",
                "sender_id",
            )
        )
