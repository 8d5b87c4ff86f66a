"""The Telegram adapter with PTB offline: real Update JSON in, recorded Bot API calls out.

The real app (migrations, handlers, dispatcher) runs on SQLite; :class:`FakeBotAPI` stands in
for api.telegram.org, so every test sees exactly what Telegram would have received.
"""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from telegram import Update
from telegram.error import NetworkError

from bot.adapters.telegram import TelegramAdapter
from bot.adapters.telegram_text import utf16_len
from bot.app import App, build_app
from bot.i18n import COMMON
from bot.model import ChatRef, Outgoing, Reply
from storage.models import Answer, CheckIn, Member, OutboxMessage, Question
from tests.adapters.telegram_fake import (
    BAD_GATEWAY,
    BAD_REACTION,
    BLOCKED,
    BOT,
    CHAT_NOT_FOUND,
    GROUP,
    FakeBotAPI,
    Updates,
    bot_message,
    flood,
    private_chat,
    user,
)
from tests.conftest import FakeClock, make_config

ADMIN = user(1, "Ada", "Admin")  # config admin telegram:1
DAHUANG = user(11, "大煌")
XIAOMING = user(12, "小明", "王")
CHAT_ADMIN = user(22, "Grace")  # administrator of the Telegram group, not in config
GROUP_REF = ChatRef("telegram", str(GROUP["id"]), "group")


