"""The send stage: one scheduler per platform drains the outbox within the platform's limits.

Receiving and sending are separate: a message's replies are queued in its transaction
(``bot.outbox``) and the adapter's :class:`SendStage` sends them. Each chat has its own
*lane* (a task sending that chat's rows one by one, in the order they were queued), so a busy group waiting for its
allowance holds nothing but its own lane: other chats' replies and the ingest of every message
go on. Every platform call first takes a token from the platform's :class:`RateLimiter`:

- windows per platform: overall (Telegram ~30/s per bot; WeChat one per
  ``send_interval_seconds``, no bursts), per group (Telegram 20/min) and per private chat
  (Telegram ~1/s); a 429's ``retry_after`` holds the chat (:meth:`RateLimiter.hold`);
- priorities when tokens are short: answers and question announcements (0), digest parts
  (1, sent in order by the publisher), acknowledgments and notices (2). A row's lane sets
  :data:`current_priority`; bot-initiated sends (the digest) default to digest priority.

Its bookkeeping never runs on the event loop: loading waiting rows, each row's claim and
settle, and a long reply's part count go to the database's worker thread
(:meth:`storage.db.Database.run`; the count is queued without waiting, ahead of the row's
settle). A row is claimed before it is sent and settled after, so it goes out at most once; a row that
fails for a passing reason (network) stays pending and its lane tries again after
``retry_seconds`` (keeping the chat's order); a final refusal fails it, and queues its
stand-in if it has one (``extra.instead``: an asker's DM refused, the notice for the group),
in the same transaction, so once. A long reply's parts
are counted in its row (:class:`Parts`): one stopped halfway resumes from its first unsent
part. A row older than
``max_age_seconds`` when its turn comes is dropped (state ``expired``) with a log line.

Shutdown (:meth:`SendStage.stop`): no new send starts, rows waiting for a token stay pending
(sent after the restart), sends under way get ``grace`` seconds to finish, then are cancelled
and marked failed (they may have reached the platform: never risk a duplicate).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import ParamSpec, TypeVar

from bot.model import utcnow
from bot.outbox import DIGEST, Queued, instead_row
from storage import outbox
from storage.db import Database

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")
current_priority: ContextVar[int] = ContextVar("send_priority", default=DIGEST)


class Stopping(Exception):
    """The send stage is stopping: this send did not start (its row stays pending)."""


class SendLater(Exception):
    """A passing failure (network, platform down): keep the row, try again later (from its
    first unsent part, see :class:`Parts`)."""


class SendFailed(Exception):
    """A final refusal (bad request, blocked): retrying cannot help."""


@dataclass(frozen=True)
class Window:
    """At most ``count`` sends in any ``seconds``."""

    count: int
    seconds: float


@dataclass(frozen=True)
class Limits:
    """A platform's send limits (None: no limit of that kind)."""

    overall: Window | None = None
    group: Window | None = None
    private: Window | None = None


class _Log:
    """Send times inside one window (a sliding-window counter)."""

    __slots__ = ("times", "window")

    def __init__(self, window: Window) -> None:
        self.window = window
        self.times: deque[float] = deque()

    def free_at(self, now: float) -> float:
        times, window = self.times, self.window
        while times and times[0] <= now - window.seconds:
            times.popleft()
        return now if len(times) < window.count else times[0] + window.seconds

    def spend(self, now: float) -> None:
        self.times.append(now)


