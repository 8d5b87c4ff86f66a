"""Papers, resources and questions sent in a private chat are private unless the member opts
in (``/public``, ``privacy.dm_entries_public``), as check-ins are (issue #16): only the member
sees them; the digest, archive, feeds, search, ``/papers``, ``/questions`` and ``/q`` of others
never show them, and each reply in a private chat says which applies and how to change it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.app import build_app
from bot.model import ChatRef
from storage.models import Paper, Question, Resource
from tests.conftest import Chatter, FakeClock, make_config
from tests.unit.test_private_checkins import published

DM = ChatRef("console", "dm-u1", "private", "大煌")
PAPER = "/paper https://arxiv.org/abs/1512.03385 私藏论文 ResNet | 残差 | 一句话：残差连接"
SHARE = "/share https://example.com/secret-notes #私藏 我的私人资料合集"


async def test_dm_paper_resource_and_question_are_the_members_alone(chat: Chatter) -> None:
    said = await chat.say(PAPER, chat=DM, user="u1", name="大煌")
    assert "已收录论文" in said and "🔒" in said and "/public on" in said
    assert "收录进第" not in said  # promised to no digest
    said = await chat.say(SHARE, chat=DM, user="u1", name="大煌")
    assert "已收藏资源" in said and "🔒" in said and "/public on" in said
    [asked] = await chat.send("/ask 私下问：残差为什么有用？", chat=DM, user="u1", name="大煌")
    assert "已登记问题 #1" in asked.text and "🔒" in asked.text and "无法回答" in asked.text
    assert asked.chat is None  # answered where it was asked, announced nowhere else
    await chat.say("#打卡 群里心得：复习了反向传播", user="u2", name="奔腾")

    # the member sees their own, marked, in their private chat
    assert "🔒" in await chat.say("/papers", chat=DM, user="u1")
    mine = await chat.say("/questions", chat=DM, user="u1")
    assert "🔒 #1" in mine and "残差为什么" in mine
    assert "残差为什么" in await chat.say("/q 1", chat=DM, user="u1")
    # nobody else does, nor the member in the group
    assert "还没有人分享论文" in await chat.say("/papers", user="u2")
    assert "还没有人分享论文" in await chat.say("/papers", user="u1", name="大煌")
    assert "没有待解答" in await chat.say("/questions", user="u2")
    assert "没有编号为 #1" in await chat.say("/q 1", user="u2")
    assert "没有编号为 #1" in await chat.say("/q 1", user="u1", name="大煌")
    assert "没有编号为 #1" in await chat.say("/answer 1 因为梯度", user="u2")
    assert "没有编号为 #1" in await chat.say("/best 1 1", user="admin")
    for word in ("残差", "私人资料", "secret-notes"):
        assert "没有找到" in await chat.say(f"/search {word}", user="u2"), word
    preview = await chat.say("/digest preview", user="admin")
    assert "反向传播" in preview
    assert "私藏论文" not in preview and "私人资料" not in preview and "残差为什么" not in preview
    public = await published(chat)
    assert "反向传播" in public
    for word in ("私藏论文", "ResNet", "私人资料", "secret-notes", "残差为什么"):
        assert word not in public, word


async def test_a_private_share_takes_the_link_from_no_one(chat: Chatter) -> None:
    """Another member shares the same paper and link in the group as if nobody had: no
    「已经分享过了」 naming the private sharer, no 「之前分享过」."""
    await chat.say(PAPER, chat=DM, user="u1", name="大煌")
    await chat.say(SHARE, chat=DM, user="u1", name="大煌")
    said = await chat.say(
        "/paper https://arxiv.org/abs/1512.03385 ResNet | 残差网络 | 一句话：深", user="u2"
    )
    assert "已收录论文" in said and "已经分享过" not in said and "大煌" not in said
    said = await chat.say("/share https://example.com/secret-notes #cv 公开的同一链接", user="u2")
    assert "已收藏资源" in said and "之前分享过" not in said
    # the sharer is told of their own copy, as for any duplicate
    assert "已经分享过了" in await chat.say(PAPER, chat=DM, user="u1", name="大煌")
    with chat.app.db.session() as session:
        papers = session.execute(select(Paper.private, Paper.member_id)).all()
        assert sorted(private for private, _ in papers) == [False, True]
    preview = await chat.say("/digest preview", user="admin")
    assert "残差网络" in preview and "公开的同一链接" in preview


async def test_public_on_announces_a_dm_question_in_the_group(chat: Chatter) -> None:
    await chat.say("/public on", chat=DM, user="u1", name="大煌")
    replies = await chat.send("/ask 公开地问：学习率怎么调？", chat=DM, user="u1", name="大煌")
    [mine, announced] = replies
    assert "🌐" in mine.text and "/public off" in mine.text
    assert announced.chat is not None and announced.chat.chat_id == "console-group"
    assert announced.question_id == mine.question_id and "学习率怎么调" in announced.text
    said = await chat.say(PAPER, chat=DM, user="u1", name="大煌")
    assert "🌐" in said and "收录进第" in said
    assert "学习率怎么调" in await chat.say("/questions", user="u2")
    # an answer sent in a private chat is public, and the reply says so
    said = await chat.say("/answer 1 先用 warmup", chat=ChatRef("console", "dm-u2", "private"), user="u2")
    assert "已记录" in said and "🌐" in said and "/q 1" in said
    assert "先用 warmup" in await chat.say("/q 1", user="u3")
    preview = await chat.say("/digest preview", user="admin")
    assert "学习率怎么调" in preview and "私藏论文" in preview
    with chat.app.db.session() as session:
        assert session.scalars(select(Question.private)).all() == [False]
        assert session.scalars(select(Resource.private)).all() == []


async def test_english_replies_say_private_or_public(tmp_path: Path, clock: FakeClock) -> None:
    app = build_app(make_config(tmp_path, language="en"), clock=clock)
    chat = Chatter(app, clock)
    try:
        said = await chat.say(SHARE, chat=DM, user="u1")
        assert "🔒 Only you see this" in said and "/public on" in said
        said = await chat.say("/ask why does dropout help?", chat=DM, user="u1")
        assert "no one else can answer it" in said
        assert "private" in await chat.say("/public", chat=DM, user="u1")
        await chat.say("/public on", chat=DM, user="u1")
        said = await chat.say("/ask how do I pick a batch size?", chat=DM, user="u1")
        assert "announced in the group" in said
    finally:
        app.db.dispose()
