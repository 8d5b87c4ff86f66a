"""Group commit in :class:`bot.batching.InOrderBatcher`: during a burst a batch waits for company.

A message on its own must never wait; once a burst is under way, messages arriving within the
window go out as one batch (one transaction), in arrival order; a full batch does not wait.
"""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from bot.batching import InOrderBatcher
from bot.config import parse_config
from bot.model import Incoming, Reply, UserRef
from tests.conftest import GROUP_CHAT

IDS = itertools.count(1)


def message(text: str) -> Incoming:
    return Incoming(
        chat=GROUP_CHAT,
        sender=UserRef("console", "u1", "同学"),
        text=text,
        message_id=str(next(IDS)),
    )


class Recorder:
    """A dispatch that records each batch it gets and when."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.at: list[float] = []

    async def __call__(self, batch: list[Incoming]) -> list[list[Reply]]:
        self.batches.append([m.text for m in batch])
        self.at.append(time.monotonic())
        return [[Reply(f"re:{m.text}")] for m in batch]


async def say(batcher: InOrderBatcher, *texts: str) -> list:
    """Messages arriving together: each reserves its slot, then each is filled."""
    slots = [batcher.reserve() for _ in texts]
    for slot, text in zip(slots, texts, strict=True):
        batcher.fill(slot, message(text))
    return slots


def test_a_message_on_its_own_is_dispatched_at_once_even_with_a_long_window():
    recorder = Recorder()

    async def scenario() -> list[Reply]:
        batcher = InOrderBatcher(recorder, window=5.0)
        (slot,) = await say(batcher, "一")
        return await asyncio.wait_for(batcher.replies(slot), timeout=1.0)

    assert [r.text for r in asyncio.run(scenario())] == ["re:一"]
    assert recorder.batches == [["一"]]


def test_during_a_burst_messages_within_the_window_go_in_one_batch_in_order():
    recorder = Recorder()
    window = 0.3

    async def scenario() -> tuple[float, list[list[str]]]:
        batcher = InOrderBatcher(recorder, window=window)
        first = await say(batcher, "一", "二")  # a burst: two at once
        await asyncio.gather(*(batcher.replies(s) for s in first))
        began = time.monotonic()
        later = await say(batcher, "三")
        await asyncio.sleep(0.05)
        assert recorder.batches == [["一", "二"]], "三 must wait for company"
        later += await say(batcher, "四", "五")
        replies = await asyncio.wait_for(
            asyncio.gather(*(batcher.replies(s) for s in later)), timeout=5.0
        )
        return recorder.at[-1] - began, [[r.text for r in rs] for rs in replies]

    waited, replies = asyncio.run(scenario())
    assert recorder.batches == [["一", "二"], ["三", "四", "五"]]
    assert replies == [["re:三"], ["re:四"], ["re:五"]]
    assert window * 0.9 <= waited < window + 1.0


def test_a_full_batch_does_not_wait_for_the_window():
    recorder = Recorder()

    async def scenario() -> None:
        batcher = InOrderBatcher(recorder, window=10.0, max_batch=3)
        first = await say(batcher, "一", "二")
        await asyncio.gather(*(batcher.replies(s) for s in first))
        slots = await say(batcher, "三", "四", "五")
        await asyncio.wait_for(asyncio.gather(*(batcher.replies(s) for s in slots)), 1.0)

    asyncio.run(scenario())
    assert recorder.batches == [["一", "二"], ["三", "四", "五"]]


def test_once_the_burst_is_over_a_lone_message_no_longer_waits():
    recorder = Recorder()
    now = [0.0]

    async def scenario() -> None:
        batcher = InOrderBatcher(recorder, window=5.0, clock=lambda: now[0])
        first = await say(batcher, "一", "二")
        await asyncio.gather(*(batcher.replies(s) for s in first))
        now[0] += 60  # a minute later: the burst is long over
        (slot,) = await say(batcher, "三")
        await asyncio.wait_for(batcher.replies(slot), timeout=1.0)

    asyncio.run(scenario())
    assert recorder.batches == [["一", "二"], ["三"]]


def test_the_telegram_window_is_configurable_and_checked():
    assert parse_config({}).telegram.batch_window_ms == 30
    assert parse_config({"telegram": {"batch_window_ms": 0}}).telegram.batch_window_ms == 0
    for bad in (-1, 5000, "soon"):
        with pytest.raises(ValueError, match="batch_window_ms"):
            parse_config({"telegram": {"batch_window_ms": bad}})
