"""End to end over real HTTP: the Telegram adapter polling the npm Bot API emulator.

The suite starts ``tests/peers/telegram_server.mjs`` (Node) once; each test uses its own bot
token (its own queues), a fresh SQLite database and the real app, and talks to the bot as
simulated users through the emulator's client API. Waits have deadlines, never fixed sleeps.
"""

from __future__ import annotations

import logging
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.adapters.telegram import TelegramAdapter
from bot.app import App, build_app
from bot.dispatch import SCOPE
from bot.i18n import COMMON
from storage.models import Answer, CheckIn, DigestIssue, KeywordReply, Member, ProcessedMessage
from tests.conftest import make_config, require_or_skip
from tests.e2e.telegram_emulator import (
    EmulatorRequest,
    EmulatorServer,
    TelegramUser,
    as_reply_target,
    emulator_available,
    free_port,
)

GROUP = {"id": -100777, "type": "supergroup", "title": "ML自学者俱乐部"}
FOREIGN_GROUP = {"id": -100666, "type": "supergroup", "title": "Mallory's group"}
ADMIN_ID = 1


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    require_or_skip(emulator_available(), "node or tests/peers/node_modules missing")
    server = EmulatorServer()
    server.start()
    yield server
    server.stop()


@dataclass
class Bot:
    app: App
    adapter: TelegramAdapter
    token: str
    client: httpx.AsyncClient

    def user(self, user_id: int, name: str) -> TelegramUser:
        return TelegramUser(self.client, self.token, user_id, name)

    async def set_chat_administrators(self, chat: dict[str, Any], user_ids: list[int]) -> None:
        """What the emulator's getChatAdministrators answers for ``chat``."""
        response = await self.client.post(
            "/setChatAdministrators", json={"chatId": chat["id"], "userIds": user_ids}
        )
        response.raise_for_status()


async def start_bot(
    emulator: EmulatorServer, tmp_path: Path, *, more_chats: tuple[int, ...] = (), **telegram: Any
) -> Bot:
    """The bot serving GROUP (and the group chats ``more_chats``) through the emulator."""
    token = f"{uuid.uuid4().int % 10**9}:e2e-{uuid.uuid4().hex}"
    chats = [{"platform": "telegram", "chat_id": chat} for chat in (GROUP["id"], *more_chats)]
    config = make_config(
        tmp_path,
        admins=[f"telegram:{ADMIN_ID}"],
        telegram={"token": token, **telegram},
        groups=[{"slug": "ml-club", "chats": chats}],
    )
    app = build_app(config)
    adapter = TelegramAdapter(
        app.dispatcher,
        config,
        request=EmulatorRequest(),
        get_updates_request=EmulatorRequest(),
        base_url=f"{emulator.api}/bot",
        poll_interval=0.005,
        retry_delays=(0.05, 0.1),
    )
    app.add_sender(adapter)
    await adapter.start()
    client = httpx.AsyncClient(base_url=emulator.api, timeout=10)
    return Bot(app, adapter, token, client)


@asynccontextmanager
async def running_bot(
    emulator: EmulatorServer, tmp_path: Path, **telegram: Any
) -> AsyncIterator[Bot]:
    """:func:`start_bot`, stopped and closed on the way out."""
    running = await start_bot(emulator, tmp_path, **telegram)  # more_chats passes through
    try:
        yield running
    finally:
        await running.adapter.stop()
        await running.client.aclose()
        running.app.db.dispose()


@pytest.fixture
async def bot(emulator: EmulatorServer, tmp_path: Path) -> AsyncIterator[Bot]:
    async with running_bot(emulator, tmp_path) as running:
        yield running


async def test_check_in_ask_and_answer_by_reply_in_a_group(bot: Bot) -> None:
    dahuang, xiaoming = bot.user(11, "大煌"), bot.user(12, "小明")
    await dahuang.say("#打卡 这周把 d2l 第 4 章的 MLP 实现了一遍", GROUP)
    [saved] = await dahuang.reacted()  # a check-in in a group: a ✍ on it, no bot message
    assert saved["chat_id"] == str(GROUP["id"]) and saved["reaction"][0]["emoji"] == "✍"
    await dahuang.say("/ask 为什么 dropout 在测试时要关掉？", GROUP)
    [announcement] = await dahuang.replies(GROUP)
    assert "dropout" in announcement["message"]["text"]
    target = as_reply_target(announcement, GROUP)
    await xiaoming.say(
        "训练时随机置零是为了正则化，测试要用完整网络的期望输出", GROUP, reply_to=target
    )
    # the answer's confirmation, then the asker (who never wrote to the bot privately) is
    # told in the group
    answered, notice = await xiaoming.replies(GROUP, count=2)
    assert "小明" in answered["message"]["text"]
    assert "大煌" in notice["message"]["text"] and "训练时随机置零" in notice["message"]["text"]
    with bot.app.db.session() as session:
        assert session.scalars(select(CheckIn.text)).one().startswith("这周把 d2l")
        answer = session.scalars(select(Answer)).one()
        assert answer.text.startswith("训练时随机置零")
        assert answer.member.display_name == "小明"


