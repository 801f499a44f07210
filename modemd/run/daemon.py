"""``modemd run``: the workers, the dispatcher, the scheduler, and the daemon's own chores.

Threads:

* one :class:`~modemd.run.worker.ModemWorker` per enabled modem (it alone owns its driver);
* the dispatcher: wakes the workers when another process (web UI,
  ``modemd send``) queued a message, by watching :func:`modemd.send.outqueue.newest_id`;
  a message queued inside the daemon wakes them directly through
  :func:`modemd.send.outqueue.add_listener`;
* the scheduler of reminders, when :mod:`modemd.jobs.scheduler` is installed;
* the webhook dispatcher and one lane per endpoint (:mod:`modemd.webhooks.dispatch`);
* the main thread: signals, keyword reloads, heartbeat, expiry, systemd.

systemd's watchdog is fed by the main thread only while every worker gets
on with its work (:mod:`modemd.run.progress`): a worker that overruns its step is
named in the log (a WARNING once per episode) and in ``STATUS=``, the
watchdog is left unfed, and systemd restarts the service after WatchdogSec
unless the worker moves again first.

Signals: SIGTERM/SIGINT stop (each worker finishes the AT exchange in
progress and records its outcome); SIGHUP reloads keywords.ini, as does a
request from the web UI (DaemonState ``reload_keywords``). A keywords.ini
with errors is refused with every problem logged; the old table stays.
"""

from __future__ import annotations

import json
import logging
import signal
import socket
import threading
import time

import peewee

from modemd.checks import CheckResult
from modemd.config import Config, Problem
from modemd.jobs.scheduler import Scheduler
from modemd.receive import status_query
from modemd.receive.keywords import KeywordTable, check_owners, load_keywords
from modemd.receive.routing import Router, route_pending
from modemd.run import heartbeat
from modemd.run.health import HealthBoard
from modemd.run.progress import Stuck
from modemd.run.sdnotify import Notifier
from modemd.run.worker import ModemWorker
from modemd.send import outbound, outqueue
from modemd.store.models import DaemonState, User, utcnow
from modemd.webhooks import endpoints as webhook_endpoints
from modemd.webhooks.dispatch import Dispatcher

log = logging.getLogger("modemd.daemon")

HEARTBEAT_INTERVAL = 5.0
EXPIRY_INTERVAL = 10.0
RELOAD_POLL = 1.0
STOP_TIMEOUT = 30.0  # longest AT exchange (a multi-part send) we wait for on SIGTERM


def keywords_json(table: KeywordTable) -> str:
    """The keyword table the daemon uses, as published for the web UI."""
    return json.dumps(
        [
            {
                "name": k.name,
                "owner": k.owner,
                "aliases": list(k.aliases),
                "description": k.description,
                "reply": k.reply,
                "flow": k.flow,
                "agency": k.agency,
            }
            for k in sorted(table.keywords.values(), key=lambda k: k.name)
        ],
        ensure_ascii=False,
    )


def _user_state(login: str) -> str | None:
    user = User.by_login(login)
    if user is None:
        return None
    return "active" if user.active else "disabled"


