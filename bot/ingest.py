"""The one way a message comes in: every adapter hands what it translated to an :class:`Ingest`.

An adapter reserves a slot when a message arrives (before it awaits anything, so arrival order
is kept), fills it once the message is translated, and then takes the result:

- :meth:`Ingest.queue` (Telegram, WeChat): the replies made in the message's transaction go to
  the outbox at once; after-commit work (charts, publishing, files) runs as a tracked
  background task whose replies are queued when ready, so it never holds up later messages;
- :meth:`Ingest.replies` / :meth:`Ingest.handle` (console, 公众号): every reply, after-commit work included, for an
  adapter that shows them to the one person who asked before reading on.

Ready messages at the head of the line are stored together by :func:`bot.batching.ingest_many`
(one transaction, in arrival order); a platform without bursts simply sends batches of one.
``window`` is the group-commit wait of :class:`bot.batching.InOrderBatcher` (0: never wait).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from bot.batching import InOrderBatcher, Slot, ingest_in_order
from bot.dispatch import Dispatcher, Outcome
from bot.model import Incoming, Reply


async def enqueue(dispatcher: Any, incoming: Incoming, replies: Sequence[Reply]) -> None:
    """``dispatcher.queue`` (replies made outside a message's transaction: refusals, errors,
    welcomes) from the event loop, in the database's worker thread."""
    if not replies:
        return
    if dispatcher.db is None:  # a stand-in without a database (tests)
        dispatcher.queue(incoming, list(replies))
    else:
        await dispatcher.db.run(dispatcher.queue, incoming, list(replies))


class Ingest:
    """One adapter's line of incoming messages, stored in order and in batches."""

    def __init__(self, dispatcher: Dispatcher, *, window: float = 0.0, max_batch: int = 100):
        self.dispatcher = dispatcher
        self.batcher = InOrderBatcher(
            partial(ingest_in_order, dispatcher), window=window, max_batch=max_batch
        )

    def reserve(self) -> Slot:
        """Hold a message's place in line: call on arrival, before anything is awaited."""
        return self.batcher.reserve()

    def fill(self, slot: Slot, incoming: Incoming | None) -> None:
        """The translated message (None: nothing to handle); always call, even on error."""
        self.batcher.fill(slot, incoming)

    async def queue(self, slot: Slot, notify: Callable[[], None]) -> Outcome | None:
        """Store the slot's message; queue its replies in the outbox and call ``notify`` (wake
        the sender); its after-commit work runs in the background and queues its own replies."""
        outcome: Outcome = await self.batcher.replies(slot)
        incoming = slot.incoming
        if incoming is None:
            return None
        await enqueue(self.dispatcher, incoming, outcome.replies)  # refusals, errors
        notify()

        async def later(replies: list[Reply]) -> None:
            await enqueue(self.dispatcher, incoming, replies)
            notify()

        self.dispatcher.complete_later(outcome, later)
        return outcome

    async def replies(self, slot: Slot) -> list[Reply]:
        """Store the slot's message and run its after-commit work: all its replies, for the
        caller to queue or show ([] for an empty slot)."""
        outcome = await self.batcher.replies(slot)
        return [] if slot.incoming is None else await self.dispatcher.complete(outcome)

    async def handle(self, incoming: Incoming) -> list[Reply]:
        """:meth:`replies` for a message that is translated as it arrives."""
        slot = self.reserve()
        self.fill(slot, incoming)
        return await self.replies(slot)
