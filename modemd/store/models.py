"""The database, shared by the daemon and the web UI (they talk only through it).

All times are stored as naive UTC (:func:`utcnow`); convert to the centre's
time zone only for display. States are words, checked by the database.

Changing a model means adding a migration in :mod:`modemd.store.migrations`
(and bumping nothing else): installed centres upgrade with ``modemd db upgrade``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import peewee
from peewee import (
    BooleanField,
    CharField,
    Check,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)
from werkzeug.security import check_password_hash, generate_password_hash

from modemd.states import BroadcastState, CaseStatus, FlowStage, OutboundState, PartState, WebhookState, words

if TYPE_CHECKING:
    from modemd.store.sqlcache import CompiledInsert

database_proxy = peewee.DatabaseProxy()
PASSWORD_METHOD = "scrypt"

ROLES = ("admin", "approver", "official", "operator")
CASE_STATUSES = words(CaseStatus)  # the state types and their moves: modemd.states
CATEGORIES = ("information", "complaint", "question", "suggestion", "invitation")
OUTBOUND_STATES = words(OutboundState)
OUTBOUND_KINDS = ("reply", "autoreply", "notification", "broadcast", "manual")
PART_STATES = words(PartState)
BROADCAST_STATES = words(BroadcastState)
WEBHOOK_STATES = words(WebhookState)
INBOUND_ROUTES = ("new", "case", "unrouted", "blocked", "unanswerable")
FLOWS = ("direct", "verified")  # keywords.ini flow: straight to the owner, or Muara Enim's verified flow
FLOW_STAGES = words(FlowStage)

# Lower number leaves first: replies and notifications before broadcasts.
PRIORITY = {"reply": 10, "notification": 10, "autoreply": 20, "manual": 20, "broadcast": 50}


def utcnow() -> datetime:
    """Naive UTC now, the form every DateTimeField holds."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_utc_naive(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _in(field: str, values: tuple[str, ...]) -> Check:
    quoted = ", ".join(f"'{v}'" for v in values)
    return Check(f"{field} IN ({quoted})")


class BaseModel(peewee.Model):
    class Meta:
        database = database_proxy
        legacy_table_names = False


class SchemaVersion(BaseModel):
    version = IntegerField()
    applied_at = DateTimeField(default=utcnow)


# --------------------------------------------------------------------------
# People


class User(BaseModel):
    login = CharField(max_length=64, unique=True)
    name = CharField(max_length=128, default="")
    role = CharField(max_length=16, constraints=[_in("role", ROLES)])
    phone = CharField(max_length=20, null=True)  # the one notification number, E.164
    sender_id = CharField(max_length=8, default="")  # appended to replies, e.g. "-DISHUB"
    agency = CharField(max_length=128, default="")  # an operator's agency (verified flow); "" = any agency
    password_hash = CharField(max_length=255, default="")
    active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)
    last_login_at = DateTimeField(null=True)
    # no longer read: web sessions are WebSession rows since schema v9 (kept, so no column is dropped)
    session_token = CharField(max_length=32, default="")

    def set_password(self, password: str) -> None:
        import secrets

        self.password_hash = generate_password_hash(password, method=PASSWORD_METHOD)
        self.session_token = secrets.token_hex(16)

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    @classmethod
    def by_login(cls, login: str) -> User | None:
        return cls.get_or_none(cls.login == login)


class WebSession(BaseModel):
    """One login in the web UI. The cookie carries a secret; the row keeps only its SHA-256, so a copy of
    the database opens no session. Logout, the idle timeout and the absolute lifetime set ``ended_at``."""

    key_hash = CharField(max_length=64, unique=True)
    user = ForeignKeyField(User, backref="web_sessions", on_delete="CASCADE")
    created_at = DateTimeField(default=utcnow)
    last_seen_at = DateTimeField(default=utcnow)
    ended_at = DateTimeField(null=True, index=True)
    address = CharField(max_length=64, default="")

    @classmethod
    def end_all(cls, user: User, now: datetime | None = None) -> int:
        """End every open session of ``user`` (password changed, account disabled)."""
        return cls.update(ended_at=now or utcnow()).where((cls.user == user.id) & cls.ended_at.is_null()).execute()


