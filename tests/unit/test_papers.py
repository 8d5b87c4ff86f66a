"""/paper (论文, #论文) and /papers: validation, arXiv/GitHub recognition, duplicates, week list."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.app import build_app
from storage.models import Paper
from tests.conftest import Chatter

DCL = "https://arxiv.org/abs/1903.10258"


def papers(chat):
    with chat.app.db.session() as session:
        return list(session.scalars(select(Paper).order_by(Paper.id)))


async def test_paper_with_title_summary_one_liner_and_code(chat):
    reply = await chat.say(
        f"/paper {DCL} CVPR2019：细粒度图像识别新论文 | 引入“拆解与建构学习”机制… ｜ "
        "强迫分类模块着重于判别性区域 https://github.com/JDAI-CV/DCL",
        user="u1",
        name="大煌",
    )
    assert "CVPR2019：细粒度图像识别新论文" in reply
    assert "1903.10258" in reply and "https://github.com/JDAI-CV/DCL" in reply
    [paper] = papers(chat)
    assert paper.url == DCL and paper.arxiv_id == "1903.10258"
    assert paper.url_key == "arxiv:1903.10258"
    assert paper.code_url == "https://github.com/JDAI-CV/DCL"
    assert paper.title == "CVPR2019：细粒度图像识别新论文"
    assert paper.summary == "引入“拆解与建构学习”机制…"
    assert paper.one_liner == "强迫分类模块着重于判别性区域"
    assert paper.member.display_name == "大煌"
    assert f"#{paper.id}" in reply


async def test_a_multi_line_paper_with_labels_fills_each_field(chat):
    reply = await chat.say(
        "#论文 1706.03762\n一句话：只用注意力就够了\n摘要：提出 Transformer，去掉循环和卷积",
        user="u1",
    )
    [paper] = papers(chat)
    assert (paper.title, paper.summary, paper.one_liner) == (
        "",
        "提出 Transformer，去掉循环和卷积",
        "只用注意力就够了",
    )
    assert "已收录论文 #1：arXiv:1706.03762" in reply  # no title yet: named by its id
    assert "一句话概括：只用注意力就够了" in reply and "一句话：" not in reply


async def test_arxiv_token_alias_and_hashtag(chat):
    assert "2401.01234" in await chat.say("/论文 arXiv:2401.01234v2 Some Title", user="u1")
    assert "已收录" in await chat.say(
        "#论文 http://openaccess.thecvf.com/DCL.pdf 无 arXiv", user="u2"
    )
    first, second = papers(chat)
    assert first.url == "https://arxiv.org/abs/2401.01234" and first.title == "Some Title"
    assert second.arxiv_id is None and second.code_url is None and second.title == "无 arXiv"


async def test_duplicate_arxiv_id_is_refused_with_pointer(chat, clock):
    clock.set(datetime(2026, 11, 17, 22, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    await chat.say(f"/paper {DCL} DCL 细粒度识别", user="u1", name="大煌")
    clock.advance(days=1)
    for variant in ("http://arxiv.org/pdf/1903.10258v2.pdf", "arXiv:1903.10258 别的标题"):
        reply = await chat.say(f"/paper {variant}", user="u2", name="奔腾")
        [earlier] = papers(chat)
        assert "已经分享过" in reply
        assert f"#{earlier.id}" in reply and "DCL 细粒度识别" in reply
        assert "大煌" in reply and "2026-11-17" in reply
    assert len(papers(chat)) == 1


async def test_duplicate_url_variants_are_refused(chat):
    await chat.say("/paper https://openaccess.thecvf.com/content/DCL.pdf 原始", user="u1")
    for variant in (
        "http://OpenAccess.thecvf.com/content/DCL.pdf/",
        "https://openaccess.thecvf.com/content/DCL.pdf?utm_source=wechat#page=2",
    ):
        assert "已经分享过" in await chat.say(f"/paper {variant}", user="u2")
    assert "已收录" in await chat.say(
        "/paper https://openaccess.thecvf.com/content/other.pdf", user="u2"
    )
    assert len(papers(chat)) == 2


async def test_bad_paper_input_stores_nothing(chat):
    usage = await chat.say("/paper", user="u1")
    assert "用法" in usage and "arxiv" in usage.lower()
    assert "http://" in await chat.say("/paper ftp://example.com/paper.pdf 标题", user="u1")
    assert "域名" in await chat.say("/paper https://not-a-host/paper 标题", user="u1")
    assert "没有找到链接" in await chat.say("/paper 一篇很好的论文", user="u1")
    assert "空格" in await chat.say("/paper https://exa\u200emple.com/x", user="u1")
    assert "标题太长" in await chat.say("/paper https://x.com/p " + "长" * 400, user="u1")
    assert "太长" in await chat.say("/paper https://x.com/p " + "a" * 10_000, user="u1")
    assert papers(chat) == []


async def test_metacharacters_stored_verbatim(chat):
    title = "<b>Attention</b> & *all* _you_ [need](x) `!`"
    replies = await chat.send(f"/paper https://x.com/p {title} | <i>摘要</i>\u200b", user="u1")
    assert title in replies[0].text and replies[0].html is None
    [paper] = papers(chat)
    assert paper.title == title and paper.summary == "<i>摘要</i>"


async def test_papers_lists_this_weeks_papers(chat, clock):
    assert "还没有" in await chat.say("/papers", user="u1")
    await chat.say(f"/paper {DCL} DCL", user="u1", name="大煌")
    await chat.say("/paper https://arxiv.org/abs/1903.10520 MetaPruning", user="u2", name="奔腾")
    listing = await chat.say("/papers", user="u3")
    assert "2 篇" in listing and "DCL — 大煌" in listing and "MetaPruning — 奔腾" in listing
    assert DCL in listing
    clock.advance(days=7)
    assert "还没有" in await chat.say("/论文列表", user="u3")


async def test_english_replies(config_factory, clock):
    app = build_app(config_factory(language="en"), clock=clock)
    try:
        chat = Chatter(app, clock)
        assert "Usage: /paper <url>" in await chat.say("/paper", user="u1")
        saved = await chat.say(f"/paper {DCL} DCL", user="u1", name="Ann")
        assert "Paper #1 saved: DCL" in saved and "arXiv: 1903.10258" in saved
        dup = await chat.say("/paper arXiv:1903.10258", user="u2")
        assert "already shared" in dup and "Ann" in dup
        assert "must start with http" in await chat.say("/paper ftp://x.org/p", user="u2")
        assert "Papers this week (1)" in await chat.say("/papers", user="u2")
    finally:
        app.db.dispose()


async def test_a_bare_arxiv_id_is_accepted_and_both_code_links_kept(chat):
    reply = await chat.say(
        "/paper 1706.03762 注意力就是全部 代码 https://github.com/tensorflow/tensor2tensor"
        " 代码 https://github.com/harvardnlp/annotated-transformer | 讲透了 Transformer",
        user="u1",
        name="大煌",
    )
    assert "已收录论文" in reply and "注意力就是全部" in reply
    assert "https://github.com/tensorflow/tensor2tensor" in reply
    assert "https://github.com/harvardnlp/annotated-transformer" in reply
    [paper] = papers(chat)
    assert paper.url == "https://arxiv.org/abs/1706.03762" and paper.arxiv_id == "1706.03762"
    assert paper.title == "注意力就是全部" and paper.summary == "讲透了 Transformer"
    assert paper.code_urls == [
        "https://github.com/tensorflow/tensor2tensor",
        "https://github.com/harvardnlp/annotated-transformer",
    ]
    assert "已经分享过" in await chat.say("/paper https://arxiv.org/pdf/1706.03762v7", user="u2")


async def test_pdf_links_show_the_abstract_page_and_untitled_papers_one_name(chat):
    """Trial item 19: an arxiv.org PDF link is shown as the abstract page in /papers and the
    digest's 论文地址 (the stored URL stays as given); a paper without a title is named the
    same (arXiv:<id>) in /papers and /search."""
    from storage.search.drain import index_all_pending

    await chat.say("/paper https://arxiv.org/pdf/2005.14165.pdf", user="u1", name="大煌")
    await chat.say("/paper https://arxiv.org/abs/1810.04805", user="u2", name="奔腾")
    assert papers(chat)[0].url == "https://arxiv.org/pdf/2005.14165.pdf"  # stored as given
    listing = await chat.say("/papers", user="u1")
    assert "https://arxiv.org/abs/2005.14165" in listing and "/pdf/" not in listing
    assert "arXiv:1810.04805" in listing
    preview = "\n".join(r.text for r in await chat.send("/digest preview", user="admin"))
    assert "https://arxiv.org/abs/2005.14165" in preview and "/pdf/" not in preview
    index_all_pending(chat.app.db.session)
    found = await chat.say("/search 1810.04805 type:paper", user="u1")
    assert "《arXiv:1810.04805》" in found and "《https://" not in found