@dataclass
class Harness:
    adapter: TelegramAdapter
    api: FakeBotAPI
    app: App
    updates: Updates = field(default_factory=Updates)
    sleeps: list[float] = field(default_factory=list)

    async def feed(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        """Process one update; returns the messages the bot got accepted meanwhile."""
        before = len(self.api.sent())
        bot = self.adapter.application.bot
        await self.adapter.application.process_update(Update.de_json(data, bot))
        await self.app.dispatcher.tasks.idle()  # after-commit work (files, charts, publishing)
        await self.adapter.sending.idle()  # replies go out from the send stage, not the handler
        return self.api.sent()[before:]

    async def say(self, text: str, sender: dict[str, Any], **kwargs: Any) -> list[dict[str, Any]]:
        return await self.feed(self.updates.message(text, sender, **kwargs))

    def count(self, model: Any) -> int:
        with self.app.db.session() as session:
            return session.scalar(select(func.count()).select_from(model)) or 0


def telegram_config(tmp_path: Path, **overrides: Any) -> Any:
    return make_config(
        tmp_path,
        admins=["telegram:1"],
        telegram={"token": "123456:TEST-TOKEN"},
        groups=[{"slug": "ml-club", "chats": [{"platform": "telegram", "chat_id": "-1001234"}]}],
        **overrides,
    )


async def make_harness(app: App, sleeps: list[float]) -> Harness:
    api = FakeBotAPI()

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    adapter = TelegramAdapter(
        app.dispatcher,
        app.config,
        request=api,
        get_updates_request=FakeBotAPI(),
        retry_delays=(0.5, 1.0, 2.0),
        sleep=fake_sleep,
    )
    await adapter.setup()
    return Harness(adapter, api, app, sleeps=sleeps)


@pytest.fixture
async def tg(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Harness]:
    app = build_app(telegram_config(tmp_path), clock=clock)
    harness = await make_harness(app, [])
    yield harness
    await harness.adapter.stop()
    app.db.dispose()


async def test_checkin_in_group_is_stored_and_acknowledged_with_a_reaction(tg: Harness) -> None:
    data = tg.updates.message("#打卡 本周读完了 CS229 第三章", XIAOMING, message_id=321)
    assert await tg.feed(data) == []  # no bot message in the group
    assert tg.count(CheckIn) == 1
    [reaction] = tg.api.of("setMessageReaction")
    assert (reaction["chat_id"], reaction["message_id"]) == (GROUP["id"], 321)
    assert reaction["reaction"] == [{"type": "emoji", "emoji": "✍"}]


async def test_where_reactions_are_refused_checkins_share_one_edited_message(
    tg: Harness,
) -> None:
    tg.api.fail("setMessageReaction", (400, BAD_REACTION))
    first = await tg.say("#打卡 第一条", XIAOMING)
    second = await tg.say("#打卡 第二条", DAHUANG)
    assert [html.unescape(m["text"]) for m in first] == ["✅ 已记录：小明 王 的打卡"]
    assert second == []  # the window's message is edited instead
    [edit] = tg.api.of("editMessageText")
    assert edit["message_id"] == first[0]["message_id"]
    assert html.unescape(edit["text"]) == "✅ 已记录：小明 王、大煌 的打卡"
    assert len(tg.api.of("setMessageReaction")) == 1  # not asked again in that chat


async def test_checkin_in_group_is_stored_and_answered_in_thread(
    tmp_path: Path, clock: FakeClock
) -> None:
    """With ``ack: reply`` (a quiet group), a check-in is answered as a reply, as before."""
    telegram = {"token": "123456:TEST-TOKEN", "ack": "reply"}
    config = telegram_config(tmp_path).model_copy(
        update={"telegram": telegram_config(tmp_path).telegram.model_copy(update=telegram)}
    )
    app = build_app(config, clock=clock)
    tg = await make_harness(app, [])
    data = tg.updates.message("#打卡 本周读完了 CS229 第三章", XIAOMING, message_id=321)
    sent = await tg.feed(data)
    assert tg.count(CheckIn) == 1
    with tg.app.db.session() as session:
        note = session.scalars(select(CheckIn)).one()
        assert note.text == "本周读完了 CS229 第三章"
        assert note.member.display_name == "小明 王"
    assert len(sent) == 1
    assert sent[0]["chat_id"] == GROUP["id"]
    assert sent[0]["parse_mode"] == "HTML"
    assert sent[0]["link_preview_options"]["is_disabled"] is True  # no link previews (#17)
    assert sent[0]["reply_parameters"]["message_id"] == 321
    assert "小明 王" in sent[0]["text"]
    await tg.adapter.stop()
    app.db.dispose()


async def test_photo_caption_counts_as_text_and_an_edit_updates_it(tg: Harness) -> None:
    """An edit updates the note, never adds one (#19 item 5: edits were ignored before)."""
    await tg.say("#打卡 手推了一遍 backprop", DAHUANG, caption=True, message_id=600)
    assert tg.count(CheckIn) == 1
    await tg.say("#打卡 改过的内容", DAHUANG, caption=True, message_id=600, edited=True)
    assert tg.count(CheckIn) == 1
    with tg.app.db.session() as session:
        assert session.scalars(select(CheckIn)).one().text == "改过的内容"


async def test_reply_to_the_bots_question_message_is_an_answer(tg: Harness) -> None:
    [announcement] = await tg.say("/ask 为什么 Adam 需要 bias correction？", DAHUANG)
    assert "为什么 Adam 需要 bias correction？" in html.unescape(announcement["text"])
    replied = bot_message(announcement, announcement["message_id"])
    sent = await tg.say("前几步的一阶矩估计偏向 0，所以要除以 1-β^t", XIAOMING, reply_to=replied)
    with tg.app.db.session() as session:
        stored = session.scalars(select(Answer)).one()
        assert stored.text == "前几步的一阶矩估计偏向 0，所以要除以 1-β^t"
        assert stored.member.display_name == "小明 王"
        assert session.scalars(select(Question.number)).one() == 1
    saved, notice = sent  # the answerer's confirmation; the asker told, quoting the question
    assert "#1" in saved["text"] and "你的问题 #1 有了新回答" in notice["text"]


@pytest.mark.parametrize("refusal", [BLOCKED, CHAT_NOT_FOUND], ids=["blocked", "chat-not-found"])
async def test_an_asker_whose_dm_is_refused_is_told_in_the_group_once(
    tg: Harness, refusal: Any
) -> None:
    """#19: the asker started the bot, then blocked it (or deleted the chat): the notice that
    was to go privately is posted in the group instead, quoting the question and mentioning
    them, once; the refused DM is not retried."""
    await tg.say("/start", DAHUANG, chat=private_chat(DAHUANG))
    [announcement] = await tg.say("/ask 为什么 Adam 需要 bias correction？", DAHUANG)
    tg.api.refuse[DAHUANG["id"]] = refusal
    sent = await tg.say("/answer 1 前几步的一阶矩估计偏向 0", XIAOMING)
    tried = [call for call in tg.api.of("sendMessage") if call["chat_id"] == DAHUANG["id"]]
    assert len(tried) == 2 and "有了新回答" in tried[-1]["text"]  # /start's welcome, the notice
    assert all(message["chat_id"] == GROUP["id"] for message in sent)
    saved, notice = sent
    assert "已记录" in saved["text"]
    assert "你的问题 #1 有了新回答（小明 王）" in html.unescape(notice["text"])
    assert f'href="tg://user?id={DAHUANG["id"]}"' in notice["text"]  # a mention notifies them
    assert notice["reply_parameters"]["message_id"] == announcement["message_id"]
    assert await tg.adapter.flush_outbox() == 0  # nothing left to send: told once
    assert len([m for m in tg.api.sent() if "有了新回答" in m["text"]]) == 1
    with tg.app.db.session() as session:
        rows = session.execute(
            select(OutboxMessage.chat_id, OutboxMessage.state).where(
                OutboxMessage.text.contains("有了新回答")
            )
        ).all()
    assert sorted(rows) == sorted([(str(DAHUANG["id"]), "failed"), (str(GROUP["id"]), "sent")])


async def test_an_asker_who_can_be_messaged_is_not_told_in_the_group(tg: Harness) -> None:
    await tg.say("/start", DAHUANG, chat=private_chat(DAHUANG))
    await tg.say("/ask 学习率怎么选？", DAHUANG)
    sent = await tg.say("/answer 1 先用 lr finder 扫一遍", XIAOMING)
    [saved] = [m for m in sent if m["chat_id"] == GROUP["id"]]  # the group: the confirmation
    assert "已记录" in saved["text"]
    [told] = [m for m in sent if m["chat_id"] == DAHUANG["id"]]
    assert "有了新回答" in told["text"] and "reply_parameters" not in told


async def test_reply_to_an_ordinary_message_is_not_an_answer(tg: Harness) -> None:
    await tg.say("/ask 学习率怎么选？", DAHUANG)
    other = {"message_id": 99, "date": 1, "chat": GROUP, "from": DAHUANG, "text": "hi"}
    assert await tg.say("同问", XIAOMING, reply_to=other) == []
    assert tg.count(Answer) == 0


async def test_commands_addressed_to_another_bot_are_ignored(tg: Harness) -> None:
    assert await tg.say("/help@OtherBot", DAHUANG) == []
    sent = await tg.say(f"/help@{BOT['username']}", DAHUANG)
    assert len(sent) == 1 and "/checkin" in sent[0]["text"]


async def test_join_keyword_in_dm_and_in_group(tg: Harness) -> None:
    # the chat's own join text (#18: never the 公众号's 「回复自学」 sentence)
    join_text = tg.app.config.join.chat_text.replace("{group}", "ML自学者俱乐部")
    assert "回复" not in join_text
    [dm] = await tg.say("自学", DAHUANG, chat=private_chat(DAHUANG))
    assert dm["chat_id"] == DAHUANG["id"]
    assert html.unescape(dm["text"]).startswith(join_text)
    assert "reply_parameters" not in dm  # no quoting in a private chat
    # in the group members are in already (#19): one line, not the outsiders' join text
    [in_group] = await tg.say(f"@{BOT['username']} 自学", XIAOMING)
    assert in_group["chat_id"] == GROUP["id"]
    told = html.unescape(in_group["text"])
    assert told.startswith("你已经在「ML自学者俱乐部」里啦") and "私聊我发「自学」" in told
    assert join_text not in told and "\n" not in told


async def test_user_text_is_escaped_for_html(tg: Harness) -> None:
    await tg.say("/keyword add 规则 <b>别</b> 用 a<b && c>d", ADMIN)
    [sent] = await tg.say("规则", DAHUANG)
    assert sent["parse_mode"] == "HTML"
    assert sent["text"] == "&lt;b&gt;别&lt;/b&gt; 用 a&lt;b &amp;&amp; c&gt;d"


async def test_long_message_is_split_under_the_limit(tg: Harness) -> None:
    paragraphs = [f"第{i}段 <tag> & " + "学" * 190 for i in range(50)]
    text = "\n\n".join(paragraphs)
    assert len(text) > 10_000
    ids = await tg.adapter.send(Outgoing(GROUP_REF, Reply(text)))
    parts = tg.api.sent(GROUP["id"])
    assert len(parts) >= 3
    assert ids == [str(part["message_id"]) for part in parts]
    assert all(utf16_len(part["text"]) < 4096 for part in parts)
    assert all(html.unescape(part["text"]).startswith("第") for part in parts)  # paragraph cuts
    rebuilt = "\n\n".join(html.unescape(part["text"]) for part in parts)
    assert rebuilt == text


async def test_split_html_keeps_tags_balanced(tg: Harness) -> None:
    body = "\n".join(f'<a href="https://arxiv.org/abs/{i}">论文 {i}</a> 简介' for i in range(400))
    await tg.adapter.send(
        Outgoing(GROUP_REF, Reply("digest", html=f"<b>本期</b>\n<blockquote>{body}</blockquote>"))
    )
    parts = [part["text"] for part in tg.api.sent(GROUP["id"])]
    assert len(parts) >= 2
    for part in parts:
        assert part.count("<blockquote>") == part.count("</blockquote>") == 1
        assert part.count("<a ") == part.count("</a>")


async def test_flood_control_is_waited_out_and_the_reply_sent_once(tg: Harness) -> None:
    tg.api.fail("sendMessage", flood(3))
    sent = await tg.say("/help", DAHUANG, chat=private_chat(DAHUANG))
    assert len(sent) == 1
    assert tg.sleeps == [3.0]
    assert len(tg.api.of("sendMessage")) == 2  # refused once, accepted once


async def test_network_failures_go_to_the_outbox_and_are_resent_once(tg: Harness) -> None:
    tg.api.fail("sendMessage", *[BAD_GATEWAY] * 4)
    assert await tg.say("/start", DAHUANG, chat=private_chat(DAHUANG)) == []
    assert tg.sleeps == [0.5, 1.0, 2.0]
    with tg.app.db.session() as session:
        row = session.scalars(select(OutboxMessage)).one()
        assert (row.platform, row.chat_id, row.state) == ("telegram", "11", "pending")
        assert "大煌" in row.text
    assert await tg.adapter.flush_outbox() == 1
    assert await tg.adapter.flush_outbox() == 0
    [delivered] = tg.api.sent(DAHUANG["id"])
    assert "大煌" in delivered["text"]
    with tg.app.db.session() as session:
        row = session.scalars(select(OutboxMessage)).one()
        assert row.state == "sent" and row.sent_at is not None


async def test_an_announcement_resent_from_the_outbox_keeps_its_thread_and_its_answers(
    tg: Harness,
) -> None:
    tg.api.fail("sendMessage", *[BAD_GATEWAY] * 4)
    assert await tg.say("/ask 为什么要 warmup？", DAHUANG, message_id=555) == []
    assert await tg.adapter.flush_outbox() == 1
    [announcement] = tg.api.sent(GROUP["id"])
    assert announcement["reply_parameters"]["message_id"] == 555  # still a reply to the asker
    replied = bot_message(announcement, announcement["message_id"])
    sent = await tg.say("让 Adam 的二阶矩估计先稳定下来", XIAOMING, reply_to=replied)
    assert tg.count(Answer) == 1 and "#1" in sent[0]["text"]


async def test_outbox_keeps_rows_pending_while_telegram_is_down(tg: Harness) -> None:
    tg.api.fail("sendMessage", *[BAD_GATEWAY] * 8)
    await tg.say("/start", DAHUANG, chat=private_chat(DAHUANG))
    assert await tg.adapter.flush_outbox() == 0
    with tg.app.db.session() as session:
        row = session.scalars(select(OutboxMessage)).one()
        assert row.state == "pending" and row.attempts == 2
    assert await tg.adapter.flush_outbox() == 1
    assert len(tg.api.sent()) == 1


async def test_send_raises_after_retries_and_a_retry_resumes_without_duplicates(
    tg: Harness,
) -> None:
    text = "\n\n".join(f"第{i}节 " + "习" * 1000 for i in range(10))
    outgoing = Outgoing(GROUP_REF, Reply(text))
    tg.api.fail("sendMessage", *[BAD_GATEWAY] * 4, after=1)  # part 1 goes out, part 2 never
    with pytest.raises(NetworkError):
        await tg.adapter.send(outgoing)
    assert len(tg.api.sent()) == 1
    ids = await tg.adapter.send(outgoing)  # the publisher retries the delivery
    parts = tg.api.sent()
    assert len(ids) == len(parts) >= 3
    assert [str(p["message_id"]) for p in parts] == ids
    assert len({p["text"] for p in parts}) == len(parts)  # no part twice
    assert tg.count(OutboxMessage) == 0  # failures of send() are the publisher's to record


async def test_redelivered_update_is_processed_once(
    tg: Harness, tmp_path: Path, clock: FakeClock
) -> None:
    data = tg.updates.message("/checkin 看完了 3Blue1Brown 的线性代数", DAHUANG)
    await tg.feed(data)
    assert len(tg.api.of("setMessageReaction")) == 1  # acknowledged once (a reaction)
    assert await tg.feed(data) == []
    # a restarted bot (fresh adapter, same database) gets the same update again
    restarted = await make_harness(tg.app, [])
    try:
        assert await restarted.feed(data) == []
    finally:
        await restarted.adapter.stop()
    assert tg.count(CheckIn) == 1
    assert len(tg.api.of("setMessageReaction")) == 1
    chatter = tg.updates.message("你好", DAHUANG, chat=private_chat(DAHUANG))  # hint, no storage
    assert len(await tg.feed(chatter)) == 1
    assert await tg.feed(chatter) == []


async def test_chat_administrator_may_run_admin_commands(tg: Harness) -> None:
    tg.api.admins[GROUP["id"]] = [CHAT_ADMIN]
    [listing] = await tg.say("/keyword list", CHAT_ADMIN)
    assert listing["text"].startswith("关键词回复")
    await tg.say("/keyword list", CHAT_ADMIN)
    assert len(tg.api.of("getChatAdministrators")) == 1  # cached


async def test_non_admin_is_refused_and_plain_messages_do_not_ask_telegram(tg: Harness) -> None:
    tg.api.admins[GROUP["id"]] = [CHAT_ADMIN]
    await tg.say("大家好", DAHUANG)
    assert tg.api.of("getChatAdministrators") == []
    [refusal] = await tg.say("/keyword list", DAHUANG)
    expected = COMMON.get("admin_only", "zh", name="keyword")
    assert html.unescape(refusal["text"]) == expected


async def test_failed_admin_lookup_counts_as_not_admin(tg: Harness) -> None:
    tg.api.fail("getChatAdministrators", BAD_GATEWAY)
    [refusal] = await tg.say("/keyword list", CHAT_ADMIN)
    assert html.unescape(refusal["text"]) == COMMON.get("admin_only", "zh", name="keyword")


async def test_config_admin_is_admin_without_asking_telegram_chat_admins(tg: Harness) -> None:
    [listing] = await tg.say("/keyword list", ADMIN, chat=private_chat(ADMIN))
    assert listing["text"].startswith("关键词回复")


async def test_set_my_commands_registers_zh_and_en_public_and_admin_lists(tg: Harness) -> None:
    calls = tg.api.of("setMyCommands")
    public = [c for c in calls if "scope" not in c]
    admins = [c for c in calls if c.get("scope", {}).get("type") == "all_chat_administrators"]
    zh = next(c for c in public if "language_code" not in c)
    en = next(c for c in public if c.get("language_code") == "en")
    zh_names = {cmd["command"] for cmd in zh["commands"]}
    assert {"checkin", "ask", "answer", "help"} <= zh_names
    assert "keyword" not in zh_names
    assert all(cmd["command"].isascii() for cmd in zh["commands"])
    checkin_zh = next(c for c in zh["commands"] if c["command"] == "checkin")
    checkin_en = next(c for c in en["commands"] if c["command"] == "checkin")
    assert checkin_zh["description"] != checkin_en["description"]
    assert checkin_en["description"].isascii()
    assert any(cmd["command"] == "keyword" for cmd in admins[0]["commands"])
    assert {c.get("language_code") for c in admins} == {None, "en"}


async def test_image_reply_uses_send_photo_and_falls_back_to_text(tg: Harness) -> None:
    png = b"\x89PNG\r\n\x1a\nfake"
    ids = await tg.adapter.send(Outgoing(GROUP_REF, Reply("本周统计 <3", image=png)))
    [photo] = tg.api.sent(GROUP["id"], endpoint="sendPhoto")
    assert photo["caption"] == "本周统计 &lt;3" and ids == [str(photo["message_id"])]
    tg.api.fail("sendPhoto", *[BAD_GATEWAY] * 4)
    ids = await tg.adapter.send(Outgoing(GROUP_REF, Reply("本周统计 <3", image=png)))
    [text] = tg.api.sent(GROUP["id"])
    assert text["text"] == "本周统计 &lt;3" and ids == [str(text["message_id"])]


async def test_outbox_row_interrupted_mid_send_is_not_resent(tg: Harness) -> None:
    with tg.app.db.session() as session:
        session.add(OutboxMessage(platform="telegram", chat_id="11", text="半路", state="sending"))
        session.add(OutboxMessage(platform="telegram", chat_id="11", text="提醒 <打卡>"))
    tg.adapter.recover_interrupted()
    assert await tg.adapter.flush_outbox() == 1
    assert [m["text"] for m in tg.api.sent(11)] == ["提醒 &lt;打卡&gt;"]
    with tg.app.db.session() as session:
        states = dict(session.execute(select(OutboxMessage.text, OutboxMessage.state)).all())
    assert states == {"半路": "failed", "提醒 <打卡>": "sent"}


async def test_private_reply_to_someone_who_never_started_the_bot(tg: Harness) -> None:
    tg.api.fail("sendMessage", BLOCKED)
    message = Update.de_json(tg.updates.message("/me", DAHUANG), tg.adapter.application.bot).message
    assert message is not None
    incoming = await tg.adapter.to_incoming(message)
    assert incoming is not None
    tg.app.dispatcher.queue(incoming, [Reply("你的统计", private=True)])
    await tg.adapter.flush_outbox()
    [notice] = tg.api.sent(GROUP["id"])
    assert "/start" in notice["text"] and "大煌" in notice["text"]
    with tg.app.db.session() as session:  # resending cannot help: not left pending
        assert session.scalars(select(OutboxMessage.state)).all() == ["failed"]


async def test_anonymous_group_admin_posting_as_the_group_is_admin(tg: Harness) -> None:
    anonymous = {
        "id": 1087968824,
        "is_bot": True,
        "first_name": "Group",
        "username": "GroupAnonymousBot",
    }
    data = tg.updates.message("/keyword list", anonymous)
    data["message"]["sender_chat"] = GROUP
    [listing] = await tg.feed(data)
    assert listing["text"].startswith("关键词回复")
    other_bot = {"id": 777, "is_bot": True, "first_name": "Spam"}
    assert await tg.say("自学", other_bot) == []  # other bots are not served


async def test_anonymous_admin_is_not_credited_as_a_member_named_group(tg: Harness) -> None:
    anonymous = {"id": 1087968824, "is_bot": True, "first_name": "Group"}
    data = tg.updates.message("#打卡 匿名发的心得", anonymous)
    data["message"]["sender_chat"] = GROUP
    [hint] = await tg.feed(data)
    assert "匿名" in hint["text"] and "关闭匿名" in hint["text"]
    assert tg.count(CheckIn) == 0
    with tg.app.db.session() as session:
        names = session.scalars(select(Member.display_name)).all()
    assert "Group" not in names


async def test_unknown_commands_in_a_group_are_answered_only_when_addressed(tg: Harness) -> None:
    """Rose's /warn and /rules in a shared group draw no 「未知命令」 from us."""
    assert await tg.say("/warn @spammer", DAHUANG) == []
    assert await tg.say("/rules", DAHUANG) == []
    assert await tg.say("/rules@RoseBot", DAHUANG) == []
    [addressed] = await tg.say("/rules@StudyHelperBot", DAHUANG)
    assert "未知命令 /rules" in addressed["text"]
    [private] = await tg.say("/rules", DAHUANG, chat=private_chat(DAHUANG))
    assert "未知命令 /rules" in private["text"]


async def test_app_wiring_builds_the_adapter_as_a_sender(tmp_path: Path, clock: FakeClock) -> None:
    from bot.app import make_adapter

    app = build_app(telegram_config(tmp_path), clock=clock)
    try:
        adapter = make_adapter("telegram", app)
        assert isinstance(adapter, TelegramAdapter) and adapter.platform == "telegram"
        app.add_sender(adapter)
        assert app.senders["telegram"] is adapter
        with pytest.raises(ValueError, match="telegram"):
            await adapter.send(Outgoing(ChatRef("wechat", "room"), Reply("x")))
    finally:
        app.db.dispose()


async def test_reminder_to_the_configured_group_mentions_members(tg: Harness) -> None:
    await tg.say("#打卡 第一周", DAHUANG)
    tg.api.accepted.clear()
    reminder = Outgoing(GROUP_REF, Reply("本周还没打卡的同学："), mention_user_ids=("11", "99"))
    [message_id] = await tg.adapter.send(reminder)
    [sent] = tg.api.sent(GROUP["id"])
    assert str(sent["message_id"]) == message_id
    assert sent["text"] == (
        '本周还没打卡的同学：\n<a href="tg://user?id=11">大煌</a> <a href="tg://user?id=99">99</a>'
    )
