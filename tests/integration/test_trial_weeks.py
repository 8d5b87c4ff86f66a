"""Issue #19's two trial weeks, replayed in one club whose chats are a Telegram group, a WeChat
room and the console: every text-level miss the issue lists, on each platform, through the
dispatcher (edits, recalls, joins, friend requests, sender_chat, room admins and the send
paths are the adapters' tests: tests/adapters/test_edits_and_recalls.py,
test_joins_and_friends.py, test_telegram_offline.py, test_wechat_mapping.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app import build_app
from bot.model import ChatRef
from storage.models import Answer, CheckIn, Question, Resource
from tests.conftest import Chatter, make_config

GROUPS = {
    "telegram": ChatRef("telegram", "-1001234", "group", "ML自学者俱乐部"),
    "wechat": ChatRef("wechat", "study@chatroom", "group", "ML自学者俱乐部"),
    "console": ChatRef("console", "console-group", "group", "ML自学者俱乐部"),
}
FOREIGN = {
    "telegram": ChatRef("telegram", "-1009999", "group", "别人的群"),
    "wechat": ChatRef("wechat", "other@chatroom", "group", "别人的群"),
    "console": ChatRef("console", "other-room", "group", "别人的群"),
}


@pytest.fixture(params=list(GROUPS))
def club(request, tmp_path, clock):
    platform = request.param
    config = make_config(
        tmp_path,
        admins=[f"{platform}:admin"],
        groups=[
            {
                "slug": "ml-club",
                "chats": [{"platform": p, "chat_id": c.chat_id} for p, c in GROUPS.items()],
            }
        ],
    )
    app = build_app(config, clock=clock)
    yield platform, Chatter(app, clock)
    app.db.dispose()


def count(chat: Chatter, model) -> int:
    with chat.app.db.session() as session:
        return len(session.scalars(select(model)).all())


async def test_trial_week(club, clock):
    platform, chat = club
    group = GROUPS[platform]
    dm = ChatRef(platform, "u-dm", "private", "私聊")

    def say(text, **kw):
        kw.setdefault("chat", group)
        return chat.say(text, **kw)

    # -- check-ins: the commonest forms store a note and say so
    forms = [
        "#打卡：看完第一讲",
        "#打卡，看完第二讲",
        "#打卡。复习了 SVM",
        "#打卡学习了反向传播",
        "＃打卡 全角井号",
        "【打卡】读了 ResNet",
        "打卡 day3 推导了 EM 算法",
    ]
    for i, form in enumerate(forms):
        assert "已记录" in await say(form, user=f"c{i}", name=f"成员{i}"), (platform, form)
    assert count(chat, CheckIn) == len(forms)
    # /checkin edit with a bad number is a usage reply, not a new note; numbers are the member's
    assert "用法" in await say("/checkin edit abc xx", user="c0")
    assert count(chat, CheckIn) == len(forms)
    await say("#打卡 第二条：读了 BERT", user="c0")
    listing = await say("/checkin", user="c0")
    assert "\n1. 看完第一讲\n2. 第二条：读了 BERT\n" in listing  # the member's numbers, no ids
    assert "没有第 2 条" in await say("/checkin del 2", user="c1")  # c1 has one note
    assert "已删除" in await say("/checkin del 2", user="c0")
    # emoji-only refused; the tenth note of a day scores nothing
    assert "已记录" not in await say("#打卡 🎉🎉🔥💪", user="c2")
    for i in range(3):
        reply = await say(f"#打卡 第{i}节：卷积的第 {i} 种变体与动机", user="c9")
        assert ("不再加分" in reply) == (i > 0)
        clock.advance(minutes=10)

    # -- questions and answers
    assert "#1" in await say("/ask 为什么要做 batch norm？", user="asker", name="问者")
    assert "#2" in await say("提问 学习率怎么选？", user="asker2", name="问者二")
    assert "#3" in await say("问题：dropout 在推理时怎么办？", user="asker3")
    assert await say("提问的人好多", user="c4") == ""
    for echo in ("同问", "+1"):
        assert "不算回答" in await say(f"/answer 1 {echo}", user="c5")
    assert count(chat, Answer) == 0
    answered = await chat.send("/answer 1 稳定每层输入的分布", user="c5", name="热心", chat=group)
    assert len(answered) == 2 and "有了新回答" in answered[1].text  # the asker is told
    assert answered[1].to_member is not None and answered[1].to_member.user_id == "asker"
    assert "稳定每层输入的分布" in await say("/q 1", user="c6")
    assert count(chat, Question) == 3

    # -- 「自学」: one line in the club's own chat, the join text in a DM
    here = await say("自学", user="c6")
    assert "你已经在" in here and "\n" not in here and "欢迎加入" not in here
    assert "欢迎加入" in await chat.say("自学", user="newbie", chat=dm)

    # -- etiquette: other bots' commands ignored in the group, named in a DM
    assert await say("/warn @spammer", user="c6") == ""
    assert await say("/rules", user="c6") == ""
    assert "warn" in await chat.say("/warn", user="newbie", chat=dm)
    # an unconfigured chat: one notice, nothing stored
    before = count(chat, CheckIn)
    assert await chat.say("/rank", user="m", chat=FOREIGN[platform]) != ""
    assert await chat.say("#打卡 存进别人的俱乐部？", user="m", chat=FOREIGN[platform]) == ""
    assert count(chat, CheckIn) == before

    # -- bad input gets a clear reply and stores nothing
    assert "U+0007" in await say("#打卡 响铃\x07字符", user="c7")
    assert "U+202E" in await say("#打卡 \u202e反转", user="c7")
    assert count(chat, CheckIn) == before
    assert "「@」" in await say("/share https://evil.com@good.com 好文", user="c7")
    assert count(chat, Resource) == 0
