"""Messages that arrive together are handled together: one transaction, in arrival order.

A burst (a busy group, a bot coming back after downtime) brings many updates at once. Handling
each in a transaction of its own spends much of its time opening, committing and closing that
transaction; :func:`ingest_many` runs a run of plain commands in **one** transaction instead,
each message seeing the writes of those before it, exactly as if they ran one by one. If any
message of the batch fails (bad input, a duplicate, a handler error), the whole transaction is
rolled back and the batch is run again one message at a time, so each message still stores
all or nothing and gets its own reply. Messages whose routing reads the database (keywords,
replies to a question) end the batch and run on their own, after what came before committed.

:class:`InOrderBatcher` feeds it from an adapter that handles updates concurrently: each update
reserves a slot on arrival (in order), fills it once translated, and waits for its replies;
ready slots at the head are dispatched as one batch, so the database sees messages in exactly
the order they arrived.

Group commit: while a burst is under way (the last batch held more than one message and was
dispatched less than ``window`` seconds ago), the next batch waits up to ``window`` for more
messages, or until ``max_batch`` are waiting, before it is dispatched. A busy group then pays
for one transaction per ~9 messages instead of one per poll (~2.5 messages): on the Telegram
benchmark's burst, about half the dispatch CPU per message, for at most ``window`` more
latency. A message on its own (no burst) is dispatched at once, as before.

Fairness: a chat that posted ``busy_count`` messages in the last ``busy_seconds`` (a flood, 10
questions a second) is *busy*. When a run of ready messages mixes busy and quiet chats, the quiet
chats' messages are dispatched first, in a batch of their own, and the busy chats' after them
(each chat's messages keep their order; only chats that arrived within the same few
milliseconds trade places). A flood's expensive messages (a question's similar-question search)
then never hold another group's message in their transaction: in ``bench.send_bench``'s flood,
the other groups' messages waited ~200 ms (p50) for their batch to commit, ~12 ms with this.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError

from bot.context import UserError
from bot.dispatch import AlreadyHandled, Dispatcher, Job, Outcome, message_key
from bot.model import Incoming, Reply
from storage import identity, processed

log = logging.getLogger(__name__)


def run_batch(dispatcher: Dispatcher, jobs: Sequence[Job]) -> list[Outcome] | None:
    """All ``jobs`` in one transaction; None when one of them failed (nothing was stored).

    The batch's messages are claimed in one INSERT (a re-delivered one among them fails the
    batch, which then runs one by one and skips it) and its senders read in one SELECT.
    """
    outcomes = []
    try:
        with dispatcher.db.session() as session:
            processed.claim_all(session, [message_key(job.incoming) for job in jobs])
            senders: dict[str, list[str]] = {}
            for job in jobs:
                senders.setdefault(job.incoming.platform, []).append(job.incoming.sender.user_id)
            for platform, user_ids in senders.items():
                identity.preload_members(session, platform, user_ids)
            for job in jobs:
                outcomes.append(dispatcher.execute(session, job, claimed=True))
    except (UserError, AlreadyHandled, IntegrityError) as error:
        # bad input or a re-delivery among them: each message gets its own answer one by one
        log.debug("batch of %d rolled back (%s); running it one by one", len(jobs), error)
        return None
    except Exception:
        # the message that raised is logged with its id when the batch runs one by one
        log.warning(
            "batch of %d rolled back by an unexpected error; running it one by one",
            len(jobs),
            exc_info=True,
        )
        return None
    return [
        dispatcher.settle(job.incoming, result, ctx)
        for job, (result, ctx) in zip(jobs, outcomes, strict=True)
    ]


def ingest_many(dispatcher: Dispatcher, incomings: Sequence[Incoming]) -> list[Outcome]:
    """Handle messages in order, in as few transactions as they allow, without any ``await``:
    each message's outcome is what handling it one by one would give (after-commit work is
    left in the outcomes, for the caller to run off the ingest path)."""
    out: list[Outcome | None] = [None] * len(incomings)
    pending: list[tuple[int, Job]] = []

    def flush() -> None:
        jobs = [job for _, job in pending]
        results = run_batch(dispatcher, jobs) if len(jobs) > 1 else None
        if results is None:  # one message, or the batch failed: one transaction each
            results = [dispatcher.run(job) for job in jobs]
        for (index, _), outcome in zip(pending, results, strict=True):
            out[index] = outcome
        pending.clear()

    for index, incoming in enumerate(incomings):
        job = dispatcher.prepare(incoming, lookups=False)
        if job is None:
            flush()  # its routing reads the database: it must see what came before
            out[index] = dispatcher.handle(incoming)
        elif isinstance(job, list):
            out[index] = Outcome(incoming, job)
        else:
            pending.append((index, job))
    flush()
    return [outcome for outcome in out if outcome is not None]


async def ingest_in_order(dispatcher: Dispatcher, incomings: Sequence[Incoming]) -> list[Outcome]:
    """:func:`ingest_many` for :class:`InOrderBatcher` (which awaits its dispatch), in the
    database's worker thread: the event loop goes on polling, sending and serving meanwhile.
    The batcher awaits one batch before the next, so the database still sees every message
    in arrival order, and the dispatcher's caches are used by one thread at a time."""
    return await dispatcher.db.run(ingest_many, dispatcher, incomings)


