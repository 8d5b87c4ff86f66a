"""/ask, /answer (also by replying to the bot's question message), /best and /questions."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from bot.app import build_app
from bot.model import utcnow
from storage import identity
from storage.db import Database
from storage.models import Answer, Question
from storage.questions import add_question
from tests.conftest import GROUP_CHAT, Chatter, require_or_skip
from tests.support.databases import pg_available, temporary_database


def questions(chat):
    with chat.app.db.session() as session:
        return [
            (q.id, q.number, q.text, q.status, q.best_answer_id)
            for q in session.scalars(select(Question).order_by(Question.number))
        ]


def answers(chat):
    with chat.app.db.session() as session:
        return [
            (a.id, a.question_id, a.text, a.member.platform_user_id)
            for a in session.scalars(select(Answer).order_by(Answer.id))
        ]


async def test_questions_are_numbered_per_group_and_announced(chat):
    [reply] = await chat.send("/ask LSTM 的激活函数为什么 sigmoid 和 tanh 同时存在？", user="u1")
    assert "#1" in reply.text and "/answer 1" in reply.text and "回复" in reply.text
    [(question_id, number, text, status, best)] = questions(chat)
    assert reply.question_id == question_id
    assert (number, text, status, best) == (
        1,
        "LSTM 的激活函数为什么 sigmoid 和 tanh 同时存在？",
        "open",
        None,
    )
    second = await chat.say("#提问 什么是 batch normalization", user="u2")
    third = await chat.say("/提问 Adam 和 SGD 怎么选", user="u3")
    assert "#2" in second and "#3" in third
    assert [n for _, n, *_ in questions(chat)] == [1, 2, 3]


async def test_ask_suggests_similar_earlier_questions(chat):
    await chat.say("/ask transformer 的位置编码怎么理解", user="u1")
    await chat.say("/ask 卷积的感受野怎么计算", user="u2")
    reply = await chat.say("/ask 怎么理解 transformer 的位置编码？", user="u3")
    assert "相似" in reply and "#1" in reply
    assert "感受野" not in reply


async def test_answer_by_number_marks_the_question_answered(chat):
    await chat.say("/ask 什么是梯度消失", user="u1")
    reply = await chat.say("/answer 1 反向传播时梯度连乘趋于 0", user="u2", name="奔腾")
    assert "奔腾" in reply and "#1" in reply and "第 1 个" in reply
    second = await chat.say("/回答 #1 可以用残差连接缓解", user="u3")
    assert "第 2 个" in second
    [(question_id, _, _, status, _)] = questions(chat)
    assert status == "answered"
    assert [(q, t, u) for _, q, t, u in answers(chat)] == [
        (question_id, "反向传播时梯度连乘趋于 0", "u2"),
        (question_id, "可以用残差连接缓解", "u3"),
    ]


async def test_replying_to_the_question_message_is_an_answer(chat):
    [announcement] = await chat.send("/ask 学习率怎么调", user="u1")
    chat.app.sent.record_sent(GROUP_CHAT, "bot-msg-1", announcement.question_id)
    reply = await chat.say("先用 LR finder 找个范围", user="u2", reply_to="bot-msg-1")
    assert "#1" in reply and "第 1 个" in reply
    assert [(q, t) for _, q, t, _ in answers(chat)] == [
        (announcement.question_id, "先用 LR finder 找个范围")
    ]
    assert questions(chat)[0][3] == "answered"
    # a reply to some other message is just chat, not an answer
    assert await chat.say("哈哈", user="u3", reply_to="not-a-question") == ""
    assert len(answers(chat)) == 1


async def test_empty_reply_to_question_message_is_refused(chat):
    [announcement] = await chat.send("/ask 问题", user="u1")
    chat.app.sent.record_sent(GROUP_CHAT, "bot-msg-9", announcement.question_id)
    reply = await chat.say("  \x00 ", user="u2", reply_to="bot-msg-9")
    assert "空" in reply
    assert answers(chat) == [] and questions(chat)[0][3] == "open"


async def test_answer_bad_input(chat):
    assert "用法" in await chat.say("/ask", user="u1")
    assert "用法" in await chat.say("/answer", user="u1")
    assert "用法" in await chat.say("/answer 这不是编号", user="u1")
    assert "没有编号为 #7" in await chat.say("/answer 7 回答", user="u1")
    await chat.say("/ask 真的问题", user="u1")
    assert "空" in await chat.say("/answer 1", user="u2")
    assert "太长" in await chat.say("/answer 1 " + "长" * 3500, user="u2")
    assert "太长" in await chat.say("/ask " + "问" * 10_000, user="u2")
    assert answers(chat) == [] and len(questions(chat)) == 1


async def test_best_answer_is_admin_only(chat):
    await chat.say("/ask 过拟合怎么办", user="u1")
    await chat.say("/answer 1 加正则", user="u2", name="奔腾")
    await chat.say("/answer 1 加数据", user="u3", name="大灵")
    refused = await chat.say("/best 1 2", user="u1")
    assert "管理员" in refused
    assert questions(chat)[0][4] is None
    reply = await chat.say("/best 1 2", user="admin")
    assert "🏅" in reply and "大灵" in reply and "加数据" in reply
    second_answer_id = answers(chat)[1][0]
    assert questions(chat)[0][4] == second_answer_id


async def test_best_bad_input(chat):
    await chat.say("/ask 问题", user="u1")
    await chat.say("/answer 1 回答", user="u2")
    assert "用法" in await chat.say("/best", user="admin")
    assert "用法" in await chat.say("/best 1", user="admin")
    assert "没有编号为 #5" in await chat.say("/best 5 1", user="admin")
    assert "没有第 3 个回答" in await chat.say("/best 1 3", user="admin")
    assert questions(chat)[0][4] is None


async def test_open_questions_list_and_carry_over(chat, clock):
    assert "没有待解答" in await chat.say("/questions", user="u1")
    await chat.say("/ask 第一个问题", user="u1")
    await chat.say("/ask 第二个问题", user="u2")
    await chat.say("/answer 1 已答", user="u3")
    clock.advance(days=14)  # open questions carry over from earlier weeks
    listing = await chat.say("/问题", user="u4")
    assert "#2 第二个问题" in listing and "第一个问题" not in listing


async def test_metacharacters_in_questions_and_answers_are_kept_verbatim(chat):
    text = "<script>alert(1)</script> *bold* _x_ [a](b) `c` &amp;"
    [reply] = await chat.send(f"/ask {text}", user="u1")
    assert text in reply.text and reply.html is None
    await chat.say(f"/answer 1 {text}", user="u2")
    assert questions(chat)[0][2] == text and answers(chat)[0][2] == text


@pytest.fixture(params=["sqlite", "postgres"])
def database(request, tmp_path):
    if request.param == "postgres":
        require_or_skip(pg_available(), "PostgreSQL (STUDYBOT_TEST_PG_URL) not reachable")
    with temporary_database(request.param, tmp_path, migrated=True) as url:
        db = Database(url)
        yield db
        db.dispose()


def test_concurrent_questions_get_distinct_numbers(database):
    """Workers that all read the same max(number) still end up with 1..N (constraint + retry)."""
    workers = 8
    with database.session() as session:
        group = identity.ensure_group(session, "ml-club", "ML自学者俱乐部", "Asia/Shanghai")
        members = [identity.ensure_member(session, "console", f"u{i}") for i in range(workers)]
        group_id, member_ids = group.id, [m.id for m in members]
    barrier = threading.Barrier(workers)

    def ask(i: int) -> int:
        with database.session() as session:
            session.scalar(select(func.count(Question.id)))  # open the transaction first
            barrier.wait(timeout=30)
            return add_question(session, group_id, member_ids[i], f"问题 {i}", utcnow()).number

    with ThreadPoolExecutor(workers) as pool:
        numbers = sorted(pool.map(ask, range(workers)))
    assert numbers == list(range(1, workers + 1))
    with database.session() as session:
        stored = sorted(session.scalars(select(Question.number)))
    assert stored == numbers


async def test_english_replies(config_factory, clock):
    app = build_app(config_factory(language="en"), clock=clock)
    try:
        chat = Chatter(app, clock)
        asked = await chat.say("/ask How do I pick a learning rate?", user="u1")
        assert "Question #1" in asked and "/answer 1" in asked
        assert "Usage: /answer <number> <answer>" in await chat.say("/answer", user="u2")
        assert "no question #4" in await chat.say("/answer 4 hi", user="u2")
        assert "answer 1" in await chat.say("/answer 1 Use an LR finder", user="u2", name="Bo")
        assert "for admins only" in await chat.say("/best 1 1", user="u2")
        assert "best answer" in await chat.say("/best 1 1", user="admin")
        assert "No open questions" in await chat.say("/questions", user="u3")
    finally:
        app.db.dispose()


async def test_a_number_written_onto_the_command_still_works(chat):
    """Trial week: members typed /q1 and /answer1 … (silence in a group, as for another bot's
    command); a number glued to one of our commands is its first argument."""
    await chat.say("/ask 什么是 dropout？", user="u1")
    assert "什么是 dropout" in await chat.say("/q1", user="u2")
    assert "第 1 个回答" in await chat.say("/answer1 随机丢弃神经元", user="u2")
    assert await chat.say("/warn2", user="u2") == ""  # still not ours: no reply in the group


async def test_answers_written_with_chinese_punctuation_after_the_number(chat):
    """Trial week: 「/answer 1：…」 and 「/回答 2，…」 got the usage reply."""
    await chat.say("/ask 什么是 dropout？", user="u1")
    await chat.say("/ask 什么是 BN？", user="u1")
    assert "第 1 个回答" in await chat.say("/answer 1：随机失活", user="u2")
    assert "第 1 个回答" in await chat.say("/回答 2，批归一化", user="u2")
    assert "第 2 个回答" in await chat.say("/answer #2, 还能加速训练", user="u3")
    assert "1. u2：随机失活" in await chat.say("/q 1", user="u4")
    assert "回答内容是空的" in await chat.say("/answer 1：", user="u2")
