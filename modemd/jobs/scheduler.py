"""When the notifications and broadcasts run: APScheduler inside the daemon.

The daemon creates ``Scheduler(config, keywords_getter)`` in ``run_daemon``,
calls :meth:`Scheduler.start` and, when stopping, :meth:`Scheduler.shutdown`.

The jobs only decide *when*; what is due is worked out by
:mod:`modemd.jobs.notifications` and :mod:`modemd.jobs.broadcasts` from the database
(the ``NotificationSent`` table is the truth, not APScheduler's memory job
store). So a job that fires twice, late, or after a restart sends nothing
twice, and the catch-up pass at start-up sends the latest missed period once.

Jobs (stable ids, ``replace_existing``, ``coalesce``, one at a time):

* ``notify-hourly``    every hour on the hour, in the centre's time zone;
* ``notify-daily``     at ``[notify] daily_time``;
* ``notify-recap``     at ``[notify] recap_time``;
* ``notify-deadlines`` every minute (deadline alerts and escalations; reminders of verified-flow steps);
* ``broadcasts``       every 15 seconds (queue approved broadcasts at their time, resume, close finished ones);
* ``privacy-purge``    at 01:30, only with ``[privacy] keep_days``: the numbers of cases closed
  longer ago are purged (:mod:`modemd.jobs.privacy`); a missed night is done by the next one;
* ``catch-up``         once, right after start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from modemd.jobs import broadcasts, flow_reminders, notifications, privacy
from modemd.receive.keywords import KeywordTable
from modemd.store.models import database_proxy, utcnow

if TYPE_CHECKING:
    from modemd.config import Config

log = logging.getLogger("modemd.scheduler")

HOURLY, DAILY, RECAP, DEADLINES, BROADCASTS, CATCH_UP, PRIVACY = (
    "notify-hourly",
    "notify-daily",
    "notify-recap",
    "notify-deadlines",
    "broadcasts",
    "catch-up",
    "privacy-purge",
)
JOB_IDS = (HOURLY, DAILY, RECAP, DEADLINES, BROADCASTS, CATCH_UP)  # PRIVACY only when keep_days is set
PRIVACY_AT = (1, 30)  # local time: a quiet hour

DEADLINE_INTERVAL = 60  # seconds
BROADCAST_INTERVAL = 15  # seconds
# A run this late (a busy executor, a suspended PC) still runs; later ones are left to the catch-up logic,
# which sends the latest period anyway when the next run comes.
MISFIRE_GRACE = 15 * 60


class _BackgroundScheduler(BackgroundScheduler):
    """APScheduler 3 marks itself stopped before it takes its job-store lock. A stop while its thread is
    between running the one-shot catch-up job and removing it made that removal raise
    JobLookupError('catch-up') in the thread. Once stopped, the job stores are emptied anyway."""

    def remove_job(self, job_id, jobstore=None):
        try:
            super().remove_job(job_id, jobstore)
        except JobLookupError:
            if self.state != STATE_STOPPED:
                raise


class Scheduler:
    """The daemon's timed jobs. ``keywords_getter()`` returns the current keyword table (it may be reloaded)."""

    def __init__(
        self,
        config: Config,
        keywords_getter: Callable[[], KeywordTable | None],
        *,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.config = config
        self.keywords_getter = keywords_getter
        self.clock = clock
        self.errors = 0  # failed job runs since start, for health reporting
        self._scheduler = _BackgroundScheduler(
            timezone=config.timezone,
            executors={"default": ThreadPoolExecutor(1)},  # one job at a time: no two passes race each other
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE},
        )

    # ------------------------------------------------------------------

    def start(self) -> None:
        """Add the jobs and start the scheduler thread; the catch-up pass runs right away."""
        zone = self.config.timezone
        daily_at = self.config.notify.daily_time
        recap_at = self.config.notify.recap_time
        # second=2: a cron job firing a hair early must not compute the previous period
        self._add(HOURLY, self.hourly, CronTrigger(minute=0, second=2, timezone=zone))
        self._add(DAILY, self.daily, CronTrigger(hour=daily_at.hour, minute=daily_at.minute, second=2, timezone=zone))
        self._add(RECAP, self.recap, CronTrigger(hour=recap_at.hour, minute=recap_at.minute, second=2, timezone=zone))
        self._add(DEADLINES, self.deadlines, IntervalTrigger(seconds=DEADLINE_INTERVAL, timezone=zone))
        self._add(BROADCASTS, self.broadcasts, IntervalTrigger(seconds=BROADCAST_INTERVAL, timezone=zone))
        if self.config.privacy.keep_days:
            privacy.load_salt(
                privacy.salt_path(self.config)
            )  # made now, by the daemon's user, or a clear error at start
            self._add(
                PRIVACY,
                self.privacy_purge,
                CronTrigger(hour=PRIVACY_AT[0], minute=PRIVACY_AT[1], second=2, timezone=zone),
            )
        self._scheduler.add_job(self.catch_up, id=CATCH_UP, name=CATCH_UP, replace_existing=True)  # run once, now
        self._scheduler.start()
        if not self.config.web.base_url:
            log.warning("[web] base_url is empty: notification SMS will carry no link to the web UI")
        log.info(
            "scheduler started: hourly, daily at %s, recap at %s, deadlines every %ds, broadcasts every %ds",
            daily_at.strftime("%H:%M"),
            recap_at.strftime("%H:%M"),
            DEADLINE_INTERVAL,
            BROADCAST_INTERVAL,
        )

    def shutdown(self, wait: bool = True) -> None:
        """Stop; with ``wait`` a running job finishes first (its transaction is never cut)."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=wait)
            log.info("scheduler stopped")

    @property
    def running(self) -> bool:
        return self._scheduler.running

    def jobs(self) -> dict[str, datetime | None]:
        """Job id -> next run time (aware, local), for status displays."""
        return {job.id: job.next_run_time for job in self._scheduler.get_jobs()}

    def _add(self, job_id: str, func: Callable[[], object], trigger) -> None:
        self._scheduler.add_job(func, trigger, id=job_id, name=job_id, replace_existing=True)

    # ------------------------------------------------------------------
    # The jobs: each one pass, errors logged and counted, never raised into APScheduler's thread

    def _run(
        self, name: str, work: Callable[[datetime], list[notifications.Outcome] | list[int] | privacy.PurgeResult]
    ):
        now = self.clock()
        try:
            result = work(now)
        except Exception:
            self.errors += 1
            log.exception("%s pass failed; it runs again at its next time", name)
            return None
        finally:
            # each pass in the worker thread opens its own connection; give it back
            if database_proxy.obj is not None and not database_proxy.is_closed():
                database_proxy.close()
        for outcome in result if isinstance(result, list) else []:
            if isinstance(outcome, notifications.Outcome) and outcome.queued:
                log.info("%s %s: %d notification(s) queued", outcome.job, outcome.period, len(outcome.queued))
        return result

    def hourly(self):
        return self._run(HOURLY, lambda now: [notifications.hourly(now, self.config, self.keywords_getter())])

    def daily(self):
        return self._run(DAILY, lambda now: [notifications.daily(now, self.config, self.keywords_getter())])

    def recap(self):
        return self._run(RECAP, lambda now: [notifications.recap(now, self.config, self.keywords_getter())])

    def deadlines(self):
        return self._run(
            DEADLINES,
            lambda now: [
                *notifications.deadlines(now, self.config, self.keywords_getter()),
                flow_reminders.remind(now, self.config, self.keywords_getter()),
            ],
        )

    def broadcasts(self):
        return self._run(BROADCASTS, lambda now: broadcasts.run_due(now, self.config))

    def privacy_purge(self):
        """The numbers of cases closed more than keep_days ago, purged (and audited as the daemon)."""
        keep_days = self.config.privacy.keep_days
        salt = privacy.salt_path(self.config)
        return self._run(
            PRIVACY, lambda now: privacy.purge(privacy.cutoff(keep_days, now), privacy.load_salt(salt), "daemon")
        )

    def catch_up(self):
        """After a start (or downtime): every pass once; each sends only its latest period not yet sent."""

        def work(now: datetime):
            outcomes = notifications.run_all(now, self.config, self.keywords_getter())
            broadcasts.run_due(now, self.config)
            return outcomes

        return self._run(CATCH_UP, work)
