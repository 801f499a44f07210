"""Schema migrations: a database made by the oldest schema upgrades to the newest without losing data."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import peewee
import pytest

from modemd.store import db, migrations, report_summary
from modemd.store.models import Case, InboundMessage, ModemStatus, User

OLDEST = Path(__file__).parent / "data" / "schema-v1.sql"


def schema_of(path: Path) -> dict[str, list[tuple]]:
    """Columns (name, type, not null, primary key) and index definitions per table."""
    con = sqlite3.connect(path)
    tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
    schema = {}
    for table in tables:
        columns = sorted((r[1], r[2], r[3], r[5]) for r in con.execute(f'PRAGMA table_info("{table}")'))
        indexes = sorted((r[1], r[2]) for r in con.execute(f'PRAGMA index_list("{table}")'))
        schema[table] = columns + indexes
    triggers = sorted(r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='trigger'"))
    schema["<triggers>"] = triggers
    con.close()
    return schema


def test_oldest_schema_upgrades_to_the_same_schema_as_a_new_install(tmp_path):
    old_path = tmp_path / "old.db"
    con = sqlite3.connect(old_path)
    con.executescript(OLDEST.read_text(encoding="utf-8"))
    con.close()

    database = db.open_database(f"sqlite:///{old_path}")
    assert migrations.current_version(database) == 1
    assert migrations.upgrade(database) == (1, migrations.LATEST)
    # the rows of the old centre are all there, and usable through today's models
    user = User.get(User.login == "humas")
    assert user.session_token == "" and user.role == "official"
    message = InboundMessage.get()
    assert message.text == "INFO jalan rusak 🚧 <b>" and message.case.keyword == "INFO"
    assert ModemStatus.get().storage_used is None
    user.set_password("baru-12345")
    user.save()
    # the read-only guard on the original SMS survived the upgrade
    with pytest.raises(peewee.DatabaseError, match="read-only"):
        InboundMessage.update(text="x").execute()
    database.close()

    new_path = tmp_path / "new.db"
    fresh = db.open_database(f"sqlite:///{new_path}")
    migrations.upgrade(fresh)
    fresh.close()
    assert schema_of(old_path) == schema_of(new_path)


def test_upgrade_is_idempotent_and_refuses_a_newer_database(sqlite_db):
    assert migrations.upgrade(sqlite_db) == (migrations.LATEST, migrations.LATEST)
    migrations.models.SchemaVersion.create(version=migrations.LATEST + 1)
    with pytest.raises(RuntimeError, match="newer than this modemd knows"):
        migrations.upgrade(sqlite_db)


def test_every_model_table_exists_on_each_database(any_db):
    for model in migrations.models.ALL_MODELS:
        assert any_db.table_exists(model._meta.table_name), model.__name__
    assert migrations.current_version(any_db) == migrations.LATEST
    assert Case.select().count() == 0


def test_v6_to_v7_adds_the_balance_columns_and_the_sender_kind_index_on_each_database(any_db):
    """The migration itself (not a fresh install) on SQLite, PostgreSQL and MariaDB, on a table with rows."""
    from playhouse.migrate import migrate

    migrator = migrations._migrator(any_db)
    index = "inbound_message_sender_kind_id"
    migrate(
        migrator.drop_index("inbound_message", index),
        migrator.drop_column("modem_status", "balance_at"),
        migrator.drop_column("modem_status", "balance_warning"),
    )
    any_db.execute_sql(
        "INSERT INTO modem_status (name, driver, state, manufacturer, model, imei, operator, registration,"
        " errors, sent_total, received_total, balance, queue_depth, updated_at) VALUES "
        "('usb1', 'at', 'ready', '', '', '', '', 'home', 0, 0, 0, 'Pulsa Rp 5.000', 0, '2026-12-01 00:00:00')"
    )
    with any_db.atomic():
        migrations._v6_to_v7(any_db, migrator)
    assert {c.name for c in any_db.get_columns("modem_status")} >= {"balance_at", "balance_warning"}
    assert index in {i.name for i in any_db.get_indexes("inbound_message")}
    status = ModemStatus.get(ModemStatus.name == "usb1")
    assert (status.balance, status.balance_at, status.balance_warning) == ("Pulsa Rp 5.000", None, None)


def test_v10_to_v11_creates_the_webhook_queue_on_each_database(any_db):
    """The step itself on SQLite, PostgreSQL and MariaDB: the tables come back usable, with their indexes."""
    from modemd.store.models import WebhookAttempt, WebhookDelivery, utcnow

    any_db.drop_tables([WebhookAttempt, WebhookDelivery])
    with any_db.atomic():
        migrations._v10_to_v11(any_db, migrations._migrator(any_db))
    indexes = {i.name for i in any_db.get_indexes("webhook_delivery")}
    assert {"webhook_delivery_state_next_attempt_at", "webhook_delivery_endpoint_state_next_attempt_at"} <= indexes
    now = utcnow()
    delivery = WebhookDelivery.create(
        event_id="e", event="case.opened", endpoint="api", url="https://x.go.id/", body="{}", give_up_at=now
    )
    WebhookAttempt.create(delivery=delivery, url=delivery.url, status_code=500, error="HTTP 500", duration_ms=3)
    assert WebhookDelivery.get().state == "pending" and WebhookAttempt.get().delivery_id == delivery.id
    with pytest.raises((peewee.IntegrityError, peewee.OperationalError), match="state"):  # checked by the database
        WebhookDelivery.create(
            event_id="f", event="x", endpoint="api", url="u", body="{}", give_up_at=now, state="lost"
        )


def test_v11_to_v12_adds_the_flow_columns_and_the_step_table_keeping_cases_direct(any_db):
    """The verified-flow step itself on SQLite, PostgreSQL and MariaDB, on a table with a case and its message."""
    from playhouse.migrate import migrate

    from modemd.store.models import CaseStep

    migrator = migrations._migrator(any_db)
    report_summary.drop_triggers(any_db)  # they read the flow column, which v11 had not
    any_db.drop_tables([CaseStep])
    migrate(
        migrator.drop_index("case", "case_stage_stage_due_at"),
        migrator.drop_index("case", "case_keyword_flow"),  # v14's, on the flow column v11 had not
        migrator.drop_index("case", "case_owner_id_keyword_flow"),
        *(migrator.drop_column("case", name) for name in ("flow", "stage", "agency", "stage_due_at")),
    )
    table = peewee.Table("case", ("id", "keyword", "citizen", "status", "opened_at", "deadline_at", "last_message_at"))
    moment = migrations.models.utcnow()
    table = table.bind(any_db)
    (
        table.insert(
            keyword="INFO",
            citizen="+6281211112222",
            status="open",
            opened_at=moment,
            deadline_at=moment,
            last_message_at=moment,
        ).execute()
    )
    case_id = table.select(peewee.fn.MAX(table.id)).scalar()
    InboundMessage.create(modem="sim1", sender_raw="x", sender="x", text="INFO a", case=case_id)
    with any_db.atomic():
        migrations._v11_to_v12(any_db, migrator)
    case = Case.get_by_id(case_id)
    assert (case.flow, case.stage, case.agency, case.stage_due_at) == ("direct", None, "", None)
    assert InboundMessage.get().case_id == case_id  # no table rebuild dropped the link
    assert any_db.table_exists("case_step")
    assert "case_stage_stage_due_at" in {i.name for i in any_db.get_indexes("case")}
    with pytest.raises((peewee.IntegrityError, peewee.OperationalError)):  # MariaDB: a CHECK fails operationally
        with any_db.atomic():
            Case.update(flow="sideways").where(Case.id == case_id).execute()


def test_v14_to_v15_gives_every_user_an_agency_column_left_empty(any_db):
    """The step itself on SQLite, PostgreSQL and MariaDB: existing accounts keep serving any agency."""
    from playhouse.migrate import migrate

    from modemd import users

    users.create_user("lama", "operator", "rahasia-123")
    migrator = migrations._migrator(any_db)
    migrate(migrator.drop_column("user", "agency"))
    assert "agency" not in {column.name for column in any_db.get_columns("user")}
    with any_db.atomic():
        migrations._v14_to_v15(any_db, migrator)
    assert User.by_login("lama").agency == ""
    users.create_user("baru", "operator", "rahasia-123", agency="Dinas PUPR")
    assert User.by_login("baru").agency == "Dinas PUPR"