async def test_a_burst_is_stored_and_answered_in_order(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    """Updates are handled concurrently and in batches: order must still hold. (Telegram's
    ~20 messages a minute per group is PTB's rate limiter's business: off here.)"""
    async with running_bot(emulator, tmp_path, rate_limiter=False, ack="reply") as bot:
        await _burst_in_order(bot)


async def _burst_in_order(bot: Bot) -> None:
    members = [bot.user(60 + i, f"成员{i}") for i in range(6)]
    for i in range(30):  # posted back to back: the bot fetches them several at a time
        await members[i % 6].say(f"/checkin 第{i:02d}条 burst", GROUP)
    await bot.user(70, "提问者").say("/ask 连发之后提问？", GROUP)
    replies = await members[0].replies(GROUP, count=31, within=30)
    texts = [item["message"]["text"] for item in replies]
    for i, text in enumerate(texts[:30]):  # each reply names its member and their running count
        assert f"成员{i % 6} 本周第 {i // 6 + 1} 条" in text, (i, text)
    assert "连发之后提问" in texts[30]
    with bot.app.db.session() as session:
        notes = list(session.scalars(select(CheckIn.text).order_by(CheckIn.id)))
    assert notes == [f"第{i:02d}条 burst" for i in range(30)]


async def test_with_a_batch_window_a_burst_is_stored_in_a_few_transactions(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    """Group commit through the real adapter: while a burst lasts, batches wait for company,
    so 30 check-ins posted back to back take a few transactions, and still keep their order."""
    batches: list[int] = []
    batched = {"rate_limiter": False, "batch_window_ms": 200, "ack": "reply"}
    async with running_bot(emulator, tmp_path, **batched) as bot:
        dispatch = bot.adapter.ingest.batcher.dispatch

        async def counted(incomings: Any) -> Any:
            batches.append(len(incomings))
            return await dispatch(incomings)

        bot.adapter.ingest.batcher.dispatch = counted
        await _burst_in_order(bot)
    assert sum(batches) == 31
    assert len(batches) <= 8, batches  # without the window: ~12-15 batches of 2-3


async def test_join_keyword_in_a_private_chat(bot: Bot) -> None:
    newcomer = bot.user(31, "新人")
    await newcomer.say("自学", newcomer.dm)
    [join] = await newcomer.replies(newcomer.dm)
    assert join["message"]["text"].startswith(bot.app.config.join.chat_text[:4])
    assert join["message"]["parse_mode"] == "HTML"


async def test_non_admin_refused_and_commands_for_other_bots_ignored(bot: Bot) -> None:
    member = bot.user(41, "路人")
    await member.say("/help@SomeOtherBot", GROUP)
    await member.say("/keyword list", GROUP)
    refusal = COMMON.get("admin_only", "zh", name="keyword")
    replies = await member.replies_until(GROUP, refusal)
    assert [item["message"]["text"] for item in replies] == [refusal]
    await member.say("/help@TestNameBot", GROUP)  # the emulator's bot is @TestNameBot
    [help_text] = await member.replies(GROUP)
    assert "/checkin" in help_text["message"]["text"]


async def test_admin_publishes_the_digest_to_the_configured_chat(bot: Bot) -> None:
    require_or_skip(
        bot.app.dispatcher.registry.find_command("digest") is not None,
        "the /digest handler (digest-publish helper) is not there yet",
    )
    member, admin = bot.user(51, "阿强"), bot.user(ADMIN_ID, "管理员")
    await member.say("#打卡 读了 Attention Is All You Need", GROUP)
    await member.reacted()
    await member.say("/digest publish now", GROUP)
    [refusal] = await member.replies(GROUP)
    assert refusal["message"]["text"] == COMMON.get("admin_only", "zh", name="digest")
    await admin.say("/digest publish now", admin.dm)
    posted = await admin.replies(GROUP)
    text = "\n".join(item["message"]["text"] for item in posted)
    assert all(item["message"]["parse_mode"] == "HTML" for item in posted)
    assert "<b>" in text  # the digest's Telegram HTML is sent as it is, not escaped
    assert "学习心得" in text and "阿强" in text
    assert await admin.replies(admin.dm)  # the admin hears how the publishing went


async def test_round_trip_latency(bot: Bot) -> None:
    timings = []
    for index in range(20):  # one user each: the per-member rate limit is not under test
        person = bot.user(600 + index, f"测速{index}")
        started = time.perf_counter()
        await person.say("/start", person.dm)
        await person.replies(person.dm)
        timings.append(time.perf_counter() - started)
    median = statistics.median(timings)
    print(
        f"\nemulator round trip /start: median {median * 1000:.1f} ms, max {max(timings) * 1000:.1f} ms"
    )
    assert median < 0.5


async def test_webhook_mode_receives_updates(emulator: EmulatorServer, tmp_path: Path) -> None:
    port = free_port()
    hook = {"url": f"http://127.0.0.1:{port}/tg-hook", "listen": "127.0.0.1", "port": port}
    async with running_bot(emulator, tmp_path, mode="webhook", webhook=hook) as running:
        person = running.user(71, "钩子")
        await person.say("自学", person.dm)
        [join] = await person.replies(person.dm)
        assert join["message"]["text"].startswith(running.app.config.join.chat_text[:4])


async def test_the_admin_of_a_foreign_group_administers_nothing(bot: Bot) -> None:
    """Mallory adds the bot to her own group, where Telegram says she is an administrator."""
    mallory, chat_admin = bot.user(66, "Mallory"), bot.user(67, "群管")
    await bot.set_chat_administrators(FOREIGN_GROUP, [66])
    await bot.set_chat_administrators(GROUP, [67])
    await mallory.say("/export", FOREIGN_GROUP)
    [notice] = await mallory.replies(FOREIGN_GROUP)
    assert notice["message"]["text"] == SCOPE.get(
        "unconfigured_chat", "zh", platform="telegram", chat_id=str(FOREIGN_GROUP["id"])
    )
    for attack in (
        "/keyword add 入群 http://phish.example/login",
        "/digest publish now",
        "/digest status",
        "/search 打卡",
        "/questions",
        "/rank",
        "#打卡 stored in the wrong club?",
        "自学",
    ):
        await mallory.say(attack, FOREIGN_GROUP)
    # her DM is not a way in either: she administers no configured chat
    await mallory.say("/keyword add 入群 http://phish.example/login", mallory.dm)
    refusal = COMMON.get("admin_only", "zh", name="keyword")
    assert [m["message"]["text"] for m in await mallory.replies_until(mallory.dm, refusal)] == [
        refusal
    ]
    # updates are handled in order: everything she said in her group has been handled by now
    assert (
        await bot.client.post(
            "/getUpdates", json={"token": bot.token, "chatId": FOREIGN_GROUP["id"]}
        )
    ).json()["result"] == []  # one notice, then silence
    # an administrator of the club's own chat (not a config admin) still administers it
    await chat_admin.say("/keyword add 入群 欢迎！看置顶", GROUP)
    [added] = await chat_admin.replies(GROUP)
    assert "入群" in added["message"]["text"]
    with bot.app.db.session() as session:
        assert session.scalars(select(KeywordReply.reply)).all() == ["欢迎！看置顶"]
        assert session.scalar(select(func.count()).select_from(DigestIssue)) == 0
        assert session.scalar(select(func.count()).select_from(CheckIn)) == 0
        stored_chats = set(session.scalars(select(ProcessedMessage.chat_id)))
        assert str(FOREIGN_GROUP["id"]) not in stored_chats
        members = set(session.scalars(select(Member.platform_user_id)))
        assert members == {"66", "67"}  # Mallory only from her DM, nothing from her group
    # in a private chat, the club chat's administrator administers the club (learned from
    # getChatAdministrators of the configured chat), Mallory still nothing
    await chat_admin.say("/keyword del 入群", chat_admin.dm)
    [deleted] = await chat_admin.replies(chat_admin.dm)
    assert "入群" in deleted["message"]["text"] and deleted["message"]["text"] != COMMON.get(
        "admin_only", "zh", name="keyword"
    )
    with bot.app.db.session() as session:
        assert session.scalars(select(KeywordReply.reply)).all() == []


async def test_a_week_in_the_group_welcome_loose_checkin_edit_and_quiet_unknown_commands(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    """Issue #19 through the real emulator: a newcomer is welcomed, 「#打卡：…」 is stored, an
    edited check-in updates the note (with a hint), Rose's /warn draws no reply. (Check-ins
    are answered by a message here, ``ack: reply``, to read what each one counted.)"""
    async with running_bot(emulator, tmp_path, ack="reply") as bot:
        await _a_week_in_the_group(bot)


async def _a_week_in_the_group(bot: Bot) -> None:
    newcomer = bot.user(51, "新同学")
    await newcomer.join(GROUP)
    [welcome] = await newcomer.replies(GROUP)
    assert "新同学" in welcome["message"]["text"] and "#打卡" in welcome["message"]["text"]
    await newcomer.say("#打卡：读了 ResNet 论文", GROUP)
    [saved] = await newcomer.replies(GROUP)
    assert "新同学" in saved["message"]["text"]
    original = await newcomer.last_message_id("#打卡：读了 ResNet 论文")
    await newcomer.edit(original, "#打卡：读了 ResNet 和 DenseNet 论文", GROUP)
    [hint] = await newcomer.replies(GROUP)
    assert "已按你编辑后的消息更新" in hint["message"]["text"]
    with bot.app.db.session() as session:
        assert session.scalars(select(CheckIn.text)).one() == "读了 ResNet 和 DenseNet 论文"
    await newcomer.say("/warn @spammer", GROUP)
    await newcomer.say("打卡 day2 复现了残差块", GROUP)
    [day2] = await newcomer.replies(GROUP)  # the only reply: /warn was not ours to answer
    assert "第 2 条" in day2["message"]["text"]


async def test_debug_logs_never_show_the_bot_token(
    emulator: EmulatorServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """PTB logs its Bot API URL (``.../bot<TOKEN>``) and httpx every request at debug level."""
    with caplog.at_level(logging.DEBUG):
        async with running_bot(emulator, tmp_path, ack="reply") as running:
            person = running.user(81, "日志")
            await person.say("/checkin 读了 ResNet", GROUP)
            await person.replies(GROUP)
            token = running.token
    assert "getUpdates" in caplog.text  # the Bot API calls were logged...
    assert token not in caplog.text  # ...without the token
    assert token.split(":")[1] not in caplog.text


async def test_an_asker_who_blocked_the_bot_is_told_in_the_group_once(bot: Bot) -> None:
    """#19: the asker started the bot, then blocked it: the DM is refused (403) and the notice
    goes to the group instead, quoting the question and mentioning them, once."""
    asker, helper = bot.user(91, "拉黑"), bot.user(92, "好心")
    await asker.say("/start", asker.dm)
    await asker.replies(asker.dm)
    await asker.say("/ask 梯度爆炸怎么办？", GROUP)
    [announcement] = await asker.replies(GROUP)
    blocked = await bot.client.post("/blockBot", json={"chatId": asker.user["id"]})
    blocked.raise_for_status()
    await helper.say("/answer 1 梯度裁剪", GROUP)
    in_group = await helper.replies_until(GROUP, "你的问题 #1")
    assert any("已记录 好心 对问题 #1" in item["message"]["text"] for item in in_group)
    response = await bot.client.post("/getSends", json={"token": bot.token})
    sends = response.json()["result"]
    [notice] = [s for s in sends if "你的问题 #1" in (s["text"] or "")]  # once: the group only
    assert notice["chat_id"] == str(GROUP["id"])
    assert notice["reply_to"] == announcement["messageId"]  # quoting the question
    assert 'href="tg://user?id=91"' in notice["text"]  # a mention notifies the asker
    await helper.say("/q 1", GROUP)  # later messages: still no second notice
    await helper.replies_until(GROUP, "梯度裁剪")
    again = (await bot.client.post("/getSends", json={"token": bot.token})).json()["result"]
    assert len([s for s in again if "你的问题 #1" in (s["text"] or "")]) == 1


async def test_an_asker_hears_of_each_answer_privately_or_in_the_group(bot: Bot) -> None:
    asker, quiet, helper = bot.user(21, "问者"), bot.user(22, "潜水"), bot.user(23, "热心")
    await asker.say("/start", asker.dm)  # has started the bot: it may write to them
    await asker.replies(asker.dm)
    await asker.say("/ask 为什么要做 batch norm？", GROUP)
    await asker.replies(GROUP)
    await quiet.say("/ask 学习率怎么选？", GROUP)  # never started the bot
    [announcement] = await quiet.replies(GROUP)
    await helper.say("/answer 1 稳定每层输入的分布", GROUP)
    [told] = await asker.replies(asker.dm)
    assert "你的问题 #1 有了新回答（热心）：稳定每层输入的分布" in told["message"]["text"]
    await helper.say("/answer 2 先用 lr finder 扫一遍", GROUP)
    in_group = await helper.replies_until(GROUP, "你的问题 #2")
    texts = [item["message"]["text"] for item in in_group]
    assert any("已记录 热心 对问题 #1" in text for text in texts)  # no notice for #1 here
    assert not any("问题 #1 有了新回答" in text for text in texts)
    response = await bot.client.post("/getSends", json={"token": bot.token})
    [notice] = [s for s in response.json()["result"] if "你的问题 #2" in (s["text"] or "")]
    assert notice["chat_id"] == str(GROUP["id"])
    assert notice["reply_to"] == announcement["messageId"]  # quoting the question
    assert 'href="tg://user?id=22"' in notice["text"]  # a mention notifies the asker
    await quiet.say("/answer 2 我自己试出来了", GROUP)  # a self-answer tells nobody
    own = await quiet.replies_until(GROUP, "不计分")
    assert not any("有了新回答" in item["message"]["text"] for item in own)
