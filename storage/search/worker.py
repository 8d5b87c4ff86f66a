"""Background indexing: drains :mod:`storage.search.queue` (:mod:`storage.search.drain`) shortly after messages, off the reply path.

:meth:`IndexWorker.notify` is called by :class:`storage.db.Database` after a commit that queued
entries. The worker waits until messages have been quiet for ``idle`` seconds (a burst is
answered first), but never longer than ``max_delay`` after the first queued entry, and starts at
once when ``backlog`` commits are waiting; it then indexes in transactions of ``batch`` rows,
each in the database's worker thread (never on the event loop; messages that arrive meanwhile
are stored between two of them). A failed drain is logged and retried after
``max_delay``. Without a running event loop (command line, scripts) it does nothing: the queue
is durable, and the next search or the next start drains it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Protocol

from sqlalchemy.orm import Session

from storage.search.drain import index_pending

log = logging.getLogger(__name__)


class Sessions(Protocol):
    """Where the worker gets its units of work: :class:`storage.db.Database` (which imports
    the search index, so this package does not import it)."""

    def session(self) -> AbstractContextManager[Session]: ...

    async def run(self, fn: Callable[[int], int], limit: int, /) -> int:
        """``fn(limit)`` in the database's worker thread, awaited."""
        ...


class IndexWorker:
    """Keeps the search index caught up: half a second after the last message, 10 s at most."""

    def __init__(
        self,
        db: Sessions,
        *,
        idle: float = 0.5,
        max_delay: float = 10.0,
        backlog: int = 1000,
        batch: int = 25,  # ~10-15 ms of segmenting per transaction: messages wait at most that
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.idle, self.max_delay, self.backlog, self.batch = idle, max_delay, backlog, batch
        self.clock = clock
        self.indexed = 0  # entries indexed so far (for benchmarks and logs)
        self._first: float | None = None  # when the oldest waiting commit happened
        self._last = 0.0
        self._waiting = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None

    def notify(self) -> None:
        """Entries were queued (called after their commit); schedule a drain."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # another thread, or no event loop at all
            if self._loop is not None and self._loop.is_running():
                self._loop.call_soon_threadsafe(self.notify)
            return
        now = self.clock()
        if self._first is None:
            self._first = now
        self._last = now
        self._waiting += 1
        if self._task is None or self._task.done() or self._loop is not loop:
            self._loop = loop
            self._task = loop.create_task(self._run(), name="search-indexer")

    async def _run(self) -> None:
        while self._first is not None:
            now = self.clock()
            due = min(self._last + self.idle, self._first + self.max_delay)
            if now < due and self._waiting < self.backlog:
                await asyncio.sleep(min(due - now, 0.05))
                continue
            self._first, self._waiting = None, 0
            try:
                await self.drain()
            except Exception:
                log.warning("search indexing failed; retrying shortly", exc_info=True)
                self._first, self._last = self.clock(), self.clock() + self.max_delay

    async def drain(self) -> int:
        """Index everything queued now, ``batch`` rows per transaction."""
        total = 0
        while True:
            done = await self.db.run(self._index, self.batch)
            total += done
            self.indexed += done
            if done < self.batch:
                return total

    def _index(self, limit: int) -> int:
        with self.db.session() as session:
            return index_pending(session, limit=limit)

    async def close(self) -> None:
        """Stop the background task and index what is still queued (best effort)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task, self._first, self._waiting = None, None, 0
        try:
            await self.drain()
        except Exception:  # the queue is durable: the next start indexes it
            log.warning("search indexing at shutdown failed", exc_info=True)
