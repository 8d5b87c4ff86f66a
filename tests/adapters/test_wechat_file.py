"""A file reply (/export) on WeChat: a FileBox with the text after it, or a clear note."""

from __future__ import annotations

import base64
from typing import Any

from bot.adapters.wechat_send import MSG
from bot.model import ChatRef, Incoming, Reply, UserRef
from tests.adapters.test_wechat_mapping import ROOM, deliver, make

__all__ = ["make"]  # the fixture

ASKED = Incoming(
    ChatRef("wechat", ROOM, "group"), UserRef("wechat", "alice", "Alice"), "/export", "w1"
)
EXPORT = Reply("📦 已导出", file=b'{"format": "studybot-export"}', file_name="x.json", private=True)


async def test_file_goes_privately_as_a_filebox_before_the_text(make: Any) -> None:
    adapter, bot = make()
    files: list[tuple[str, str, bytes]] = []

    async def message_send_file(conversation_id: str, file: Any) -> str:
        files.append((conversation_id, file.name, base64.b64decode(file.base64)))
        return "f1"

    bot.puppet.message_send_file = message_send_file
    await deliver(adapter, ASKED, EXPORT)
    assert files == [("alice", "x.json", b'{"format": "studybot-export"}')]
    assert bot.puppet.sent == [("alice", "📦 已导出", None)]


async def test_refused_file_says_where_export_works(make: Any) -> None:
    adapter, bot = make()  # the fake puppet has no message_send_file: every attempt fails
    await deliver(adapter, ASKED, EXPORT)
    [(to, text, _)] = bot.puppet.sent
    assert to == "alice" and text == "📦 已导出" + MSG.get("file_not_sent", "zh")
    assert "微信未能发送文件" in text and "Telegram" in text and "studybot export" in text
    assert "WeChat could not" not in text  # one language, the chat's


async def test_refused_file_note_in_an_english_club(make: Any) -> None:
    adapter, bot = make()
    adapter.dispatcher.language_of = lambda chat: "en"  # the chat's group is English
    await deliver(adapter, ASKED, EXPORT)
    [(_to, text, _)] = bot.puppet.sent
    assert text == "📦 已导出" + MSG.get("file_not_sent", "en")
    assert "WeChat could not send the file" in text and "微信" not in text
