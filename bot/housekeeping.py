"""Housekeeping while the bot runs: the ids of handled messages are kept
``database.processed_retention_days`` (default 30) to refuse a re-delivered message, then
pruned — at start-up and once a day (about 157 bytes a message otherwise grow forever).

Platforms re-deliver within a day (``bot.clubtime.PLATFORM_RETENTION``), so dedupe inside the
window is untouched. Several processes may prune at once: deleting old rows is idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.model import utcnow
from storage import processed
from storage.db import Database

log = logging.getLogger(__name__)

DAY = 24 * 3600.0


def prune_processed(db: Database, days: int, now: datetime) -> int:
    """Forget handled-message ids older than ``days`` before ``now``; how many went."""
    with db.session() as session:
        pruned = processed.prune_processed(session, now - timedelta(days=days))
    if pruned:
        log.info("pruned %d handled-message ids older than %d days", pruned, days)
    return pruned


class Housekeeping:
    """Prunes at once, then every ``interval`` seconds; awaiting it stops the loop."""

    def __init__(
        self,
        db: Database,
        days: int,
        *,
        interval: float = DAY,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db, self.days, self.interval, self.clock = db, days, interval, clock
        self.task = asyncio.create_task(self._loop(), name="housekeeping")

    async def _loop(self) -> None:
        while True:
            try:
                # the ids are stamped with the real time (column default), so prune by it too
                await asyncio.to_thread(prune_processed, self.db, self.days, self.clock())
            except Exception:  # a database hiccup: try again next time
                log.warning("pruning handled-message ids failed", exc_info=True)
            await asyncio.sleep(self.interval)

    async def __call__(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
