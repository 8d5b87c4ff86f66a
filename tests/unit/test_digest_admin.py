"""/digest (周报) admin commands through the dispatcher, as an admin and as a member."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import App, build_app
from bot.model import Outgoing
from storage.models import DigestDelivery, DigestIssue
from tests.conftest import Chatter, FakeClock, make_config


class RecordingSender:
    """A Sender that keeps what it was asked to send."""

    def __init__(self, platform: str = "console") -> None:
        self.platform = platform
        self.sent: list[Outgoing] = []

    async def send(self, outgoing: Outgoing) -> list[str]:
        self.sent.append(outgoing)
        return [str(len(self.sent))]


@pytest.fixture
def sender(bot_app: App) -> RecordingSender:
    recorder = RecordingSender()
    bot_app.add_sender(recorder)
    return recorder


async def seed_week(chat: Chatter) -> None:
    """A week with one paper, two members' notes and one question (clock: Mon 17:00 CST)."""
    await chat.say(
        "/paper https://arxiv.org/abs/1706.03762 Attention Is All You Need | 提出 Transformer"
        " | 注意力就够了",
        user="u1",
        name="大煌",
    )
    await chat.say("/checkin 读完 CS231n 第三讲 <b>not bold</b>", user="u1", name="大煌")
    await chat.say("/checkin 复习了反向传播", user="u2", name="奔腾")
    await chat.say("/ask lstm激活函数为什么sigmoid和tanh同时存在？", user="u3", name="吕涛")


async def preview(chat: Chatter) -> str:
    return await chat.say("/digest preview", user="admin")


async def test_non_admin_is_refused_for_every_subcommand(chat: Chatter, sender: Any) -> None:
    await seed_week(chat)
    for sub in ("preview", "publish now", "preface 你好", "feature 1", "drop 1", "status"):
        text = await chat.say(f"/digest {sub}", user="bob")
        assert "仅限管理员" in text, sub
    assert sender.sent == []
    with chat.app.db.session() as s:
        assert s.scalars(select(DigestIssue.preface)).all() in ([], [None])


async def test_preview_lists_numbered_entries_with_counts(chat: Chatter) -> None:
    await seed_week(chat)
    replies = await chat.send("/digest preview", user="admin")
    head = replies[0].text
    assert "第1期" in head and "未发布" in head
    assert "论文 1 篇" in head and "心得 2 人" in head and "问答 1 个" in head
    body = "\n".join(r.text for r in replies[1:])
    assert "1. Attention Is All You Need" in body
    assert "2. 大煌" in body and "3. 奔腾" in body
    assert "4. lstm激活函数为什么sigmoid和tanh同时存在" in body
    assert "<b>not bold</b>" in body  # member text shown as text in the plain fallback
    html = "".join(r.html or "" for r in replies[1:])
    assert "&lt;b&gt;not bold&lt;/b&gt;" in html


async def test_alias_and_unknown_subcommand(chat: Chatter) -> None:
    assert "第1期" in await chat.say("/周报 预览", user="admin")
    assert "用法" in await chat.say("/digest", user="admin")
    assert "用法" in await chat.say("/digest explode", user="admin")


async def test_preface_sets_text_and_refuses_empty_or_huge(chat: Chatter) -> None:
    await seed_week(chat)
    assert "不能为空" in await chat.say("/digest preface   ", user="admin")
    too_long = await chat.say("/digest preface " + "长" * 2500, user="admin")
    assert "太长" in too_long
    assert "刊首语已更新" in await chat.say("/digest preface 本周<i>主题</i>：注意力", user="admin")
    assert "本周<i>主题</i>：注意力" in await preview(chat)
    with chat.app.db.session() as s:
        assert s.scalars(select(DigestIssue.preface)).one() == "本周<i>主题</i>：注意力"


async def test_feature_drop_undrop_by_preview_number(chat: Chatter) -> None:
    await seed_week(chat)
    assert "已置顶：奔腾" in await chat.say("/digest feature 3", user="admin")
    text = await preview(chat)
    assert "2. 奔腾" in text and "3. 大煌" in text  # featured member moved first
    assert "已从本期移除：Attention Is All You Need" in await chat.say(
        "/digest drop 1", user="admin"
    )
    text = await preview(chat)
    assert "Attention Is All You Need" in text.split("已移除")[1]  # only in the dropped list
    assert "论文 0 篇" in text
    assert "已恢复：Attention Is All You Need" in await chat.say("/digest undrop 1", user="admin")
    assert "论文 1 篇" in await preview(chat)
    assert "已取消置顶：奔腾" in await chat.say("/digest feature 2", user="admin")


