"""Fairness in :class:`bot.batching.InOrderBatcher`: a flooding chat never holds a quiet one.

A chat that posted ``busy_count`` messages within ``busy_seconds`` is busy; in a run of messages
that arrived together, the quiet chats' messages are dispatched first, in their own batch, and the
busy chat's after them, each chat's in its own order.
"""

from __future__ import annotations

import asyncio
import itertools

from bot.batching import InOrderBatcher
from bot.model import ChatRef, Incoming, Reply, UserRef

IDS = itertools.count(1)
FLOODED = ChatRef("telegram", "-100", "group")
QUIET = ChatRef("telegram", "-200", "group")


def message(text: str, chat: ChatRef) -> Incoming:
    return Incoming(chat, UserRef("telegram", "7", "小王"), text, str(next(IDS)))


class Recorder:
    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    async def __call__(self, batch: list[Incoming]) -> list[list[Reply]]:
        self.batches.append([m.text for m in batch])
        return [[Reply(f"re:{m.text}")] for m in batch]


async def arrive(batcher: InOrderBatcher, *messages: Incoming) -> list[list[Reply]]:
    """Messages arriving together (one poll): slots first, then each is filled."""
    slots = [batcher.reserve() for _ in messages]
    for slot, incoming in zip(slots, messages, strict=True):
        batcher.fill(slot, incoming)
    return [await batcher.replies(slot) for slot in slots]


def test_a_quiet_chat_goes_before_a_flooding_one_in_a_batch_of_its_own() -> None:
    recorder = Recorder()

    async def scenario() -> list[list[Reply]]:
        batcher = InOrderBatcher(recorder, busy_count=3)
        await arrive(batcher, message("f1", FLOODED), message("q1", QUIET))  # nobody busy yet
        await arrive(batcher, message("f2", FLOODED), message("f3", FLOODED))
        return await arrive(
            batcher, message("f4", FLOODED), message("q2", QUIET), message("f5", FLOODED)
        )

    replies = asyncio.run(scenario())
    assert recorder.batches == [["f1", "q1"], ["f2", "f3"], ["q2"], ["f4", "f5"]]
    assert [[r.text for r in each] for each in replies] == [["re:f4"], ["re:q2"], ["re:f5"]]


def test_without_a_quiet_chat_in_the_run_a_busy_chat_keeps_one_batch() -> None:
    recorder = Recorder()

    async def scenario() -> None:
        batcher = InOrderBatcher(recorder, busy_count=2)
        await arrive(batcher, *(message(f"f{i}", FLOODED) for i in range(4)))
        await arrive(batcher, *(message(f"f{i}", FLOODED) for i in range(4, 8)))

    asyncio.run(scenario())
    assert recorder.batches == [["f0", "f1", "f2", "f3"], ["f4", "f5", "f6", "f7"]]


def test_a_chat_is_busy_only_while_it_floods() -> None:
    recorder = Recorder()
    now = [0.0]

    async def scenario() -> None:
        batcher = InOrderBatcher(recorder, busy_count=3, busy_seconds=10, clock=lambda: now[0])
        await arrive(batcher, *(message(f"f{i}", FLOODED) for i in range(3)))
        now[0] = 11.0  # ten quiet seconds later
        await arrive(batcher, message("f3", FLOODED), message("q1", QUIET))

    asyncio.run(scenario())
    assert recorder.batches[-1] == ["f3", "q1"]  # arrival order, one transaction
