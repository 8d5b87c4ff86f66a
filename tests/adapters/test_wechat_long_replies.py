"""A long reply on WeChat goes out in parts; one stopped halfway resumes from its first
unsent part (the outbox row counts the parts that went out, see bot.sending.Parts)."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from bot.model import ChatRef, Incoming, Reply, UserRef
from tests.adapters.test_wechat_mapping import ROOM, make

__all__ = ["make"]  # the fixture

ASKED = Incoming(ChatRef("wechat", ROOM, "group"), UserRef("wechat", "alice", "Alice"), "/x", "w1")
# five paragraphs of ~90 characters: one message each under max_text_chars=100
LONG = "\n\n".join(f"第{n}段 " + "学习心得" * 21 for n in range(1, 6))


def numbers(sent: list[tuple[str, str, Any]]) -> list[int]:
    return [int(n) for _, text, _ in sent for n in re.findall(r"第(\d)段", text)]


async def test_a_restarted_row_sends_only_its_unsent_parts(make: Any) -> None:
    adapter, bot = make(max_text_chars=100)
    adapter.dispatcher.queue(ASKED, [Reply(LONG)])
    [item] = adapter.dispatcher.queued
    await adapter.send_queued(replace(item, parts_sent=2))  # two went out before a shutdown
    assert numbers(bot.puppet.sent) == [3, 4, 5]


async def test_a_failure_halfway_keeps_count_and_the_retry_sends_the_rest(make: Any) -> None:
    adapter, bot = make(max_text_chars=100)
    send_text = bot.puppet.message_send_text
    calls = 0

    async def down_after_two(conversation_id: str, message: str, mention_ids: Any = None) -> str:
        nonlocal calls
        calls += 1
        if calls > 2 and calls <= 2 + adapter.outbound.retries:  # the gateway is down a while
            raise ConnectionError("gateway down")
        return await send_text(conversation_id, message, mention_ids)

    bot.puppet.message_send_text = down_after_two
    adapter.dispatcher.queue(ASKED, [Reply(LONG)])
    [item] = adapter.dispatcher.queued
    parts = adapter.sending.parts(item)
    try:
        await adapter.outbound.post(ROOM, LONG, mention_ids=[], group="", parts=parts)
    except Exception as error:
        assert "gateway down" in str(error)
    assert parts.done == 2 and numbers(bot.puppet.sent) == [1, 2]
    await adapter.send_queued(replace(item, parts_sent=parts.done))  # the stage's retry
    assert numbers(bot.puppet.sent) == [1, 2, 3, 4, 5]  # none twice, none lost
