"""The outbound queue as the daemon works it: claim, record the outcome, retry, expire, recover.

States are :class:`~modemd.states.OutboundState` words (``pending -> sending ->
sent -> delivered``, ``failed``, ``cancelled``); every move here is checked
against the one transition table in :mod:`modemd.states`. One row is one SMS
to one recipient; its parts, with the message references the network gave
them, are :class:`OutboundPart` rows.

Claiming is safe with several daemons on one database:

* PostgreSQL and MariaDB 10.6+/MySQL 8: ``SELECT ... FOR UPDATE SKIP LOCKED``
  inside the transaction, so two daemons never take the same row and never
  wait for each other;
* SQLite: ``database.atomic()`` starts with ``BEGIN IMMEDIATE`` (see
  :mod:`modemd.store.db`), so the select and the update run under the write lock.

Either way the update also requires ``state = 'pending'`` and counts the rows
it changed, so a row is sent by one worker only.

Which modem may take which row is :class:`Eligibility`: a healthy preferred
modem (``modemd send --modem``) first, then the ``[routing]`` rule of the
recipient's operator, falling back to any healthy modem when none of the
operator's modems is healthy.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce
from operator import or_

import peewee

from modemd.cases import answers
from modemd.config import Config
from modemd.sms import phone
from modemd.states import OutboundState as O
from modemd.states import PartState, check
from modemd.store.db import dialect
from modemd.store.models import ModemStatus, OutboundMessage, OutboundPart, audit, database_proxy, utcnow
from modemd.webhooks import events as webhook_events

log = logging.getLogger("modemd.outbound")

#: state of a message whose send is being attempted
SENDING = O.SENDING
#: why a message failed without a modem's cause (drivers/causes.py turns these into plain words)
EXPIRED_REASON = "expired: not sent before its expiry time"
#: why a message in doubt is not sent a third time (its one resend was cut off the same way)
IN_DOUBT_REASON = "in doubt twice: not sent again"
GIVEN_UP_IN_DOUBT = f"{IN_DOUBT_REASON} (the daemon stopped during its resend too)"


@dataclass(frozen=True)
class Eligibility:
    """Which pending rows modem ``modem`` may send while the modems in ``healthy`` are up."""

    modem: str
    healthy: frozenset[str]
    routing: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def build(cls, modem: str, healthy: Iterable[str], routing: dict[str, list[str]] | None) -> Eligibility:
        return cls(
            modem,
            frozenset(healthy) | {modem},
            tuple((op, tuple(names)) for op, names in sorted((routing or {}).items())),
        )

    def foreign_operators(self) -> list[str]:
        """Operators whose numbers go through another healthy modem, not this one."""
        foreign = []
        for operator, names in self.routing:
            up = [name for name in names if name in self.healthy]
            if up and self.modem not in up:
                foreign.append(operator)
        return foreign

    def condition(self) -> peewee.Expression:
        preferred = OutboundMessage.preferred_modem
        mine = preferred == self.modem
        others = sorted(self.healthy - {self.modem})
        # a row for another healthy modem waits for it; one for a modem that is down may go anywhere
        free = (
            preferred.is_null() | preferred.not_in(others)
            if others
            else preferred.is_null() | (preferred != self.modem)
        )
        prefixes = [p for op in self.foreign_operators() for p in phone.OPERATOR_PREFIXES[op]]
        if prefixes:
            free = free & ~reduce(or_, [OutboundMessage.recipient.startswith("+62" + p) for p in prefixes])
        return mine | free


def _due(now: datetime) -> peewee.Expression:
    return (OutboundMessage.state == O.PENDING) & (OutboundMessage.next_attempt_at <= now)


def has_due(eligibility: Eligibility, now: datetime | None = None) -> bool:
    """A cheap read before taking the write lock to claim."""
    now = now or utcnow()
    return OutboundMessage.select(OutboundMessage.id).where(_due(now), eligibility.condition()).exists()


def depth(eligibility: Eligibility | None = None) -> int:
    """Pending messages (those this modem may send, when given)."""
    query = OutboundMessage.select().where(OutboundMessage.state == O.PENDING)
    if eligibility is not None:
        query = query.where(eligibility.condition())
    return query.count()


def claim(instance: str, eligibility: Eligibility, now: datetime | None = None) -> OutboundMessage | None:
    """Take the most urgent due row this modem may send, or None. The row is then ``sending``."""
    with database_proxy.obj.atomic():
        return _claim_here(instance, eligibility, now or utcnow())


def _claim_here(instance: str, eligibility: Eligibility, now: datetime) -> OutboundMessage | None:
    """The claim itself, inside the caller's transaction."""
    database = database_proxy.obj
    query = (
        OutboundMessage.select()
        .where(_due(now), eligibility.condition())
        .order_by(OutboundMessage.priority, OutboundMessage.next_attempt_at, OutboundMessage.id)
        .limit(1)
    )
    if dialect(database) in ("postgresql", "mysql"):
        query = query.for_update("FOR UPDATE SKIP LOCKED")
    message = query.first()
    if message is None:
        return None
    taken = (
        OutboundMessage.update(
            state=check(message.state, SENDING), claimed_by=instance, claimed_at=now, modem=eligibility.modem
        )
        .where(OutboundMessage.id == message.id, OutboundMessage.state == O.PENDING)
        .execute()
    )
    if taken != 1:
        return None
    message.state, message.claimed_by, message.claimed_at, message.modem = SENDING, instance, now, eligibility.modem
    return message


