"""Edited messages (Telegram ``edited_message``) update the check-in they created, with a
reply saying so; recalled messages (WeChat 撤回) remove it from storage and the digest."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from bot.adapters.wechat import WechatAdapter
from bot.app import App, build_app
from bot.model import ChatRef, Incoming, UserRef
from storage.models import CheckIn, Question
from tests.adapters.telegram_fake import GROUP, user
from tests.adapters.test_telegram_offline import Harness, make_harness, telegram_config
from tests.adapters.test_wechat_mapping import ROOM, FakeBot, FakeMessage
from tests.conftest import GROUP_CHAT, FakeClock, make_config

RECALLED = SimpleNamespace(name="MESSAGE_TYPE_RECALLED")
DAHUANG = user(11, "大煌")


def notes(app: Any) -> list[str]:
    with app.db.session() as session:
        return [c.text for c in session.scalars(select(CheckIn).order_by(CheckIn.id))]


@pytest.fixture
async def tg(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Harness]:
    app = build_app(telegram_config(tmp_path), clock=clock)
    harness = await make_harness(app, [])
    yield harness
    await harness.adapter.stop()
    app.db.dispose()


async def test_telegram_edit_updates_the_stored_note_with_a_hint(tg: Harness) -> None:
    await tg.say("#打卡 读完了 CS229 第三张", DAHUANG, message_id=500)
    assert notes(tg.app) == ["读完了 CS229 第三张"]
    [hint] = await tg.feed(
        tg.updates.message("#打卡 读完了 CS229 第三章", DAHUANG, message_id=500, edited=True)
    )
    assert "已按你编辑后的消息更新" in hint["text"] and "第三章" in hint["text"]
    assert hint["chat_id"] == GROUP["id"]
    assert notes(tg.app) == ["读完了 CS229 第三章"]
    with tg.app.db.session() as session:
        assert session.scalars(select(CheckIn)).one().edited_at is not None


async def test_telegram_edit_that_drops_the_tag_keeps_the_note_and_says_how_to_delete(
    tg: Harness,
) -> None:
    await tg.say("#打卡 复习 SVM", DAHUANG, message_id=501)
    [hint] = await tg.feed(tg.updates.message("随便说说", DAHUANG, message_id=501, edited=True))
    assert "不再是打卡" in hint["text"] and "/checkin del" in hint["text"]
    assert notes(tg.app) == ["复习 SVM"]


async def test_telegram_edit_of_a_chat_line_into_a_checkin_is_that_checkin_once(
    tg: Harness,
) -> None:
    """#19 item 5 (this test said before that such an edit stored nothing)."""
    await tg.say("今天没学习，随便聊聊", DAHUANG, message_id=502)
    await tg.feed(  # acknowledged with a reaction (the chat's ack mode)
        tg.updates.message("#打卡 编辑后变成打卡：学了 PCA", DAHUANG, message_id=502, edited=True)
    )
    assert notes(tg.app) == ["编辑后变成打卡：学了 PCA"]
    await tg.feed(tg.updates.message("#打卡 学了 PCA 和 SVD", DAHUANG, message_id=502, edited=True))
    assert notes(tg.app) == ["学了 PCA 和 SVD"]  # the second edit updates, no second note


async def test_telegram_edit_of_a_chat_line_into_a_command_runs_nothing(tg: Harness) -> None:
    await tg.say("大家早上好", DAHUANG, message_id=503)
    sent = await tg.feed(tg.updates.message("/rank", DAHUANG, message_id=503, edited=True))
    assert sent == [] and notes(tg.app) == []


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_an_edit_of_a_refused_post_is_handled_as_that_post(tmp_path, clock, lang) -> None:
    app = build_app(make_config(tmp_path, language=lang), clock=clock)
    try:
        member = UserRef("console", "u1", "甲")
        [refused] = await app.dispatcher.dispatch(
            Incoming(GROUP_CHAT, member, "#打卡 🎉🎉🔥💪", "e1")
        )
        assert notes(app) == [] and refused.text
        replies = app.dispatcher.edited(
            Incoming(GROUP_CHAT, member, "#打卡 学了 GAN 的损失函数", "e1")
        )
        assert replies and notes(app) == ["学了 GAN 的损失函数"]
        question = Incoming(GROUP_CHAT, member, "#提问 GAN 为什么难训练？", "e2")
        app.dispatcher.edited(Incoming(GROUP_CHAT, member, "随便聊聊", "e2"))  # nothing yet
        [asked] = app.dispatcher.edited(question)
        assert asked.question_id is not None
        app.dispatcher.edited(question)  # the same edit again: still one question
        with app.db.session() as session:
            assert len(session.scalars(select(Question)).all()) == 1
    finally:
        app.db.dispose()


async def test_edit_through_the_dispatcher_refuses_emoji_only(bot_app, clock) -> None:
    said = Incoming(GROUP_CHAT, UserRef("console", "u1", "甲"), "#打卡 学了 GAN", "c1")
    await bot_app.dispatcher.dispatch(said)
    edited = Incoming(GROUP_CHAT, UserRef("console", "u1", "甲"), "#打卡 🎉🎉", "c1")
    [reply] = bot_app.dispatcher.edited(edited)
    assert "没有写学了什么" in reply.text
    assert notes(bot_app) == ["学了 GAN"]


