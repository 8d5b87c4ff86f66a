"""An answer given by replying to (Telegram) or quoting (WeChat) the asker's own question
message, not the bot's announcement (#19): recorded for that question; when the quote cannot
be pinned to one question, a hint how to answer, once — never silence, never a guess."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from bot.i18n import COMMON
from bot.model import Incoming, UserRef
from storage import announcements
from storage.models import Answer, Question
from tests.conftest import GROUP_CHAT


def answers(chat) -> list[tuple[int, str]]:
    with chat.app.db.session() as session:
        rows = session.execute(
            select(Question.number, Answer.text).join(Question, Question.id == Answer.question_id)
        ).all()
    return [tuple(row) for row in rows]


async def test_a_reply_to_the_askers_question_message_is_an_answer_to_it(chat):
    await chat.say("#提问 怎么选择学习率？", user="david", message_id="m1")
    await chat.say("#提问 batch size 取多大？", user="david", message_id="m2")
    reply = await chat.say("用 lr finder", user="bob", reply_to="m1")
    assert "#1" in reply
    assert answers(chat) == [(1, "用 lr finder")]


async def test_a_reply_to_an_ordinary_member_message_stays_chat(chat):
    await chat.say("#打卡 学了 PCA", user="david", message_id="m1")
    await chat.say("今天天气不错", user="david", message_id="m2")
    assert await chat.say("厉害", user="bob", reply_to="m1") == ""
    assert await chat.say("是啊", user="bob", reply_to="m2") == ""
    assert answers(chat) == []


async def test_the_wechat_quote_lookup_finds_exactly_the_askers_question(chat):
    await chat.say("#提问 怎么选择学习率？", user="david", name="大卫", message_id="m1")
    await chat.say("#提问 怎么选择优化器？", user="david", name="大卫", message_id="m2")
    await chat.say("#提问 怎么选择学习率？", user="alice", name="Alice", message_id="m3")
    with chat.app.db.session() as session:

        def find(who: str, quoted: str) -> list[str]:
            found = announcements.quoted_questions(
                session, GROUP_CHAT.platform, GROUP_CHAT.chat_id, who, quoted
            )
            return [message_id for message_id, _ in found]

        assert find("大卫", "#提问 怎么选择学习率？") == ["m1"]
        assert find("Alice", "#提问 怎么选择学习率？") == ["m3"]
        assert find("大卫", "#提问 怎么选择优…") == ["m2"]  # a quote cut short
        assert sorted(find("大卫", "#提问 怎么选择…")) == ["m1", "m2"]  # ambiguous: both
        assert find("大卫", "今天天气不错") == []


async def test_an_unpinned_quote_of_a_question_gets_a_hint_once(chat):
    await chat.say("#提问 怎么选择学习率？", user="david", message_id="m1")
    quote = Incoming(  # what the WeChat adapter hands over for such a quote
        chat=GROUP_CHAT,
        sender=UserRef(GROUP_CHAT.platform, "bob", "Bob"),
        text="用 lr finder",
        message_id="x1",
        sent_at=chat.clock(),
        quotes_a_question=True,
    )
    first = await chat.app.dispatcher.dispatch(quote)
    assert [r.text for r in first] == [COMMON.get("quote_hint", "zh")]
    assert await chat.app.dispatcher.dispatch(replace(quote, message_id="x2")) == []
    assert answers(chat) == []
