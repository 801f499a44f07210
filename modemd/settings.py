"""Typed, frozen views of the sections of ``modemd.ini``.

``config.sms.expiry`` instead of ``config.get("sms", "expiry")``: a misspelt
setting is an error when mypy runs (tests/test_typecheck.py), not a ``KeyError``
the first time the code path runs in production.

One source of truth. :data:`modemd.config.SCHEMA` alone says which keys exist,
their defaults, parsers and whether they are paths. The classes here only
declare each key's name and the type its parser returns, because mypy reads
declarations, not values computed at import: a dataclass built at run time from
SCHEMA (``make_dataclass``) would be ``Any`` to mypy and check nothing, and a
generated ``.pyi`` would be a second copy needing a generator step to keep in
step. tests/test_config.py asserts that every class's fields are exactly its
schema section's keys, in order, with the type its parser's return annotation
states, so the two cannot drift apart silently.

Paths (``Key(path=True)``) are resolved to :class:`~pathlib.Path` when set; a
path key whose default is empty stays ``""`` until set, hence ``Path | str``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import time as dtime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class ModemdSettings:
    """``[modemd]``"""

    database: str
    keywords: Path
    state_dir: Path
    log_level: str
    timezone: ZoneInfo
    run_on_receive: str
    run_on_receive_timeout: float


@dataclass(frozen=True)
class SmsSettings:
    """``[sms]``; durations in seconds."""

    validity: str | int
    status_report: bool
    reassembly_timeout: float
    deadline: float
    retry_intervals: list[float]
    max_attempts: int
    expiry: float
    autoreply_limit: int
    autoreply_window: float
    unknown_keyword_reply: str
    sender_id: str
    modem_rest_after: int
    modem_rest: float
    status_keyword: str
    status_reply: str
    status_answer_reply: str
    status_not_found: str
    status_help: str


@dataclass(frozen=True)
class WebSettings:
    """``[web]``"""

    listen: tuple[str, int]
    secret_key_file: Path
    base_url: str
    https: bool
    demo: bool
    language: str
    session_hours: int
    idle_minutes: int
    trusted_proxies: tuple
    title: str
    logo: Path | str
    public_listen: tuple[str, int] | None


@dataclass(frozen=True)
class NotifySettings:
    """``[notify]``; durations in seconds."""

    hourly: bool
    hourly_text: str
    daily: bool
    daily_time: dtime
    daily_text: str
    deadline_alert: bool
    deadline_text: str
    escalate_after: float
    escalate_text: str
    assign_text: str
    recap_time: dtime
    recap_numbers: list[str]
    recap_text: str
    office_hours: tuple[dtime, dtime] | None
    office_days: str
    quiet_hours: tuple[dtime, dtime] | None
    signature: str
    admin_numbers: list[str]
    verify_within: float
    answer_within: float
    flow_text: str


@dataclass(frozen=True)
class PrivacySettings:
    """``[privacy]``"""

    keep_days: int


@dataclass(frozen=True)
class ApiSettings:
    """``[api]``: the HTTP API under /api/v1 (webui/api) and the webhooks (modemd.webhooks; timeout in seconds)."""

    webhook_url: str
    webhook_secret: str
    webhook_timeout: float
    rate_limit: int
    rate_burst: int


@dataclass(frozen=True)
class ModemSettings:
    """One ``[modem:NAME]`` section as its schema types parse it (durations in seconds).

    ``validity`` and ``reassembly_timeout`` are the section's own overrides of
    ``[sms]``, ``""`` when not set.
    """

    driver: str
    device: str
    enabled: bool
    baudrate: str
    pin: str
    smsc: str
    init: str
    command_timeout: float
    send_timeout: float
    ussd_timeout: float
    sweep_interval: float
    storage: str
    rate_limit: int
    balance_ussd: str
    balance_every: float
    balance_low: int
    connection: str
    model: str
    gammu_log: Path | str
    send_delay: float
    failure_rate: float
    report_delay: float
    signal_dbm: int
    operator: str
    fail_numbers: str
    seed: str
    validity: str | int
    reassembly_timeout: float | str


#: the class of each schema section that has one ([routing] is a mapping, see Config.routing)
SECTIONS: dict[str, type] = {
    "modemd": ModemdSettings,
    "sms": SmsSettings,
    "web": WebSettings,
    "notify": NotifySettings,
    "privacy": PrivacySettings,
    "api": ApiSettings,
}

T = TypeVar("T")


def build(cls: type[T], values: dict[str, Any]) -> T:
    """The frozen section object of parsed ``values`` (a KeyError names a key the schema lacks)."""
    return cls(**{f.name: values[f.name] for f in fields(cls)})  # type: ignore[arg-type]
