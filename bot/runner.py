"""Running the bot: adapters, the web archive and the scheduler in one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from bot.app import App, build_app, make_adapter
from bot.clubtime import PLATFORM_RETENTION
from bot.config import Config
from bot.housekeeping import Housekeeping
from bot.memory import release_free_memory
from bot.platform import Adapter
from bot.selfcheck import report_optional_parts, report_setup
from bot.web import start_web
from digest.schedule import start_scheduler

log = logging.getLogger(__name__)

#: After start-up the scheduler waits until no message came in for this long (the platform's
#: backlog is in), but no longer than the limit.
BACKLOG_QUIET_SECONDS = 2.0
BACKLOG_LIMIT_SECONDS = 60.0


async def run_bot(
    config: Config, platforms: list[str], *, as_admin: bool = False, web: bool = True
) -> int:
    """Start everything configured and run until the console closes or a signal arrives."""
    app = build_app(config)
    warn_about_renamed_groups(app)
    adapters: list[Adapter] = []
    for name in platforms:
        adapter = make_adapter(name, app)
        if name == "console" and as_admin:
            adapter.as_admin = True  # type: ignore[attr-defined]
        adapters.append(adapter)
        app.add_sender(adapter)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    report_setup(config, app.db)
    report_optional_parts(config, platforms)
    warm_up_process()
    if app.indexer is not None:
        app.indexer.notify()  # index what a crash or an older version left queued
    if app.paper_metadata is not None:
        app.paper_metadata.resume()  # paper metadata a restart or the network left missing
    extras: list[Callable[[], Awaitable[object]]] = []
    try:
        for adapter in adapters:
            await adapter.start()
        if any(name in PLATFORM_RETENTION for name in platforms):
            await wait_for_backlog(app)
        extras = await _start_extras(app, web=web)
        archive_url = _archive_url(app, extras)
        for adapter in adapters:
            if adapter.platform == "console" and archive_url:
                adapter.show_archive(archive_url)  # type: ignore[attr-defined]
        log_what_runs(app, adapters, archive_url)
        waiters = [asyncio.create_task(stop.wait())]
        for adapter in adapters:
            finished = getattr(adapter, "finished", None)
            if finished is not None:
                waiters.append(asyncio.create_task(finished.wait()))
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()
    finally:
        await app.dispatcher.tasks.close()  # after-commit work under way (publishing, charts)
        for adapter in reversed(adapters):
            try:
                await adapter.stop()
            except Exception:  # the others still stop; the database is still closed
                log.exception("stopping the %s adapter failed", adapter.platform)
        for stopper in reversed(extras):
            try:
                await stopper()
            except Exception:
                log.exception("stopping %s failed", getattr(stopper, "__qualname__", stopper))
        if app.indexer is not None:
            await app.indexer.close()
        app.db.dispose()
    return 0


async def wait_for_backlog(
    app: App, *, quiet: float = BACKLOG_QUIET_SECONDS, limit: float = BACKLOG_LIMIT_SECONDS
) -> None:
    """Wait until no message has come in for ``quiet`` seconds (at most ``limit``): what a
    platform kept while the bot was down is then stored, with the time each was sent, before
    the scheduler runs overdue jobs, so a late-delivered note written before a deadline is in
    the issue it belongs to when that issue is published."""
    started = time.monotonic()
    while True:
        now = time.monotonic()
        idle = now - max(app.dispatcher.last_received, started)
        if idle >= quiet:
            return
        if now - started >= limit:
            log.info("platform backlog still arriving after %.0f s; starting the scheduler", limit)
            return
        await asyncio.sleep(quiet - idle + 0.01)


def warn_about_renamed_groups(app: App) -> None:
    """A group whose slug left the config keeps its history under the old slug: say so, and
    how to move it (a slug edited in the config alone would start a new, empty group)."""
    from storage.chats import orphaned_groups

    try:
        with app.db.session() as session:
            left = orphaned_groups(session, [g.slug for g in app.config.groups])
    except Exception:
        return
    for slug in left:
        log.warning(
            "group %s is in the database but not in the config: its history and issues are "
            "not served. If you renamed it, stop the bot and run "
            "`studybot db rename-group %s NEW_SLUG`",
            slug,
            slug,
        )


def _archive_url(app: App, extras: Sequence[Any]) -> str | None:
    """The archive's address once the web server runs: the public ``web.base_url``, or where
    it listens when base_url is still the local default (e.g. with ``port: 0``)."""
    handle = next((stopper for stopper in extras if hasattr(stopper, "url")), None)
    if handle is None:
        return None
    public = app.config.web.base_url.rstrip("/")
    local = ("http://127.0.0.1:", "http://localhost:")
    return (handle.url if public.startswith(local) else public) + "/"


def log_what_runs(app: App, adapters: Sequence[Adapter], archive_url: str | None = None) -> None:
    """INFO lines an operator checks after a start: platforms and bot names, each group with
    its chats, where the archive is, and when the next digest and reminder run."""
    config = app.config
    for adapter in adapters:
        name = getattr(adapter, "username", "") or ""
        log.info("serving %s%s", adapter.platform, f" as @{name}" if name else "")
    for group in config.groups:
        chats = ", ".join(f"{c.platform}:{c.chat_id}" for c in group.chats) or "no chats"
        log.info(
            "group %s (%s, %s, %s): %s",
            group.slug,
            group.name,
            group.timezone,
            group.language or config.language,
            chats,
        )
    if archive_url:
        log.info("web archive: %s", archive_url)
    try:
        from digest.schedule import scheduler_for
    except ImportError:  # pragma: no cover
        return
    scheduler = scheduler_for(app)
    if scheduler is None:
        if config.digest.enabled or config.reminders.enabled or config.backup.cron:
            log.info("scheduler: following; another process on this database runs the jobs")
        return
    zones = {group.slug: ZoneInfo(group.timezone) for group in config.groups}
    for job in sorted(scheduler.get_jobs(), key=lambda j: j.id):
        when = getattr(job, "next_run_time", None)
        if when is not None and not job.id.startswith("digest-retry"):
            zone = zones.get(job.id.split(":")[1] if ":" in job.id else "")
            local = when.astimezone(zone) if zone is not None else when
            log.info("next %s: %s", job.id, local.isoformat(timespec="minutes"))


def warm_up_process() -> None:
    """Get the process ready for messages: load jieba's dictionary now (so the first message
    or search is not the slow one), then freeze what start-up allocated out of the garbage
    collector's sight (``gc.freeze``): full collections then walk only objects made while
    serving, which keeps them short (about 20 % of the CPU per Telegram message otherwise), and
    give the heap pages start-up freed back to the system (:mod:`bot.memory`)."""
    try:
        from storage.search.text import warm_up

        warm_up()
    except Exception:  # a cold first search is better than no bot
        log.warning("search warm-up failed", exc_info=True)
    gc.collect()
    gc.freeze()
    release_free_memory()


async def _start_extras(app: App, *, web: bool) -> list[Callable[[], Awaitable[object]]]:
    """Start housekeeping, the scheduler (digests, reminders) and the web archive, as
    configured."""
    config = app.config
    stoppers: list[Callable[[], Awaitable[object]]] = [
        Housekeeping(app.db, config.database.processed_retention_days)
    ]
    if config.digest.enabled or config.reminders.enabled or config.backup.cron:
        stoppers.append(await start_scheduler(app))  # runs the jobs only while it leads
    if web and app.config.web.enabled:
        try:
            stoppers.append(await start_web(app))
        except OSError as error:  # e.g. the port is taken: keep the bot running, retry
            log.warning(
                "web archive not started on port %s (%s): no archive pages or feeds until it "
                "binds; retrying",
                app.config.web.port,
                error,
            )
            stoppers.append(WebRetry(app, start_web))
    return stoppers


class WebRetry:
    """Starts the web archive once its port frees up (backoff 5 s doubling to 5 min), so the
    digest's 阅读原文 links come alive without a restart; awaiting it stops either."""

    delays: tuple[float, ...] = (5, 10, 20, 40, 80, 160, 300)

    def __init__(self, app: App, start: Callable[[App], Awaitable[Any]]) -> None:
        self.app, self.start = app, start
        self.handle: Any = None
        self.task = asyncio.create_task(self._retry(), name="web-archive-retry")

    async def _retry(self) -> None:
        for attempt in itertools.count():
            await asyncio.sleep(self.delays[min(attempt, len(self.delays) - 1)])
            try:
                self.handle = await self.start(self.app)
            except OSError as error:
                log.warning("web archive still not started (%s); retrying", error)
                continue
            log.info("web archive started on port %s", self.app.config.web.port)
            return

    async def __call__(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        if self.handle is not None:
            await self.handle()
