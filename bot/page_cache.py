"""Rendered archive pages kept for a few seconds, so a busy archive does not render per request.

The web archive's pages (index, issues, feeds) are rendered from the database in a worker
thread; rendering costs Python CPU that competes with the conversation on the event loop. A
page is kept while the archive's *version* (one small query: how many issues are published,
the newest id and publish time) is unchanged, and for at most ``ttl`` seconds, so a new issue
shows at once and an edited one within ``ttl``. Concurrent requests for the same page wait for
one render instead of each rendering it. Nothing is kept for a page that does not exist
(``None``), so a 404 never outlives the issue's publication.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

MAX_PAGES = 512
"""Pages kept at most (a club's archive has a few hundred issues; beyond this, expired and
then oldest pages make room)."""


@dataclass(frozen=True)
class _Kept(Generic[T]):
    version: Hashable
    expires: float
    value: T


class PageCache:
    """Pages by key, valid while ``version()`` is unchanged and for ``ttl`` seconds.

    :meth:`get` blocks (database query and render): call it from a worker thread."""

    def __init__(
        self,
        version: Callable[[], Hashable],
        ttl: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._version = version
        self.ttl = ttl
        self._clock = clock
        self._pages: dict[Hashable, _Kept[object]] = {}
        self._lock = threading.Lock()
        self._rendering: dict[Hashable, threading.Lock] = {}
        self.renders = 0  # how many times a page was actually rendered (for tests and benches)

    def get(self, key: Hashable, render: Callable[[], T | None]) -> T | None:
        """The page ``key``: kept if still valid, else ``render()`` (once for concurrent
        callers); ``None`` (no such page) is returned but never kept."""
        if self.ttl <= 0:
            self.renders += 1
            return render()
        version = self._version()
        found = self._valid(key, version)
        if found is not None:
            return found.value  # type: ignore[return-value]
        with self._lock:
            one_render = self._rendering.setdefault(key, threading.Lock())
        with one_render:
            found = self._valid(key, version)  # rendered by the caller we waited for
            if found is not None:
                return found.value  # type: ignore[return-value]
            value = render()
            self.renders += 1
            if value is not None:
                self._keep(key, _Kept(version, self._clock() + self.ttl, value))
            return value

    def _valid(self, key: Hashable, version: Hashable) -> _Kept[object] | None:
        with self._lock:
            kept = self._pages.get(key)
        if kept is None or kept.version != version or kept.expires <= self._clock():
            return None
        return kept

    def _keep(self, key: Hashable, kept: _Kept[object]) -> None:
        with self._lock:
            if len(self._pages) >= MAX_PAGES and key not in self._pages:
                now = self._clock()
                for old in [k for k, v in self._pages.items() if v.expires <= now]:
                    del self._pages[old]
                while len(self._pages) >= MAX_PAGES:
                    del self._pages[next(iter(self._pages))]  # the oldest kept
            self._pages[key] = kept
