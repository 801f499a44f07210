"""One thread per modem: it alone talks to its driver.

Each turn of :meth:`ModemWorker.run` is a short checklist, like Gammu SMSD's
main loop but woken by events instead of fixed sleeps:

1. not connected: connect, with back-off (1 s doubling to 60 s); an absent
   modem never stops the others;
2. received messages: store each (committed), then delete it from the SIM,
   then route it;
3. status reports: store and apply (in batches while a queue drains), then delete from the SIM;
4. every ``HEALTH_INTERVAL``: signal, registration, storage, queue depth to
   the database; a full SIM (the network then holds back new SMS) is warned
   about once, at connect too, and its end is noted as soon as step 2 made room;
5. a probe asked through the database (:mod:`modemd.run.remoteprobe`, looked for every
   second) is answered; the balance is asked at start and every ``balance_every``
   (:mod:`modemd.jobs.balancewatch`): USSD is the port's too, so never during a send;
6. send one message, if one is due, the modem is not resting and its rate
   limit allows; record it and claim the next in one commit; go round again at once;
7. nothing to do: wait until the driver signals an arrival, the dispatcher
   signals a new row, or the next poll is due.

A send in progress is never interrupted: on SIGTERM the worker finishes the
AT exchange, records its outcome, and leaves.

At each step the worker tells its :class:`~modemd.run.progress.Progress` what it
starts and how long that may take; the daemon feeds systemd's watchdog only
while no worker overruns its step (see :mod:`modemd.run.progress`).
"""

from __future__ import annotations

import logging
import threading
import time

import peewee

from modemd.config import Config, ModemConfig
from modemd.drivers import create_driver
from modemd.drivers.base import Driver, ModemError, ModemGone, PinError, Resume, SendFailed
from modemd.jobs.balancewatch import BalanceWatch
from modemd.receive import inbound
from modemd.receive.routing import Router
from modemd.run import pinmemory, remoteprobe
from modemd.run.health import SIM_FULL, HealthBoard, clear_error, save_status, storage_full
from modemd.run.progress import Progress
from modemd.send import outbound, status_reports
from modemd.store.models import utcnow

log = logging.getLogger("modemd.worker")

#: seconds between looks at the SIM when the driver did not signal anything (Gammu never does)
RECEIVE_POLL = 2.0
#: seconds between health checks (signal, storage, queue depth)
HEALTH_INTERVAL = 30.0
#: seconds between looks for due rows when nobody woke us (retries that became due)
SEND_POLL = 1.0
BACKOFF_FIRST, BACKOFF_MAX = 1.0, 60.0
#: received messages stored in one transaction (one disk flush) at most
RECEIVE_BATCH = 100
#: while sending, status reports are stored together: at most this many, or after this many seconds
REPORT_BATCH, REPORT_DELAY = 50, 2.0
#: tries to record a send the modem accepted before giving up (the database is locked or restarting)
RECORD_ATTEMPTS = 5
#: one step of the checklist (connecting, a receive sweep, a health check) is at most this many modem exchanges
STEP_COMMANDS = 20
#: +CMS ERROR: memory capacity exceeded (3GPP TS 27.005 3.2.5)
CMS_MEMORY_FULL = 322


class _ChainedEvent(threading.Event):
    """The driver's wake-up: setting it also wakes the worker's main wait."""

    def __init__(self, also: threading.Event):
        super().__init__()
        self.also = also

    def set(self) -> None:
        super().set()
        self.also.set()