class Contact(BaseModel):
    name = CharField(max_length=128)
    phone = CharField(max_length=20, unique=True)  # E.164
    position = CharField(max_length=128, default="")  # jabatan / agency
    active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)


class ContactGroup(BaseModel):
    name = CharField(max_length=64, unique=True)
    description = CharField(max_length=255, default="")


class GroupMember(BaseModel):
    group = ForeignKeyField(ContactGroup, backref="members", on_delete="CASCADE")
    contact = ForeignKeyField(Contact, backref="memberships", on_delete="CASCADE")

    class Meta:
        indexes = ((("group", "contact"), True),)


class BlockedNumber(BaseModel):
    phone = CharField(max_length=32, unique=True)  # E.164, or the sender as received
    reason = CharField(max_length=255, default="")
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)


# --------------------------------------------------------------------------
# Inbound


class Case(BaseModel):
    """The routed unit an official works on: one citizen, one keyword, a conversation."""

    keyword = CharField(max_length=20, null=True, index=True)  # NULL = unrouted
    owner = ForeignKeyField(User, null=True, backref="cases", on_delete="SET NULL")
    citizen = CharField(max_length=32, index=True)  # E.164
    status = CharField(max_length=16, default=CaseStatus.OPEN, constraints=[_in("status", CASE_STATUSES)])
    category = CharField(
        max_length=16,
        null=True,
        constraints=[
            Check(
                "category IS NULL OR category IN ('information', 'complaint', 'question', 'suggestion', 'invitation')"
            )
        ],
    )
    opened_at = DateTimeField(default=utcnow)
    deadline_at = DateTimeField()
    last_message_at = DateTimeField(default=utcnow)
    # the first reply the network took (state sent or delivered): what "answered" and "on time" mean
    answered_at = DateTimeField(null=True)
    replied_at = DateTimeField(null=True)  # when an official first wrote a reply (accountability)
    reply_failed_at = DateTimeField(null=True)  # the case's reply failed and nothing reached the citizen since
    closed_at = DateTimeField(null=True)
    # the flow the case was opened with (a keyword changed to verified later does not change it) and,
    # for a verified case, its stage, the agency handling it and the due time of the stage (schema v12)
    flow = CharField(max_length=16, default="direct", constraints=[_in("flow", FLOWS)])
    stage = CharField(
        max_length=16,
        null=True,
        constraints=[Check("stage IS NULL OR stage IN (" + ", ".join(f"'{w}'" for w in FLOW_STAGES) + ")")],
    )
    agency = CharField(max_length=128, default="")
    stage_due_at = DateTimeField(null=True)

    class Meta:
        indexes = (
            (("owner", "status", "deadline_at"), False),
            (("stage", "stage_due_at"), False),  # the central admin's queues, the step reminders
            (("keyword", "status", "deadline_at"), False),  # an official's open cases, counted from the index alone
            (("status", "deadline_at"), False),
            (("citizen", "keyword", "status"), False),
            (("opened_at",), False),
            # the API's case list: keyset pages in order of the last SMS, for everyone, a keyword, an owner, a state
            (("last_message_at", "id"), False),
            (("keyword", "last_message_at", "id"), False),
            (("owner", "last_message_at", "id"), False),
            (("status", "last_message_at", "id"), False),
            # the report's repeat senders as an official sees them: the two halves of the visibility rule
            # (webui.access) found from these alone, not each case read (schema v14)
            (("keyword", "flow"), False),
            (("owner", "keyword", "flow"), False),
        )