def wechat_app(tmp_path: Path, clock: FakeClock) -> Any:
    wechat = {"token": "t", "endpoint": "127.0.0.1:1", "send_interval_seconds": 0}
    groups = [{"slug": "ml-club", "chats": [{"platform": "wechat", "chat_id": ROOM}]}]
    return build_app(make_config(tmp_path, wechat=wechat, groups=groups), clock=clock)


async def test_wechat_recall_removes_the_note_from_storage_and_the_digest(
    tmp_path: Path, clock: FakeClock
) -> None:
    app = wechat_app(tmp_path, clock)
    try:
        adapter = WechatAdapter(app.dispatcher, app.config)
        bot = FakeBot()
        adapter._bot, adapter.self_id, adapter.self_name = bot, "bot", "学习助手"
        room = ChatRef("wechat", ROOM, "group")
        for message_id, text in (("wx-1", "#打卡 学了 Transformer"), ("wx-2", "#打卡 学了 GNN")):
            said = Incoming(room, UserRef("wechat", "bob", "Bob"), text, message_id)
            await app.dispatcher.dispatch(said)
        assert notes(app) == ["学了 Transformer", "学了 GNN"]
        recall = FakeMessage("wx-3", bot.contacts["bob"], "wx-1", bot.room, kind=RECALLED)
        assert await adapter.handle_recall(recall)
        assert notes(app) == ["学了 GNN"]
        adapter._ready.set()
        adapter.sending.start()
        await app.dispatcher.dispatch(
            Incoming(
                room,
                UserRef("wechat", "admin", "Admin"),
                "/digest preview",
                "wx-4",
                platform_admin=True,
            )
        )
        adapter.sending.notify()
        await adapter.sending.idle()
        await adapter.sending.stop(0)
        text = "\n".join(message for _, message, _ in bot.puppet.sent)
        assert "GNN" in text and "Transformer" not in text
        plain = FakeMessage("wx-5", bot.contacts["bob"], "wx-2", bot.room)
        assert not await adapter.handle_recall(plain)  # not a recall notice
        assert notes(app) == ["学了 GNN"]
    finally:
        app.db.dispose()


def adapter_whose_get_me_fails(app: App, failures: int) -> tuple[Any, Any, list[float]]:
    """A Telegram adapter whose first ``failures`` getMe calls fail with a network error, and
    the seconds it sleeps between tries."""
    from telegram.error import NetworkError

    from bot.adapters.telegram import TelegramAdapter
    from tests.adapters.telegram_fake import FakeBotAPI

    api = FakeBotAPI()
    api.fail("getMe", *[NetworkError("connect failed")] * failures)
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    adapter = TelegramAdapter(
        app.dispatcher, app.config, request=api, get_updates_request=FakeBotAPI(), sleep=fake_sleep
    )
    return adapter, api, sleeps


async def test_bot_api_unreachable_at_start_is_retried_with_backoff(
    tmp_path: Path, clock: FakeClock
) -> None:
    """Issue #19: the process exited with a traceback when getMe failed at start."""
    app = build_app(telegram_config(tmp_path), clock=clock)
    adapter, api, sleeps = adapter_whose_get_me_fails(app, 2)
    try:
        await adapter.setup()
        assert adapter.username == "StudyHelperBot"
        assert sleeps[:2] == [1, 2] and len(api.of("getMe")) == 3
    finally:
        await adapter.stop()
        app.db.dispose()


async def test_bot_api_still_unreachable_after_the_retry_time_gives_up(
    tmp_path: Path, clock: FakeClock
) -> None:
    """Issue #23: past telegram.start_retry_seconds the error goes up, for the CLI to name the
    cause and exit non-zero (a supervisor restarts the bot)."""
    from telegram.error import NetworkError

    config = make_config(
        tmp_path,
        telegram={"token": "123456:TEST-TOKEN", "start_retry_seconds": 5},
        groups=[{"slug": "ml-club", "chats": [{"platform": "telegram", "chat_id": "-1001234"}]}],
    )
    app = build_app(config, clock=clock)
    adapter, _, sleeps = adapter_whose_get_me_fails(app, 10)
    try:
        with pytest.raises(NetworkError):
            await adapter.setup()
        assert sleeps == [1, 2]  # 1 + 2 s waited; the next 4 s would pass the 5 s allowed
    finally:
        app.db.dispose()


async def test_web_archive_port_busy_is_retried_until_free(
    tmp_path: Path, clock: FakeClock
) -> None:
    """Issue #19: a busy port at start left the archive (and 阅读原文 links) dead for good."""
    from bot.runner import WebRetry

    app = build_app(make_config(tmp_path), clock=clock)
    tries: list[int] = []

    async def start(_app: Any) -> Any:
        tries.append(1)
        if len(tries) < 3:
            raise OSError(98, "Address already in use")
        stopped: list[bool] = []

        async def stop() -> None:
            stopped.append(True)

        stop.stopped = stopped  # type: ignore[attr-defined]
        return stop

    retry = WebRetry(app, start)
    retry.delays = (0.01,)  # read when the task first runs
    try:
        await asyncio.wait_for(retry.task, 5)
        assert len(tries) == 3 and retry.handle is not None
        await retry()
        assert retry.handle.stopped == [True]
    finally:
        app.db.dispose()
