"""Running the bot: adapters, the web archive and the scheduler in one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal

from bot.app import App, build_app, make_adapter
from bot.config import Config

log = logging.getLogger(__name__)


async def run_bot(
    config: Config, platforms: list[str], *, as_admin: bool = False, web: bool = True
) -> int:
    """Start everything configured and run until the console closes or a signal arrives."""
    app = build_app(config)
    adapters = []
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
    warm_up_process()
    if app.indexer is not None:
        app.indexer.notify()  # index what a crash or an older version left queued
    extras = await _start_extras(app, web=web)
    try:
        for adapter in adapters:
            await adapter.start()
        waiters = [asyncio.create_task(stop.wait())]
        for adapter in adapters:
            finished = getattr(adapter, "finished", None)
            if finished is not None:
                waiters.append(asyncio.create_task(finished.wait()))
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()
    finally:
        for adapter in reversed(adapters):
            with contextlib.suppress(Exception):
                await adapter.stop()
        for stopper in reversed(extras):
            with contextlib.suppress(Exception):
                await stopper()
        if app.indexer is not None:
            await app.indexer.close()
        app.db.dispose()
    return 0


def warm_up_process() -> None:
    """Get the process ready for messages: load jieba's dictionary now (so the first message
    or search is not the slow one), then freeze what start-up allocated out of the garbage
    collector's sight (``gc.freeze``): full collections then walk only objects made while
    serving, which keeps them short (about 20 % of the CPU per Telegram message otherwise)."""
    try:
        from storage.search import warm_up

        warm_up()
    except Exception:  # a cold first search is better than no bot
        log.warning("search warm-up failed", exc_info=True)
    gc.collect()
    gc.freeze()


async def _start_extras(app: App, *, web: bool) -> list:
    """Start the scheduler and the web archive when those modules are present."""
    stoppers = []
    try:
        from digest.schedule import start_scheduler
    except ImportError:
        start_scheduler = None  # type: ignore[assignment]
    config = app.config
    if start_scheduler is not None and (config.digest.enabled or config.reminders.enabled):
        stoppers.append(await start_scheduler(app))  # runs the jobs only while it leads
    if web and app.config.web.enabled:
        try:
            from bot.web import start_web
        except ImportError:
            start_web = None  # type: ignore[assignment]
        if start_web is not None:
            try:
                stoppers.append(await start_web(app))
            except OSError as error:  # e.g. the port is taken: keep the bot (console) running
                log.warning("web archive not started on port %s: %s", app.config.web.port, error)
    return stoppers