def release(message: OutboundMessage) -> None:
    """Give back a claimed row that was never handed to the modem (no attempt is counted)."""
    (
        OutboundMessage.update(state=check(SENDING, O.PENDING), claimed_by=None)
        .where(
            OutboundMessage.id == message.id,
            OutboundMessage.state == SENDING,
            OutboundMessage.claimed_by == message.claimed_by,
        )
        .execute()
    )


def earlier_parts(message: OutboundMessage) -> list[OutboundPart]:
    """Parts of a long message the network accepted in an attempt the modem vanished in, in order."""
    return list(OutboundPart.select().where(OutboundPart.message == message.id).order_by(OutboundPart.sequence))


def _insert_parts(message: OutboundMessage, modem: str, references: list[int], first: int, now: datetime) -> None:
    if first - 1 + len(references) > 1:  # only a long message can have been cut off: no query for the others
        # a part row left by an attempt that is now repeated whole (a driver that cannot resume) goes
        OutboundPart.delete().where(OutboundPart.message == message.id, OutboundPart.sequence >= first).execute()
    if not references:
        return
    OutboundPart.insert_many(
        [
            {
                "message": message.id,
                "sequence": number,
                "modem": modem,
                "reference": reference,
                "recipient": message.recipient,
                "state": PartState.SENT,
                "sent_at": now,
            }
            for number, reference in enumerate(references, start=first)
        ]
    ).execute()


def record_sent(
    message: OutboundMessage,
    modem: str,
    references: list[int],
    now: datetime | None = None,
    *,
    then_claim: tuple[str, Eligibility] | None = None,
    first_part: int = 1,
) -> OutboundMessage | None:
    """The modem accepted every part: keep each part's reference to match its status report.

    ``first_part``: the parts before it were accepted in an earlier attempt
    (:func:`record_failure`'s ``parts_sent``) and are recorded already.
    With ``then_claim`` (instance, eligibility) the next message is claimed in
    the same transaction and returned: one commit (one disk flush) per
    message while a queue drains, so the modem waits less between sends.
    """
    now = now or utcnow()
    check(message.state, O.SENT)  # the claimed row (sending); a cancelled or sent one is refused
    with database_proxy.obj.atomic():
        _insert_parts(message, modem, references, first_part, now)
        (
            OutboundMessage.update(
                state=O.SENT,
                sent_at=now,
                attempts=OutboundMessage.attempts + 1,
                modem=modem,
                claimed_by=None,
                failure_reason=None,
                failure_code=None,
                parts=max(first_part - 1 + len(references), 1),
            )
            .where(OutboundMessage.id == message.id)
            .execute()
        )
        ModemStatus.update(sent_total=ModemStatus.sent_total + 1).where(ModemStatus.name == modem).execute()
        announced = 0
        if message.kind == "reply" and message.case_id is not None:
            answers.reply_sent(message.case_id, now)  # the case is answered in the same commit
            announced = webhook_events.reply_changed(message, O.SENT, now=now)
        following = _claim_here(then_claim[0], then_claim[1], now) if then_claim else None
    if announced:
        webhook_events.wake()
    return following


def retry_delay(intervals: list[float], attempts: int) -> float:
    """Wait after the ``attempts``-th failed attempt: intervals[attempts-1], the last one repeating."""
    if not intervals:
        return 60.0
    return intervals[min(max(attempts, 1), len(intervals)) - 1]


