"""The scheduler: APScheduler 3 (AsyncIOScheduler) with a persistent job store on the bot's DB.

Jobs per group (stable ids, so restarts never duplicate them):

* ``digest-publish:<slug>``: ``config.digest.cron`` in the group's timezone; publishes every
  closed, unpublished issue (:meth:`digest.service.DigestService.publish_due`).
* ``digest-preview:<slug>``: ``preview_lead_minutes`` before each publish; sends the numbered
  preview to the admins' private chats (and the console).
* ``digest-retry:<slug>``: every :data:`RETRY_MINUTES`; finishes issues whose publishing
  started but failed for some chat.

Jobs live in the table ``apscheduler_jobs`` (created by APScheduler). ``coalesce=True`` and a
7-day ``misfire_grace_time`` make a job missed during downtime run once, late, at start-up;
publishing is exactly-once by database state (:mod:`digest.publish`), so a repeated run is a
no-op. A persisted job whose trigger is unchanged is kept as it is (replacing it would move
its missed run time into the future and lose the catch-up).

Leadership: of several bot processes on one database (webhook mode behind a load balancer) only
the holder of :class:`storage.leader.LeaderLock` (a PostgreSQL advisory lock, or a ``flock``
beside a SQLite file) runs the scheduler. The others are followers: they retry every
:data:`LEADER_RETRY_SECONDS` and start the jobs when they get the lock (the leader dying
releases it). ``stop()`` shuts the scheduler down and releases the lock.

Adding jobs from another module: job functions must be importable module-level functions
``async def job(*simple_args, jobs: JobContext | None = None)``; the scheduler's executor
passes the stored arguments and ``jobs=``, the :class:`digest.jobs.JobContext` (config,
database, digest service, senders, clock, scheduler). Add a registrar ``function(scheduler, jobs)`` to
:data:`REGISTRARS` (called at start-up, before jobs run), or add jobs to the running scheduler
(``app.scheduler``, :func:`scheduler_for`) with ``add_job(..., id="stable-id",
replace_existing=True)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, timedelta
from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from bot.backups import register_backup_job
from digest.jobs import JobContext, JobExecutor, SchedulerHost, bound
from digest.reminders import register_reminder_job
from digest.triggers import LeadTrigger, ensure_job, publish_trigger
from storage.leader import LeaderLock

log = logging.getLogger(__name__)

JOBS_TABLE = "apscheduler_jobs"
MISFIRE_GRACE = int(timedelta(days=7).total_seconds())
RETRY_MINUTES = 15
#: How often a follower tries to become the scheduler leader (tests make it shorter).
LEADER_RETRY_SECONDS = 20.0
#: Called as ``function(scheduler, jobs)`` at start-up to add their jobs.
REGISTRARS: tuple[Callable[[AsyncIOScheduler, JobContext], Any], ...] = (
    register_reminder_job,
    register_backup_job,
)


def scheduler_for(app: SchedulerHost) -> AsyncIOScheduler | None:
    """The running scheduler of ``app`` (None when not started, or while following)."""
    scheduler = app.scheduler
    return scheduler if isinstance(scheduler, AsyncIOScheduler) else None


# -- job functions (referenced by name in the job store) -------------------------------------
async def publish_job(group_slug: str, *, jobs: JobContext | None = None) -> None:
    """Publish the group's closed issues (late after downtime, never twice)."""
    reports = await bound(jobs).digest.publish_due(group_slug)
    log.info("digest publish job %s: %s", group_slug, [r.status for r in reports])


async def preview_job(group_slug: str, *, jobs: JobContext | None = None) -> None:
    """Send the coming issue's preview to the admins."""
    sent = await bound(jobs).digest.send_preview(group_slug)
    log.info("digest preview for %s sent as %d messages", group_slug, sent)


async def retry_job(group_slug: str, *, jobs: JobContext | None = None) -> None:
    """Finish publishing issues that some chat did not get yet."""
    await bound(jobs).digest.retry(group_slug)


# -- start / stop ----------------------------------------------------------------------------
def add_digest_jobs(scheduler: AsyncIOScheduler, jobs_context: JobContext) -> list[str]:
    """The publish, preview and retry jobs of every group; returns their ids."""
    config = jobs_context.config
    if not config.digest.enabled:  # drop persisted digest jobs; reminders may still run
        for job in scheduler.get_jobs():
            if job.id.startswith(("digest-publish:", "digest-preview:", "digest-retry:")):
                scheduler.remove_job(job.id)
        return []
    _replan_open_issues(jobs_context)
    ids = []
    for group in config.groups:
        slug, tz = group.slug, group.timezone
        jobs: list[tuple[str, Callable[..., Awaitable[None]], BaseTrigger, int]] = [
            (
                f"digest-publish:{slug}",
                publish_job,
                publish_trigger(config.digest.cron, tz),
                MISFIRE_GRACE,
            ),
            (f"digest-retry:{slug}", retry_job, IntervalTrigger(minutes=RETRY_MINUTES), 60),
        ]
        if config.digest.preview_lead_minutes > 0:
            lead = config.digest.preview_lead_minutes
            jobs.append(
                (
                    f"digest-preview:{slug}",
                    preview_job,
                    LeadTrigger(config.digest.cron, tz, lead),
                    max(60, lead * 60),
                )
            )
        for job_id, func, trigger, grace in jobs:
            ensure_job(
                scheduler,
                job_id,
                func,
                trigger,
                [slug],
                coalesce=True,
                misfire_grace_time=grace,
                max_instances=1,
            )
            ids.append(job_id)
    return ids