@pytest.mark.parametrize("arg", ["", "abc", "0", "99", "-1", "1.5", "１", "9999999"])
async def test_bad_entry_numbers_get_clear_replies_and_change_nothing(
    chat: Chatter, arg: str
) -> None:
    await seed_week(chat)
    for sub in ("feature", "drop", "undrop"):
        text = await chat.say(f"/digest {sub} {arg}", user="admin")
        assert ("用法" in text) or ("没有编号" in text), (sub, arg, text)
    with chat.app.db.session() as s:
        for issue in s.scalars(select(DigestIssue)):
            assert issue.featured == [] and issue.dropped == []


async def test_status_shows_period_in_group_timezone_and_counts(chat: Chatter) -> None:
    await seed_week(chat)
    text = await chat.say("/digest status", user="admin")
    # clock: Mon 2026-11-16 09:00 UTC; cron Sunday 20:00 Asia/Shanghai
    assert "2026-11-15 20:00 – 2026-11-22 20:00（Asia/Shanghai）" in text
    assert "第1期（未发布）" in text
    assert "论文 1 篇" in text and "心得 2 条（2 人）" in text and "问答 1 个" in text


async def test_status_shows_the_send_queue_when_replies_wait(chat: Chatter) -> None:
    from datetime import timedelta

    from storage.models import OutboxMessage

    assert "发送队列" not in await chat.say("/digest status", user="admin")
    with chat.app.db.session() as session:
        for _ in range(3):  # held back by Telegram's per-group limit for 75 s
            session.add(
                OutboxMessage(
                    platform="telegram",
                    chat_id="-100",
                    text="✅",
                    created_at=chat.clock.now - timedelta(seconds=75),
                )
            )
    text = await chat.say("/digest status", user="admin")
    assert "发送队列（telegram）：3 条待发，最早的已等 75 秒" in text


async def test_status_shows_each_platforms_send_queue(chat: Chatter) -> None:
    from datetime import timedelta

    from storage.models import OutboxMessage

    with chat.app.db.session() as session:
        for platform, chat_id, seconds in [
            ("telegram", "-100", 20),
            ("wechat", "study@chatroom", 90),  # paced by wechat.send_interval_seconds
            ("wechat", "study@chatroom", 30),
        ]:
            session.add(
                OutboxMessage(
                    platform=platform,
                    chat_id=chat_id,
                    text="✅",
                    created_at=chat.clock.now - timedelta(seconds=seconds),
                )
            )
    text = await chat.say("/digest status", user="admin")
    assert "发送队列（telegram）：1 条待发，最早的已等 20 秒" in text
    assert "发送队列（wechat）：2 条待发，最早的已等 90 秒" in text


async def test_publish_without_closed_issue_asks_for_now(chat: Chatter, sender: Any) -> None:
    await seed_week(chat)
    text = await chat.say("/digest publish", user="admin")
    assert "/digest publish now" in text and "2026-11-22 20:00" in text
    assert sender.sent == []


async def test_publish_now_sends_once_and_status_shows_delivery(
    chat: Chatter, sender: RecordingSender, clock: FakeClock
) -> None:
    await seed_week(chat)
    text = await chat.say("/digest publish now", user="admin")
    assert "第1期已发布" in text and "console:console-group" in text
    assert len(sender.sent) == 1
    digest_text = sender.sent[0].reply.text
    assert "大煌" in digest_text and "Attention Is All You Need" in digest_text
    assert sender.sent[0].chat.chat_id == "console-group"
    # the next issue starts where this one was closed: new content goes there
    clock.advance(hours=1)
    await chat.say("/checkin 发布之后的心得", user="u2", name="奔腾")
    again = await chat.say("/digest publish now", user="admin")
    assert "第2期已发布" in again
    assert len(sender.sent) == 2 and "发布之后的心得" in sender.sent[1].reply.text
    assert "发布之后的心得" not in digest_text
    status = await chat.say("/digest status", user="admin")
    assert "第1期" in status and "已发布" in status and "已发送 1/1 条" in status
    with chat.app.db.session() as s:
        issues = s.scalars(select(DigestIssue).order_by(DigestIssue.number)).all()
        assert [i.status for i in issues[:2]] == ["published", "published"]
        assert issues[0].period_end == issues[1].period_start  # contiguous
        assert issues[0].markdown and "大煌" in issues[0].markdown
        assert s.scalars(select(DigestDelivery.state)).all() == ["sent", "sent"]