class ModemWorker(threading.Thread):
    def __init__(
        self,
        modem: ModemConfig,
        *,
        config: Config,
        router: Router,
        health: HealthBoard,
        instance: str,
        stop: threading.Event,
    ):
        super().__init__(name=f"modem-{modem.name}", daemon=True)
        self.modem = modem
        self.config = config
        self.router = router
        self.health = health
        self.instance = instance
        self.stop_event = stop
        self.wake = threading.Event()
        self.incoming = _ChainedEvent(self.wake)
        self.driver: Driver | None = None
        self.failures_in_row = 0
        self.resting_until = 0.0
        self.next_send_at = 0.0
        self.send_interval = 60.0 / modem.rate_limit if modem.rate_limit else 0.0
        self.backoff = BACKOFF_FIRST
        self._next_receive = 0.0
        self._next_health = 0.0
        self._next_due_check = 0.0
        self._next_request_check = 0.0
        self.balance_watch = BalanceWatch(modem, config)
        self.busy_seconds = 0.0  # time spent inside driver.send, for the benchmark
        self._next = None  # a message claimed ahead, in the commit that recorded the previous one
        self._reports: list = []
        self._reports_since = 0.0
        self.sim_room: int | None = None  # free SMS slots at the last storage check
        self.sim_full = False  # in a SIM-full episode: warned once, noted in ModemStatus.last_error
        #: how long an ordinary step may take: STEP_COMMANDS exchanges, each within the modem's command_timeout
        self.step_allowance = STEP_COMMANDS * modem.typed.command_timeout
        self.progress = Progress(modem.name, self.step_allowance)
        health.register(modem.name, self.wake)

    # the loop -------------------------------------------------------------
    def run(self) -> None:
        name = self.modem.name
        while not self.stop_event.is_set():
            try:
                if self.driver is None:
                    self._step("connecting")
                    if not self._connect():
                        self._step("waiting to reconnect", self.backoff)
                        self.stop_event.wait(self.backoff)
                        self.backoff = min(self.backoff * 2, BACKOFF_MAX)
                        continue
                self._turn()
            except ModemGone as exc:
                self._lost(f"stopped answering: {exc}")
            except PinError as exc:  # the SIM asked again (a modem that restarted itself)
                pinmemory.remember(name, self.modem.settings, exc)
                self._lost(f"SIM PIN problem: {exc}", state="error")
            except peewee.DatabaseError as exc:
                # the database is briefly unavailable (locked, server restarting): the modem keeps its messages
                log.error("%s: database error, retrying in 2 s: %s", name, exc)
                self._step("waiting for the database", 2.0)
                self.stop_event.wait(2.0)
            except ModemError as exc:
                self._lost(f"modem error: {exc}", state="error")
            except Exception:  # a bug in one turn must not end this modem's thread
                log.exception("%s: unexpected error; reconnecting", name)
                self._lost("unexpected error (see log)", state="error")
        self.release_prefetched()
        if self._reports and self.driver is not None:
            try:
                self.flush_reports()
            except (ModemError, peewee.DatabaseError) as exc:
                log.warning("%s: status reports not stored at stop: %s", name, exc)
        self._close()
        self.health.set_state(name, "stopped")
        self._save(state="stopped")
        log.info("%s: worker stopped", name)

    def _step(self, what: str, may_take: float | None = None) -> None:
        """Tell the watchdog which step starts and how long it may take (default: an ordinary step)."""
        self.progress.step(what, self.step_allowance if may_take is None else may_take)

    def _ussd_allowance(self) -> float:
        """A USSD exchange may wait for the network up to ussd_timeout, on top of an ordinary step."""
        return self.step_allowance + self.modem.typed.ussd_timeout

    def _turn(self) -> None:
        self.wake.clear()
        self._step("receiving")
        now = time.monotonic()
        if self.incoming.is_set() or now >= self._next_receive:
            self.incoming.clear()
            self._next_receive = now + RECEIVE_POLL
            if self.receive() and self.sim_full:
                self._save(**self._check_storage())  # the messages just deleted may have ended the episode
            self.collect_reports(now)
        if self._reports and (
            self._next is None
            or len(self._reports) >= self._report_batch()
            or now - self._reports_since >= REPORT_DELAY
        ):
            self.flush_reports()
        if now >= self._next_health:
            self._next_health = now + HEALTH_INTERVAL
            self._step("checking signal and storage")
            self.refresh_health()
        if now >= self._next_request_check:
            self._next_request_check = now + remoteprobe.REQUEST_POLL
            self._step("answering a probe request", self._ussd_allowance())
            remoteprobe.answer_pending(self.modem.name, self.connected_driver, self.balance_watch.ussd)
        if self.balance_watch.due(now) and not (self._sends_waiting() and self.balance_watch.may_wait(now)):
            self._step("checking the balance", self._ussd_allowance())
            self.balance_watch.check(self.connected_driver, now)
        if self.stop_event.is_set():
            self.release_prefetched()
            return
        if self._resting(now):
            self.release_prefetched()
            wait = min(self.resting_until - now, RECEIVE_POLL)
            self._step("resting", wait)
            self.wake.wait(wait)
            return
        self._step("looking for messages to send")
        if now >= self.next_send_at and self.send_one():
            return  # straight on to the next message
        wait = (
            min(
                self._next_receive,
                self._next_health,
                self._next_request_check,
                self.balance_watch.next_due(),
                self._next_due_check or now + SEND_POLL,
            )
            - time.monotonic()
        )
        if self.next_send_at > now:
            wait = min(wait, self.next_send_at - now)
        self._step("waiting", max(wait, 0.0))
        self.wake.wait(max(wait, 0.0))

    def _sends_waiting(self) -> bool:
        """Messages this modem could send now (one claimed ahead, or due in the queue)."""
        if self._next is not None:
            return True
        resting = time.monotonic() < self.resting_until  # a resting modem sends nothing: the balance may go first
        return not resting and outbound.has_due(self.health.eligibility(self.modem.name))

    # connecting -----------------------------------------------------------
    def _connect(self) -> bool:
        name = self.modem.name
        driver = None
        settings = pinmemory.with_memory(name, self.modem.settings)
        try:
            driver = create_driver(name, settings, self.incoming)
            driver.connect()
            identity = driver.identify()
        except (ModemError, OSError, ImportError) as exc:
            if driver is not None:
                driver.close()
            pinmemory.remember(name, self.modem.settings, exc)
            state = "error" if isinstance(exc, (PinError, ImportError)) else "absent"
            if self.health.state(name) != state:
                log.warning("%s: cannot use the modem (%s: %s); retrying with back-off", name, type(exc).__name__, exc)
            else:
                log.debug("%s: still unavailable: %s", name, exc)
            self.health.set_state(name, state)
            self._save(state=state, driver=self.modem.driver, last_error=str(exc))
            return False
        self.driver = driver
        self.backoff = BACKOFF_FIRST
        self.failures_in_row = 0
        log.info("%s: connected (%s %s, IMEI %s)", name, identity.manufacturer, identity.model, identity.imei or "?")
        self._save(
            driver=self.modem.driver,
            manufacturer=identity.manufacturer[:64],
            model=identity.model[:64],
            imei=identity.imei[:32],
            errors=0,
            last_error=None,
            last_contact=utcnow(),
            state="ready",
        )
        self._next_receive = self._next_health = 0.0
        self.health.set_state(name, "ready")
        # before the first sweep empties it: a SIM found full says reception had stopped
        self._save(**self._check_storage(at_connect=True))
        return True

    def _lost(self, reason: str, state: str = "absent") -> None:
        self._step("letting go of the modem")
        log.warning("%s: %s; reconnecting", self.modem.name, reason)
        self.release_prefetched()
        self._reports = []  # still on the modem, or lost with it: only delivery news
        self._close()
        self.health.set_state(self.modem.name, state)
        self._save(state=state, last_error=reason)
        self._step("waiting to reconnect", self.backoff)
        self.stop_event.wait(self.backoff)
        self.backoff = min(self.backoff * 2, BACKOFF_MAX)

    def _close(self) -> None:
        if self.driver is not None:
            try:
                self.driver.close()
            except (ModemError, OSError) as exc:
                log.debug("%s: close: %s", self.modem.name, exc)
            self.driver = None

    @property
    def connected_driver(self) -> Driver:
        """The driver, for the steps that run only while the modem is connected."""
        if self.driver is None:
            raise ModemGone(f"{self.modem.name}: not connected")
        return self.driver

    # receiving ------------------------------------------------------------
    def receive(self) -> int:
        """Store and route what the modem holds (one commit per batch), then delete each from the SIM."""
        batch = self.connected_driver.receive()
        count = 0
        for start in range(0, len(batch), RECEIVE_BATCH):
            chunk = batch[start : start + RECEIVE_BATCH]
            stored = inbound.store_batch(self.modem.name, chunk, self.router)  # committed
            for sms, item in zip(chunk, stored, strict=True):
                self._step("deleting stored messages from the SIM")
                self.connected_driver.acknowledge(sms)  # only now: the database has it
                if item.message.route == "new" and not item.created:
                    self.router.route(item.message)  # a repeat of a message stored but never routed
            count += len(chunk)
        return count

    def collect_reports(self, now: float) -> None:
        """Take the modem's new status reports; they are stored in batches (see flush_reports)."""
        fresh = self.connected_driver.status_reports()
        if fresh and not self._reports:
            self._reports_since = now
        self._reports.extend(fresh)

    def flush_reports(self) -> int:
        """Store the collected reports in one commit, then delete them from the modem.

        While a queue drains, reports wait up to REPORT_DELAY seconds so that
        they cost one disk flush together instead of one each between sends.
        A crash in that moment loses only delivery news, never a message.
        """
        batch, self._reports = self._reports, []
        self._step("storing status reports")
        status_reports.handle_batch(self.modem.name, batch)
        for report in batch:
            self._step("deleting status reports from the SIM")
            self.connected_driver.acknowledge(report)
        return len(batch)

    def status_reports(self) -> int:
        """Take and store every report now (tests and the idle path)."""
        self.collect_reports(time.monotonic())
        return self.flush_reports() if self._reports else 0

    # sending --------------------------------------------------------------
    def _resting(self, now: float) -> bool:
        if not self.resting_until:
            return False
        if now < self.resting_until:
            return True
        self.resting_until = 0.0
        self.failures_in_row = 0
        log.info("%s: rest over, sending again", self.modem.name)
        self.health.set_state(self.modem.name, "ready")
        self._save(state="ready")
        return False

    def send_one(self) -> bool:
        """Send the most urgent message this modem may send. True if one was taken."""
        eligibility = self.health.eligibility(self.modem.name)
        now = time.monotonic()
        message, self._next = self._next, None
        if message is None:
            if not outbound.has_due(eligibility):
                self._next_due_check = now + SEND_POLL
                return False
            message = outbound.claim(self.instance, eligibility)
            if message is None:
                self._next_due_check = now + SEND_POLL
                return False
        self._next_due_check = 0.0
        self.next_send_at = now + self.send_interval
        # a long message on a slow network is slow but alive: it may take what the driver allows its parts
        self._step(f"sending message #{message.id}", self.connected_driver.longest_send(message.parts or 1))
        started = time.monotonic()
        driver = self.connected_driver
        resume, first_part = None, 1
        if driver.resumes_long_messages and (message.parts or 1) > 1:
            # the same concatenation reference on every attempt, from the part after those already out
            first_part = len(outbound.earlier_parts(message)) + 1
            resume = Resume(message.id % 256, first_part)
        try:
            references = driver.send(
                message.recipient, message.text, status_report=message.status_report, resume=resume
            )
        except SendFailed as exc:
            self.busy_seconds += time.monotonic() - started
            outbound.record_failure(message, exc.reason, permanent=exc.permanent, config=self.config, code=exc.code)
            if exc.code == CMS_MEMORY_FULL or "memory full" in exc.reason.lower():
                self._note_sim_full(True, exc.reason)
            if not exc.permanent:  # a wrong number says nothing about the modem
                self._count_failure(exc.reason)
            return True
        except ModemGone as exc:
            outbound.record_failure(
                message,
                f"modem {self.modem.name} stopped answering: {exc}",
                permanent=False,
                config=self.config,
                retry_now=True,
                doubt=exc.maybe_sent,
                parts_sent=(self.modem.name, list(exc.sent_references), first_part) if resume is not None else None,
            )
            raise
        except Exception as exc:
            outbound.record_failure(message, f"{type(exc).__name__}: {exc}", permanent=False, config=self.config)
            raise
        self.busy_seconds += time.monotonic() - started
        # keep the modem busy: claim the next message in the same commit, unless a rate limit or a stop says wait
        prefetch = not self.send_interval and not self.stop_event.is_set()
        self._next = self._record_sent(
            message, references, (self.instance, eligibility) if prefetch else None, first_part
        )
        self.failures_in_row = 0
        log.info("%s: sent message #%d (%d part(s))", self.modem.name, message.id, len(references))
        return True

    def _record_sent(self, message, references: list[int], then_claim, first_part: int = 1):
        """Record a send the modem accepted; a database hiccup is retried, the message is out already."""
        for attempt in range(1, RECORD_ATTEMPTS + 1):
            self._step(f"recording message #{message.id}")
            try:
                return outbound.record_sent(
                    message, self.modem.name, references, then_claim=then_claim, first_part=first_part
                )
            except peewee.DatabaseError as exc:
                if attempt == RECORD_ATTEMPTS:
                    log.error(
                        "%s: message #%d was sent but cannot be recorded (%s); it stays 'sending' and is "
                        "marked in doubt at the next start",
                        self.modem.name,
                        message.id,
                        exc,
                    )
                    raise
                log.warning("%s: recording message #%d failed (%s); retrying", self.modem.name, message.id, exc)
                self.stop_event.wait(1.0)
        return None

    def release_prefetched(self) -> None:
        """Give back a message claimed ahead that will not be sent now (stop, rest, lost modem)."""
        message, self._next = self._next, None
        if message is not None:
            try:
                outbound.release(message)
            except peewee.DatabaseError as exc:
                log.error(
                    "%s: cannot give back message #%d (it is resent in doubt at the next start): %s",
                    self.modem.name,
                    message.id,
                    exc,
                )

    def _count_failure(self, reason: str) -> None:
        self.failures_in_row += 1
        limit = self.config.sms.modem_rest_after
        if self.failures_in_row >= limit:
            rest = self.config.sms.modem_rest
            self.resting_until = time.monotonic() + rest
            log.warning(
                "%s: %d sends failed in a row (last: %s); resting %.0f s, other modems take its messages",
                self.modem.name,
                self.failures_in_row,
                reason,
                rest,
            )
            self.health.set_state(self.modem.name, "resting")
            self._save(state="resting", errors=self.failures_in_row, last_error=reason)

    # health ---------------------------------------------------------------
    def refresh_health(self) -> None:
        name = self.modem.name
        signal = self.connected_driver.signal()
        fields = {
            "signal_dbm": signal.dbm,
            "registration": signal.registration[:20],
            "last_contact": utcnow(),
            "errors": self.failures_in_row,
            "queue_depth": outbound.depth(self.health.eligibility(name)),
        }
        if signal.operator:
            fields["operator"] = signal.operator[:64]
        fields.update(self._check_storage())
        self.health.set_signal(name, signal.dbm)
        self._save(**fields)

    def _report_batch(self) -> int:
        """How many reports may wait to be stored together: stored reports (+CDSI) occupy SIM slots,
        so on a small or nearly full SIM they are flushed before they can fill it."""
        if self.sim_room is None:
            return REPORT_BATCH
        return max(1, min(REPORT_BATCH, self.sim_room // 4))

    def _check_storage(self, at_connect: bool = False) -> dict:
        """The SIM's storage figures as ModemStatus fields (none if the modem has none); notes a full SIM."""
        try:
            storage = self.connected_driver.storage()
        except ModemGone:
            raise
        except ModemError as exc:
            log.debug("%s: no storage figures: %s", self.modem.name, exc)
            return {}
        self.sim_room = storage.total - storage.used if storage.total else None
        self._note_sim_full(
            storage_full(storage.used, storage.total), f"{storage.used}/{storage.total} SMS", rewrite=at_connect
        )
        return {"storage_used": storage.used, "storage_total": storage.total}

    def _note_sim_full(self, full: bool, detail: str, rewrite: bool = False) -> None:
        """Warn once when the SIM fills, note when it has room again; ModemStatus.last_error says so meanwhile.

        ``rewrite``: a reconnect cleared last_error, so a SIM still full is written again (not logged again).
        """
        name = self.modem.name
        if full and (not self.sim_full or rewrite):
            if not self.sim_full:
                log.warning(
                    "%s: %s (%s): the network holds back new SMS until there is room; the messages on it "
                    "are read, stored and deleted",
                    name,
                    SIM_FULL,
                    detail,
                )
            self.sim_full = True
            self._save(last_error=f"{SIM_FULL} ({detail}): new SMS cannot arrive")
        elif not full and self.sim_full:
            self.sim_full = False
            log.info("%s: the SIM has room again (%s); new SMS can arrive", name, detail)
            try:
                clear_error(name, SIM_FULL)
            except peewee.DatabaseError as exc:
                log.error("%s: cannot write modem status: %s", name, exc)

    def _save(self, **fields) -> None:
        try:
            save_status(self.modem.name, **fields)
        except peewee.DatabaseError as exc:
            log.error("%s: cannot write modem status: %s", self.modem.name, exc)
