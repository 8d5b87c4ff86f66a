"""An asker hears of each new answer to their question: privately when the bot can write to
them (they wrote to it privately), else in the group, quoting the question's announcement and
mentioning them; once per answer, never for their own answer, after the answers of the moment
(issue #19)."""

from __future__ import annotations

from bot.model import ChatRef
from bot.outbox import QUIET, row_fields
from tests.conftest import GROUP_CHAT

ASKER_DM = ChatRef("console", "dm-asker", "private", "问者")


async def ask_announced(chat) -> None:
    [announcement] = await chat.send("/ask 为什么 ReLU 比 sigmoid 好？", user="asker", name="问者")
    chat.app.sent.record_sent(GROUP_CHAT, "bot-1", announcement.question_id)


async def test_an_asker_who_wrote_to_the_bot_privately_is_told_privately(chat):
    await chat.say("/start", user="asker", name="问者", chat=ASKER_DM)
    await ask_announced(chat)
    saved, notice = await chat.send("/answer 1 梯度不饱和", user="u2", name="乙")
    assert "已记录 乙 对问题 #1 的回答" in saved.text and saved.chat is None
    assert notice.chat == ASKER_DM and notice.kind == "notice"
    assert "你的问题 #1 有了新回答（乙）：梯度不饱和" in notice.text and "/q 1" in notice.text
    row = row_fields(chat.last_incoming, notice)
    assert row["chat_id"] == "dm-asker" and row["chat_kind"] == "private"
    assert row["priority"] == QUIET and row["mention_user_id"] is None

    # a reply to the announcement is an answer too: told once per answer
    replies = await chat.send("训练更快", user="u3", name="丙", reply_to="bot-1")
    assert [r.chat for r in replies] == [None, ASKER_DM] and "（丙）" in replies[1].text
    # the asker's own answer and an echo tell nobody
    assert len(await chat.send("/answer 1 我也查到了", user="asker", name="问者")) == 1
    assert len(await chat.send("同问", user="u4", reply_to="bot-1")) == 1


async def test_otherwise_the_group_is_told_quoting_the_question_and_naming_the_asker(chat):
    await ask_announced(chat)
    saved, notice = await chat.send("/answer 1 梯度不饱和", user="u2", name="乙")
    assert "已记录" in saved.text
    assert notice.chat.chat_id == GROUP_CHAT.chat_id and notice.reply_to_message_id == "bot-1"
    assert notice.to_member is not None and notice.to_member.user_id == "asker"
    row = row_fields(chat.last_incoming, notice)
    assert row["chat_id"] == GROUP_CHAT.chat_id and row["reply_to"] == "bot-1"
    assert row["mention_user_id"] == "asker" and row["priority"] == QUIET
    assert row["extra"]["name"] == "问者"


async def test_an_answer_in_a_private_chat_reaches_the_asker_in_the_group(chat):
    await ask_announced(chat)
    dm = ChatRef("console", "dm-u2", "private", "乙")
    saved, notice = await chat.send("/answer 1 私下回答", user="u2", name="乙", chat=dm)
    assert saved.chat is None  # the confirmation answers the private message
    assert notice.chat.chat_id == GROUP_CHAT.chat_id and notice.to_member.user_id == "asker"
    assert "私下回答" in notice.text
