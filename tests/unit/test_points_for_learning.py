"""Points reward learning, not volume (issue #19): one scored check-in a day, emoji-only and
near-duplicate notes refused kindly, no points for self-answers, re-shared links or echoes."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bot.app import build_app
from handlers.note_quality import is_contentless, is_echo, near_duplicate
from storage.models import Answer, CheckIn
from tests.conftest import GROUP_CHAT, Chatter


@pytest.fixture
def chat(config_factory, clock):
    """A member may post fast here: these tests are about points, not the flood limit."""
    app = build_app(
        config_factory(limits={"burst": 1000, "messages_per_minute": 1000}), clock=clock
    )
    yield Chatter(app, clock)
    app.db.dispose()


def points(rank: str, name: str) -> int:
    match = re.search(rf"{re.escape(name)} — (\d+) 分", rank)
    return int(match.group(1)) if match else 0


async def test_ten_notes_in_a_day_score_once_but_all_reach_the_digest(chat, clock):
    for i in range(10):
        reply = await chat.say(
            f"#打卡 第{i}节课：学了卷积的第 {i} 种变体和它的动机", user="u1", name="刷分"
        )
        assert "第 " in reply
        if i:
            assert "不再加分" in reply
        clock.advance(minutes=10)
    rank = await chat.say("/rank", user="u1", name="刷分")
    assert points(rank, "刷分") == 3
    with chat.app.db.session() as session:
        assert len(session.scalars(select(CheckIn)).all()) == 10
    clock.advance(days=1)
    assert "不再加分" not in await chat.say(
        "#打卡 新的一天：复习了 batch norm", user="u1", name="刷分"
    )
    assert points(await chat.say("/rank", user="u1", name="刷分"), "刷分") == 6
    me = await chat.say("/me", user="u1", name="刷分")
    assert "11" in me  # every note still counts as done


@pytest.mark.parametrize("note", ["🎉🎉🔥💪", "👍", "💯!!!", "？？", "🎉 ~ 🎉", "👍👍👍 ！"])
async def test_emoji_only_notes_are_refused_kindly(chat, note):
    reply = await chat.say(f"#打卡 {note}", user="u1")
    assert "还没写学了什么" in reply
    with chat.app.db.session() as session:
        assert session.scalars(select(CheckIn)).all() == []


async def test_near_duplicate_notes_are_refused(chat, clock):
    await chat.say("#打卡 看完 CS231n 第三讲，理解了反向传播", user="u1")
    clock.advance(days=1)
    for again in (
        "#打卡 看完CS231n第三讲，理解了反向传播！",
        "#打卡 看完 CS231n 第三讲 理解了反向传播 🎉",
    ):
        assert "几乎一样" in await chat.say(again, user="u1"), again
    assert "第 2 条" in await chat.say("#打卡 看完 CS231n 第四讲，学了神经网络训练技巧", user="u1")
    assert "第 1 条" in await chat.say("#打卡 看完 CS231n 第三讲，理解了反向传播", user="u2")


def test_note_quality_rules():
    assert is_contentless("🎉🎉🔥💪") and not is_contentless("学习")
    assert near_duplicate("读了 BERT 论文", ["读了BERT论文。"]) == "读了BERT论文。"
    assert near_duplicate("读了 BERT 论文", ["读了 GPT-2 论文的训练部分"]) is None
    for echo in ("同问", "同问+1", "+1", "＋1", "顶", "同问 🙋", "同问！", "me too"):
        assert is_echo(echo), echo
    assert not is_echo("同问，我觉得是梯度消失导致的")


async def test_echoes_are_not_answers_and_self_answers_score_nothing(chat):
    [announcement] = await chat.send("/ask 为什么 ReLU 比 sigmoid 好？", user="asker", name="问者")
    chat.app.sent.record_sent(GROUP_CHAT, "bot-1", announcement.question_id)
    for echo in ("同问", "+1", "同问+1 🙋"):
        reply = await chat.say(echo, user="u2", reply_to="bot-1")
        assert "不算回答" in reply and "/q 1" in reply
    own = await chat.say("/answer 1 我自己查到了：梯度不饱和", user="asker", name="问者")
    assert "不计分" in own and "仍等待大家解答" in own
    assert "待解答" in await chat.say("/q 1", user="u2")  # as the reply said: still open
    answered = await chat.say("/answer 1 ReLU 在正区间梯度为 1，不会饱和", user="u3", name="热心")
    assert "问题 #1 有了新回答" in answered
    notice = chat.last_replies[-1]
    assert notice.to_member is not None and notice.to_member.display_name == "问者"
    with chat.app.db.session() as session:
        assert len(session.scalars(select(Answer)).all()) == 2
    rank = await chat.say("/rank", user="u3", name="热心")
    assert points(rank, "问者") == 0 and points(rank, "热心") == 2


async def test_q_shows_a_question_with_its_answers(chat):
    await chat.say("/ask 什么是 dropout？", user="asker", name="问者")
    assert "还没有回答" in await chat.say("/q 1", user="u2")
    await chat.say("/answer 1 训练时随机丢弃神经元", user="u2", name="乙")
    await chat.say("/answer #1 测试时不丢弃，按比例缩放", user="u3", name="丙")
    await chat.say("/best 1 2", user="admin")
    shown = await chat.say("/q 1", user="u4")
    assert "问题 #1" in shown and "什么是 dropout" in shown and "回答（2 个）" in shown
    assert "1. 乙：训练时随机丢弃神经元" in shown and "2. 🏅 丙：测试时不丢弃" in shown
    assert "没有编号为 #9" in await chat.say("/q 9", user="u4")
    assert "用法" in await chat.say("/q abc", user="u4")


async def test_a_reshared_link_is_kept_without_points(chat):
    await chat.say("/share https://zhuanlan.zhihu.com/p/123 #NLP BERT 讲解", user="u1", name="甲")
    again = await chat.say(
        "/share https://zhuanlan.zhihu.com/p/123/?utm_source=wx #NLP 好文", user="u2", name="乙"
    )
    assert "之前分享过 #1" in again and "不再加分" in again
    await chat.say("/paper https://arxiv.org/abs/1706.03762 Attention", user="u3", name="丙")
    paper_again = await chat.say(
        "/share https://arxiv.org/abs/1706.03762 #NLP 经典", user="u4", name="丁"
    )
    assert "之前分享过" in paper_again
    rank = await chat.say("/rank", user="u1", name="甲")
    assert points(rank, "甲") == 1 and points(rank, "乙") == 0 and points(rank, "丁") == 0


async def test_answers_score_once_per_member_and_question(chat):
    """Answering one question three times stores all three, scores once (issue #19 item 14)."""
    await chat.say("/ask 学习率怎么选？", user="asker", name="问者")
    await chat.say("/ask batch size 怎么选？", user="asker", name="问者")
    first = await chat.say("/answer 1 用 lr finder", user="u3", name="热心")
    assert "只计一次分" not in first
    for text in ("/answer 1 再补充：从 1e-3 开始", "/answer 1 还有 warmup"):
        again = await chat.say(text, user="u3", name="热心")
        assert "已保存" in again and "只计一次分" in again
    await chat.say("/answer 2 看显存", user="u3", name="热心")  # another question scores
    with chat.app.db.session() as session:
        assert len(session.scalars(select(Answer)).all()) == 4
    rank = await chat.say("/rank", user="u3", name="热心")
    assert points(rank, "热心") == 4
    shown = await chat.say("/q 1", user="u2")
    assert "回答（3 个）" in shown
