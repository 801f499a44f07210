"""Versioned schema migrations: ``modemd db upgrade`` (also run at start-up).

A new database gets the current models plus the guards below, stamped with
the newest version. An existing one runs, in order, every migration newer than
its recorded version, each in its own transaction, so an installed centre
upgrades without losing data. ``tests/data/schema-v1.sql`` is a database made
by the oldest schema; a test upgrades it and compares with a fresh one.

To change the schema: change :mod:`modemd.store.models`, then append a function to
:data:`MIGRATIONS` that brings version N to N+1 with ``playhouse.migrate``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import peewee
from playhouse.migrate import MySQLMigrator, PostgresqlMigrator, SchemaMigrator, SqliteMigrator, migrate

from modemd.jobs.privacy import PURGED_GLOB, PURGED_PDUS, PURGED_REGEX
from modemd.sms import phone
from modemd.store import models, report_summary
from modemd.store.db import dialect

log = logging.getLogger("modemd.db")

# The original text of an SMS is evidence (Banjarnegara Pasal 11 e): the
# database itself refuses to change it, whatever code runs against it.
# One change is allowed, once: the privacy purge (modemd.jobs.privacy) replaces
# sender_raw by the purged form (the same value written into sender, of the
# purged shape), and empties the PDUs, which hold the number, to "[]". The
# text never changes; a purged sender can never be changed again.
IMMUTABLE_INBOUND = ("text", "pdus", "sender_raw")

_PURGE_SQLITE = (
    f"NEW.pdus = '{PURGED_PDUS}' AND NEW.sender_raw = NEW.sender"
    f" AND NEW.sender_raw GLOB '{PURGED_GLOB}' AND OLD.sender_raw NOT GLOB '{PURGED_GLOB}'"
)
_PURGE_POSTGRESQL = (
    f"NEW.pdus = '{PURGED_PDUS}' AND NEW.sender_raw = NEW.sender"
    f" AND NEW.sender_raw ~ '{PURGED_REGEX}' AND OLD.sender_raw !~ '{PURGED_REGEX}'"
)
# MySQL/MariaDB compare case-insensitively under utf8mb4_*_ci: (?-i) keeps the pattern exact
_PURGE_MYSQL = (
    f"NEW.pdus = '{PURGED_PDUS}' AND CAST(NEW.sender_raw AS BINARY) = CAST(NEW.sender AS BINARY)"
    f" AND NEW.sender_raw REGEXP '(?-i){PURGED_REGEX}' AND NOT (OLD.sender_raw REGEXP '(?-i){PURGED_REGEX}')"
)

_GUARDS = {
    "sqlite": [
        f"""CREATE TRIGGER IF NOT EXISTS inbound_message_original_is_read_only
           BEFORE UPDATE OF text, pdus, sender_raw ON inbound_message
           WHEN NEW.text IS NOT OLD.text
             OR ((NEW.pdus IS NOT OLD.pdus OR NEW.sender_raw IS NOT OLD.sender_raw) AND NOT ({_PURGE_SQLITE}))
           BEGIN SELECT RAISE(ABORT, 'the original SMS is read-only'); END""",
    ],
    "postgresql": [
        f"""CREATE OR REPLACE FUNCTION inbound_message_original_is_read_only() RETURNS trigger AS $$
           BEGIN
             IF NEW.text IS DISTINCT FROM OLD.text
                OR ((NEW.pdus IS DISTINCT FROM OLD.pdus OR NEW.sender_raw IS DISTINCT FROM OLD.sender_raw)
                    AND NOT ({_PURGE_POSTGRESQL})) THEN
               RAISE EXCEPTION 'the original SMS is read-only';
             END IF;
             RETURN NEW;
           END $$ LANGUAGE plpgsql""",
        "DROP TRIGGER IF EXISTS inbound_message_original_is_read_only ON inbound_message",
        """CREATE TRIGGER inbound_message_original_is_read_only BEFORE UPDATE ON inbound_message
           FOR EACH ROW EXECUTE FUNCTION inbound_message_original_is_read_only()""",
    ],
    "mysql": [
        "DROP TRIGGER IF EXISTS inbound_message_original_is_read_only",
        f"""CREATE TRIGGER inbound_message_original_is_read_only BEFORE UPDATE ON inbound_message
           FOR EACH ROW BEGIN
             IF NOT (NEW.text <=> OLD.text)
                OR ((NOT (NEW.pdus <=> OLD.pdus) OR NOT (NEW.sender_raw <=> OLD.sender_raw))
                    AND NOT ({_PURGE_MYSQL})) THEN
               SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'the original SMS is read-only';
             END IF;
           END""",
    ],
}


def _migrator(database: peewee.Database) -> SchemaMigrator:
    return {
        "sqlite": SqliteMigrator,
        "postgresql": PostgresqlMigrator,
        "mysql": MySQLMigrator,
    }[dialect(database)](database)


def _v1_to_v2(database: peewee.Database, migrator: SchemaMigrator) -> None:
    """v2: modems report SIM storage and balance; users get a session token."""
    migrate(
        migrator.add_column("modem_status", "storage_used", models.ModemStatus.storage_used),
        migrator.add_column("modem_status", "storage_total", models.ModemStatus.storage_total),
        migrator.add_column("modem_status", "balance", models.ModemStatus.balance),
        migrator.add_column("user", "session_token", models.User.session_token),
    )


def _v2_to_v3(database: peewee.Database, migrator: SchemaMigrator) -> None:
    """v3: each modem's health shows the depth of the queue waiting for it."""
    migrate(migrator.add_column("modem_status", "queue_depth", models.ModemStatus.queue_depth))


