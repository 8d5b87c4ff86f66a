"""A long reply goes out in parts; one stopped halfway resumes from its first unsent part.

The real Telegram adapter and send stage against :class:`FakeBotAPI`: the reply is split under
Telegram's 4096 characters, the outbox row counts the parts that went out, and after a shutdown
(a restart of the adapter on the same database) or a passing failure only the rest is sent: no
part twice, none lost.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from bot.adapters.telegram import TelegramAdapter
from bot.app import App, build_app
from bot.model import ChatRef, Incoming, Reply, UserRef
from bot.sending import Limits, RateLimiter, Window
from storage.models import OutboxMessage
from tests.adapters.telegram_fake import BAD_GATEWAY, GROUP, FakeBotAPI
from tests.adapters.test_telegram_offline import telegram_config
from tests.conftest import FakeClock

CHAT = ChatRef("telegram", str(GROUP["id"]), "group")
# 36 numbered paragraphs of ~300 characters: three Telegram messages
LONG = "\n\n".join(f"第 {n} 段：" + "本周读书笔记，梯度下降与学习率。" * 18 for n in range(1, 37))


def adapter_on(app: App, api: FakeBotAPI) -> TelegramAdapter:
    """A (re)started adapter on ``app``'s database, answering from ``api``."""

    async def no_sleep(_seconds: float) -> None:
        return None

    return TelegramAdapter(
        app.dispatcher, app.config, request=api, get_updates_request=FakeBotAPI(), sleep=no_sleep
    )


def queue_long_reply(app: App) -> None:
    member = UserRef("telegram", "11", "大煌")
    app.dispatcher.queue(Incoming(CHAT, member, "/ask 很长的问题", "77"), [Reply(LONG)])


def paragraphs(api: FakeBotAPI) -> Counter[int]:
    """How often each numbered paragraph reached the group."""
    texts = [message["text"] for message in api.sent(GROUP["id"])]
    return Counter(int(n) for text in texts for n in re.findall(r"第 (\d+) 段", text))


def row(app: App) -> OutboxMessage:
    with app.db.session() as session:
        found = session.scalars(select(OutboxMessage)).one()
        session.expunge(found)
        return found


async def test_a_long_reply_stopped_halfway_resumes_after_a_restart(
    tmp_path: Path, clock: FakeClock
) -> None:
    app = build_app(telegram_config(tmp_path), clock=clock)
    api = FakeBotAPI()
    first = adapter_on(app, api)
    await first.setup()
    # the group has 2 messages of allowance left: the third part waits for a token
    limiter = RateLimiter(Limits(group=Window(2, 60.0)), is_group=lambda c: c.startswith("-"))
    first.outbound.limiter = first.sending.limiter = limiter
    queue_long_reply(app)
    first.sending.notify()
    for _ in range(500):
        if limiter.held_back:  # the third part waits for a token
            break
        await asyncio.sleep(0.01)
    await first.stop()  # SIGTERM: the third part had not started
    assert len(api.sent(GROUP["id"])) == 2
    stopped = row(app)
    assert (stopped.state, stopped.parts_sent) == ("pending", 2)

    restarted = adapter_on(app, api)
    await restarted.setup()
    assert await restarted.flush_outbox() == 1
    await restarted.stop()
    sent = api.sent(GROUP["id"])
    assert len(sent) == 3
    assert paragraphs(api) == Counter(range(1, 37))  # every paragraph once, none lost
    assert sent[0]["reply_parameters"]["message_id"] == 77  # the first part answers the post
    assert "reply_parameters" not in sent[2] or sent[2]["reply_parameters"] is None
    assert (row(app).state, row(app).parts_sent) == ("sent", 3)
    app.db.dispose()


async def test_a_failure_after_two_parts_retries_only_the_third(
    tmp_path: Path, clock: FakeClock
) -> None:
    app = build_app(telegram_config(tmp_path), clock=clock)
    api = FakeBotAPI()
    adapter = adapter_on(app, api)
    await adapter.setup()
    api.fail("sendMessage", *[BAD_GATEWAY] * 4, after=2)  # Telegram down for the third part
    queue_long_reply(app)
    assert await adapter.flush_outbox() == 0
    assert (row(app).state, row(app).parts_sent) == ("pending", 2)
    assert await adapter.flush_outbox() == 1  # Telegram is back
    await adapter.stop()
    assert len(api.sent(GROUP["id"])) == 3
    assert paragraphs(api) == Counter(range(1, 37))
    app.db.dispose()