async def test_console_publish_posts_what_its_preview_showed(
    chat: Chatter, sender: RecordingSender
) -> None:
    """Trial item 21: the console preview shows the chat version; publish now posts exactly
    those parts, not the 公众号 article (no 「微信不允许外部链接」, no 「公众号内回复」)."""
    await seed_week(chat)
    replies = await chat.send("/digest preview", user="admin")
    assert "以下是控制台将收到的内容" in replies[0].text
    shown = [r.text for r in replies[1:]]
    assert "私聊机器人发送「自学」" in "\n".join(shown)
    assert "第1期已发布" in await chat.say("/digest publish now", user="admin")
    sent = [o.reply.text for o in sender.sent]
    assert len(sent) == len(shown)
    for posted in sent:
        assert "公众号" not in posted and "微信不允许外部链接" not in posted
    assert "私聊机器人发送「自学」" in sent[-1]
    assert "大煌" in "\n".join(sent) and sender.sent[0].reply.html


async def test_publish_now_of_an_empty_issue_is_refused(chat: Chatter, sender: Any) -> None:
    text = await chat.say("/digest publish now", user="admin")
    assert "没有任何内容" in text
    assert sender.sent == []


async def test_publish_now_right_after_another_run_names_the_issue_it_published(
    chat: Chatter, sender: RecordingSender, clock: FakeClock
) -> None:
    """#16: the run that lost a ``publish now`` race heard only 「第2期还没有任何内容」; it is
    told the issue was just published by the other run."""
    await seed_week(chat)
    assert "第1期已发布" in await chat.say("/digest publish now", user="admin")
    clock.advance(minutes=1)
    again = await chat.say("/digest publish now", user="admin")
    assert again.startswith("第1期已由另一次发布发出") and "没有重复发送" in again, again
    assert "第2期还没有任何内容" in again and len(sender.sent) == 1
    clock.advance(hours=1)  # later on, an empty week is just that
    assert (await chat.say("/digest publish now", user="admin")).startswith("第2期还没有任何内容")


async def test_a_week_of_only_shared_resources_is_published(
    chat: Chatter, sender: RecordingSender
) -> None:
    await chat.say(
        "/share https://zhuanlan.zhihu.com/p/123 #NLP #BERT BERT 原理讲解", user="u1", name="大灵"
    )
    head = (await chat.send("/digest preview", user="admin"))[0].text
    assert "资料 1 条" in head
    text = await chat.say("/digest publish now", user="admin")
    assert "第1期已发布" in text
    digest_text = sender.sent[0].reply.text
    assert "学习资料" in digest_text and "BERT 原理讲解" in digest_text and "大灵" in digest_text


async def test_publish_closed_week_after_it_ends(
    chat: Chatter, sender: RecordingSender, clock: FakeClock
) -> None:
    await seed_week(chat)
    await preview(chat)  # creates issue 1 for this week
    clock.advance(days=7)
    text = await chat.say("/digest publish", user="admin")
    assert "第1期已发布" in text
    assert len(sender.sent) == 1
    again = await chat.say("/digest publish", user="admin")
    assert "没有已结束、待发布的周报" in again
    assert len(sender.sent) == 1  # never twice


async def test_english_messages(tmp_path: Any, clock: FakeClock) -> None:
    app = build_app(make_config(tmp_path, language="en"), clock=clock)
    try:
        chat = Chatter(app, clock)
        assert "Usage: /digest" in await chat.say("/digest nope", user="admin")
        assert "no papers, notes, resources or questions" in await chat.say(
            "/digest publish now", user="admin"
        )
        assert "for admins only" in await chat.say("/digest status", user="bob")
    finally:
        app.db.dispose()


async def test_preview_of_a_heavy_week_shows_each_targets_parts_and_warns(
    chat: Chatter, bot_app: App
) -> None:
    """Issue #17 point 5: per target the exact parts, their count and sizes, a collapse warning;
    on WeChat the preview is the WeChat text the room will get."""
    for i in range(60):
        text = f"/checkin 第{i}位：复习了概率论和线性代数，做了 CS231n 作业。" * 10
        await chat.say(text, user=f"m{i}", name=f"成员{i}")
    replies = await chat.send("/digest preview", user="admin")
    head = replies[0].text
    assert "各平台将收到" in head
    assert "Telegram 群：" in head and "微信群：" in head and "公众号/Markdown 文章：" in head
    assert "⚠️ 超出长度上限，已折叠为精选：学习心得" in head
    telegram_line = next(line for line in head.splitlines() if "Telegram 群：" in line)
    count = int(telegram_line.split("：")[1].split(" 条")[0])
    assert count == len(replies) - 1 <= 4  # the parts shown are the parts that will be sent
    assert all(r.html for r in replies[1:])
    assert "另有" in "\n".join(r.text for r in replies[1:])
    with bot_app.db.session() as s:
        from digest.periods import ensure_issue
        from digest.preview import preview_replies
        from storage.identity import get_group

        group = get_group(s, bot_app.config.groups[0].slug)
        issue = ensure_issue(s, group, chat.clock(), bot_app.config.digest.cron)
        wechat = preview_replies(s, issue, bot_app.config, "wechat")
    assert "以下是微信群将收到的内容" in wechat[0].text
    assert 1 <= len(wechat) - 1 <= 3 and all(r.html is None for r in wechat[1:])
    assert "【学习心得】" in "\n".join(r.text for r in wechat[1:])


