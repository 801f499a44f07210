"""What each scheduled notification sends, as plain functions of (now, config, keywords).

Banjarnegara Pasal 12 (2) and 13: officials get an hourly SMS when new
messages reached their inbox, a daily SMS when messages of the day are still
unanswered, an alert when a case passes its deadline (and, later, the admins
and approvers do); the leadership gets a daily recap (Muara Enim Pasal 3 (2)).

Exactly once per period: each notification is recorded in
:class:`~modemd.store.models.NotificationSent` (unique job, period, target) in the
same transaction as the ``enqueue`` of its SMS. Every pass works out the
*latest* period that is due at ``now`` and sends whatever of it is not
recorded yet, so running a pass twice, after a restart or after a long
downtime sends each period at most once, and a downtime is caught up with
one SMS, never a burst of stale ones.

``now`` is naive UTC; periods are labelled in the centre's local time
(``2026-11-23T14`` for an hour, ``2026-11-23`` for a day, ``case-42`` for a
case). The scheduler (:mod:`modemd.jobs.scheduler`) only decides *when* to call.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import peewee
from peewee import fn

from modemd.config import Config, weekdays
from modemd.jobs.recap import daily_recap, fill, sms_text
from modemd.send import outqueue
from modemd.sms import phone
from modemd.states import CaseStatus
from modemd.store.models import Case, InboundMessage, NotificationSent, User, database_proxy

log = logging.getLogger("modemd.notify")

HOURLY, DAILY, DEADLINE, ESCALATE, RECAP = "hourly", "daily", "deadline", "escalate", "recap"
JOBS = (HOURLY, DAILY, DEADLINE, ESCALATE, RECAP)
# not scheduled: sent when an administrator re-assigns a case (modemd.cases.assignment)
ASSIGN = "assign"
# run with the deadlines: a step of the verified flow past its due time (modemd.jobs.flow_reminders)
FLOW_STEP = "flow_step"

# A job that runs this late after its clock time is a catch-up, not the asked-for send: it obeys quiet hours.
ON_TIME = timedelta(minutes=15)
# Cases whose deadline passed longer ago than this are not alerted any more (a fresh install, a long outage):
# the daily reminder and the recap still count them.
DEADLINE_LOOKBACK = timedelta(days=3)
# A notification not sent within this time is stale: the queue lets it fail (it expires).
STALE_AFTER = {
    HOURLY: timedelta(hours=1),
    DAILY: timedelta(hours=3),
    DEADLINE: timedelta(hours=1),
    ESCALATE: timedelta(hours=2),
    RECAP: timedelta(hours=12),
    ASSIGN: timedelta(hours=1),
    FLOW_STEP: timedelta(hours=1),
}
# One alert SMS names at most this many case numbers, then "dan N lainnya".
CASES_PER_ALERT = 5
# Notifications recorded per transaction: one commit (one fsync) per chunk, a savepoint per SMS.
CHUNK = 200


# --------------------------------------------------------------------------
# Office hours, office days, quiet hours


def parse_days(text: str) -> frozenset[int]:
    """``[notify] office_days`` -> weekday numbers (Monday 0); see :func:`modemd.config.weekdays`."""
    return weekdays(text)


def in_range(moment: time, span: tuple[time, time] | None) -> bool:
    """Whether a clock time lies in ``start-end`` (both ends included; a span may wrap past midnight)."""
    if span is None:
        return True
    start, end = span
    if start <= end:
        return start <= moment <= end
    return moment >= start or moment <= end


def local_time(now: datetime, zone: ZoneInfo) -> datetime:
    """Naive UTC -> aware local time of the centre."""
    return now.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone)


def to_utc(moment: datetime) -> datetime:
    """Aware local time -> naive UTC."""
    return moment.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


@dataclass(frozen=True)
class Hours:
    """The [notify] office hours, office days and quiet hours."""

    office_hours: tuple[time, time] | None
    office_days: frozenset[int]
    quiet_hours: tuple[time, time] | None

    @classmethod
    def from_config(cls, config: Config) -> Hours:
        return cls(config.notify.office_hours, parse_days(config.notify.office_days), config.notify.quiet_hours)

    def quiet(self, moment: datetime) -> bool:
        return self.quiet_hours is not None and in_range(moment.time().replace(tzinfo=None), self.quiet_hours)

    def office_day(self, moment: datetime) -> bool:
        return moment.weekday() in self.office_days

    def may_remind(self, moment: datetime) -> bool:
        """A reminder may go out at this local time: an office day, in office hours, not in quiet hours."""
        return (
            self.office_day(moment)
            and in_range(moment.time().replace(tzinfo=None), self.office_hours)
            and not self.quiet(moment)
        )


# --------------------------------------------------------------------------
# Recording and queueing, exactly once


@dataclass
class Planned:
    """One notification SMS and the (job, period, target) keys it settles."""

    recipient: str
    text: str
    keys: list[tuple[str, str, str]]


@dataclass
class Outcome:
    """What a pass did, for logs and tests."""

    job: str
    period: str = ""
    queued: list[int] = field(default_factory=list)  # OutboundMessage ids
    skipped: str = ""  # why nothing was due, if so

    def __bool__(self) -> bool:
        return bool(self.queued)


def already_sent(job: str, periods: list[str]) -> set[tuple[str, str]]:
    """(period, target) pairs of ``job`` already recorded."""
    found: set[tuple[str, str]] = set()
    for start in range(0, len(periods), 500):
        chunk = periods[start : start + 500]
        query = (
            NotificationSent.select(NotificationSent.period, NotificationSent.target)
            .where(NotificationSent.job == job, NotificationSent.period.in_(chunk))
            .tuples()
        )
        found.update(query)
    return found


def _shorten_expiry(message, job: str) -> None:
    """A reminder the modem could not send in time fails instead of arriving stale (or in a burst
    with the next ones after a long modem outage)."""
    latest = message.created_at + STALE_AFTER[job]
    if message.expires_at is None or message.expires_at > latest:
        message.expires_at = latest
        message.save(only=[type(message).expires_at])


def deliver(plans: list[Planned], config: Config) -> list[int]:
    """Queue each planned SMS and record its keys in one transaction; a key already recorded skips that SMS.

    Chunks of plans share a transaction (one commit); each plan has a savepoint,
    so a key recorded meanwhile by another process (unique index) or a bad
    phone number drops that plan only.
    """
    queued: list[int] = []
    for start in range(0, len(plans), CHUNK):
        with database_proxy.atomic():
            for plan in plans[start : start + CHUNK]:
                try:
                    with database_proxy.atomic():
                        message = outqueue.enqueue(plan.recipient, plan.text, "notification", config=config)
                        _shorten_expiry(message, plan.keys[0][0])
                        NotificationSent.insert_many(
                            [{"job": j, "period": p, "target": t, "message": message.id} for j, p, t in plan.keys]
                        ).execute()
                except peewee.IntegrityError:
                    log.info("notification %s already recorded by another process, not sent again", plan.keys[0])
                    continue
                except (phone.InvalidNumber, outqueue.EmptyMessage) as exc:
                    log.warning("notification %s not queued: %s", plan.keys[0], exc)
                    continue
                queued.append(message.id)
        outqueue.notify()  # enqueue woke the dispatcher before the commit; wake it again now the rows are visible
    return queued


# --------------------------------------------------------------------------
# Small helpers


def _url(config: Config) -> str:
    return config.web.base_url.rstrip("/")


# The web UI's page of one case (webui/cases.py): a deadline alert about one case opens it directly.
CASE_PATH = "/cases/{id}"


def case_url(config: Config, ids: list[int]) -> str:
    base = _url(config)
    return base + CASE_PATH.format(id=ids[0]) if base and len(ids) == 1 else base


def _keyword_list(words) -> str:
    names = sorted({w for w in words if w})
    return ", ".join(names) if names else "-"


def _duration_text(seconds: float) -> str:
    """Indonesian: 5400 -> "1 jam 30 menit"."""
    minutes = int(round(seconds / 60))
    hours, minutes = divmod(minutes, 60)
    parts = ([f"{hours} jam"] if hours else []) + ([f"{minutes} menit"] if minutes or not hours else [])
    return " ".join(parts)


def _case_list(ids: list[int]) -> str:
    shown = ", ".join(str(i) for i in ids[:CASES_PER_ALERT])
    rest = len(ids) - CASES_PER_ALERT
    return f"{shown} dan {rest} lainnya" if rest > 0 else shown


def clean(text: str) -> str:
    """An empty {url} must not leave a dangling "Buka" with double spaces."""
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def _recipients(users) -> dict[int, User]:
    return {u.id: u for u in users if u.active and u.phone}


def _latest_daily_slot(local_now: datetime, clock: time) -> datetime:
    slot = local_now.replace(hour=clock.hour, minute=clock.minute, second=0, microsecond=0)
    return slot if slot <= local_now else slot - timedelta(days=1)


# --------------------------------------------------------------------------
# Hourly: new messages in an official's inbox


def _previous_allowed_hour(slot: datetime, hours: Hours) -> datetime:
    """The hourly slot before ``slot`` at which a reminder could go out (so the first one in the morning
    covers the night). At most 8 days back."""
    candidate = slot - timedelta(hours=1)
    for _ in range(24 * 8):
        if hours.may_remind(candidate):
            return candidate
        candidate -= timedelta(hours=1)
    return slot - timedelta(hours=1)


def hourly(now: datetime, config: Config, keywords=None) -> Outcome:
    """SMS each official whose inbox got messages since the previous hourly slot."""
    outcome = Outcome(HOURLY)
    if not config.notify.hourly:
        outcome.skipped = "disabled"
        return outcome
    zone = config.timezone
    hours = Hours.from_config(config)
    local_now = local_time(now, zone)
    slot = local_now.replace(minute=0, second=0, microsecond=0)
    outcome.period = slot.strftime("%Y-%m-%dT%H")
    if not hours.may_remind(slot) or hours.quiet(local_now):
        outcome.skipped = "outside office hours"
        return outcome
    start, end = to_utc(_previous_allowed_hour(slot, hours)), to_utc(slot)
    outcome.queued = _notify_owners(
        outcome,
        config.notify.hourly_text,
        config,
        (InboundMessage.received_at >= start) & (InboundMessage.received_at < end),
    )
    return outcome


def _notify_owners(outcome: Outcome, template: str, config: Config, condition) -> list[int]:
    """One SMS per official whose cases have messages matching ``condition``: how many, which keywords.

    Officials already notified for ``outcome.period`` are skipped (exactly once per period).
    """
    counts: dict[int, int] = defaultdict(int)
    words: dict[int, set[str]] = defaultdict(set)
    rows = (
        InboundMessage.select(Case.owner, Case.keyword, fn.COUNT(InboundMessage.id))
        .join(Case)
        .where(condition, Case.owner.is_null(False))
        .group_by(Case.owner, Case.keyword)
        .tuples()
    )
    for owner_id, keyword, count in rows:
        counts[owner_id] += count
        words[owner_id].add(keyword)
    if not counts:
        return []
    users = _recipients(User.select().where(User.id.in_(list(counts))))
    done = {target for _, target in already_sent(outcome.job, [outcome.period])}
    plans = [
        Planned(
            user.phone,
            clean(fill(template, count=counts[uid], keywords=_keyword_list(words[uid]), url=_url(config))),
            [(outcome.job, outcome.period, user.login)],
        )
        for uid, user in sorted(users.items())
        if user.login not in done
    ]
    return deliver(plans, config)


# --------------------------------------------------------------------------
# Daily: messages of the day still unanswered


def unanswered_messages():
    """A condition on InboundMessage joined to Case: the case is open and has no reply since this message."""
    return (Case.status == CaseStatus.OPEN) & (
        Case.answered_at.is_null() | (Case.answered_at < InboundMessage.received_at)
    )


def daily(now: datetime, config: Config, keywords=None) -> Outcome:
    """At ``daily_time``: SMS each official who still has unanswered messages from that day."""
    outcome = Outcome(DAILY)
    if not config.notify.daily:
        outcome.skipped = "disabled"
        return outcome
    zone = config.timezone
    hours = Hours.from_config(config)
    local_now = local_time(now, zone)
    slot = _latest_daily_slot(local_now, config.notify.daily_time)
    outcome.period = slot.date().isoformat()
    if not hours.office_day(slot):
        outcome.skipped = "not an office day"
        return outcome
    if local_now - slot > ON_TIME and not hours.may_remind(local_now):
        outcome.skipped = "late catch-up waits for office hours"
        return outcome
    day_start = to_utc(slot.replace(hour=0, minute=0))
    outcome.queued = _notify_owners(
        outcome,
        config.notify.daily_text,
        config,
        (InboundMessage.received_at >= day_start) & (InboundMessage.received_at < to_utc(slot)) & unanswered_messages(),
    )
    return outcome


# --------------------------------------------------------------------------
# Deadlines: the owner when a case passes its deadline unanswered; later the admins and approvers


def _overdue_cases(now: datetime) -> list[tuple[int, str | None, int | None, datetime]]:
    """(id, keyword, owner id, deadline) of open, unanswered cases past their deadline, oldest first."""
    return list(
        Case.select(Case.id, Case.keyword, Case.owner, Case.deadline_at)
        .where(
            Case.status == CaseStatus.OPEN,
            Case.answered_at.is_null(),
            Case.deadline_at <= now,
            Case.deadline_at >= now - DEADLINE_LOOKBACK,
        )
        .order_by(Case.deadline_at, Case.id)
        .tuples()
    )


def deadlines(now: datetime, config: Config, keywords=None) -> list[Outcome]:
    """Deadline alerts to owners, then escalations to admins and approvers, once per case and person.

    Several cases due for the same person go in one SMS, so a catch-up never
    sends a burst.
    """
    alert, escalate = Outcome(DEADLINE), Outcome(ESCALATE)
    if not config.notify.deadline_alert:
        alert.skipped = escalate.skipped = "disabled"
        return [alert, escalate]
    hours = Hours.from_config(config)
    if not hours.may_remind(local_time(now, config.timezone)):
        alert.skipped = escalate.skipped = "outside office hours"
        return [alert, escalate]
    cases = _overdue_cases(now)
    if not cases:
        return [alert, escalate]
    periods = [f"case-{case_id}" for case_id, *_ in cases]
    owners = {u.id: u for u in User.select().where(User.id.in_(sorted({o for _, _, o, _ in cases if o is not None})))}

    # the owner, once per case
    done = already_sent(DEADLINE, periods)
    by_owner: dict[int, list[tuple[int, str | None]]] = defaultdict(list)
    for case_id, keyword, owner_id, _ in cases:
        owner = owners.get(owner_id)
        if owner is not None and owner.active and owner.phone and (f"case-{case_id}", owner.login) not in done:
            by_owner[owner_id].append((case_id, keyword))  # type: ignore[index]  # an owner found has an id
    template = config.notify.deadline_text
    plans = []
    for owner_id, items in sorted(by_owner.items()):
        owner = owners[owner_id]
        ids = [i for i, _ in items]
        text = fill(
            template, case=_case_list(ids), keyword=_keyword_list(k for _, k in items), url=case_url(config, ids)
        )
        plans.append(Planned(owner.phone, clean(text), [(DEADLINE, f"case-{i}", owner.login) for i, _ in items]))
    alert.queued = deliver(plans, config)

    # admins and approvers, escalate_after past the deadline, once per case and person
    late = timedelta(seconds=config.notify.escalate_after)
    escalated = [c for c in cases if c[3] + late <= now]
    if not escalated:
        return [alert, escalate]
    chiefs = list(
        User.select()
        .where(
            User.role.in_(("admin", "approver")),
            User.active == True,  # noqa: E712
            User.phone.is_null(False),
        )
        .order_by(User.login)
    )
    done = already_sent(ESCALATE, [f"case-{c[0]}" for c in escalated])
    template = config.notify.escalate_text
    plans = []
    for chief in chiefs:
        # mypy: "items" held (id, keyword) pairs above; here whole overdue-case tuples
        items = [c for c in escalated if (f"case-{c[0]}", chief.login) not in done]  # type: ignore[misc]
        if not items:
            continue
        text = fill(
            template,
            case=_case_list([c[0] for c in items]),
            keyword=_keyword_list(c[1] for c in items),
            owner=_keyword_list(
                owners[c[2]].login if c[2] in owners else None  # type: ignore[misc]
                for c in items
            ),
            late=_duration_text(late.total_seconds()),
            url=case_url(config, [c[0] for c in items]),
        )
        plans.append(Planned(chief.phone, clean(text), [(ESCALATE, f"case-{c[0]}", chief.login) for c in items]))
    escalate.queued = deliver(plans, config)
    return [alert, escalate]


# --------------------------------------------------------------------------
# Daily recap to the leadership numbers


def recap(now: datetime, config: Config, keywords=None) -> Outcome:
    """At ``recap_time``: the recap of the 24 hours since the previous one to each ``recap_numbers`` number."""
    outcome = Outcome(RECAP)
    numbers = config.notify.recap_numbers
    if not numbers:
        outcome.skipped = "no recap_numbers"
        return outcome
    zone = config.timezone
    hours = Hours.from_config(config)
    local_now = local_time(now, zone)
    slot = _latest_daily_slot(local_now, config.notify.recap_time)
    outcome.period = slot.date().isoformat()
    if local_now - slot > ON_TIME and hours.quiet(local_now):
        outcome.skipped = "late catch-up waits for the end of quiet hours"
        return outcome
    done = {target for _, target in already_sent(RECAP, [outcome.period])}
    due = [n for n in numbers if n not in done]
    if not due:
        return outcome
    names = keywords.names() if keywords is not None else None
    summary = daily_recap(
        slot.date(), zone, recap_time=config.notify.recap_time, keyword_names=names, as_of=to_utc(slot)
    )
    text = sms_text(summary, config.notify.recap_text)
    outcome.queued = deliver([Planned(n, text, [(RECAP, outcome.period, n)]) for n in due], config)
    return outcome


# --------------------------------------------------------------------------


def run_all(now: datetime, config: Config, keywords=None) -> list[Outcome]:
    """Every pass once: what the scheduler runs at start-up to catch up after downtime."""
    from modemd.jobs import flow_reminders  # it builds on this module

    return [
        hourly(now, config, keywords),
        daily(now, config, keywords),
        *deadlines(now, config, keywords),
        flow_reminders.remind(now, config, keywords),
        recap(now, config, keywords),
    ]