async def dispatch_many(dispatcher: Dispatcher, incomings: Sequence[Incoming]) -> list[list[Reply]]:
    """The replies to each message, as if dispatched one after another (after-commit work
    included, run in order once every message is stored)."""
    return [await dispatcher.complete(outcome) for outcome in ingest_many(dispatcher, incomings)]


@dataclass
class Slot:
    """A message's place in line: its translated message once ready, and its outcome."""

    future: asyncio.Future[Any]
    incoming: Incoming | None = None
    ready: bool = False


@dataclass
class InOrderBatcher:
    """Dispatches concurrently arriving messages in arrival order, as batches.

    ``window``: seconds a batch may wait for more messages during a burst (0: never waits);
    ``max_batch``: that many waiting messages end the wait at once; a chat with ``busy_count``
    messages in ``busy_seconds`` goes after the quiet chats of its run (see the module doc).
    """

    dispatch: Callable[[Sequence[Incoming]], Awaitable[Sequence[Any]]]
    window: float = 0.0
    max_batch: int = 100
    clock: Callable[[], float] = time.monotonic
    busy_count: int = 20
    busy_seconds: float = 10.0
    _slots: deque[Slot] = field(default_factory=deque)
    _running: bool = False  # a drain is scheduled or running
    _waiting: asyncio.TimerHandle | None = None  # a batch waiting for company (group commit)
    _burst_until: float = float("-inf")  # until when a new message counts as part of a burst
    _recent: dict[str, deque[float]] = field(default_factory=dict)  # chat -> its latest messages

    def reserve(self) -> Slot:
        """Hold the message's place in line (call on arrival, before any ``await``)."""
        slot = Slot(asyncio.get_running_loop().create_future())
        self._slots.append(slot)
        return slot

    def fill(self, slot: Slot, incoming: Incoming | None) -> None:
        """The translated message (None: nothing to dispatch); always call, even on error."""
        slot.incoming, slot.ready = incoming, True
        if self._running:
            return  # the drain under way takes it
        if self._waiting is not None:
            if len(self._slots) >= self.max_batch:
                self._waiting.cancel()
                self._begin()
            return
        if self.window > 0 and self.clock() < self._burst_until:
            self._waiting = asyncio.get_running_loop().call_later(self.window, self._begin)
        else:
            self._begin()

    def _begin(self) -> None:
        self._waiting = None
        self._running = True
        asyncio.get_running_loop().call_soon(self._start)

    def _start(self) -> None:
        asyncio.get_running_loop().create_task(self._drain(), name="dispatch-batch")

    async def _drain(self) -> None:
        try:
            while self._slots and self._slots[0].ready:
                run: list[Slot] = []
                while self._slots and self._slots[0].ready:
                    run.append(self._slots.popleft())
                for index, batch in enumerate(self._quiet_first(run)):
                    if index:  # the quiet chats' handlers queue their replies first
                        await asyncio.sleep(0)
                    await self._dispatch(batch)
        finally:
            self._running = False

    async def _dispatch(self, batch: list[Slot]) -> None:
        incomings = [slot.incoming for slot in batch if slot.incoming is not None]
        try:
            results = iter(await self.dispatch(incomings))
        except Exception as error:  # ingest_many does not raise; be safe anyway
            for slot in batch:
                if not slot.future.done():
                    slot.future.set_exception(error)
            return
        if len(incomings) > 1:  # a burst: the next message waits for company
            self._burst_until = self.clock() + self.window
        for slot in batch:
            replies = next(results) if slot.incoming is not None else []
            if not slot.future.done():  # its update may have been cancelled (shutdown)
                slot.future.set_result(replies)

    def _quiet_first(self, run: list[Slot]) -> list[list[Slot]]:
        """``run`` as [quiet chats' slots, busy chats' slots] (one list when it is not mixed)."""
        now = self.clock()
        since = now - self.busy_seconds
        busy: set[str] = set()
        for slot in run:
            if slot.incoming is None:
                continue
            chat = _chat(slot)
            times = self._recent.setdefault(chat, deque())
            times.append(now)
            while times[0] < since:
                times.popleft()
            if len(times) >= self.busy_count:
                busy.add(chat)
        if len(self._recent) > 10_000:  # forget chats that went quiet
            for chat in [c for c, t in self._recent.items() if t[-1] < since]:
                del self._recent[chat]
        if not busy or len(busy) == len({_chat(s) for s in run if s.incoming is not None}):
            return [run]
        quiet = [slot for slot in run if _chat(slot) not in busy]
        return [quiet, [slot for slot in run if _chat(slot) in busy]]

    async def replies(self, slot: Slot) -> Any:
        """Wait for what ``dispatch`` gave for the slot's message ([] for an empty slot)."""
        return await slot.future


def _chat(slot: Slot) -> str:
    incoming = slot.incoming
    return "" if incoming is None else f"{incoming.chat.platform}:{incoming.chat.chat_id}"
