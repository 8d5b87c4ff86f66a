"""Scope: the bot acts for a group only in that group's configured chats (docs/security.md)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from bot.app import build_app
from bot.dispatch import SCOPE
from bot.model import ChatRef
from storage.models import CheckIn, KeywordReply, Member, ProcessedMessage
from tests.conftest import Chatter, FakeClock, make_config

FOREIGN = ChatRef("console", "someone-elses-group", "group", "Mallory's group")


def count(chat: Chatter, model: type) -> int:
    with chat.app.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


async def test_an_unconfigured_chat_gets_one_notice_and_nothing_is_stored(chat: Chatter) -> None:
    notice = SCOPE.get("unconfigured_chat", "zh", platform="console", chat_id=FOREIGN.chat_id)
    assert await chat.say("今天天气不错", chat=FOREIGN, user="mallory") == ""  # not addressed
    assert (
        await chat.say(
            "/keyword add 入群 http://phish.example",
            chat=FOREIGN,
            user="mallory",
            platform_admin=True,
        )
        == notice
    )
    for attack in ("/export", "/digest publish now", "#打卡 读了 ResNet", "自学", "/rank"):
        assert await chat.say(attack, chat=FOREIGN, user="mallory", platform_admin=True) == ""
    for model in (KeywordReply, CheckIn, Member, ProcessedMessage):
        assert count(chat, model) == 0, model
    # the configured chat is unaffected
    assert await chat.say("#打卡 读了 ResNet") != ""
    assert count(chat, CheckIn) == 1


async def test_silent_per_config_and_english_notice(tmp_path: Path, clock: FakeClock) -> None:
    silent = build_app(make_config(tmp_path, access={"unconfigured_chats": "silent"}), clock=clock)
    try:
        assert await Chatter(silent, clock).say("/help", chat=FOREIGN) == ""
    finally:
        silent.db.dispose()
    english = build_app(make_config(tmp_path, language="en"), clock=clock)
    try:
        said = await Chatter(english, clock).say("/help", chat=FOREIGN)
        assert said.startswith("This chat is not configured") and FOREIGN.chat_id in said
    finally:
        english.db.dispose()
