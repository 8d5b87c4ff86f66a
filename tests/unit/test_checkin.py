"""/checkin (打卡, #打卡, #心得): weekly learning notes, listing, editing, deleting, week bounds."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.app import build_app
from bot.batching import dispatch_many
from bot.model import Incoming, UserRef
from storage import identity
from storage.db import Database
from storage.models import CheckIn, Member
from tests.conftest import GROUP_CHAT, Chatter

SHANGHAI = ZoneInfo("Asia/Shanghai")


def rows(chat, **where):
    with chat.app.db.session() as session:
        stmt = select(CheckIn).order_by(CheckIn.id)
        if "user" in where:
            stmt = stmt.join(Member).where(Member.platform_user_id == where["user"])
        return [(c.id, c.text, c.created_at, c.edited_at) for c in session.scalars(stmt)]


async def test_checkin_is_stored_and_counted_per_member_and_week(chat):
    first = await chat.say("/checkin 看完 CS231n 第三讲，理解了反向传播", user="u1", name="大煌")
    assert "✅" in first and "大煌" in first and "第 1 条" in first
    second = await chat.say("#打卡 复习了 SVM 的对偶问题", user="u1", name="大煌")
    assert "第 2 条" in second and "周报" in second
    other = await chat.say("#心得 读了 BERT 论文", user="u2", name="奔腾")
    assert "奔腾" in other and "第 1 条" in other
    alias = await chat.say("/打卡 第三条", user="u1", name="大煌")
    assert "第 3 条" in alias
    texts = [text for _, text, _, _ in rows(chat, user="u1")]
    assert texts == ["看完 CS231n 第三讲，理解了反向传播", "复习了 SVM 的对偶问题", "第三条"]
    assert [t for _, t, _, _ in rows(chat, user="u2")] == ["读了 BERT 论文"]


async def test_checkin_time_comes_from_the_clock(chat, clock):
    await chat.say("/checkin 学习", user="u1")
    [(_, _, created_at, _)] = rows(chat)
    assert created_at == clock.now


async def test_the_week_is_the_digest_period_and_the_reply_names_issue_and_deadline(chat, clock):
    """A note at the deadline - 1 s goes into the closing issue, at + 1 s into the next one;
    each reply says which issue and when it closes (issue #22: was Monday 00:00 weeks)."""
    # Wednesday 2026-11-18: the group's first issue is the period ending Sunday 11-22 20:00
    clock.set(datetime(2026, 11, 18, 12, 0, tzinfo=SHANGHAI))
    first = await chat.say("/checkin 周三的心得", user="u1")
    assert "本周第 1 条" in first and "将收录进第 1 期周报（11月22日 20:00 截止）" in first
    clock.set(datetime(2026, 11, 22, 19, 59, 59, tzinfo=SHANGHAI))
    before = await chat.say("/checkin 截止前一秒", user="u1")
    assert "本周第 2 条" in before and "第 1 期周报（11月22日 20:00 截止）" in before
    assert "连续打卡 1 周" in await chat.say("/me", user="u1")
    clock.set(datetime(2026, 11, 22, 20, 0, 1, tzinfo=SHANGHAI))
    after = await chat.say("/checkin 截止后一秒", user="u1")
    assert "本周第 1 条" in after and "第 2 期周报（11月29日 20:00 截止）" in after
    # the streak counts the two notes in two weeks
    assert "连续打卡 2 周" in await chat.say("/me", user="u1")
    # Monday 00:10 is the same club week as Sunday 20:00:01
    clock.set(datetime(2026, 11, 23, 0, 10, tzinfo=SHANGHAI))
    assert "本周第 2 条" in await chat.say("/checkin 周一凌晨", user="u1")
    listing = await chat.say("/checkin", user="u1")
    assert "截止后一秒" in listing and "周一凌晨" in listing and "截止前一秒" not in listing


async def test_reply_in_english_names_the_issue_and_deadline(config_factory, clock):
    app = build_app(config_factory(language="en"), clock=clock)
    try:
        chat = Chatter(app, clock)
        clock.set(datetime(2026, 11, 18, 12, 0, tzinfo=SHANGHAI))
        reply = await chat.say("/checkin notes", user="u1")
        assert "goes into digest issue 1 (closes Nov 22, 20:00)" in reply
    finally:
        app.db.dispose()


async def test_empty_checkin_lists_this_weeks_entries_with_numbers(chat, clock):
    assert "还没有" in await chat.say("/checkin", user="u1")
    await chat.say("/checkin 第一条心得", user="u1")
    await chat.say("/checkin 第二条心得", user="u1")
    await chat.say("/checkin 别人的心得", user="u2")
    listing = await chat.say("/checkin", user="u1")
    assert "1. 第一条心得" in listing and "2. 第二条心得" in listing  # list numbers, not DB ids
    ids = [checkin_id for checkin_id, *_ in rows(chat, user="u1")]
    assert all(f"[{checkin_id}]" not in listing for checkin_id in ids)
    assert "第一条心得" in listing and "第二条心得" in listing and "别人的心得" not in listing
    assert "edit" in listing and "del" in listing
    assert "#打卡" in await chat.say("#打卡", user="u3")  # bare hashtag: hint how to check in
    clock.advance(days=7)
    assert "还没有" in await chat.say("/checkin", user="u1")


async def test_edit_and_delete_own_entry_by_list_number(chat, clock):
    await chat.say("/checkin 别人的", user="u2")  # takes the lower database id
    await chat.say("/checkin 第一条", user="u1")
    await chat.say("/checkin 原来的内容", user="u1")
    clock.advance(hours=1)
    reply = await chat.say("/checkin edit 2 修改后的内容", user="u1")
    assert "已修改" in reply and "第 2 条" in reply
    [first, second] = rows(chat, user="u1")
    assert first[1] == "第一条" and second[1] == "修改后的内容"
    assert second[3] == clock.now and second[2] < second[3]
    assert "已删除" in await chat.say("/checkin del #1", user="u1")
    assert [t for _, t, _, _ in rows(chat, user="u1")] == ["修改后的内容"]
    assert "已删除" in await chat.say("/checkin 删除 1", user="u1")
    assert rows(chat, user="u1") == []
    assert [t for _, t, _, _ in rows(chat, user="u2")] == ["别人的"]


async def test_numbers_are_the_members_own_so_nobody_touches_anothers_note(chat):
    """Issue #19: ``del 2`` took the database id and hit someone else's note."""
    await chat.say("/checkin 我的心得", user="u1")
    [(checkin_id, *_)] = rows(chat)
    assert "没有第 1 条" in await chat.say("/checkin edit 1 篡改", user="u2")
    assert "没有第" in await chat.say(f"/checkin del {checkin_id}", user="u2")
    assert "没有第" in await chat.say(f"/checkin del {checkin_id}", user="admin")
    assert [t for _, t, _, _ in rows(chat)] == ["我的心得"]
    # issue #16: the reply cannot tell "someone else's" from "nobody's" (no id probing)
    taken = await chat.say(f"/checkin edit {checkin_id} 篡改", user="u2")
    free = await chat.say(f"/checkin edit {checkin_id + 500} 篡改", user="u2")
    assert taken.replace(str(checkin_id), "N") == free.replace(str(checkin_id + 500), "N")


async def test_edit_and_delete_bad_input(chat):
    await chat.say("/checkin 内容", user="u1")
    assert "没有第 99 条" in await chat.say("/checkin del 99", user="u1")
    assert "没有第 99 条" in await chat.say("/checkin edit 99 新内容", user="u1")
    assert "没有第 0 条" in await chat.say("/checkin del 0", user="u1")
    for bad in (
        "/checkin edit 1",
        "/checkin edit",
        "/checkin edit abc xx",
        "/checkin edit 一 新内容",
    ):
        assert "用法" in await chat.say(bad, user="u1"), bad
    for bad in ("/checkin del", "/checkin del abc", "/checkin del 1 2", "/checkin 删除"):
        assert "用法" in await chat.say(bad, user="u3"), bad  # another member: the flood limit
    assert [t for _, t, _, _ in rows(chat)] == ["内容"]  # nothing stored, nothing changed


async def test_chinese_verbs_inside_a_note_are_just_text(chat):
    assert "第 1 条" in await chat.say("#打卡 修改了论文的引言", user="u1")
    assert "第 2 条" in await chat.say("#打卡 删除 了冗余代码，重构了训练循环", user="u1")
    assert [t for _, t, _, _ in rows(chat)] == [
        "修改了论文的引言",
        "删除 了冗余代码，重构了训练循环",
    ]


async def test_metacharacters_are_stored_verbatim_and_control_chars_stripped(chat):
    text = "<b>粗体</b> & *星号* _下划线_ [链接](x) `code` {name}"
    replies = await chat.send(f"/checkin {text}\u200b", user="u1", name="<i>Eve</i>")
    assert len(replies) == 1 and replies[0].html is None
    assert "<i>Eve</i>" in replies[0].text
    [(_, stored, _, _)] = rows(chat)
    assert stored == text
    listing = await chat.say("/checkin", user="u1")
    assert "<b>粗体</b> & *星号*" in listing


async def test_huge_checkin_is_refused_and_nothing_stored(chat):
    reply = await chat.say("/checkin " + "学" * 10_000, user="u1")
    assert "太长" in reply
    reply = await chat.say("/checkin " + "学" * 3500, user="u1")  # under the dispatcher limit
    assert "太长" in reply
    assert rows(chat) == []


async def test_english_replies(config_factory, clock):
    app = build_app(config_factory(language="en"), clock=clock)
    try:
        chat = Chatter(app, clock)
        saved = await chat.say("/checkin finished the CS231n lecture 3", user="u1", name="Ann")
        assert "Saved Ann's learning note #1 this week" in saved
        assert "no learning notes" in await chat.say("/checkin", user="u2")
        assert "no note number 1" in await chat.say("/checkin del 1", user="u2")
        assert "Usage: /checkin edit <number>" in await chat.say("/checkin edit abc x", user="u1")
        assert "too long" in await chat.say("/checkin " + "x" * 3500, user="u1")
    finally:
        app.db.dispose()


async def test_weekly_count_and_member_names_on_both_databases(
    migrated_database_url, config_factory, clock
):
    """The count in the reply comes from the INSERT's RETURNING: only this member, this group
    week, the new note included, on SQLite and PostgreSQL alike, also inside one batch."""
    app = build_app(config_factory(database={"url": migrated_database_url}), clock=clock)
    try:
        chat = Chatter(app, clock)
        clock.set(datetime(2026, 11, 22, 12, 0, tzinfo=SHANGHAI))  # Sunday: last week
        assert "第 1 条" in await chat.say("/checkin 上周的心得", user="u1", name="大煌")
        clock.set(datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI))  # Monday: a new week
        assert "第 1 条" in await chat.say("/checkin 本周第一条", user="u1", name="大煌")
        assert "第 1 条" in await chat.say("/checkin 别人的", user="u2", name="奔腾")
        incomings = [
            Incoming(chat=GROUP_CHAT, sender=UserRef("console", user, name), text=text,
                     message_id=f"batch-{i}", sent_at=clock())
            for i, (user, name, text) in enumerate([
                ("u1", "大煌", "/checkin 第二条"), ("u2", "奔腾", "#打卡 第二条"),
                ("u1", "大煌 (改名)", "/checkin 第三条"), ("u3", "新人", "/checkin 第一条"),
            ])
        ]  # fmt: skip
        replies = await dispatch_many(app.dispatcher, incomings)
        texts = [r[0].text for r in replies]
        assert "大煌" in texts[0] and "第 2 条" in texts[0]
        assert "奔腾" in texts[1] and "第 2 条" in texts[1]
        assert "大煌 (改名)" in texts[2] and "第 3 条" in texts[2]
        assert "新人" in texts[3] and "第 1 条" in texts[3]
        with app.db.session() as session:
            names = dict(
                session.execute(select(Member.platform_user_id, Member.display_name)).all()
            )
            assert names == {"u1": "大煌 (改名)", "u2": "奔腾", "u3": "新人"}
            assert session.scalar(select(func.count(CheckIn.id))) == 7
    finally:
        app.db.dispose()


def test_ensure_member_returns_the_sessions_own_instance(migrated_database_url):
    """The member read without an ORM query is the session's instance: one added but not yet
    flushed, or one already loaded (with its unsaved changes), never a second copy."""
    db = Database(migrated_database_url)
    try:
        with db.session() as session:
            added = Member(platform="console", platform_user_id="p1", display_name="待保存")
            session.add(added)
            assert identity.ensure_member(session, "console", "p1") is added
            added.role = "admin"  # not flushed yet
            again = identity.ensure_member(session, "console", "p1", "新名字")
            assert again is added and again.role == "admin"
        with db.session() as session:
            stored = identity.ensure_member(session, "console", "p1")
            assert (stored.display_name, stored.role) == ("新名字", "admin")
            assert session.scalar(select(func.count(Member.id))) == 1
    finally:
        db.dispose()