def _v3_to_v4(database: peewee.Database, migrator: SchemaMigrator) -> None:
    """v4: an index on case (keyword, status, deadline_at) for officials' inbox counts and badge."""
    migrate(migrator.add_index("case", ("keyword", "status", "deadline_at"), False))


def _v4_to_v5(database: peewee.Database, migrator: SchemaMigrator) -> None:
    """v5: inbound messages remember their SIM slot, so a genuine second identical SMS is kept."""
    migrate(migrator.add_column("inbound_message", "sim_slot", models.InboundMessage.sim_slot))


# schema v6: a case is answered when a reply is sent, not queued; failed replies and their cause are kept
def _v5_to_v6(database: peewee.Database, migrator: SchemaMigrator) -> None:
    """v6: cases keep when an official replied and when a reply failed; messages keep the failure cause."""
    migrate(
        migrator.add_column("case", "replied_at", models.Case.replied_at),
        migrator.add_column("case", "reply_failed_at", models.Case.reply_failed_at),
        migrator.add_column("outbound_message", "failure_code", models.OutboundMessage.failure_code),
    )
    Case, Outbound = models.Case, models.OutboundMessage
    Case.update(replied_at=Case.answered_at).where(Case.answered_at.is_null(False)).execute()
    # a case marked answered when its reply was only queued: unanswered until a reply is sent
    reached = Outbound.select(Outbound.case).where(
        Outbound.kind == "reply", Outbound.state.in_(("sent", "delivered")), Outbound.case.is_null(False)
    )
    replied = Outbound.select(Outbound.case).where(Outbound.kind == "reply", Outbound.case.is_null(False))
    failed = Outbound.select(Outbound.case).where(
        Outbound.kind == "reply", Outbound.state == "failed", Outbound.case.is_null(False)
    )
    not_reached = Case.id.in_(replied) & Case.id.not_in(reached)
    Case.update(reply_failed_at=models.utcnow()).where(
        not_reached & Case.id.in_(failed) & (Case.status != "closed")
    ).execute()
    Case.update(answered_at=None).where(not_reached).execute()
    Case.update(status="open").where(not_reached & (Case.status == "answered")).execute()


# schema v7: the time a modem's balance was read and the balance problems already warned about;
# an index to list the operators' own messages
def _v6_to_v7(database: peewee.Database, migrator: SchemaMigrator) -> None:
    """v7: modems record when their balance was read and which balance problems were warned about;
    inbound messages are indexed by sender kind (the operators' messages page)."""
    migrate(
        migrator.add_column("modem_status", "balance_at", models.ModemStatus.balance_at),
        migrator.add_column("modem_status", "balance_warning", models.ModemStatus.balance_warning),
        migrator.add_index("inbound_message", ("sender_kind", "id"), False),
    )


# schema v8: publications are reviewed snapshots in their own table (issue 10); case.published goes
def _v7_to_v8(database: peewee.Database, migrator: SchemaMigrator) -> None:
    """v8: the public page shows reviewed snapshots (table publication); published cases become snapshots."""
    database.create_tables([models.Publication], safe=True)
    case = peewee.Table("case", ("id", "keyword", "citizen", "published")).bind(database)
    moment = models.utcnow()
    for row in case.select(case.id, case.keyword, case.citizen).where(case.published == True).order_by(case.id):  # noqa: E712
        _snapshot_published_case(row, moment)
    migrate(migrator.drop_column("case", "published"))


