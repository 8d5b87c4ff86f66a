"""Sending at scale through the Bot API emulator with Telegram's limits enforced.

The emulator (``tests/peers/telegram_server.mjs --limits``) answers 429 with ``retry_after``
past 30 sends a second per bot and 20 messages a minute into one group, and implements
``setMessageReaction``. The real adapter, send stage and database run as in production.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from storage.models import OutboxMessage, ProcessedMessage, Question
from tests.conftest import require_or_skip
from tests.e2e.telegram_emulator import EmulatorRequest, EmulatorServer, emulator_available
from tests.e2e.test_telegram_emulator import GROUP, Bot, running_bot

QUIET_GROUP = {"id": -100888, "type": "supergroup", "title": "另一个群"}


@pytest.fixture(scope="module")
def limited() -> Iterator[EmulatorServer]:
    require_or_skip(emulator_available(), "node or tests/peers/node_modules missing")
    server = EmulatorServer()
    server.start(limits=True)
    yield server
    server.stop()


def count(bot: Bot, model: type, *where: object) -> int:
    with bot.app.db.session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


async def wait_for(condition: object, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def history(bot: Bot) -> list[dict[str, Any]]:
    """The bot's messages, oldest first (the emulator stores a send's parameters)."""
    response = await bot.client.post("/getUpdatesHistory", json={"token": bot.token})
    return [u for u in response.json()["result"] if "chat_id" in u["message"]]


async def test_a_flooded_group_never_holds_another_groups_answer(
    limited: EmulatorServer, tmp_path: Path
) -> None:
    async with running_bot(limited, tmp_path, more_chats=(QUIET_GROUP["id"],)) as bot:
        members = [bot.user(100 + i, f"成员{i}") for i in range(10)]
        for i in range(60):  # 60 questions: Telegram lets 20 answers a minute into the group
            await members[i % 10].say(f"/ask 第 {i} 个问题：学习率怎么调？", GROUP)
        await wait_for(lambda: count(bot, Question) == 60)  # ingest never waits on sends
        await wait_for(lambda: count(bot, OutboxMessage, OutboxMessage.state == "sent") >= 20)
        xiaoli = bot.user(200, "小李")
        started = time.monotonic()
        await xiaoli.say("/help", QUIET_GROUP)
        [answer] = await xiaoli.replies(QUIET_GROUP, within=5)
        assert time.monotonic() - started < 1.0
        assert "/checkin" in answer["message"]["text"]
        sent_to_busy = await members[0].replies(GROUP, count=20, within=5)
        assert len(sent_to_busy) == 20  # the rest wait for the group's allowance, in order
        assert count(bot, OutboxMessage, OutboxMessage.state.in_(("pending", "sending"))) == 40
        assert bot.adapter.sending.backlog()[0] == 40


async def test_shutdown_under_a_backlog_is_quick_and_a_restart_loses_nothing(
    limited: EmulatorServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_bot(limited, tmp_path) as bot:
        members = [bot.user(300 + i, f"同学{i}") for i in range(8)]
        for i in range(40):
            await members[i % 8].say(f"/ask 问题 {i}", GROUP)
        await wait_for(lambda: count(bot, OutboxMessage, OutboxMessage.state == "sent") >= 20)
        for i in range(10):  # still arriving when SIGTERM comes (a first check-in each)
            await bot.user(350 + i, f"打卡{i}").say(f"#打卡 第 {i} 条", GROUP)
        started = time.monotonic()
        await bot.adapter.stop()  # what SIGTERM does (bot.runner)
        assert time.monotonic() - started < 5.0
        with bot.app.db.session() as session:
            states = Counter(session.scalars(select(OutboxMessage.state)))
        assert states["pending"] >= 20 and states["sending"] == states["failed"] == 0

        # the restart: same database and token; the answers that waited are too old by then
        await asyncio.sleep(0.6)
        from bot.adapters.telegram import TelegramAdapter

        restarted = TelegramAdapter(
            bot.app.dispatcher,
            bot.app.config,
            request=EmulatorRequest(),
            get_updates_request=EmulatorRequest(),
            base_url=f"{limited.api}/bot",
            poll_interval=0.005,
        )
        restarted.sending.max_age = 0.5  # as if sending.max_age_seconds had passed
        await restarted.start()
        try:
            await wait_for(lambda: count(bot, ProcessedMessage) == 50)
            await restarted.flush_outbox()
        finally:
            await restarted.stop()
        assert count(bot, Question) == 40  # every message stored once
        with bot.app.db.session() as session:
            states = Counter(session.scalars(select(OutboxMessage.state)))
        assert set(states) <= {"sent", "expired"}  # every reply sent once or dropped by age
        assert states["expired"] >= 20 and "dropped" in caplog.text
        texts = [u["message"]["text"] for u in await history(bot)]
        assert len(texts) == len(set(texts)) == 20  # nothing sent twice
        reactions = [(r["chat_id"], r["message_id"]) for r in await members[0].reactions()]
        assert len(reactions) == len(set(reactions)) == states["sent"] - 20


async def test_checkins_in_a_rush_get_reactions_not_messages(
    limited: EmulatorServer, tmp_path: Path
) -> None:
    async with running_bot(limited, tmp_path) as bot:
        members = [bot.user(400 + i, f"打卡人{i}") for i in range(40)]
        posted: list[float] = []  # when each member's 打卡 was in
        for member in members:
            await member.say("#打卡 这周读完了 d2l 第 3 章", GROUP)
            posted.append(time.monotonic())
        seen: list[dict[str, object]] = []
        acknowledged: list[float] = []  # when the k-th reaction was first seen
        while len(seen) < 40 and time.monotonic() - posted[-1] < 15:
            seen = await members[0].reactions()
            acknowledged += [time.monotonic()] * (len(seen) - len(acknowledged))
            await asyncio.sleep(0.05)
        waits = sorted(done - sent for sent, done in zip(posted, acknowledged, strict=False))
        # 90 % of members see within 5 s that their 打卡 counted (the criterion),
        # measured from each member's own post, so a slow machine posting slowly is not counted
        assert len(waits) == 40 and waits[35] < 5.0, waits
        assert len(seen) == 40 and {r["chat_id"] for r in seen} == {str(GROUP["id"])}
        assert all(r["reaction"] == [{"type": "emoji", "emoji": "✍"}] for r in seen)
        assert await history(bot) == []  # not one bot message in the group


async def test_where_reactions_are_disallowed_a_rush_gets_one_edited_message(
    limited: EmulatorServer, tmp_path: Path
) -> None:
    async with running_bot(limited, tmp_path) as bot:
        await bot.client.post("/disallowReactions", json={"chatId": GROUP["id"]})
        members = [bot.user(500 + i, f"成员{i:02d}") for i in range(12)]
        for member in members:
            await member.say("#打卡 复习了反向传播", GROUP)
        await wait_for(lambda: count(bot, OutboxMessage, OutboxMessage.state == "sent") == 12)
        messages = await history(bot)
        assert len(messages) <= 3  # one message per window, edited while it is open
        last = str(messages[-1]["message"]["text"])
        assert last.startswith("✅ 已记录：")
        named = {
            f"成员{i:02d}"
            for i in range(12)
            if f"成员{i:02d}" in "".join(str(m["message"]["text"]) for m in messages)
        }
        assert len(named) >= 10 or "等" in last
