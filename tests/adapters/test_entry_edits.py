"""Edits and recalls reach every kind of entry, not only check-ins (issue #19): an edited
Telegram message updates the question, answer, paper or resource it created, with a short
reply; a recalled WeChat message withdraws it into the trash (a recalled question is announced
in its room, with its answers withdrawn too); an edit that no longer fits keeps the entry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.adapters.wechat import WechatAdapter
from bot.app import build_app
from bot.model import ChatRef, Incoming, UserRef
from storage.models import Answer, OutboxMessage, Paper, Question, Resource, TrashItem
from tests.adapters.telegram_fake import bot_message, user
from tests.adapters.test_edits_and_recalls import RECALLED, wechat_app
from tests.adapters.test_telegram_offline import Harness, make_harness, telegram_config
from tests.adapters.test_wechat_mapping import ROOM, FakeBot, FakeMessage
from tests.conftest import FakeClock

DAHUANG, XIAOMING = user(11, "大煌"), user(12, "小明")


@pytest.fixture
async def tg(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Harness]:
    app = build_app(telegram_config(tmp_path), clock=clock)
    harness = await make_harness(app, [])
    yield harness
    await harness.adapter.stop()
    app.db.dispose()


def rows(app: Any, model: Any, column: str) -> list[Any]:
    with app.db.session() as session:
        return [getattr(row, column) for row in session.scalars(select(model).order_by(model.id))]


async def edit(tg: Harness, text: str, who: Any, message_id: int) -> list[dict[str, Any]]:
    return await tg.feed(tg.updates.message(text, who, message_id=message_id, edited=True))


async def test_telegram_edits_update_questions_answers_papers_and_resources(tg: Harness) -> None:
    [announcement] = await tg.say("/ask 为什么 Adam 要 bias corection？", DAHUANG, message_id=600)
    [hint] = await edit(tg, "/ask 为什么 Adam 要 bias correction？", DAHUANG, 600)
    assert "已按你编辑后的消息更新问题 #1" in hint["text"]
    assert rows(tg.app, Question, "text") == ["为什么 Adam 要 bias correction？"]

    replied = bot_message(announcement, announcement["message_id"])
    await tg.say("一阶矩估计偏向 0", XIAOMING, reply_to=replied, message_id=601)
    [hint] = await edit(tg, "前几步的一阶矩估计偏向 0，要除以 1-β^t", XIAOMING, 601)
    assert "更新你对问题 #1 的回答" in hint["text"]
    await tg.say("/answer 1 补充：β2 同理", XIAOMING, message_id=602)
    [hint] = await edit(tg, "/answer 1 补充：二阶矩同理", XIAOMING, 602)
    assert "问题 #1 的回答" in hint["text"]
    assert rows(tg.app, Answer, "text") == [
        "前几步的一阶矩估计偏向 0，要除以 1-β^t",
        "补充：二阶矩同理",
    ]
    [hint] = await edit(tg, "+1", XIAOMING, 602)
    assert "不算回答" in hint["text"] and rows(tg.app, Answer, "text")[1] == "补充：二阶矩同理"

    await tg.say("/paper https://arxiv.org/abs/1412.6980 Adm", DAHUANG, message_id=603)
    better = "/paper https://arxiv.org/abs/1412.6980 Adam | 自适应矩估计"
    [hint] = await edit(tg, better, DAHUANG, 603)
    assert "更新论文" in hint["text"] and "Adam" in hint["text"]
    assert rows(tg.app, Paper, "summary") == ["自适应矩估计"]
    [hint] = await edit(tg, "论文不发了", DAHUANG, 603)
    assert "不再是论文" in hint["text"] and rows(tg.app, Paper, "title") == ["Adam"]

    await tg.say("#分享 https://d2l.ai #dl 动手学", XIAOMING, message_id=604)
    [hint] = await edit(tg, "#分享 https://zh.d2l.ai #dl #book 动手学深度学习", XIAOMING, 604)
    assert "更新资源" in hint["text"]
    assert rows(tg.app, Resource, "url") == ["https://zh.d2l.ai"]
    found = await tg.say("/search 动手学深度学习", XIAOMING)
    assert "zh.d2l.ai" in found[0]["text"]


async def test_wechat_recalls_withdraw_questions_answers_and_papers(
    tmp_path: Path, clock: FakeClock
) -> None:
    app = wechat_app(tmp_path, clock)
    try:
        adapter = WechatAdapter(app.dispatcher, app.config)
        bot = FakeBot()
        adapter._bot, adapter.self_id, adapter.self_name = bot, "bot", "学习助手"
        room = ChatRef("wechat", ROOM, "group")

        async def say(who: str, name: str, text: str, message_id: str) -> list[str]:
            sender = UserRef("wechat", who, name)
            admin = who == "admin"
            incoming = Incoming(room, sender, text, message_id, platform_admin=admin)
            return [reply.text for reply in await app.dispatcher.dispatch(incoming)]

        async def recall(who: str, message_id: str) -> None:
            contact = bot.contacts[who]
            notice = FakeMessage(f"r-{message_id}", contact, message_id, bot.room, kind=RECALLED)
            assert await adapter.handle_recall(notice)

        await say("bob", "Bob", "/ask 什么是 dropout？", "wx-1")
        await say("alice", "Alice", "/answer 1 随机丢弃", "wx-2")
        await say("alice", "Alice", "/paper https://arxiv.org/abs/1706.03762 Attention", "wx-3")
        await recall("alice", "wx-2")
        assert rows(app, Answer, "text") == []
        await recall("alice", "wx-3")
        assert rows(app, Paper, "title") == []
        await say("alice", "Alice", "/answer 1 再答一次", "wx-4")
        await recall("bob", "wx-1")
        assert rows(app, Question, "text") == [] and rows(app, Answer, "text") == []
        trash = rows(app, TrashItem, "deleted_by")
        assert trash == ["Alice（撤回）", "Alice（撤回）", "Bob（撤回）"]
        with app.db.session() as session:
            queued = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
            notices = [row.text for row in queued if "撤回" in row.text]
        assert notices == ["↩️ 问题 #1 已被提问者撤回。"]  # the answer and the paper: quietly
        # a withdrawal is the author's, not an admin's deletion, and stays withdrawn (#19
        # item 17: /restore brought it back before)
        refusals = await say("admin", "Admin", "/restore question 1", "wx-5")
        assert rows(app, Question, "text") == []
        await say("admin", "Admin", "/trash", "wx-6")
        await say("admin", "Admin", "/digest status", "wx-7")
        with app.db.session() as session:
            queued = [row.text for row in session.scalars(select(OutboxMessage))]
        [refusal] = refusals
        assert "作者本人撤回" in refusal and "不能恢复" in refusal
        [listing] = [text for text in queued if "回收站" in text]
        assert "作者本人撤回，不可恢复" in listing and "/restore question" not in listing
        assert "什么是 dropout" not in listing  # the withdrawn text is not shown
        [status] = [text for text in queued if "本期成员本人撤回了 3 条" in text]
        assert "管理员删除" not in status and "Bob（撤回）" in status
    finally:
        app.db.dispose()
