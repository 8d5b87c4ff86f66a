"""/share (分享, #分享): URL + #tags + text, tags shared between resources, bad input."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.app import build_app
from storage.models import Resource, Tag
from tests.conftest import Chatter


def resources(chat):
    with chat.app.db.session() as session:
        return [
            (r.url, sorted(t.name for t in r.tags), r.text, r.member.platform_user_id)
            for r in session.scalars(select(Resource).order_by(Resource.id))
        ]


def tag_count(chat) -> int:
    with chat.app.db.session() as session:
        return int(session.scalar(select(func.count(Tag.id))) or 0)


async def test_share_stores_url_tags_and_text(chat):
    reply = await chat.say(
        "/share https://zhuanlan.zhihu.com/p/123 #NLP #目标检测 BERT 原理讲解【荐】★★★", user="u1"
    )
    assert "https://zhuanlan.zhihu.com/p/123" in reply
    assert "#nlp" in reply and "#目标检测" in reply
    assert resources(chat) == [
        ("https://zhuanlan.zhihu.com/p/123", ["nlp", "目标检测"], "BERT 原理讲解【荐】★★★", "u1")
    ]


async def test_tags_are_shared_rows_and_aliases_work(chat):
    await chat.say("/分享 https://a.example.com/x #nlp #BERT 第一篇", user="u1")
    await chat.say("#分享 https://b.example.com/y #NLP #transformer 第二篇", user="u2")
    assert [r[1] for r in resources(chat)] == [["bert", "nlp"], ["nlp", "transformer"]]
    assert tag_count(chat) == 3  # nlp is one row, used twice


async def test_share_without_tags_hints_at_them(chat):
    reply = await chat.say("/share https://aideadlin.es/?sub=ML,CV,NLP AI 会议截稿时间", user="u1")
    assert "无" in reply and "#" in reply
    assert resources(chat) == [("https://aideadlin.es/?sub=ML,CV,NLP", [], "AI 会议截稿时间", "u1")]


async def test_bad_share_input_stores_nothing(chat):
    assert "用法" in await chat.say("/share", user="u1")
    assert "没有找到链接" in await chat.say("/share #NLP 没有链接的分享", user="u1")
    assert "http://" in await chat.say("/share ftp://files.example.com/a #x", user="u1")
    assert "域名" in await chat.say("/share https://localhost2/x", user="u1")
    assert "太长" in await chat.say("/share https://x.com/a " + "长" * 10_000, user="u1")
    assert "太长" in await chat.say("/share https://x.com/a " + "长" * 2500, user="u1")
    assert resources(chat) == [] and tag_count(chat) == 0


async def test_metacharacters_stored_verbatim_and_control_chars_stripped(chat):
    text = "<b>必读</b> & *粗* _斜_ [x](y) `z`"
    replies = await chat.send(f"/share https://x.com/a #ml {text}\u200b\u2028", user="u1")
    assert text in replies[0].text and replies[0].html is None
    assert resources(chat)[0][2] == text


async def test_english_replies(config_factory, clock):
    app = build_app(config_factory(language="en"), clock=clock)
    try:
        chat = Chatter(app, clock)
        assert "Usage: /share <url>" in await chat.say("/share", user="u1")
        saved = await chat.say("/share https://x.com/a #NLP nice", user="u1")
        assert "Resource #1 saved" in saved and "Tags: #nlp" in saved
        assert "No link found" in await chat.say("/share just words", user="u1")
    finally:
        app.db.dispose()
