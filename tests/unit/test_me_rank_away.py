"""/me, /rank and /away through the dispatcher, with the clock moved across weeks."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.app import build_app
from tests.conftest import Chatter

STREAK = re.compile(r"连续打卡 (\d+) 周（最长 (\d+) 周）")
HISTORY = re.compile(r"最近 8 周：(\S+)")


def streak_of(text: str) -> tuple[int, int]:
    match = STREAK.search(text)
    assert match, text
    return int(match.group(1)), int(match.group(2))


def history_of(text: str) -> str:
    match = HISTORY.search(text)
    assert match, text
    return match.group(1)


async def test_me_counts_streak_and_history_over_weeks(chat, clock):
    for _ in range(3):
        assert "✅" in await chat.say("/checkin 学了 word2vec", user="u1", name="大煌")
        clock.advance(days=7)
    await chat.say("/ask 什么是正则化？", user="u1", name="大煌")
    text = await chat.say("/me", user="u1", name="大煌")
    assert "大煌" in text and "打卡 3 次" in text and "提问 1" in text
    assert streak_of(text) == (3, 3)
    assert history_of(text).endswith("✅✅✅⏳")
    assert "本周还没打卡" in text

    clock.advance(days=7)  # a whole week without a check-in breaks the streak
    text = await chat.say("/我的", user="u1")
    assert streak_of(text) == (0, 3)
    assert history_of(text).endswith("✅✅✅❌⏳")


async def test_me_for_a_newcomer(chat):
    text = await chat.say("/me", user="new", name="新人")
    assert "打卡 0 次" in text and streak_of(text) == (0, 0)
    assert history_of(text) == "➖" * 7 + "⏳"


async def test_away_keeps_the_streak(chat, clock):
    for _ in range(2):
        await chat.say("/checkin 第一周", user="u1")
        clock.advance(days=7)
    assert "14 天" in await chat.say("/away 2w", user="u1")
    clock.advance(days=14)
    await chat.say("/checkin 回来了", user="u1")
    text = await chat.say("/me", user="u1")
    assert streak_of(text) == (3, 3)
    assert "🏖🏖✅" in history_of(text)


async def test_without_away_the_same_gap_breaks_the_streak(chat, clock):
    for _ in range(2):
        await chat.say("/checkin 第一周", user="u1")
        clock.advance(days=7)
    clock.advance(days=14)
    await chat.say("/checkin 回来了", user="u1")
    assert streak_of(await chat.say("/me", user="u1")) == (1, 2)


async def test_away_status_and_off(chat, clock):
    assert "不会中断" in await chat.say("/请假 10天", user="u1")
    assert "请假中" in await chat.say("/me", user="u1")
    assert "正在请假" in await chat.say("/away", user="u1")
    assert "欢迎回来" in await chat.say("/away off", user="u1")
    assert "没有请假" in await chat.say("/away off", user="u1")
    assert "请假中" not in await chat.say("/me", user="u1")


@pytest.mark.parametrize(
    ("arg", "days"), [("3d", 3), ("2w", 14), ("1m", 30), ("10天", 10), ("2周", 14), ("1个月", 30)]
)
async def test_away_durations(chat, arg, days):
    assert f"（{days} 天）" in await chat.say(f"/away {arg}", user="u1")


@pytest.mark.parametrize(
    ("arg", "expected"),
    [
        ("13w", "最长 12 周"),
        ("100d", "最长 12 周"),
        ("0d", "至少 1 天"),
        ("soon", "用法"),
        ("<b>2w</b>", "用法"),
        ("99999999999w", "用法"),
        ("", "用法"),
    ],
)
async def test_away_bad_input_is_refused_and_stores_nothing(chat, arg, expected):
    assert expected in await chat.say(f"/away {arg}", user="u1")
    assert "请假中" not in await chat.say("/me", user="u1")


async def test_rank_week_and_all_time(chat, clock):
    await chat.say("/checkin 上周", user="old", name="老王")
    clock.advance(days=1)  # one scored check-in a day (#19)
    await chat.say("/checkin 上周又一条", user="old", name="老王")
    clock.advance(days=6)
    await chat.say("/checkin 本周", user="u1", name="大煌")
    await chat.say("/share https://example.com/nlp #nlp 好资料", user="u2", name="小明")

    week = await chat.say("/rank", user="u2", name="小明")
    assert week.index("大煌") < week.index("小明") and "老王" not in week
    assert "1. 大煌 — 3 分" in week and "2. 小明 — 1 分" in week
    assert "你：第 2 名，1 分" in week

    total = await chat.say("/排行 all", user="u1", name="大煌")
    assert "1. 老王 — 6 分" in total and "2. 大煌 — 3 分" in total
    assert "你：第 2 名" in total


async def test_rank_shows_own_position_outside_top_ten(chat, clock):
    for i in range(11):
        await chat.say("/checkin 打卡", user=f"m{i}", name=f"成员{i}")
    clock.advance(days=1)  # one scored check-in a day (#19)
    for i in range(11):
        await chat.say("/checkin 再打卡", user=f"m{i}", name=f"成员{i}")
    await chat.say("/checkin 一次", user="late", name="迟到")
    text = await chat.say("/rank", user="late")
    lines = text.splitlines()
    assert sum(1 for line in lines if "— 6 分" in line) == 10
    assert "迟到" not in "".join(lines[:11])
    assert "你：第 12 名，3 分" in text


async def test_rank_empty_and_bad_argument(chat):
    assert "还没有人" in await chat.say("/rank", user="u1")
    assert "还没有积分" not in await chat.say("/rank", user="u1")
    assert "用法" in await chat.say("/rank yesterday", user="u1")


async def test_rank_caller_without_points(chat):
    await chat.say("/checkin 打卡", user="u1", name="大煌")
    assert "你还没有积分" in await chat.say("/rank", user="lurker")


async def test_streak_boundary_is_the_digest_deadline_in_a_dst_zone(config_factory, clock):
    """Sunday 19:30 and 20:30 Berlin time, the day clocks go forward: two club weeks (the
    digest period, Sunday 20:00 -> Sunday 20:00; issue #22, was Monday 00:00)."""
    groups = [
        {
            "slug": "berlin",
            "name": "Berlin club",
            "timezone": "Europe/Berlin",
            "chats": [{"platform": "console", "chat_id": "console-group"}],
        }
    ]
    app = build_app(config_factory(groups=groups), clock=clock)
    try:
        berlin = ZoneInfo("Europe/Berlin")
        chat = Chatter(app, clock)
        clock.set(datetime(2026, 3, 29, 19, 30, tzinfo=berlin).astimezone(UTC))
        await chat.say("/checkin 截止前", user="u1")
        clock.advance(hours=1)
        assert clock.now.astimezone(berlin).strftime("%a %H:%M") == "Sun 20:30"
        await chat.say("/checkin 截止后", user="u1")
        assert streak_of(await chat.say("/me", user="u1")) == (2, 2)
        clock.advance(days=6, hours=23)  # Sunday 20:30 -> next Sunday 19:30: the same week
        await chat.say("/checkin 同一周", user="u1")
        text = await chat.say("/me", user="u1")
        assert streak_of(text) == (2, 2) and history_of(text).endswith("✅✅")
    finally:
        app.db.dispose()