class RateLimiter:
    """Hands out send tokens within :class:`Limits`, best priority first.

    ``is_group(chat)`` tells group chats from private ones. A waiter blocked by its own chat's
    window never blocks a waiter of another chat.
    """

    def __init__(
        self,
        limits: Limits,
        *,
        is_group: Callable[[str], bool],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits
        self.is_group = is_group
        self.clock = clock
        self._overall = _Log(limits.overall) if limits.overall else None
        self._chats: dict[str, _Log] = {}
        self._held: dict[str, float] = {}
        self._held_all = float("-inf")
        self._waiters: list[list[object]] = []  # [priority, seq, chat, future, in_chat]
        self._seq = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = float("inf")
        self._closed = False
        self._closing = asyncio.Event()

    def _chat_log(self, chat: str) -> _Log | None:
        log_ = self._chats.get(chat)
        if log_ is None:
            window = self.limits.group if self.is_group(chat) else self.limits.private
            if window is None:
                return None
            log_ = self._chats[chat] = _Log(window)
            if len(self._chats) > 10_000:  # forget idle chats
                now = self.clock()
                for key in [k for k, v in self._chats.items() if v.free_at(now) <= now][:5000]:
                    del self._chats[key]
        return log_

    def free_at(self, chat: str, now: float, in_chat: bool = True) -> float:
        """When ``chat`` may send next (``now`` when it may send at once)."""
        at = max(now, self._held_all, self._held.get(chat, now))
        if self._overall is not None:
            at = max(at, self._overall.free_at(now))
        chat_log = self._chat_log(chat) if in_chat else None
        if chat_log is not None:
            at = max(at, chat_log.free_at(now))
        return at

    def _spend(self, chat: str, now: float, in_chat: bool = True) -> None:
        if self._overall is not None:
            self._overall.spend(now)
        chat_log = self._chat_log(chat) if in_chat else None
        if chat_log is not None:
            chat_log.spend(now)

    async def acquire(
        self, chat: str, priority: int | None = None, *, in_chat: bool = True
    ) -> None:
        """Wait for a token to send into ``chat`` (raises :class:`Stopping` when closed);
        ``in_chat=False``: a call the platform counts only overall (a reaction)."""
        if self._closed:
            raise Stopping
        now = self.clock()
        if not self._waiters and self.free_at(chat, now, in_chat) <= now:
            self._spend(chat, now, in_chat)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        prio = current_priority.get() if priority is None else priority
        heapq.heappush(self._waiters, [prio, next(self._seq), chat, future, in_chat])
        self._wake(now)
        await future  # cancelled: _grant skips it

    def hold(self, chat: str | None, seconds: float) -> None:
        """The platform asked to wait (a 429): hold ``chat`` (None: every chat)."""
        until = self.clock() + seconds
        if chat is None:
            self._held_all = max(self._held_all, until)
        else:
            self._held[chat] = max(self._held.get(chat, until), until)

    async def pause(self, waiting: Awaitable[object]) -> None:
        """Await ``waiting`` (a sleep the platform asked for) unless :meth:`close` comes
        first: then :class:`Stopping`, as nothing was sent (the row stays pending)."""
        if self._closed:
            if asyncio.iscoroutine(waiting):
                waiting.close()
            raise Stopping
        sleep = asyncio.ensure_future(waiting)
        closing = asyncio.ensure_future(self._closing.wait())
        try:
            await asyncio.wait({sleep, closing}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleep, closing):
                task.cancel()
        if self._closed:
            raise Stopping

    def reopen(self) -> None:
        """Hand out tokens again after :meth:`close` (an adapter restarted)."""
        self._closed = False
        self._closing.clear()

    def close(self) -> None:
        """Refuse every waiting and future acquire with :class:`Stopping`."""
        self._closed = True
        self._closing.set()
        for entry in self._waiters:
            future = entry[3]
            assert isinstance(future, asyncio.Future)
            if not future.done():
                future.set_exception(Stopping())
        self._waiters.clear()

    @property
    def held_back(self) -> int:
        """Sends waiting for a token right now."""
        return sum(
            1
            for entry in self._waiters
            if isinstance(entry[3], asyncio.Future) and not entry[3].done()
        )

    def _wake(self, now: float, at: float | None = None) -> None:
        at = now if at is None else at
        if self._timer is not None and self._timer_at <= at:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = at
        self._timer = asyncio.get_running_loop().call_later(max(0.0, at - now), self._grant)

    def _grant(self) -> None:
        self._timer, self._timer_at = None, float("inf")
        now = self.clock()
        remaining: list[list[object]] = []
        next_at = float("inf")
        for entry in sorted(self._waiters):
            chat, future, in_chat = entry[2], entry[3], bool(entry[4])
            assert isinstance(chat, str) and isinstance(future, asyncio.Future)
            if future.done():
                continue
            at = self.free_at(chat, now, in_chat)
            if at <= now:
                self._spend(chat, now, in_chat)
                future.set_result(None)
            else:
                remaining.append(entry)
                next_at = min(next_at, at)
        self._waiters = remaining  # sorted, so a valid heap
        if remaining:
            self._wake(now, next_at + 0.001)


Send = Callable[[Queued], Awaitable[None]]


class Parts:
    """The parts of one outbox row: a long reply goes out as several messages (a photo, then
    the text in pieces). The sender asks :meth:`due` before each part, always in the same
    order, and calls :meth:`sent` once it went out. Parts sent before (the row was stopped
    halfway: a shutdown, a passing failure) are not due again, and the count is written to the
    row before the next part goes out, so no part is sent twice and none is lost."""

    def __init__(self, done: int = 0, record: Callable[[int], None] | None = None) -> None:
        self.done = done  # parts sent, this time and before
        self._record = record
        self._recorded = done
        self._next = 0

    def due(self) -> bool:
        """Whether the next part is to be sent (False: it went out before, skip it)."""
        self._next += 1
        if self._next <= self.done:
            return False
        if self.done > self._recorded and self._record is not None:
            self._record(self.done)
            self._recorded = self.done
        return True

    def sent(self) -> None:
        """The part :meth:`due` allowed went out."""
        self.done = self._next


@dataclass(frozen=True)
class Gather:
    """Rows of one chat that go out together (acknowledgments in ``batch`` mode, bot.acks):
    ``takes`` picks them; they gather ``seconds`` after the chat's previous batch, then
    ``send`` gets all of them at once."""

    takes: Callable[[Queued], bool]
    send: Callable[[list[Queued]], Awaitable[None]]
    seconds: float = 3.0


class SendStage:
    """Drains one platform's outbox rows through ``send``, a lane per chat (see module doc)."""

    def __init__(
        self,
        platform: str,
        db: Database | None,
        send: Send,
        limiter: RateLimiter,
        *,
        max_age: float = 900.0,
        retry_seconds: float = 30.0,
        max_attempts: int = 20,
        report_seconds: float = 30.0,
        gather: Gather | None = None,
        clock: Callable[[], datetime] = utcnow,
        offload: bool = True,
    ) -> None:
        self.platform = platform
        #: bookkeeping in the database's worker thread (False: inline, for the console, which
        #: prints a message's replies in the order they were made, one chat after another)
        self.offload = offload
        self.db = db
        self.send = send
        self.limiter = limiter
        self.max_age = max_age
        self.retry_seconds = retry_seconds
        self.max_attempts = max_attempts
        self.report_seconds = report_seconds
        self.clock = clock
        self.gather = gather
        self.sent = 0  # rows sent since start
        self._gathered_at: dict[str, float] = {}  # chat -> when its last batch went out
        self._parts: dict[int, Parts] = {}  # rows being sent -> their parts (see parts())
        self._stop_event = asyncio.Event()
        self._queues: dict[str, list[tuple[int, int, Queued]]] = {}
        self._known: set[int] = set()
        self._cursor = 0  # the highest row id loaded
        self._lanes: dict[str, asyncio.Task[None]] = {}
        self._retry_now = asyncio.Event()
        self._active = 0  # lanes sending or waiting for a token (not waiting to retry)
        self._retrying: set[str] = set()  # chats whose lane waits to retry its first row
        self._quiet = asyncio.Event()  # set whenever a lane pauses or ends (see idle)
        self._stopping = False
        self._started = False
        self._reporter: asyncio.Task[None] | None = None
        self._loader: asyncio.Task[None] | None = None  # loading waiting rows (see notify)
        self._reload = False  # notify asked for another load
        self._reload_all = False  # … of every waiting row

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        """Fail rows a crash left mid-send, load the waiting rows, report held-back sends."""
        if self._started or self.db is None:
            return
        self._started, self._stopping = True, False
        self._stop_event.clear()
        self.limiter.reopen()
        with self.db.session() as session:
            for row_id, chat in outbox.recover_interrupted(session, self.platform):
                log.warning(
                    "%s outbox row %s to %s was interrupted mid-send; not resent",
                    self.platform,
                    row_id,
                    chat,
                )
        self.notify(everything=True)
        if self.report_seconds > 0:
            self._reporter = asyncio.get_running_loop().create_task(
                self._report_loop(), name=f"{self.platform}-send-report"
            )

    async def stop(self, grace: float = 3.0) -> None:
        """Stop within about ``grace`` seconds whatever the backlog (see module doc)."""
        self._stopping, self._started = True, False
        self._stop_event.set()
        self.limiter.close()
        self._retry_now.set()
        if self._reporter is not None:
            self._reporter.cancel()
            self._reporter = None
        lanes = list(self._lanes.values())
        if lanes:
            _done, pending = await asyncio.wait(lanes, timeout=grace)
            for lane in pending:
                lane.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1.0)

    def notify(self, *, everything: bool = False) -> None:
        """New rows were queued: load them (``everything``: every waiting row, not only those
        newer than the last loaded) and start their chats' lanes."""
        if self.db is None or self._stopping:  # stopped: rows wait in the outbox for a restart
            return
        if not self._started:
            self.start()
            return
        self._reload = True
        self._reload_all = self._reload_all or everything
        if self._loader is None or self._loader.done():
            self._loader = asyncio.get_running_loop().create_task(
                self._load(), name=f"{self.platform}-outbox-load"
            )

    async def _load(self) -> None:
        """Load what :meth:`notify` asked for, in the database's thread, until nothing new
        was asked meanwhile."""
        assert self.db is not None
        try:
            while self._reload and not self._stopping:
                after = 0 if self._reload_all else self._cursor
                self._reload = self._reload_all = False
                rows = await self._db(_waiting, self.db, self.platform, after)
                if not self._stopping:
                    self._queue(rows)
        finally:
            self._quiet.set()

    def _queue(self, rows: list[Queued]) -> None:
        for item in rows:
            self._cursor = max(self._cursor, item.id)
            if item.id not in self._known:
                self._known.add(item.id)
                # a chat's rows go in arrival order (its replies follow its messages);
                # priorities decide which chat's send gets a token first (RateLimiter)
                heapq.heappush(self._queues.setdefault(item.chat_id, []), (0, item.id, item))
        for chat in list(self._queues):
            if chat not in self._lanes:
                self._lanes[chat] = asyncio.get_running_loop().create_task(
                    self._lane(chat), name=f"{self.platform}-send-{chat}"
                )

    async def flush(self) -> int:
        """Retry waiting rows now and wait until nothing is being sent; returns rows sent."""
        before = self.sent
        self.notify(everything=True)
        self._retrying.clear()  # their lanes wake up and count as busy again
        self._retry_now.set()
        await self.idle()
        return self.sent - before

    async def idle(self) -> None:
        """Wait until no lane is sending or waiting for a token."""
        await asyncio.sleep(0)
        while self._busy():
            self._quiet.clear()
            await self._quiet.wait()

    def _busy(self) -> bool:
        loading = self._loader is not None and not self._loader.done()
        lanes = any(
            not lane.done() and bool(self._queues.get(chat)) and chat not in self._retrying
            for chat, lane in self._lanes.items()
        )
        return loading or self._active > 0 or lanes

    # -- visibility ---------------------------------------------------------------------------
    def backlog(self) -> tuple[int, float]:
        """Rows waiting in memory and the oldest one's wait in seconds."""
        now = self.clock()
        oldest = 0.0
        count = 0
        for queue in self._queues.values():
            for _prio, _id, item in queue:
                count += 1
                if item.created_at is not None:
                    oldest = max(oldest, (now - _aware(item.created_at)).total_seconds())
        return count, oldest

    async def _report_loop(self) -> None:
        while True:
            await asyncio.sleep(self.report_seconds)
            try:
                self.notify(everything=True)  # rows another process queued, or committed late
            except Exception:
                log.exception("%s outbox: loading waiting rows failed", self.platform)
            held = self.limiter.held_back
            if held:
                count, oldest = self.backlog()
                log.info(
                    "%s sends held back by limits: %d queued, %d waiting for a token, "
                    "oldest waiting %.1f s",
                    self.platform,
                    count,
                    held,
                    oldest,
                )

    def parts(self, item: Queued) -> Parts:
        """``item``'s parts for its sender (see :class:`Parts`): the count is kept in the
        outbox row, so a stopped reply resumes from its first unsent part."""

        def record(done: int) -> None:
            if self.db is not None:  # queued ahead of the row's settle, not waited for
                self._later(_record_parts, self.db, item.id, done)

        parts = self._parts[item.id] = Parts(item.parts_sent, record)
        return parts

    async def _db(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn`` in the database's worker thread (inline without ``offload``)."""
        assert self.db is not None
        if self.offload:
            return await self.db.run(fn, *args, **kwargs)
        return fn(*args, **kwargs)

    def _later(self, fn: Callable[P, object], /, *args: P.args, **kwargs: P.kwargs) -> None:
        """``fn`` queued in the database's worker thread, not waited for (inline without
        ``offload``)."""
        assert self.db is not None
        if self.offload:
            self.db.submit(fn, *args, **kwargs)
        else:
            fn(*args, **kwargs)

    def _parts_sent(self, item: Queued) -> int:
        parts = self._parts.pop(item.id, None)
        return item.parts_sent if parts is None else parts.done

    # -- lanes --------------------------------------------------------------------------------
    async def _lane(self, chat: str) -> None:
        queue = self._queues[chat]
        try:
            while queue and not self._stopping:
                item = queue[0][2]
                gathered = self.gather is not None and self.gather.takes(item)
                self._active += 1
                try:
                    if gathered:
                        outcome = await self._deliver_gathered(chat, queue)
                    else:
                        outcome = await self._deliver(item)
                finally:
                    self._active -= 1
                    self._quiet.set()
                if outcome == "later":
                    await self._wait_retry(chat)
                    continue
                if not gathered:  # a better row may have been queued meanwhile: remove this one
                    _remove(queue, item.id)
                    self._known.discard(item.id)
        except Stopping:
            pass
        finally:
            if not queue or self._stopping:
                self._queues.pop(chat, None)
            self._lanes.pop(chat, None)
            self._quiet.set()

    async def _wait_retry(self, chat: str) -> None:
        self._retrying.add(chat)
        self._quiet.set()
        self._retry_now.clear()
        try:
            await asyncio.wait_for(self._retry_now.wait(), self.retry_seconds)
        except TimeoutError:
            pass
        finally:
            self._retrying.discard(chat)

    async def _deliver_gathered(self, chat: str, queue: list[tuple[int, int, Queued]]) -> str:
        """Send the chat's gathered rows as one (see :class:`Gather`)."""
        assert self.gather is not None and self.db is not None
        wait = self._gathered_at.get(chat, float("-inf")) + self.gather.seconds - time.monotonic()
        if wait > 0:
            try:
                await asyncio.wait_for(self._stop_event.wait(), wait)
            except TimeoutError:
                pass
        if self._stopping:
            raise Stopping
        taken = [entry for entry in queue if self.gather.takes(entry[2])]
        queue[:] = [entry for entry in queue if not self.gather.takes(entry[2])]
        heapq.heapify(queue)
        items: list[Queued] = []
        for _prio, _id, item in taken:
            if await self._expired(item):
                continue
            if await self._db(_claim, self.db, item.id):
                items.append(item)
        if not items:
            self._forget(taken)
            return "skipped"
        token = current_priority.set(items[0].priority)
        try:
            await self.gather.send(items)
        except Stopping:
            await self._settle_all(items, "pending", None)
            self._forget(taken)
            raise
        except asyncio.CancelledError:
            self._settle_soon(items, "failed", "interrupted while sending; it may have been sent")
            self._forget(taken)
            raise
        except Exception as error:
            log.error("%s batch of %d to %s not sent (%s)", self.platform, len(items), chat, error)
            await self._settle_all(items, "pending", str(error))
            for entry in taken:
                heapq.heappush(queue, entry)
            return "later"
        finally:
            current_priority.reset(token)
        self._gathered_at[chat] = time.monotonic()
        await self._settle_all(items, "sent", None)
        self._forget(taken)
        self.sent += len(items)
        return "sent"

    def _forget(self, entries: list[tuple[int, int, Queued]]) -> None:
        for _prio, _id, item in entries:
            self._known.discard(item.id)

    async def _settle_all(self, items: list[Queued], state: str, error: str | None) -> None:
        assert self.db is not None
        await self._db(_settle_rows, self.db, [item.id for item in items], state, error)

    def _settle_soon(self, items: list[Queued], state: str, error: str | None) -> None:
        """:meth:`_settle_all` for a cancelled lane (it cannot await): queued, not waited for."""
        assert self.db is not None
        self._later(_settle_rows, self.db, [item.id for item in items], state, error)

    async def _expired(self, item: Queued) -> bool:
        """Drop ``item`` (state ``expired``, a log line) when it waited too long."""
        assert self.db is not None
        if item.created_at is None:
            return False
        age = (self.clock() - _aware(item.created_at)).total_seconds()
        if age <= self.max_age:
            return False
        why = f"older than {self.max_age:.0f} s"
        await self._db(_settle_rows, self.db, [item.id], "expired", why)
        log.warning(
            "%s reply %s to %s dropped: queued %.0f s ago (sending.max_age_seconds %.0f)",
            self.platform,
            item.id,
            item.chat_id,
            age,
            self.max_age,
        )
        return True

    async def _deliver(self, item: Queued) -> str:
        """Send one row: 'sent', 'failed', 'expired', 'skipped' or 'later'."""
        assert self.db is not None
        if await self._expired(item):
            return "expired"
        if not await self._db(_claim, self.db, item.id):
            return "skipped"  # another process sent it, or it was settled meanwhile
        token = current_priority.set(item.priority)
        try:
            await self.send(item)
        except Stopping:  # before a part was sent: the rest goes out after the restart
            await self._settle(item.id, "pending", None, parts_sent=self._parts_sent(item))
            raise
        except asyncio.CancelledError:
            self._settle_later(
                item.id,
                "failed",
                "interrupted while sending; it may have been sent",
                parts_sent=self._parts_sent(item),
            )
            log.warning(
                "%s row %s to %s interrupted mid-send", self.platform, item.id, item.chat_id
            )
            raise
        except SendFailed as error:
            done = self._parts_sent(item)
            await self._settle(item.id, "failed", str(error), parts_sent=done, instead=item)
            log.error("%s reply %s to %s failed: %s", self.platform, item.id, item.chat_id, error)
            return "failed"
        except Exception as error:
            final = item.attempts + 1 >= self.max_attempts
            done = self._parts_sent(item)
            await self._settle(
                item.id,
                "failed" if final else "pending",
                str(error),
                parts_sent=done,
                instead=item if final else None,
            )
            log.error(
                "%s reply %s to %s not sent (%s)%s",
                self.platform,
                item.id,
                item.chat_id,
                error,
                "; giving up" if final else "; will retry",
            )
            if final:
                return "failed"
            queue = self._queues.get(item.chat_id)
            if queue and queue[0][2].id == item.id:  # one more attempt, from the first unsent part
                retried = replace(item, attempts=item.attempts + 1, parts_sent=done)
                queue[0] = (queue[0][0], queue[0][1], retried)
            return "later"
        finally:
            current_priority.reset(token)
        await self._settle(item.id, "sent", None, parts_sent=self._parts_sent(item))
        self.sent += 1
        return "sent"

    async def _settle(
        self,
        row_id: int,
        state: str,
        error: str | None,
        *,
        parts_sent: int | None = None,
        instead: Queued | None = None,
    ) -> None:
        """Record a row's outcome; a row failed for good (``instead``) with a stand-in
        (an asker's blocked DM: the notice in the group) gets it queued in the same
        transaction, so exactly once."""
        assert self.db is not None
        queued = await self._db(_settle_rows, self.db, [row_id], state, error, parts_sent, instead)
        if queued and instead is not None:
            log.info(
                "%s row %s to %s refused: its stand-in goes to %s",
                self.platform,
                row_id,
                instead.chat_id,
                instead.extra["instead"]["chat_id"],
            )
            self.notify()

    def _settle_later(
        self, row_id: int, state: str, error: str | None, *, parts_sent: int | None = None
    ) -> None:
        """:meth:`_settle` for a cancelled send (it cannot await): queued, not waited for."""
        assert self.db is not None
        self._later(_settle_rows, self.db, [row_id], state, error, parts_sent)


# -- the bookkeeping, run in the database's worker thread --------------------------------------
def _waiting(db: Database, platform: str, after: int) -> list[Queued]:
    with db.session() as session:
        rows = outbox.waiting(session, platform, after_id=after, limit=5000)
        return [Queued.of(row) for row in rows]


def _claim(db: Database, row_id: int) -> bool:
    with db.session() as session:
        return outbox.claim(session, row_id)


def _settle_rows(
    db: Database,
    row_ids: list[int],
    state: str,
    error: str | None,
    parts_sent: int | None = None,
    instead: Queued | None = None,
) -> bool:
    """Settle the rows; with ``instead`` (a row failed for good), queue its stand-in in the
    same transaction: True when it had one."""
    with db.session() as session:
        for row_id in row_ids:
            outbox.settle(session, row_id, state, error, parts_sent=parts_sent)
        return instead is not None and instead_row(session, instead)


def _record_parts(db: Database, row_id: int, done: int) -> None:
    with db.session() as session:
        outbox.record_parts(session, row_id, done)


def _remove(queue: list[tuple[int, int, Queued]], row_id: int) -> None:
    """Take row ``row_id`` out of a lane's heap."""
    if queue and queue[0][1] == row_id:
        heapq.heappop(queue)
        return
    queue[:] = [entry for entry in queue if entry[1] != row_id]
    heapq.heapify(queue)


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes in some paths: they are UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
