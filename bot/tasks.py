"""Tracked background work: slow jobs that run off the message path, never forgotten.

``tasks.spawn(coroutine, what)`` starts a task and keeps a reference until it ends (asyncio
keeps only weak ones: an untracked task may vanish mid-way). A task that fails is logged with
``what`` and reported through ``report`` (the bootstrap tells the admins). ``await
tasks.close(grace)`` at shutdown lets running work finish within ``grace`` seconds, then cancels it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)


class BackgroundTasks:
    """The set of running background tasks of one app."""

    def __init__(self, report: Callable[[str], Awaitable[Any]] | None = None) -> None:
        self.report = report  # e.g. DigestService.notify_admins
        self._tasks: set[asyncio.Task[Any]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, work: Coroutine[Any, Any, Any], what: str) -> asyncio.Task[Any]:
        """Run ``work`` in the background; failures are logged and reported as ``what``."""
        task = asyncio.get_running_loop().create_task(self._guarded(work, what), name=what)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _guarded(self, work: Coroutine[Any, Any, Any], what: str) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.error("background task %s failed", what, exc_info=True)
            if self.report is not None:
                try:
                    await self.report(f"⚠️ {what}: {type(error).__name__}: {error}")
                except Exception:
                    log.exception("could not report the failure of %s", what)

    async def idle(self) -> None:
        """Wait until no background task is running (those they start included)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def close(self, grace: float = 5.0) -> None:
        """Let running tasks finish within ``grace`` seconds, then cancel the rest."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=grace)
        for task in pending:
            log.warning("background task %s cancelled at shutdown", task.get_name())
            task.cancel()
        if pending:
            await asyncio.wait(pending)