def _snapshot_published_case(row: dict, moment) -> None:
    """What a case published before v8 showed, frozen: its first SMS and its first staff reply that left.

    The first ones, because anything later may have arrived after the
    publication (a citizen's "NIK 3201..."); the acknowledgement is no answer.
    Only the columns this step needs are read: later versions may add others.
    """
    inbound, outbound = models.InboundMessage, models.OutboundMessage
    question = (
        inbound.select(inbound.id, inbound.text, inbound.received_at)
        .where(inbound.case == row["id"])
        .order_by(inbound.id)
        .first()
    )
    answer = (
        outbound.select(outbound.id, outbound.text)
        .where(outbound.case == row["id"], outbound.kind == "reply", outbound.state.in_(("sent", "delivered")))
        .order_by(outbound.id)
        .first()
    )
    if question is None or answer is None:
        log.warning("case %d was published without a question and a sent reply; it is no longer published", row["id"])
        return
    publication = models.Publication
    publication_id = publication.insert(
        case=row["id"],
        question=question.id,
        answer=answer.id,
        question_text=question.text,
        answer_text=answer.text,
        keyword=row["keyword"],
        citizen_masked=phone.mask(row["citizen"]),
        asked_at=question.received_at,
        published_by=None,
        published_at=moment,
        withdrawn_by=None,
        withdrawn_at=None,
    ).execute()
    models.AuditLog.insert(
        at=moment,
        actor="migration",
        action="case.publish",
        object_type="case",
        object_id=str(row["id"]),
        detail=json.dumps({"publication": publication_id}),
    ).execute()


# schema v9: web sessions live on the server (logout, idle timeout and lifetime end them)
def _v8_to_v9(database: peewee.Database, migrator: SchemaMigrator) -> None:
    """v9: web sessions are rows (logout, idle timeout and absolute lifetime end them on the server)."""
    database.create_tables([models.WebSession], safe=True)


def _v9_to_v10(database: peewee.Database, migrator: SchemaMigrator) -> None:
    """v10: the guard on the original SMS allows the privacy purge of its sender and PDUs, and nothing else."""
    # schema v10: inbound_message_original_is_read_only allows exactly the privacy purge
    # (SQLite's CREATE TRIGGER IF NOT EXISTS would keep the old one: drop it first)
    if dialect(database) == "sqlite":
        database.execute_sql("DROP TRIGGER IF EXISTS inbound_message_original_is_read_only")
    install_read_only_guard(database)  # the report summary's triggers come with its table (v14)


def _v10_to_v11(database: peewee.Database, migrator: SchemaMigrator) -> None:
    """v11: the webhook queue (webhook_delivery) and every attempt to post it (webhook_attempt)."""
    database.create_tables([models.WebhookDelivery, models.WebhookAttempt], safe=True)


def _v11_to_v12(database: peewee.Database, migrator: SchemaMigrator) -> None:
    """v12: Muara Enim's verified complaint flow: cases keep their flow, stage, agency and stage due time;
    table case_step holds each step with who, when and how long."""
    required = ("flow", "agency")  # NOT NULL with a default: every existing case is a direct one
    if dialect(database) == "sqlite":
        # SQLite adds a NOT NULL column with a default in place; peewee would rebuild the table, and
        # dropping the old "case" table sets every message's and reply's case to NULL (ON DELETE SET NULL)
        flows = ", ".join(f"'{f}'" for f in models.FLOWS)
        database.execute_sql(
            f'ALTER TABLE "case" ADD COLUMN "flow" VARCHAR(16) NOT NULL DEFAULT \'direct\' CHECK (flow IN ({flows}))'
        )
        database.execute_sql('ALTER TABLE "case" ADD COLUMN "agency" VARCHAR(128) NOT NULL DEFAULT \'\'')
        operations = []
    else:
        operations = [migrator.add_column("case", name, getattr(models.Case, name)) for name in required]
    migrate(
        *operations,
        migrator.add_column("case", "stage", models.Case.stage),
        migrator.add_column("case", "stage_due_at", models.Case.stage_due_at),
        migrator.add_index("case", ("stage", "stage_due_at"), False),
    )
    if dialect(database) == "mysql":  # MODIFY ... NOT NULL there leaves out the column's CHECK: added by name
        flows = ", ".join(f"'{f}'" for f in models.FLOWS)
        stages = ", ".join(f"'{s}'" for s in models.FLOW_STAGES)
        database.execute_sql(f"ALTER TABLE `case` ADD CONSTRAINT case_flow_word CHECK (flow IN ({flows}))")
        database.execute_sql(
            f"ALTER TABLE `case` ADD CONSTRAINT case_stage_word CHECK (stage IS NULL OR stage IN ({stages}))"
        )
    database.create_tables([models.CaseStep], safe=True)


