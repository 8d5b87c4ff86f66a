"""Newcomers are welcomed on both platforms (configurable text with the 「自学」 guidance and how
to 打卡); WeChat friend requests saying 「自学」 are accepted and invited (issue #19)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from telegram import Update

from bot.adapters.wechat import WechatAdapter
from bot.app import build_app
from bot.model import ChatRef, Incoming, UserRef
from tests.adapters.telegram_fake import DATE, GROUP, user
from tests.adapters.test_telegram_offline import Harness, make_harness, telegram_config
from tests.adapters.test_wechat_mapping import ROOM, FakeBot
from tests.conftest import FakeClock, make_config


@pytest.fixture
async def tg(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Harness]:
    app = build_app(telegram_config(tmp_path), clock=clock)
    harness = await make_harness(app, [])
    yield harness
    await harness.adapter.stop()
    app.db.dispose()


def joined(update_id: int, chat: dict[str, Any], *people: dict[str, Any]) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 900 + update_id,
            "date": DATE,
            "chat": chat,
            "from": people[0],
            "new_chat_members": list(people),
        },
    }


async def feed(tg: Harness, data: dict[str, Any]) -> list[dict[str, Any]]:
    before = len(tg.api.sent())
    await tg.adapter.application.process_update(Update.de_json(data, tg.adapter.application.bot))
    await tg.adapter.sending.idle()
    return tg.api.sent()[before:]


async def test_telegram_newcomers_get_one_welcome_with_how_to_check_in(tg: Harness) -> None:
    [welcome] = await feed(tg, joined(1, GROUP, user(41, "小新"), user(42, "小白")))
    assert welcome["chat_id"] == GROUP["id"]
    text = welcome["text"]
    assert "小新" in text and "小白" in text and "ML自学者俱乐部" in text
    assert "#打卡" in text and "自学" in text
    robot = {"id": 99, "is_bot": True, "first_name": "OtherBot"}
    assert await feed(tg, joined(2, GROUP, robot)) == []  # bots are not welcomed
    elsewhere = {"id": -1009999, "type": "supergroup", "title": "别的群"}
    assert await feed(tg, joined(3, elsewhere, user(43, "路人"))) == []  # not our chat


async def test_welcome_text_is_configurable_and_can_be_off(
    tmp_path: Path, clock: FakeClock
) -> None:
    app = build_app(
        telegram_config(
            tmp_path, join={"welcome": "👋 {names}，欢迎来到 {group}！先发「自学」了解规则"}
        ),
        clock=clock,
    )
    try:
        replies = app.dispatcher.welcome(ChatRef("telegram", "-1001234", "group"), ["阿新"])
        assert [r.text for r in replies] == [
            "👋 阿新，欢迎来到 ML自学者俱乐部！先发「自学」了解规则"
        ]
    finally:
        app.db.dispose()
    off = build_app(make_config(tmp_path / "off", join={"welcome": ""}), clock=clock)
    try:
        assert off.dispatcher.welcome(ChatRef("console", "console-group", "group"), ["阿新"]) == []
    finally:
        off.db.dispose()
    with pytest.raises(ValueError, match="names"):
        make_config(tmp_path / "bad", join={"welcome": "欢迎 {who}"})


def wechat_adapter(
    tmp_path: Path,
    clock: FakeClock,
    admins: tuple[str, ...] = (),
    language: str | None = None,
    **join: Any,
) -> tuple[Any, WechatAdapter, FakeBot]:
    wechat = {"token": "t", "endpoint": "127.0.0.1:1", "send_interval_seconds": 0,
              "study_room_id": ROOM}  # fmt: skip
    groups = [{"slug": "ml-club", "chats": [{"platform": "wechat", "chat_id": ROOM}]}]
    if language:
        groups[0]["language"] = language
    extra = {"admins": list(admins)} if admins else {}
    config = make_config(tmp_path, wechat=wechat, groups=groups, join=join, **extra)
    app = build_app(config, clock=clock)
    adapter = WechatAdapter(app.dispatcher, config)
    bot = FakeBot()
    adapter._bot, adapter.self_id, adapter.self_name = bot, "bot", "学习助手"
    adapter._ready.set()
    adapter.sending.start()  # replies go out through the outbox's send stage
    return app, adapter, bot


async def test_wechat_room_join_is_welcomed_mentioning_the_newcomers(
    tmp_path: Path, clock: FakeClock
) -> None:
    app, adapter, bot = wechat_adapter(tmp_path, clock)
    try:
        await adapter._room_join(ROOM, ["carol", "bot"])
        await adapter.sending.idle()
        [(room, text, mentions)] = bot.puppet.sent
        assert room == ROOM and mentions == ["carol"]
        assert "Carol" in text and "#打卡" in text
        await adapter._room_join("other@chatroom", ["alice"])  # not a configured room
        await adapter.sending.idle()
        assert len(bot.puppet.sent) == 1
    finally:
        await adapter.sending.stop(0)
        app.db.dispose()


async def test_wechat_friend_request_with_the_keyword_is_accepted_and_invited(
    tmp_path: Path, clock: FakeClock
) -> None:
    app, adapter, bot = wechat_adapter(tmp_path, clock)
    requests = {
        "f1": SimpleNamespace(type=2, hello="你好，我想加入 自学 群", contact_id="carol"),
        "f2": SimpleNamespace(type=2, hello="卖保险的", contact_id="bob"),
    }
    accepted: list[str] = []

    async def payload(friendship_id: str) -> Any:
        return requests[friendship_id]

    async def accept(friendship_id: str) -> None:
        accepted.append(friendship_id)

    bot.puppet.friendship_payload = payload  # type: ignore[attr-defined]
    bot.puppet.friendship_accept = accept  # type: ignore[attr-defined]
    try:
        await adapter._friendship("f1")
        await adapter._friendship("f2")
        await adapter.sending.idle()
        assert accepted == ["f1"]
        assert bot.puppet.added == [(ROOM, "carol")]
        assert [(to, "已邀请" in text) for to, text, _ in bot.puppet.sent] == [("carol", True)]
    finally:
        await adapter.sending.stop(0)
        app.db.dispose()


async def test_an_english_study_rooms_invitation_is_in_english(
    tmp_path: Path, clock: FakeClock
) -> None:
    app, adapter, bot = wechat_adapter(tmp_path, clock, language="en")
    requests = {"f1": SimpleNamespace(type=2, hello="自学", contact_id="carol")}

    async def payload(friendship_id: str) -> Any:
        return requests[friendship_id]

    async def accept(friendship_id: str) -> None:
        pass

    bot.puppet.friendship_payload = payload  # type: ignore[attr-defined]
    bot.puppet.friendship_accept = accept  # type: ignore[attr-defined]
    try:
        await adapter._friendship("f1")
        await adapter.sending.idle()
        [(to, text, _)] = bot.puppet.sent
        assert to == "carol" and text.startswith("I've invited you to"), text
    finally:
        await adapter.sending.stop(0)
        app.db.dispose()


async def test_invitations_are_remembered_across_a_restart(
    tmp_path: Path, clock: FakeClock
) -> None:
    """One invitation per person per cooldown and one failure report, even after a restart:
    the pending invitation and the reported failure are in the database, not in memory."""
    app, adapter, bot = wechat_adapter(tmp_path, clock, admins=("wechat:alice",))
    ids = iter(range(100))

    async def say_join(running: WechatAdapter, who: str) -> None:
        dm = ChatRef("wechat", who, "private", who.title())
        said = Incoming(dm, UserRef("wechat", who, who.title()), "自学", f"j{next(ids)}")
        await running.dispatcher.dispatch(said)
        running.sending.notify()
        await running.sending.idle()

    try:
        await say_join(adapter, "carol")
        assert bot.puppet.added == [(ROOM, "carol")]
        bot.puppet.members[ROOM].remove("carol")  # she has not accepted yet
        bot.puppet.members[ROOM].remove("bob")  # bob left the room and wants back in
        bot.puppet.fail_add = True
        await say_join(adapter, "bob")  # fails: bob told, the admin alice told
        alerts = [text for to, text, _ in bot.puppet.sent if to == "alice"]
        assert len(alerts) == 1 and "bob" in alerts[0]
        tried = list(bot.puppet.added)  # carol's invitation, bob's failed one
    finally:
        await adapter.sending.stop(0)
        app.db.dispose()

    restarted = build_app(app.config, clock=clock)  # a new process: nothing in memory
    again = WechatAdapter(restarted.dispatcher, restarted.config)
    again._bot, again.self_id, again.self_name = bot, "bot", "学习助手"
    again._ready.set()
    again.sending.start()
    try:
        sent_before = len(bot.puppet.sent)
        await say_join(again, "carol")
        await say_join(again, "bob")
        assert bot.puppet.added == tried  # nobody invited again within the cooldown
        later = bot.puppet.sent[sent_before:]
        assert [to for to, _, _ in later] == ["carol", "bob"]  # and no second alert
        assert "已经发给你" in later[0][1] and "已经通知管理员" in later[1][1]
    finally:
        await again.sending.stop(0)
        restarted.db.dispose()
