"""The worker's balance check: ask the operator at start and every ``balance_every``, warn once per episode.

Runs in the modem's worker thread, between two sends (the worker owns the
port; a USSD exchange never overlaps a send, and a slow operator holds the
queue up to ``ussd_timeout`` once per ``balance_every``). Each reading is stored as the
operator wrote it in ``ModemStatus.balance`` with the time it was read
(``balance_at``) for the dashboard and ``modemd status``.

A USSD refused because the modem has no network yet (right after the PIN, a
dead zone) is tried again after :data:`NO_NETWORK_RETRY`, not after six hours.

Warnings (see :mod:`modemd.jobs.balance`): a problem newly seen is logged at
WARNING and sent by SMS to ``[notify] admin_numbers`` (empty: the phones of the
active admin accounts); the set warned about is kept in
``ModemStatus.balance_warning``, so neither the next reading nor a restart
repeats it. A reply that does not state the amount (or the date) keeps the
earlier verdict on it rather than ending the episode.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from modemd.config import Config, ModemConfig
from modemd.drivers.base import Driver, ModemError, ModemGone, NoNetwork
from modemd.jobs.balance import Balance, BalanceProblem, decode_problems, encode_problems, parse, rupiah, warnings
from modemd.run.health import save_status
from modemd.send import outqueue
from modemd.sms import phone
from modemd.store.models import ModemStatus, User, utcnow

log = logging.getLogger("modemd.balance")

#: seconds before asking again when the modem had no network (it usually registers within a minute)
NO_NETWORK_RETRY = 60.0
#: seconds before asking again after the operator did not answer or the modem refused
FAILED_RETRY = 1800.0
#: the operator's reply is stored up to this many characters
REPLY_LIMIT = 500
#: seconds a due balance question may wait for the queue to be empty (a busy modem still asks, then)
LONGEST_WAIT = 600.0

SMS_TEXT = {
    BalanceProblem.LOW: "SMS Center: pulsa modem {modem} tinggal {amount} (batas {low}). "
    "Isi ulang agar SMS tetap terkirim.",
    BalanceProblem.EXPIRING: "SMS Center: masa aktif kartu SIM modem {modem} berakhir {until}. "
    "Isi ulang pulsa agar nomor tidak hangus.",
}


class BalanceWatch:
    """When to ask one modem's balance, and what to do with the answer."""

    def __init__(self, modem: ModemConfig, config: Config):
        self.modem = modem
        self.config = config
        self.ussd = modem.typed.balance_ussd.strip()
        self.every = modem.typed.balance_every
        self.low = modem.typed.balance_low
        self.next_at = 0.0  # monotonic; 0 = at the first turn after connecting
        self.waiting_since: float | None = None  # when a due question was first put off for the queue

    def due(self, now: float) -> bool:
        return bool(self.ussd) and now >= self.next_at

    def may_wait(self, now: float) -> bool:
        """Whether a due question may wait while messages are waiting to be sent.

        The operator can take up to ``ussd_timeout`` to answer, and the modem sends nothing meanwhile;
        the question waits for an empty queue, but never longer than :data:`LONGEST_WAIT`.
        """
        if self.waiting_since is None:
            self.waiting_since = now
        return now - self.waiting_since < LONGEST_WAIT

    def next_due(self) -> float:
        """When the next check is due (monotonic); infinity when balance checks are off."""
        return self.next_at if self.ussd else float("inf")

    def check(self, driver: Driver, now: float | None = None) -> Balance | None:
        """Ask, store, warn. Returns the reading, None when there was none (ModemGone is raised)."""
        now = time.monotonic() if now is None else now
        name = self.modem.name
        self.waiting_since = None
        try:
            text = driver.balance(self.ussd)
        except ModemGone:
            raise
        except NoNetwork as exc:
            self.next_at = now + NO_NETWORK_RETRY
            log.info("%s: balance not read, no network yet (%s); asking again in %.0f s", name, exc, NO_NETWORK_RETRY)
            return None
        except ModemError as exc:
            self.next_at = now + min(FAILED_RETRY, self.every or FAILED_RETRY)
            log.warning("%s: balance not read with %s: %s", name, self.ussd, exc)
            return None
        self.next_at = now + self.every if self.every else float("inf")
        reading = parse(text)
        log.info("%s: balance read: %s", name, text.replace("\n", " ")[:200])
        save_status(name, balance=text[:REPLY_LIMIT], balance_at=utcnow())
        self.warn(reading)
        return reading

    def warn(self, reading: Balance) -> None:
        """Log and send what is newly wrong; remember what is wrong now."""
        name = self.modem.name
        today = datetime.now(UTC).astimezone(self.config.timezone).date()
        row = ModemStatus.get_or_none(ModemStatus.name == name)
        before = decode_problems(row.balance_warning if row else None)
        unknown = {
            problem
            for problem, value in (
                (BalanceProblem.LOW, reading.amount),
                (BalanceProblem.EXPIRING, reading.active_until),
            )
            if value is None
        }
        now_wrong = warnings(reading, self.low, today) | (before & unknown)
        for problem in sorted(now_wrong - before):
            self._announce(problem, reading)
        for problem in sorted(before - now_wrong):
            log.info(
                "%s: %s",
                name,
                "credit is above the low mark again"
                if problem is BalanceProblem.LOW
                else "the SIM's active period was extended",
            )
        if now_wrong != before:
            save_status(name, balance_warning=encode_problems(now_wrong))

    def _announce(self, problem: BalanceProblem, reading: Balance) -> None:
        name = self.modem.name
        if problem is BalanceProblem.LOW:
            log.warning(
                "%s: credit %s is below the low mark %s: top up the SIM or sending stops",
                name,
                rupiah(reading.amount or 0),
                rupiah(self.low),
            )
        else:
            log.warning("%s: the SIM's active period ends %s: top up to keep the number", name, reading.active_until)
        text = SMS_TEXT[problem].format(
            modem=name,
            amount=rupiah(reading.amount or 0),
            low=rupiah(self.low),
            until=reading.active_until.strftime("%d-%m-%Y") if reading.active_until else "",
        )
        numbers = admin_numbers(self.config)
        if not numbers:
            log.warning("%s: nobody to tell by SMS: set [notify] admin_numbers or an admin account's phone", name)
        for number in numbers:
            outqueue.enqueue(number, text, "notification", config=self.config)


def admin_numbers(config: Config) -> list[str]:
    """``[notify] admin_numbers``, else the phone numbers of the active admin accounts (each once)."""
    configured = config.notify.admin_numbers
    if configured:
        return list(dict.fromkeys(configured))
    admins = User.select(User.phone).where(
        User.role == "admin",
        User.active == True,  # noqa: E712
        User.phone.is_null(False),
    )
    phones = admins.order_by(User.id).tuples()
    return list(dict.fromkeys(number for (number,) in phones if phone.try_normalize(number)))