class InboundMessage(BaseModel):
    """A received SMS exactly as it arrived. ``text``, ``pdus`` and ``sender_raw`` are never updated,
    except by the privacy purge of the sender (:mod:`modemd.jobs.privacy`), the one change the database allows."""

    modem = CharField(max_length=32)
    sender_raw = CharField(max_length=64)
    sender = CharField(max_length=64, index=True)  # E.164 when a number, else as received
    sender_kind = CharField(max_length=16, default="number")  # number | shortcode | alphanumeric
    text = TextField()
    pdus = TextField(default="[]")  # JSON list of hex PDUs
    smsc_time = DateTimeField(null=True)  # UTC
    received_at = DateTimeField(default=utcnow, index=True)
    parts_total = IntegerField(default=1)
    parts_received = IntegerField(default=1)
    incomplete = BooleanField(default=False)
    decode_error = TextField(null=True)
    # where the modem held it (SIM index, spool file): a crash repeat comes back from the same place,
    # a citizen's second identical SMS from another one
    sim_slot = CharField(max_length=255, default="")
    # routing result, written once after the message is safely stored
    route = CharField(max_length=16, default="new", constraints=[_in("route", INBOUND_ROUTES)])
    keyword = CharField(max_length=20, null=True)
    case = ForeignKeyField(Case, null=True, backref="messages", on_delete="SET NULL")

    class Meta:
        indexes = (
            (("route",), False),
            (("sender_kind", "id"), False),  # the operators' own messages (short codes, names), newest first
            # the report's repeat senders: each number's SMS in a period, read from this index alone (v14)
            (("sender_kind", "sender", "received_at", "case"), False),
        )

    @property
    def pdu_list(self) -> list[str]:
        return json.loads(self.pdus or "[]")


class CaseStep(BaseModel):
    """One step of a verified case: who moved it there and when, until when it stayed, and what was said.

    ``seconds`` is written when the step ends (``left_at - entered_at``), so the
    time per step is a plain integer every database can take a median of.
    ``note`` holds the step's words: the rejection reason, the operator's
    answer (a ``review`` step), the note an answer was returned with.
    """

    case = ForeignKeyField(Case, backref="steps", on_delete="CASCADE")
    stage = CharField(max_length=16, constraints=[_in("stage", FLOW_STAGES)])
    agency = CharField(max_length=128, default="")
    operator = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    actor = CharField(max_length=64)  # who moved the case into this step (a login, or "daemon")
    entered_at = DateTimeField(default=utcnow)
    due_at = DateTimeField(null=True)
    left_at = DateTimeField(null=True)
    left_by = CharField(max_length=64, default="")
    seconds = IntegerField(null=True)
    note = TextField(default="")

    class Meta:
        indexes = (
            (("case", "left_at"), False),  # a case's running step
            (("left_at",), False),  # the steps ended in a period (modemd.cases.flow_durations)
        )


class CaseNote(BaseModel):
    """An internal note on a case; never sent to the citizen."""

    case = ForeignKeyField(Case, backref="notes", on_delete="CASCADE")
    author = ForeignKeyField(User, null=True, on_delete="SET NULL")
    text = TextField()
    created_at = DateTimeField(default=utcnow)


# --------------------------------------------------------------------------
# Outbound


class Broadcast(BaseModel):
    title = CharField(max_length=128, default="")
    text = TextField()
    category = CharField(max_length=16, default="information")
    created_by = ForeignKeyField(User, backref="broadcasts", on_delete="RESTRICT")
    created_at = DateTimeField(default=utcnow)
    send_at = DateTimeField(null=True)  # UTC; NULL = as soon as approved
    state = CharField(max_length=16, default=BroadcastState.DRAFT, constraints=[_in("state", BROADCAST_STATES)])
    approved_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    approved_at = DateTimeField(null=True)
    rejected_reason = TextField(null=True)
    text_sha256 = CharField(max_length=64, default="")  # the approved wording, to prove it did not change
    recipient_count = IntegerField(default=0)
    parts_per_recipient = IntegerField(default=1)
    queued_at = DateTimeField(null=True)