def _replan_open_issues(jobs: JobContext) -> None:
    """Each group's open issue ends at the configured cron's next fire (it changed?)."""
    from digest.periods import replan_open_issue
    from storage.identity import ensure_group

    now = jobs.clock()
    with jobs.db.session() as session:
        for gconf in jobs.config.groups:
            group = ensure_group(session, gconf.slug, gconf.name, gconf.timezone)
            if replan_open_issue(session, group, jobs.config.digest.cron, now):
                log.info("digest: %s's open issue re-planned for the new cron", gconf.slug)


def _shared(engine: Engine) -> bool:
    """Whether other processes can open this database (an in-memory SQLite one cannot)."""
    url = make_url(str(engine.url))
    return url.get_backend_name() != "sqlite" or url.database not in (None, "", ":memory:")


def _run_jobs(app: SchedulerHost) -> AsyncIOScheduler:
    """Start the scheduler on the bot's database with every job (this process leads)."""
    store = SQLAlchemyJobStore(engine=app.db.engine, tablename=JOBS_TABLE)
    context = JobContext.of(app)
    scheduler = AsyncIOScheduler(
        jobstores={"default": store},
        executors={"default": JobExecutor(context)},
        job_defaults={"coalesce": True, "misfire_grace_time": MISFIRE_GRACE, "max_instances": 1},
        timezone=UTC,
    )
    context.scheduler = scheduler
    scheduler.start(paused=True)  # load persisted jobs before (re)adding ours
    try:
        add_digest_jobs(scheduler, context)
        for registrar in REGISTRARS:
            registrar(scheduler, context)
    except BaseException:
        scheduler.shutdown(wait=False)
        raise
    app.scheduler = scheduler
    scheduler.resume()
    return scheduler


async def start_scheduler(
    app: SchedulerHost,
    *,
    leader_retry: float | None = None,
    on_leader: Callable[[], object] | None = None,
) -> Callable[[], Awaitable[None]]:
    """Run the jobs if this process becomes leader (now, or later as a follower retrying every
    ``leader_retry`` seconds, default :data:`LEADER_RETRY_SECONDS`; ``on_leader()`` is called
    when the jobs start); returns an async ``stop()`` that shuts the scheduler down and steps
    down."""
    lock = LeaderLock(app.db.engine) if _shared(app.db.engine) else None
    interval = LEADER_RETRY_SECONDS if leader_retry is None else leader_retry
    state: dict[str, Any] = {"scheduler": None, "task": None}

    def lead() -> bool:
        if lock is not None and not lock.acquire():
            return False
        try:
            state["scheduler"] = _run_jobs(app)
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        if on_leader is not None:
            on_leader()
        return True

    def step_down() -> None:
        scheduler = state["scheduler"]
        state["scheduler"] = None
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)
        if scheduler is not None and app.scheduler is scheduler:
            app.scheduler = None

    async def supervise() -> None:
        """Follower: try to lead. Leader: check the lock still holds, else stop the jobs."""
        while True:
            await asyncio.sleep(interval)
            try:
                if state["scheduler"] is None:
                    if lead():
                        log.info("scheduler: this process is now the leader; jobs started")
                        await asyncio.sleep(0)
                elif lock is not None and not lock.still_held():
                    log.warning("scheduler: leadership lost; jobs stopped, following again")
                    step_down()
            except Exception:
                log.exception("scheduler: leadership check failed; retrying")

    if lead():
        await asyncio.sleep(0)  # let the first wake-up (overdue jobs) be processed while running
    else:
        log.warning(
            "scheduler: another process leads: a studybot process already runs the digests and "
            "reminders on this database. This process answers messages and serves the archive, but publishes "
            "no digest and sends no reminder while that one runs (it takes over within %s s "
            "if the other stops). Serve every group (%s) from that process's config.",
            interval,
            ", ".join(g.slug for g in app.config.groups),
        )
    if lock is not None:
        state["task"] = asyncio.create_task(supervise())

    async def stop() -> None:
        task = state["task"]
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        step_down()
        if lock is not None:
            lock.release()

    return stop