async def test_stable_references_from_one_preview_stay_valid_across_drops(chat: Chatter) -> None:
    """Issue #17 point 6: references from one preview (P1, M1, …) never shift; one check-in can
    be dropped and restored on its own."""
    await seed_week(chat)
    await chat.say("/checkin 第二条心得：复习了反向传播的推导", user="u1", name="大煌")
    body = "\n".join(r.text for r in (await chat.send("/digest preview", user="admin"))[1:])
    refs = {t.split()[0]: ref for t, ref in re.findall(r"\d+\. (.+?) 〔([PMRQ]\d+)〕", body)}
    assert set(refs) >= {"大煌", "奔腾", "Attention"} and refs["Attention"].startswith("P")
    checkins = re.findall(r"〔(C\d+)〕", body)
    assert len(checkins) == 3
    # two drops by references read from the same preview remove exactly those two entries
    assert "已从本期移除：Attention" in await chat.say(
        f"/digest drop {refs['Attention']}", user="admin"
    )
    assert "已从本期移除：奔腾" in await chat.say(
        f"/digest drop {refs['奔腾'].lower()}", user="admin"
    )
    after = "\n".join(r.text for r in (await chat.send("/digest preview", user="admin"))[1:])
    assert "大煌" in after and "奔腾" not in after.split("已移除")[0]
    # one check-in of a member with two
    second = checkins[1]
    assert "已从本期移除：大煌：第二条心得" in await chat.say(
        f"/digest drop {second}", user="admin"
    )
    text = "\n".join(r.text for r in (await chat.send("/digest preview", user="admin"))[1:])
    assert "第二条心得" not in text and "读完 CS231n" in text
    assert "已恢复：大煌：第二条心得" in await chat.say(f"/digest undrop {second}", user="admin")
    assert "第二条心得" in await chat.say("/digest preview", user="admin")
    assert "没有 P999 这一项" in await chat.say("/digest drop P999", user="admin")
    assert "不能置顶" in await chat.say(f"/digest feature {second}", user="admin")


async def test_publish_now_with_only_carried_over_questions_publishes_nothing(
    chat: Chatter, sender: RecordingSender, clock: FakeClock
) -> None:
    """#16: `digest publish --now` run again posted an issue holding only the open questions
    carried over from the last one."""
    await chat.say("/ask 为什么 dropout 在测试时要关掉？", user="u3", name="小明")
    await chat.say("/checkin 读了 ResNet", user="u1", name="大煌")
    assert "第1期已发布" in await chat.say("/digest publish now", user="admin")
    clock.advance(hours=1)
    again = await chat.say("/digest publish now", user="admin")
    assert "没有任何内容" in again  # the open question alone is nothing new
    assert len(sender.sent) == 1
    clock.advance(hours=1)
    await chat.say("/answer 1 测试时要用全部神经元，期望才一致", user="u4", name="老王")
    assert "第2期已发布" in await chat.say("/digest publish now", user="admin")
    assert len(sender.sent) == 2 and "全部神经元" in sender.sent[1].reply.text


async def test_publish_notices_of_many_groups_come_as_one_summary(
    bot_app: App, sender: RecordingSender, monkeypatch: pytest.MonkeyPatch
) -> None:
    """100 groups publishing at one cron fire: the admin gets the first notice and then one
    summary, not 100 private messages."""
    import digest.service

    monkeypatch.setattr(digest.service, "NOTICE_WINDOW", 0.05)
    service = bot_app.digest
    for group in range(100):
        await service.publish_notice(f"第1期已发布到 group-{group}")
    assert [o.reply.text for o in sender.sent] == ["第1期已发布到 group-0"]
    await asyncio.sleep(0.2)
    assert len(sender.sent) == 2
    summary = sender.sent[1].reply
    assert summary.kind == "notice" and summary.text.startswith("📰 另有 99 个群的周报发布结果")
    assert "group-1" in summary.text and "还有 69 个群" in summary.text