def record_failure(
    message: OutboundMessage,
    reason: str,
    *,
    permanent: bool,
    config: Config,
    retry_now: bool = False,
    now: datetime | None = None,
    code: int | None = None,
    doubt: bool = False,
    parts_sent: tuple[str, list[int], int] | None = None,
) -> O:
    """One attempt failed. Returns the new state: ``pending`` (to retry) or ``failed``.

    ``retry_now`` (the modem went away, the message is fine) lets another modem
    take it at once instead of waiting for the back-off. ``code`` is the
    +CMS ERROR cause, kept so that people read it in plain words
    (:mod:`modemd.drivers.causes`). A reply that fails for good puts its case
    back among the unanswered (:mod:`modemd.cases.answers`), in the same transaction.

    ``doubt``: the modem vanished inside AT+CMGS, after the part was handed
    over; the network may have it, so the next attempt may deliver it twice,
    and the outbox says so. ``parts_sent`` (modem, references, first part):
    parts of a long message the network accepted before the modem vanished,
    kept so that the next attempt goes on after them. A message already in
    doubt gets one resend only: when that one is cut off in doubt too, it fails
    (:data:`IN_DOUBT_REASON`) and a person decides, instead of the citizen
    perhaps getting it a third time.
    """
    now = now or utcnow()
    attempts = message.attempts + 1
    next_at = now if retry_now else now + timedelta(seconds=retry_delay(config.sms.retry_intervals, attempts))
    if doubt and message.doubt:
        state, why = O.FAILED, f"{IN_DOUBT_REASON} ({reason})"
    elif permanent:
        state, why = O.FAILED, reason
    elif attempts >= message.max_attempts:
        state, why = O.FAILED, f"{reason} (gave up after {attempts} attempts)"
    elif message.expires_at is not None and next_at > message.expires_at:
        state, why = O.FAILED, f"{reason} (expired before the next attempt)"
    else:
        state, why = O.PENDING, reason
    check(message.state, state)
    with database_proxy.obj.atomic():
        (
            OutboundMessage.update(
                state=state,
                attempts=attempts,
                failure_reason=why,
                failure_code=code,
                claimed_by=None,
                next_attempt_at=next_at if state == O.PENDING else message.next_attempt_at,
                **({"doubt": True} if doubt else {}),
            )
            .where(OutboundMessage.id == message.id)
            .execute()
        )
        if parts_sent is not None and parts_sent[1]:
            _insert_parts(message, parts_sent[0], parts_sent[1], parts_sent[2], now)
        if state == O.FAILED:
            _reply_failed(message, why, now)
    log.info(
        "message #%d to %s: attempt %d failed (%s): %s",
        message.id,
        phone.mask(message.recipient),
        attempts,
        reason,
        "will retry" if state == O.PENDING else "failed",
    )
    return state


def _reply_failed(message: OutboundMessage, why: str, now: datetime) -> None:
    """A reply failed for good: its case is unanswered again, and the webhook says so (caller's transaction)."""
    if message.kind == "reply":
        answers.replies_failed([message.case_id], now)
        if webhook_events.reply_changed(message, O.FAILED, why, now):
            webhook_events.wake()  # the dispatcher reads after this commit, or at its next look


def expire(now: datetime | None = None) -> int:
    """Fail pending messages past their expiry: better not sent than sent too late."""
    now = now or utcnow()
    expiring = (OutboundMessage.state == O.PENDING) & (OutboundMessage.expires_at < now)
    with database_proxy.obj.atomic():
        replies = list(
            OutboundMessage.select(OutboundMessage.id, OutboundMessage.kind, OutboundMessage.case).where(
                expiring, OutboundMessage.kind == "reply", OutboundMessage.case.is_null(False)
            )
        )
        cases = [reply.case_id for reply in replies]
        count = (
            OutboundMessage.update(state=check(O.PENDING, O.FAILED), failure_reason=EXPIRED_REASON)
            .where(expiring)
            .execute()
        )
        answers.replies_failed(cases, now)
        for reply in replies:
            webhook_events.reply_changed(reply, O.FAILED, EXPIRED_REASON, now)
    if count:
        log.info("%d message(s) expired unsent", count)
    return count


def recover(instance: str) -> int:
    """At start-up: rows this instance left in ``sending`` when it died go back to pending, in doubt.

    The modem may have sent such a row before the crash; it will be sent again,
    and ``doubt`` says so in the outbox instead of hiding it. A row that was
    in doubt already (its one resend was cut off by this crash) fails with
    :data:`IN_DOUBT_REASON` instead: repeated crashes must not send it a third time.
    """
    left = list(
        OutboundMessage.select().where(OutboundMessage.state == SENDING, OutboundMessage.claimed_by == instance)
    )
    for message in left:
        again = not message.doubt
        with database_proxy.obj.atomic():
            if again:
                changes = {"state": check(message.state, O.PENDING), "doubt": True, "next_attempt_at": utcnow()}
            else:
                changes = {"state": check(message.state, O.FAILED), "failure_reason": GIVEN_UP_IN_DOUBT}
            changed = (
                OutboundMessage.update(claimed_by=None, **changes)
                .where(OutboundMessage.id == message.id, OutboundMessage.state == SENDING)
                .execute()
            )
            if changed and not again:
                _reply_failed(message, GIVEN_UP_IN_DOUBT, utcnow())
            reason = (
                "left in sending by a crash; the modem may have sent it, it will be sent again"
                if again
                else "left in sending by a crash during its resend in doubt; it may have gone twice, not sent again"
            )
            audit("daemon", "outbound.recovered", message, instance=instance, modem=message.modem, reason=reason)
        if again:
            log.warning(
                "message #%d to %s was being sent by %s when %s stopped; queued again, marked in doubt",
                message.id,
                phone.mask(message.recipient),
                message.modem,
                instance,
            )
        else:
            log.warning(
                "message #%d to %s was being resent in doubt by %s when %s stopped; failed, not sent a third time",
                message.id,
                phone.mask(message.recipient),
                message.modem,
                instance,
            )
    return len(left)
