"""/export on Telegram (PTB offline): the admin gets the JSON as a document in a private chat."""

from __future__ import annotations

import html
import json

from storage.import_file import load_export
from tests.adapters.telegram_fake import BAD_GATEWAY, BLOCKED, GROUP, private_chat
from tests.adapters.test_telegram_offline import ADMIN, DAHUANG, XIAOMING, Harness, tg

__all__ = ["tg"]  # the fixture


async def test_export_sends_the_json_privately_as_a_document(tg: Harness) -> None:
    await tg.say("#打卡 读完 CS229 第三章 <3", DAHUANG)
    await tg.say("/ask 为什么要归一化？", XIAOMING)
    [sent_line] = await tg.say("/export", ADMIN)
    # the group hears it went privately, nothing about the file itself (#19 item 6: it said
    # nothing before, so the command looked ignored)
    assert sent_line["chat_id"] == GROUP["id"] and "已私信发送" in sent_line["text"]
    assert "studybot" not in sent_line["text"]
    [document] = tg.api.sent(ADMIN["id"], endpoint="sendDocument")
    name, data, mime = document["files"]["document"]
    assert name.startswith("studybot-ml-club-") and name.endswith(".json")
    assert mime == "application/json"
    assert "reply_parameters" not in document  # a private chat: no quoting
    caption = html.unescape(document["caption"])
    assert "已导出「ML自学者俱乐部」" in caption and "打卡 1" in caption and "提问 1" in caption
    assert f"studybot import {name}" in caption
    export = load_export(data.decode("utf-8"))
    [group] = export.groups
    assert [c.text for c in group.checkins] == ["读完 CS229 第三章 <3"]
    assert [q.text for q in group.questions] == ["为什么要归一化？"]
    assert json.loads(data)["format"] == "studybot-export"
    assert tg.api.sent(endpoint="sendMessage") == tg.api.sent(GROUP["id"])  # no text sent too


async def test_export_in_a_private_chat_and_for_non_admins(tg: Harness) -> None:
    await tg.say("/export", ADMIN, chat=private_chat(ADMIN))
    assert len(tg.api.sent(ADMIN["id"], endpoint="sendDocument")) == 1
    [refusal] = await tg.say("/导出", DAHUANG)
    assert refusal["chat_id"] == GROUP["id"] and "仅限管理员" in refusal["text"]
    assert tg.api.of("sendDocument") and all(
        int(call["chat_id"]) == ADMIN["id"] for call in tg.api.of("sendDocument")
    )


async def test_document_refused_falls_back_to_the_text(tg: Harness) -> None:
    tg.api.fail("sendDocument", *[BAD_GATEWAY] * 4)
    await tg.say("/export", ADMIN, chat=private_chat(ADMIN))
    assert tg.api.sent(ADMIN["id"], endpoint="sendDocument") == []
    [text] = tg.api.sent(ADMIN["id"])
    assert "已导出" in html.unescape(text["text"])


async def test_admin_who_never_started_the_bot_is_told_in_the_group(tg: Harness) -> None:
    tg.api.fail("sendDocument", BLOCKED)
    [notice] = await tg.say("/export", ADMIN)
    assert notice["chat_id"] == GROUP["id"] and "/start" in notice["text"]
    assert tg.api.sent(ADMIN["id"], endpoint="sendDocument") == []