class BroadcastTarget(BaseModel):
    """What the author picked: groups and single contacts (recipients are resolved at approval)."""

    broadcast = ForeignKeyField(Broadcast, backref="targets", on_delete="CASCADE")
    group = ForeignKeyField(ContactGroup, null=True, on_delete="CASCADE")
    contact = ForeignKeyField(Contact, null=True, on_delete="CASCADE")


class Template(BaseModel):
    name = CharField(max_length=64, unique=True)
    text = TextField()
    created_at = DateTimeField(default=utcnow)


class OutboundMessage(BaseModel):
    """One SMS to one recipient (a long text is one row with several parts)."""

    recipient = CharField(max_length=20, index=True)  # E.164
    text = TextField()
    kind = CharField(max_length=16, constraints=[_in("kind", OUTBOUND_KINDS)])
    priority = IntegerField(default=20)
    state = CharField(max_length=16, default=OutboundState.PENDING, constraints=[_in("state", OUTBOUND_STATES)])
    failure_reason = TextField(null=True)
    failure_code = IntegerField(null=True)  # the +CMS ERROR cause of the last failed attempt (drivers/causes.py)
    attempts = IntegerField(default=0)
    max_attempts = IntegerField(default=4)
    next_attempt_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)
    sent_at = DateTimeField(null=True)
    delivered_at = DateTimeField(null=True)
    parts = IntegerField(default=1)
    encoding = CharField(max_length=8, default="gsm7")
    status_report = BooleanField(default=True)
    modem = CharField(max_length=32, null=True)  # the modem that sent it (or is sending it)
    preferred_modem = CharField(max_length=32, null=True)  # `modemd send --modem`
    claimed_by = CharField(max_length=64, null=True)  # daemon instance holding it in "sending"
    claimed_at = DateTimeField(null=True)
    # set on restart when a row was "sending" at a crash: the modem may have sent it
    doubt = BooleanField(default=False)
    case = ForeignKeyField(Case, null=True, backref="replies", on_delete="SET NULL")
    broadcast = ForeignKeyField(Broadcast, null=True, backref="recipients", on_delete="CASCADE")
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")

    class Meta:
        indexes = (
            (("state", "priority", "next_attempt_at"), False),
            (("broadcast", "recipient"), True),  # one SMS per number per broadcast (NULLs do not collide)
            (("recipient", "kind", "created_at"), False),
        )


class OutboundPart(BaseModel):
    """One sent part and its message reference, to match status reports."""

    message = ForeignKeyField(OutboundMessage, backref="part_rows", on_delete="CASCADE")
    sequence = IntegerField()
    modem = CharField(max_length=32)
    reference = IntegerField()  # TP-MR 0..255, wraps: match with modem, recipient and time
    recipient = CharField(max_length=20)
    state = CharField(max_length=16, default=PartState.SENT, constraints=[_in("state", PART_STATES)])
    status_code = IntegerField(null=True)
    sent_at = DateTimeField(default=utcnow)
    delivered_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("modem", "reference", "recipient", "sent_at"), False),)


class DeliveryReport(BaseModel):
    modem = CharField(max_length=32)
    reference = IntegerField()
    recipient = CharField(max_length=32)
    status_code = IntegerField()
    delivered = BooleanField()
    final = BooleanField(default=True)
    smsc_time = DateTimeField(null=True)  # UTC
    discharge_time = DateTimeField(null=True)  # UTC
    received_at = DateTimeField(default=utcnow)
    part = ForeignKeyField(OutboundPart, null=True, backref="reports", on_delete="SET NULL")
    pdu = TextField(default="")