def _v12_to_v13(database: peewee.Database, migrator: SchemaMigrator) -> None:
    """v13: API tokens and the answers kept for idempotency keys; cases indexed for the API's keyset pages."""
    database.create_tables([models.ApiToken, models.ApiIdempotency], safe=True)
    migrate(
        *(
            migrator.add_index("case", (*columns, "last_message_at", "id"), False)
            for columns in ((), ("keyword",), ("owner_id",), ("status",))
        )
    )


def _v13_to_v14(database: peewee.Database, migrator: SchemaMigrator) -> None:
    """v14: the report summary (tables report_hour, report_answer), counted from the existing rows and kept
    by triggers; inbound messages indexed by sender, cases by keyword and flow, for the repeat senders."""
    database.create_tables([models.ReportHour, models.ReportAnswer], safe=True)
    migrate(
        migrator.add_index("inbound_message", ("sender_kind", "sender", "received_at", "case_id"), False),
        migrator.add_index("case", ("keyword", "flow"), False),
        migrator.add_index("case", ("owner_id", "keyword", "flow"), False),
    )
    report_summary.install_triggers(database)  # before the count, in its transaction: no change is missed
    report_summary.rebuild(database)


def _v14_to_v15(database: peewee.Database, migrator: SchemaMigrator) -> None:
    """v15: an operator's agency, so the central admin gives a verified case to that agency's operators only."""
    migrate(migrator.add_column("user", "agency", models.User.agency))


#: MIGRATIONS[i] upgrades version i+1 to i+2. Version 1 is the first released schema.
MIGRATIONS: list[Callable[[peewee.Database, SchemaMigrator], None]] = [
    _v1_to_v2,
    _v2_to_v3,
    _v3_to_v4,
    _v4_to_v5,
    _v5_to_v6,
    _v6_to_v7,
    _v7_to_v8,
    _v8_to_v9,
    _v9_to_v10,
    _v10_to_v11,
    _v11_to_v12,
    _v12_to_v13,
    _v13_to_v14,
    _v14_to_v15,
]
LATEST = len(MIGRATIONS) + 1


def current_version(database: peewee.Database) -> int:
    """0 for an empty database."""
    if not database.table_exists("schema_version"):
        return 0
    row = models.SchemaVersion.select(peewee.fn.MAX(models.SchemaVersion.version)).scalar()
    return int(row or 0)


def install_read_only_guard(database: peewee.Database) -> None:
    for statement in _GUARDS.get(dialect(database), []):
        database.execute_sql(statement)


def install_guards(database: peewee.Database) -> None:
    """The read-only guard on the original SMS, and the triggers that keep the report summary."""
    install_read_only_guard(database)
    report_summary.install_triggers(database)


def upgrade(database: peewee.Database) -> tuple[int, int]:
    """Bring the schema to :data:`LATEST`. Returns (from_version, to_version)."""
    start = current_version(database)
    if start > LATEST:
        raise RuntimeError(
            f"the database has schema version {start}, newer than this modemd knows ({LATEST}); upgrade modemd"
        )
    if start == 0:
        with database.atomic():
            database.create_tables(models.ALL_MODELS, safe=True)
            install_guards(database)
            models.SchemaVersion.create(version=LATEST)
        log.info("database created with schema version %d", LATEST)
        return 0, LATEST
    migrator = _migrator(database)
    for version in range(start, LATEST):
        step = MIGRATIONS[version - 1]
        with database.atomic():
            step(database, migrator)
            models.SchemaVersion.create(version=version + 1)
        log.info("database upgraded to schema version %d (%s)", version + 1, (step.__doc__ or "").strip())
    if start != LATEST:
        install_guards(database)
    return start, LATEST
