"""Shared fixtures: real databases, configuration files on disk, users.

Server databases come from ``MODEMD_TEST_POSTGRES_URL`` / ``MODEMD_TEST_MYSQL_URL``;
each test run works in a schema (PostgreSQL) or database (MariaDB) of its own,
so runs on the same server do not disturb each other.
"""

from __future__ import annotations

import os
import textwrap
import uuid
from pathlib import Path

import peewee
import pytest

from modemd.store import db as db_module
from modemd.store import migrations
from modemd.store.models import ALL_MODELS
from tests import soakrun

POSTGRES_ENV = "MODEMD_TEST_POSTGRES_URL"
MYSQL_ENV = "MODEMD_TEST_MYSQL_URL"
RUN_ID = f"modemd_t{os.getpid()}_{uuid.uuid4().hex[:6]}"


SOAK_RUN = pytest.StashKey["soakrun.SoakRun"]()


def pytest_collection_finish(session: pytest.Session) -> None:
    """A session that will run the soak test starts the soak now, to run beside the other tests."""
    if session.config.option.collectonly:
        return
    if any(item.get_closest_marker("soak") for item in session.items):
        session.config.stash[SOAK_RUN] = soakrun.start()


def pytest_sessionfinish(session: pytest.Session) -> None:
    run = session.config.stash.get(SOAK_RUN, None)
    if run is not None:
        run.stop()  # an interrupted session leaves no daemon behind


@pytest.fixture
def background_soak(request) -> soakrun.SoakRun:
    """The soak this session started at collection (started now if it was not)."""
    run = request.config.stash.get(SOAK_RUN, None)
    if run is None:
        run = request.config.stash[SOAK_RUN] = soakrun.start()
    return run


def _server_url(env: str) -> str:
    url = os.environ.get(env)
    if not url:
        pytest.skip(
            f"{env} is not set: no {'PostgreSQL' if 'POSTGRES' in env else 'MariaDB/MySQL'} server to test against"
        )
    return url


@pytest.fixture(scope="session")
def postgres_url():
    """A URL whose connections use a private schema of this run."""
    base = _server_url(POSTGRES_ENV)
    admin = db_module.connect_url(base)
    admin.connect()
    admin.execute_sql(f'CREATE SCHEMA IF NOT EXISTS "{RUN_ID}"')
    admin.close()
    separator = "&" if "?" in base else "?"
    yield f"{base}{separator}options=-csearch_path%3D{RUN_ID}"
    admin.connect()
    admin.execute_sql(f'DROP SCHEMA IF EXISTS "{RUN_ID}" CASCADE')
    admin.close()


@pytest.fixture(scope="session")
def mysql_url():
    """A URL of a private database of this run on the MariaDB server."""
    base = _server_url(MYSQL_ENV)
    admin = db_module.connect_url(base)
    admin.connect()
    admin.execute_sql(f"CREATE DATABASE IF NOT EXISTS `{RUN_ID}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    admin.close()
    head, _, _ = base.rpartition("/")
    yield f"{head}/{RUN_ID}"
    admin.connect()
    admin.execute_sql(f"DROP DATABASE IF EXISTS `{RUN_ID}`")
    admin.close()


def _reset(database: peewee.Database) -> None:
    database.drop_tables(ALL_MODELS, safe=True, cascade=isinstance(database, peewee.PostgresqlDatabase))


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def any_db(request, tmp_path):
    """An empty, upgraded database of each kind (server kinds skip without their URL)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'modemd.db'}"
    else:
        url = request.getfixturevalue("postgres_url" if request.param == "postgresql" else "mysql_url")
    database = db_module.open_database(url)
    if request.param != "sqlite":
        _reset(database)
    migrations.upgrade(database)
    yield database
    if request.param != "sqlite":
        _reset(database)
    database.close()


@pytest.fixture
def sqlite_db(tmp_path):
    """A fresh SQLite database file, upgraded, bound to the models."""
    database = db_module.open_database(f"sqlite:///{tmp_path / 'modemd.db'}")
    migrations.upgrade(database)
    yield database
    database.close()


SAMPLE_KEYWORDS = """
[INFO]
owner = humas
aliases = HUMAS, TANYA
description = Informasi umum
reply = Terima kasih. Pesan Anda tercatat dengan nomor #{case}.

[DISHUB]
owner = dishub
aliases = PERHUBUNGAN
description = Dinas Perhubungan
reply = Laporan #{case} diteruskan ke Dinas Perhubungan.

[DINKES]
owner = dinkes
description = Dinas Kesehatan
"""


@pytest.fixture
def write_config(tmp_path):
    """write_config(modemd_ini_text, keywords_ini_text=SAMPLE_KEYWORDS) -> path of modemd.ini.

    The default database is a SQLite file in tmp_path; state_dir is tmp_path.
    """

    def write(ini: str = "", keywords: str | None = SAMPLE_KEYWORDS) -> Path:
        text = textwrap.dedent(ini)
        if "[modemd]" not in text:
            text = "[modemd]\ndatabase = sqlite:///modemd.db\nstate_dir = .\n" + text
        path = tmp_path / "modemd.ini"
        path.write_text(text, encoding="utf-8")
        if keywords is not None:
            (tmp_path / "keywords.ini").write_text(textwrap.dedent(keywords), encoding="utf-8")
        return path

    return write


@pytest.fixture
def make_user():
    from modemd import users

    def make(login: str, role: str = "official", **kwargs):
        return users.create_user(login, role, kwargs.pop("password", "rahasia-123"), **kwargs)

    return make


@pytest.fixture
def officials(sqlite_db, make_user):
    """The owners of SAMPLE_KEYWORDS plus an admin and an approver."""
    return {
        "humas": make_user("humas", phone_number="081200000001"),
        "dishub": make_user("dishub", phone_number="081200000002", sender_id="DISHUB"),
        "dinkes": make_user("dinkes", phone_number="081200000003"),
        "admin": make_user("admin", "admin", phone_number="081200000009"),
        "ketua": make_user("ketua", "approver", phone_number="081200000008"),
    }