class Publication(BaseModel):
    """A question and its answer as published on the public page: a reviewed snapshot.

    See :mod:`modemd.cases.publications`.

    The texts are the published wording (perhaps edited); ``question`` and
    ``answer`` point to the originals, which never change. Later SMS of the
    case are never added. Withdrawn rows stay, for the record.
    """

    case = ForeignKeyField(Case, backref="publications", on_delete="CASCADE")
    question = ForeignKeyField(InboundMessage, null=True, backref="+", on_delete="SET NULL")
    answer = ForeignKeyField(OutboundMessage, null=True, backref="+", on_delete="SET NULL")
    question_text = TextField()
    answer_text = TextField()
    keyword = CharField(max_length=20, null=True)
    citizen_masked = CharField(max_length=32)  # only the masked number is ever stored for the public
    asked_at = DateTimeField()
    published_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    published_at = DateTimeField(default=utcnow)
    withdrawn_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    withdrawn_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("withdrawn_at", "id"), False),)  # the public page: live rows, newest first


# --------------------------------------------------------------------------
# Webhooks (modemd.webhooks)


class WebhookDelivery(BaseModel):
    """One event for one endpoint: queued in the transaction of the change, posted by the daemon.

    ``body`` is the JSON posted, fixed when the event happened (the same
    ``event_id`` for every endpoint of one event). ``endpoint`` names where the
    address and secret are configured (``api`` or ``keyword:DISHUB``): they are
    read from the configuration at each attempt, never stored.
    """

    event_id = CharField(max_length=36)
    event = CharField(max_length=32)  # case.opened, case.message, reply.state, broadcast.done
    endpoint = CharField(max_length=64)
    url = CharField(max_length=1024)  # the address of the last attempt (or when queued), for people
    body = TextField()
    state = CharField(max_length=16, default=WebhookState.PENDING, constraints=[_in("state", WEBHOOK_STATES)])
    attempts = IntegerField(default=0)
    created_at = DateTimeField(default=utcnow)
    next_attempt_at = DateTimeField(default=utcnow)
    give_up_at = DateTimeField()  # 24 h after the event (or after a retry by hand)
    last_attempt_at = DateTimeField(null=True)
    delivered_at = DateTimeField(null=True)
    last_error = TextField(null=True)  # the last failed attempt, in plain words

    class Meta:
        indexes = (
            (("state", "next_attempt_at"), False),  # the daemon: what is due
            (("endpoint", "state", "next_attempt_at"), False),  # one endpoint's lane
        )


class WebhookAttempt(BaseModel):
    """One POST of a delivery: when, what came back (status code or error) and how long it took."""

    delivery = ForeignKeyField(WebhookDelivery, backref="attempt_rows", on_delete="CASCADE")
    at = DateTimeField(default=utcnow)
    url = CharField(max_length=1024)
    status_code = IntegerField(null=True)  # the HTTP status, None when no answer came
    error = TextField(null=True)  # why it failed, None when it succeeded
    duration_ms = IntegerField(default=0)


# --------------------------------------------------------------------------
# Running state, scheduling, audit


class ModemStatus(BaseModel):
    """Each modem's health as the daemon last saw it, for the web UI and `modemd status`."""

    name = CharField(max_length=32, unique=True)
    driver = CharField(max_length=16, default="")
    state = CharField(max_length=16, default="starting")  # starting | ready | resting | absent | error
    manufacturer = CharField(max_length=64, default="")
    model = CharField(max_length=64, default="")
    imei = CharField(max_length=32, default="")
    operator = CharField(max_length=64, default="")
    signal_dbm = IntegerField(null=True)
    registration = CharField(max_length=20, default="unknown")
    last_contact = DateTimeField(null=True)
    errors = IntegerField(default=0)  # consecutive errors
    last_error = TextField(null=True)
    sent_total = IntegerField(default=0)
    received_total = IntegerField(default=0)
    storage_used = IntegerField(null=True)
    storage_total = IntegerField(null=True)
    balance = TextField(null=True)  # the operator's answer to balance_ussd, as it came
    balance_at = DateTimeField(null=True)  # when it was read
    balance_warning = CharField(max_length=32, null=True)  # problems warned about, see modemd.jobs.balance
    queue_depth = IntegerField(default=0)  # pending messages this modem may send now
    updated_at = DateTimeField(default=utcnow)


