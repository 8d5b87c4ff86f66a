"""Check-ins sent in a private chat are private unless the member opts in (``/public``,
``privacy.dm_entries_public``): they count for the streak and ``/me`` but never reach the
digest, the archive, feeds or ``/search`` (issue #16)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.app import build_app
from bot.model import ChatRef
from bot.web_archive import Archive
from storage.models import CheckIn
from tests.conftest import Chatter, FakeClock, make_config
from tests.unit.test_digest_admin import RecordingSender

DM = ChatRef("console", "dm-u1", "private", "大煌")


async def published(chat: Chatter) -> str:
    """Publish the week and return everything public: the sent digest, the archive page,
    the feeds."""
    recorder = RecordingSender()
    chat.app.add_sender(recorder)
    assert "已发布" in await chat.say("/digest publish now", user="admin")
    archive = Archive(chat.app.config, chat.app.db)
    sent = "\n".join(o.reply.text + (o.reply.html or "") for o in recorder.sent)
    return "\n".join(
        [sent, archive.issue_html(1) or "", archive.rss().decode(), archive.atom().decode()]
    )


async def test_a_dm_check_in_is_private_but_counts_for_the_member(chat: Chatter) -> None:
    said = await chat.say("/checkin 私聊心得：读了我的私人笔记", chat=DM, user="u1", name="大煌")
    assert "已记录" in said and "🔒" in said and "/public on" in said
    assert "收录进" not in said  # a private note is promised to no digest
    await chat.say("#打卡 群里心得：复习了反向传播", user="u2", name="奔腾")
    assert "🔒" not in await chat.say("#打卡 群里的第二条：读了 ResNet", user="u1", name="大煌")
    me = await chat.say("/me", chat=DM, user="u1", name="大煌")
    assert "打卡 2 次" in me
    assert "私人笔记" in await chat.say("/checkin", chat=DM, user="u1")  # the member sees it
    preview = await chat.say("/digest preview", user="admin")
    assert "反向传播" in preview and "私人笔记" not in preview
    # trial item 18: /digest status counts what the digest shows (the DM note is not in it)
    assert "心得 2 条（2 人）" in await chat.say("/digest status", user="admin")
    assert "没有找到" in await chat.say("/search 私人笔记", user="u2")
    assert "没有找到" not in await chat.say("/search 反向传播", user="u2")
    public = await published(chat)
    assert "反向传播" in public and "ResNet" in public
    assert "私人笔记" not in public


async def test_public_on_makes_later_dm_notes_public(chat: Chatter) -> None:
    await chat.say("/checkin 之前的私聊心得：保密内容", chat=DM, user="u1")
    assert "不公开" in await chat.say("/public", chat=DM, user="u1")
    assert "之后" in await chat.say("/public on", chat=DM, user="u1")
    said = await chat.say("/checkin 公开的私聊心得：读完 BERT", chat=DM, user="u1")
    assert "🌐" in said and "/public off" in said and "将收录进" in said
    assert "目前公开" in await chat.say("/public", chat=DM, user="u1")
    preview = await chat.say("/digest preview", user="admin")
    assert "读完 BERT" in preview and "保密内容" not in preview  # earlier ones stay private
    assert "用法" in await chat.say("/public maybe", chat=DM, user="u1")
    assert "目前公开" in await chat.say("/public", chat=DM, user="u1")  # unchanged
    await chat.say("/public off", chat=DM, user="u1")
    assert "🔒" in await chat.say("/checkin 又一条私聊：调参心得", chat=DM, user="u1")
    with chat.app.db.session() as session:
        private = dict(session.execute(select(CheckIn.text, CheckIn.private)).all())
    assert private == {
        "之前的私聊心得：保密内容": True,
        "公开的私聊心得：读完 BERT": False,
        "又一条私聊：调参心得": True,
    }


async def test_config_default_public_and_english(tmp_path: Path, clock: FakeClock) -> None:
    app = build_app(
        make_config(tmp_path, language="en", privacy={"dm_entries_public": True}), clock=clock
    )
    chat = Chatter(app, clock)
    try:
        said = await chat.say("/checkin read the ViT paper today", chat=DM, user="u1")
        assert "🌐" in said and "goes into the digest" in said
        assert "ViT" in await chat.say("/digest preview", user="admin")
        assert "private" in await chat.say("/public off", chat=DM, user="u1")
        said = await chat.say("/checkin notes on my own project", chat=DM, user="u1")
        assert "🔒 Only you see this one" in said
        assert "own project" not in await chat.say("/digest preview", user="admin")
    finally:
        app.db.dispose()