class Daemon:
    def __init__(
        self, config: Config, keywords: KeywordTable, instance: str | None = None, notifier: Notifier | None = None
    ):
        self.config = config
        self.instance = instance or socket.gethostname()
        self.notifier = notifier or Notifier()
        self._keywords = keywords
        self._keywords_lock = threading.Lock()
        self.stop_event = threading.Event()
        self.reload_requested = threading.Event()
        self.router = Router(config, self.keywords)
        self.health = HealthBoard(config.routing)
        self.workers: list[ModemWorker] = []
        self.scheduler: Scheduler | None = None
        self._dispatcher: threading.Thread | None = None
        self.webhooks = Dispatcher(webhook_endpoints.current, config.api.webhook_timeout)
        self._seen_reload_request: str | None = None
        self._stuck: dict[str, Stuck] = {}  # workers stuck at the last look, by modem

    # the keyword table ----------------------------------------------------
    def keywords(self) -> KeywordTable:
        """The table in use now (workers and the scheduler call this, never keep it)."""
        with self._keywords_lock:
            return self._keywords

    def reload_keywords(self) -> bool:
        """Load keywords.ini again; on any error keep the old table and log every problem."""
        problems: list[Problem] = []
        table = load_keywords(self.config.keywords_path, problems)
        check_owners(table, _user_state, problems)
        status_query.check_clash(self.config, table, problems)
        errors = [p for p in problems if not p.warning]
        for problem in problems:
            (log.error if not problem.warning else log.warning)("keywords.ini: %s", problem)
        if errors:
            log.error(
                "keywords.ini has %d error(s); still using the %d keyword(s) loaded before",
                len(errors),
                len(self.keywords()),
            )
            return False
        with self._keywords_lock:
            self._keywords = table
        webhook_endpoints.use(webhook_endpoints.from_config(self.config, table))
        self.publish_keywords()
        log.info("keywords reloaded: %s", ", ".join(table.names()) or "(none)")
        return True

    def publish_keywords(self) -> None:
        DaemonState.put("keywords", keywords_json(self.keywords()))
        DaemonState.put("keywords_loaded_at", utcnow().isoformat(timespec="seconds"))

    # start and stop -------------------------------------------------------
    def start(self) -> None:
        webhook_endpoints.use(webhook_endpoints.from_config(self.config, self.keywords()))
        recovered = outbound.recover(self.instance)
        if recovered:
            log.warning("%d message(s) left in sending by the last run are queued again, marked in doubt", recovered)
        routed = route_pending(self.router)
        if routed:
            log.info("routed %d message(s) stored before the last stop but not routed", routed)
        self.publish_keywords()
        self._seen_reload_request = DaemonState.read("reload_keywords")
        for modem in self.config.modems.values():
            if not modem.enabled:
                log.info("%s: disabled in the configuration", modem.name)
                continue
            worker = ModemWorker(
                modem,
                config=self.config,
                router=self.router,
                health=self.health,
                instance=self.instance,
                stop=self.stop_event,
            )
            outqueue.add_listener(worker.wake)
            self.workers.append(worker)
        for worker in self.workers:
            worker.start()
        self._dispatcher = threading.Thread(target=self._dispatch, name="dispatcher", daemon=True)
        self._dispatcher.start()
        self.scheduler = self._start_scheduler()
        self.webhooks.start()
        log.info(
            "started as %s with %d modem(s), %d keyword(s)", self.instance, len(self.workers), len(self.keywords())
        )

    def _start_scheduler(self) -> Scheduler | None:
        try:
            scheduler = Scheduler(self.config, self.keywords)
            scheduler.start()
        except Exception:  # reminders failing must not stop the SMS Center receiving
            log.exception("the scheduler did not start; reminders are off, messages still flow")
            return None
        return scheduler

    def stop(self) -> None:
        self.stop_event.set()
        self.health.wake_all()
        if self.scheduler is not None:
            self.scheduler.shutdown()
        deadline = time.monotonic() + STOP_TIMEOUT
        for worker in self.workers:
            worker.join(max(deadline - time.monotonic(), 0.1))
            if worker.is_alive():
                log.error("%s: still busy after %.0f s; leaving it", worker.modem.name, STOP_TIMEOUT)
            outqueue.remove_listener(worker.wake)
        if self._dispatcher is not None:
            self._dispatcher.join(2)
        self.webhooks.stop()
        self.router.close()
        try:
            heartbeat.stopped(self.instance)
        except peewee.DatabaseError as exc:  # then it goes stale within heartbeat.STALE
            log.warning("could not record the clean stop in the database: %s", exc)
        log.info("stopped")

    # threads --------------------------------------------------------------
    def _dispatch(self) -> None:
        """Wake the workers when another process queued a message (see modemd.send.outqueue)."""
        newest = outqueue.newest_id()
        while not self.stop_event.wait(outqueue.CROSS_PROCESS_POLL):
            try:
                latest = outqueue.newest_id()
            except Exception as exc:  # a database hiccup must not end the dispatcher
                log.warning("dispatcher: cannot read the queue: %s", exc)
                continue
            if latest != newest:
                newest = latest
                self.health.wake_all()

    def serve(self, stop: threading.Event | None = None) -> None:
        """The main thread's chores until ``stop`` (or :attr:`stop_event`) is set."""
        stop = stop or self.stop_event
        next_beat = next_expiry = next_status = 0.0
        watchdog = self.notifier.watchdog_interval
        next_watchdog = 0.0
        self.notifier.ready(self.status_line())
        while not stop.is_set() and not self.stop_event.is_set():
            now = time.monotonic()
            try:
                if self.reload_requested.is_set():
                    self.reload_requested.clear()
                    self.reload_keywords()
                self._check_reload_request()
                if now >= next_beat:
                    next_beat = now + HEARTBEAT_INTERVAL
                    heartbeat.beat(self.instance)
                if now >= next_expiry:
                    next_expiry = now + EXPIRY_INTERVAL
                    outbound.expire()
                if now >= next_status:
                    next_status = now + HEARTBEAT_INTERVAL
                    self.notifier.status(self.status_line())
            except Exception as exc:  # the daemon outlives a database hiccup
                log.error("daemon chores failed, trying again: %s", exc)
            if self.check_workers():
                self.notifier.status(self.status_line())  # at once, not at the next status refresh
            if watchdog and now >= next_watchdog and not self._stuck:
                next_watchdog = now + watchdog
                self.notifier.watchdog()
            stop.wait(min(RELOAD_POLL, watchdog or RELOAD_POLL))

    def check_workers(self) -> bool:
        """Look for stuck workers; log an episode's start (WARNING, once) and end. True when that changed."""
        stuck = {s.name: s for s in (w.progress.stuck() for w in self.workers) if s is not None}
        for name, found in stuck.items():
            if name not in self._stuck:
                log.warning(
                    "%s: the worker is stuck %s for %.0f s; systemd's watchdog is no longer fed, "
                    "so the service is restarted unless it moves again",
                    name,
                    found.step,
                    found.seconds,
                )
        for name in self._stuck.keys() - stuck.keys():
            log.info("%s: the worker moves again; feeding systemd's watchdog again", name)
        changed = stuck.keys() != self._stuck.keys()
        self._stuck = stuck
        return changed

    def _check_reload_request(self) -> None:
        requested = DaemonState.read("reload_keywords")
        if requested and requested != self._seen_reload_request:
            self._seen_reload_request = requested
            log.info("the web UI asked to reload keywords.ini (%s)", requested)
            self.reload_keywords()

    def status_line(self) -> str:
        """systemd's STATUS=, e.g. "2 modems, 14 queued, signal -71 dBm"."""
        states = self.health.states()
        ready = sum(1 for s in states.values() if s == "ready")
        parts = [
            f"{ready}/{len(self.workers)} modems ready"
            if ready != len(self.workers)
            else f"{len(self.workers)} modem{'s' if len(self.workers) != 1 else ''}"
        ]
        try:
            parts.append(f"{outbound.depth()} queued")
        except Exception:  # a status line is not worth failing for
            parts.append("queue unknown")
        signals = [dbm for dbm in self.health.signals().values() if dbm is not None]
        if signals:
            parts.append("signal " + "/".join(f"{dbm}" for dbm in signals) + " dBm")
        if self._stuck:
            parts.append("STUCK: " + "; ".join(str(s) for s in self._stuck.values()))
        return ", ".join(parts)


def install_signal_handlers(daemon: Daemon) -> None:
    signal.signal(signal.SIGTERM, lambda *_: daemon.stop_event.set())
    signal.signal(signal.SIGINT, lambda *_: daemon.stop_event.set())
    signal.signal(signal.SIGHUP, lambda *_: daemon.reload_requested.set())


def run_daemon(result: CheckResult, instance: str | None = None) -> int:
    """Run until SIGTERM; called by ``modemd run`` after every check passed."""
    assert result.config is not None and result.keywords is not None, "run only after every check passed"
    daemon = Daemon(result.config, result.keywords, instance)
    install_signal_handlers(daemon)
    daemon.start()
    try:
        daemon.serve()
    finally:
        daemon.notifier.stopping()
        daemon.stop()
    return 0