class DaemonState(BaseModel):
    """Small key/value facts the daemon publishes (keyword table, heartbeat) or is asked for (reload)."""

    key = CharField(max_length=64, unique=True)
    value = TextField(default="")
    updated_at = DateTimeField(default=utcnow)

    @classmethod
    def put(cls, key: str, value: str) -> None:
        now = utcnow()
        # MySQL's ON DUPLICATE KEY UPDATE takes no conflict target; the others need one
        target = [] if isinstance(cls._meta.database.obj, peewee.MySQLDatabase) else [cls.key]
        (
            cls.insert(key=key, value=value, updated_at=now)
            .on_conflict(conflict_target=target, preserve=[cls.value, cls.updated_at])
            .execute()
        )

    @classmethod
    def read(cls, key: str, default: str | None = None) -> str | None:
        row = cls.get_or_none(cls.key == key)
        return row.value if row else default


class NotificationSent(BaseModel):
    """One row per (job, period, target): a reminder goes out exactly once per period, across restarts."""

    job = CharField(max_length=32)
    period = CharField(max_length=32)  # e.g. "2026-11-23T14" or "2026-11-23"
    target = CharField(max_length=64)  # user login, case id or number
    created_at = DateTimeField(default=utcnow)
    message = ForeignKeyField(OutboundMessage, null=True, on_delete="SET NULL")

    class Meta:
        indexes = ((("job", "period", "target"), True),)


class ApiToken(BaseModel):
    """A key for another system to use the HTTP API as ``user``, limited to ``scopes``
    (:mod:`modemd.apitokens`). Only the SHA-256 of the secret is kept: it is shown once, at creation."""

    name = CharField(max_length=64, unique=True)
    token_hash = CharField(max_length=64, unique=True)
    prefix = CharField(max_length=12)  # the secret's first characters, to tell tokens apart in lists
    user = ForeignKeyField(User, backref="api_tokens", on_delete="CASCADE")
    scopes = CharField(max_length=255)  # comma-separated, see modemd.apitokens.SCOPES
    created_by = CharField(max_length=64, default="")
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField(null=True)
    revoked_at = DateTimeField(null=True)
    last_used_at = DateTimeField(null=True)
    last_address = CharField(max_length=64, default="")


class ApiIdempotency(BaseModel):
    """The answer given to a request with an ``Idempotency-Key``: a retry gets it again instead of a second SMS."""

    token = ForeignKeyField(ApiToken, backref="+", on_delete="CASCADE")
    key = CharField(max_length=128)
    request_hash = CharField(max_length=64)  # method, path and body: the same key with another body is refused
    status = IntegerField()
    response = TextField()
    created_at = DateTimeField(default=utcnow, index=True)

    class Meta:
        indexes = ((("token", "key"), True),)


class AuditLog(BaseModel):
    at = DateTimeField(default=utcnow, index=True)
    actor = CharField(max_length=64)  # a login, or "daemon", "cli"
    action = CharField(max_length=64)
    object_type = CharField(max_length=32, default="")
    object_id = CharField(max_length=64, default="")
    detail = TextField(default="{}")  # JSON

    class Meta:
        indexes = ((("object_type", "object_id"), False),)


class ReportHour(BaseModel):
    """The report's counts per UTC hour and case "segment", kept by database triggers (schema v14).

    What :mod:`modemd.reports.figures` would otherwise count over a year of
    SMS and cases at every first look (:mod:`modemd.store.report_summary` has
    the triggers, the rebuild and the rules). Each row counts, for one UTC hour
    and one segment (the current keyword, category, flow and owner of the
    cases; ``''`` and ``0`` stand for none, so the unique key has no NULL):
    SMS received in the hour, cases opened in it and how they stand *now*,
    and failed replies written in it. ``settle_max`` is an upper bound of the
    latest time at which a case of the row can still change class (its answer,
    else its deadline while it is not closed): a report as known at an earlier
    time recounts that hour from the cases.
    """

    hour = DateTimeField()  # naive UTC, whole hour
    keyword = CharField(max_length=20, default="")
    category = CharField(max_length=16, default="")
    flow = CharField(max_length=16, default="")  # '' : SMS with no case
    owner = IntegerField(default=0)
    received = IntegerField(default=0)
    opened = IntegerField(default=0)
    answered = IntegerField(default=0)
    within = IntegerField(default=0)
    late = IntegerField(default=0)
    still_open = IntegerField(default=0)
    replies_failed = IntegerField(default=0)
    class0 = IntegerField(default=0)
    class1 = IntegerField(default=0)
    class2 = IntegerField(default=0)
    class3 = IntegerField(default=0)
    class4 = IntegerField(default=0)
    class5 = IntegerField(default=0)
    class6 = IntegerField(default=0)
    settle_max = DateTimeField(null=True)

    class Meta:
        indexes = ((("hour", "keyword", "category", "flow", "owner"), True),)


# A report reads a period's rows from this index alone, in order of the hour: the rows themselves lie in the
# order they were first counted (a late answer, a re-assignment), and reading them there took seconds at 1 M SMS.
ReportHour.add_index(
    ReportHour.index(
        *(getattr(ReportHour, name) for name in ("hour", "keyword", "category", "flow", "owner", "settle_max")),
        *(getattr(ReportHour, name) for name in ("received", "replies_failed", "opened", "answered", "within")),
        *(getattr(ReportHour, name) for name in ("late", "still_open", *(f"class{n}" for n in range(7)))),
        name="report_hour_read",
    )
)


class ReportAnswer(BaseModel):
    """Each answered case's time to answer, with its segment: the report's median and 90th percentile read
    this (one index, in order of the time) instead of sorting a year of cases. Kept by the same triggers
    as :class:`ReportHour` (schema v14)."""

    case_id = IntegerField(unique=True)
    seconds = IntegerField()  # as modemd.reports.sqltime.seconds_between(opened_at, answered_at)
    opened_at = DateTimeField()
    answered_at = DateTimeField()
    keyword = CharField(max_length=20, default="")
    category = CharField(max_length=16, default="")
    flow = CharField(max_length=16, default="")
    owner = IntegerField(default=0)

    class Meta:
        # covering: a percentile is found by walking this index alone
        indexes = ((("seconds", "opened_at", "answered_at", "keyword", "category", "flow", "owner"), False),)


_insert_audit: CompiledInsert | None = None


def audit(actor: str, action: str, obj: BaseModel | None = None, **detail) -> AuditLog:
    """Record who did what to which object, and when."""
    global _insert_audit
    if _insert_audit is None:  # every API write audits: its INSERT compiled once (sqlcache imports this module)
        from modemd.store.sqlcache import CompiledInsert

        _insert_audit = CompiledInsert(AuditLog)
    values = {
        "at": utcnow(),
        "actor": actor,
        "action": action,
        "object_type": type(obj).__name__.lower() if obj is not None else "",
        "object_id": str(obj.get_id()) if obj is not None else "",
        "detail": json.dumps(detail, ensure_ascii=False, default=str),
    }
    return AuditLog(id=_insert_audit.execute(values), **values)


ALL_MODELS: list[type[BaseModel]] = [
    SchemaVersion,
    User,
    WebSession,
    Contact,
    ContactGroup,
    GroupMember,
    BlockedNumber,
    Case,
    InboundMessage,
    CaseStep,
    CaseNote,
    Broadcast,
    BroadcastTarget,
    Template,
    OutboundMessage,
    OutboundPart,
    DeliveryReport,
    Publication,
    ModemStatus,
    DaemonState,
    NotificationSent,
    ApiToken,
    ApiIdempotency,
    AuditLog,
    WebhookDelivery,
    WebhookAttempt,
    ReportHour,
    ReportAnswer,
]
