"""Renderers over a fixed week full of nasty text: golden files, structure, escaping, splitting.

Golden files live in tests/golden/; ``STUDYBOT_UPDATE_GOLDEN=1`` rewrites them (then read the
diff by eye before committing).
"""

from __future__ import annotations

import html
import os
import re
from dataclasses import replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from digest.model import (
    AnswerEntry,
    Digest,
    MemberNotes,
    PaperEntry,
    QuestionEntry,
    ResourceEntry,
)
from digest.render import render_html, render_markdown, render_telegram, render_wechat
from digest.render_filters import f_md, f_tg, f_tg_admin
from digest.render_mp import article_summary, render_mp_article
from digest.render_split import split_html, utf16_len
from digest.text import escape_html, escape_markdown

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
LONG_URL = "https://example.com/" + "a_b-c/" * 46 + "end?x=1&y=<2>"
NASTY = "* 星号 _下划线_ `反引号` [方括号] <b>粗体</b> & 1 < 2 > 0 🚀🎉 {{ 7*7 }} {% if x %}"
TELEGRAM_TAGS = {"b", "i", "a", "code", "pre", "blockquote"}


def fixed_week() -> Digest:
    """A small fixed week with every kind of troublesome text."""
    return Digest(
        group_name="ML自学者俱乐部",
        number=7,
        period_start=datetime(2026, 11, 15, 12, 0, tzinfo=UTC),
        period_end=datetime(2026, 11, 22, 12, 0, tzinfo=UTC),
        preface="这里记录ML自学者群体 & 朋友们，每周分享优秀的学习心得与资料。<b>不是标签</b>",
        papers=[
            PaperEntry(
                key="paper:1",
                title="Attention <is> all & you *need*",
                url="https://arxiv.org/abs/1706.03762",
                arxiv_id="1706.03762",
                summary="提出 Transformer：只用 `attention`，不用 RNN_cell。\n\n效果 > LSTM & CNN [1]。",
                one_liner="注意力就是一切 🚀",
                code_url="https://github.com/tensorflow/tensor2tensor",
                shared_by="大煌",
                paper_name="Attention Is All You Need",
                authors=(
                    "Ashish Vaswani",
                    "Noam Shazeer",
                    "Niki Parmar",
                    "Jakob Uszkoreit",
                    "Llion Jones",
                ),
                code_urls=(
                    "https://github.com/tensorflow/tensor2tensor",
                    "https://github.com/harvardnlp/annotated-transformer",
                ),
                code_stars=16102,
            ),
            PaperEntry(
                key="paper:2",
                title="超长链接的论文",
                url=LONG_URL,
                arxiv_id=None,
                summary="",
                one_liner="",
                code_url=None,
                shared_by="奔腾",
            ),
        ],
        notes=[
            MemberNotes(
                key="member:1",
                member_name="大煌",
                texts=[
                    "本周复现了一篇论文的代码。[复现代码地址](https://github.com/HaHuangChan/"
                    "Deep-Mating-for-Portrait-Animation)",
                    "# 不是标题\n---\n" + NASTY,
                ],
            ),
            MemberNotes(
                key="member:2",
                member_name="昨夜星辰",
                texts=[
                    "本周学习了词向量：\n\n- [word2vec](https://blog.csdn.net/x/article/details/1)\n"
                    "- fasttext https://blog.csdn.net/x/article/details/2，还有 elmo\n"
                    "长链接：" + LONG_URL
                ],
            ),
            MemberNotes(
                key="member:3",
                member_name="<script>alert(1)</script>",
                texts=[
                    "[点我](javascript:alert(1)) ```\ncode fence```\n> 引用 ![图](https://img.example/a.png)"
                ],
            ),
        ],
        questions=[
            QuestionEntry(
                key="question:1",
                number=1,
                title="lstm 激活函数为什么 sigmoid 和 tanh 同时存在",
                text="lstm 激活函数为什么 sigmoid 和 tanh 同时存在",
                asked_by="大灵",
                answers=[
                    AnswerEntry(
                        "输入经过 sigmoid 后均值在 0.5 左右；tanh 输出在 [-1,1]。"
                        "见 https://www.zhihu.com/question/46197687/answer/229098444",
                        "大鹏鹏",
                        best=True,
                    ),
                    AnswerEntry("sigmoid 做门控 (0~1)，tanh 做状态 <-1~1>。", "安芯"),
                ],
                carried_over=False,
                open=False,
            ),
            QuestionEntry(
                key="question:2",
                number=2,
                title="研究生阶段如何规划",
                text="研究生阶段如何规划\n老师，您好。我现在大四学生，请问研究生阶段该如何规划呢？",
                asked_by="吕涛",
                answers=[],
                carried_over=True,
                open=True,
            ),
        ],
        join_text="公众号内回复「**自学**」，即可加入ML自学者俱乐部社群。",
        chat_join_text={
            "telegram": "私聊机器人发送「**自学**」，即可获取加入方式。",
            "wechat": "让朋友加机器人为好友并私聊发送「自学」，即可收到入群邀请。",
        },
        web_url="https://club.example/digest/7",
        resources=[
            ResourceEntry(
                key="resource:1",
                title="神经网络入门 - 阮一峰的网络日志 [荐]",
                url="https://www.ruanyifeng.com/blog/2017/07/neural-network.html",
                text="",
                tags=("入门", "神经网络"),
                shared_by="大灵",
            ),
            ResourceEntry(
                key="resource:2",
                title="理解梯度下降 <b>★★★</b>",
                url="https://zhuanlan.zhihu.com/p/36564434",
                text="函数在某点的梯度是方向导数最大的方向 *重点*",
                tags=("数学",),
                shared_by="奔腾",
            ),
            ResourceEntry(
                key="resource:3",
                title="AI Conference Deadlines",
                url="https://aideadlin.es/?sub=ML,CV,NLP",
                text="",
                tags=("入门",),
                shared_by="<script>x</script>",
            ),
            ResourceEntry(
                key="resource:4",
                title="aideadlin.es",
                url="https://aideadlin.es/",
                text="",
                tags=(),
                shared_by="吕涛",
            ),
        ],
    )


TELEGRAM_SEPARATOR = "\n\n<!-- ===== next message ===== -->\n\n"
WECHAT_SEPARATOR = "\n\n===== 下一条消息 =====\n\n"
RENDERERS = {
    "digest.md": lambda d: render_markdown(d),
    "digest.telegram.html": lambda d: TELEGRAM_SEPARATOR.join(render_telegram(d)) + "\n",
    "digest.wechat.txt": lambda d: WECHAT_SEPARATOR.join(render_wechat(d, max_chars=900)) + "\n",
    "digest.html": lambda d: render_html(d),
    "digest.mp.html": lambda d: render_mp_article(d) + "\n" + article_summary(d) + "\n",
}


@pytest.mark.parametrize("name", sorted(RENDERERS))
def test_golden(name):
    rendered = RENDERERS[name](fixed_week())
    path = GOLDEN / name
    if os.environ.get("STUDYBOT_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rendered, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}: run with STUDYBOT_UPDATE_GOLDEN=1"
    assert rendered == path.read_text(encoding="utf-8")


# --- Markdown -----------------------------------------------------------------------------

MD = MarkdownIt("commonmark")


def _headings(tokens, level: str) -> list[str]:
    return [
        tokens[i + 1].content
        for i, t in enumerate(tokens)
        if t.type == "heading_open" and t.tag == level
    ]


def _links(tokens) -> list[str]:
    hrefs = []
    for token in tokens:
        for child in token.children or []:
            if child.type == "link_open":
                hrefs.append(child.attrGet("href"))
    return hrefs


def _text(tokens) -> str:
    parts = []
    for token in tokens:
        for child in token.children or []:
            if child.type in ("text", "code_inline"):
                parts.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                parts.append("\n")
    return "".join(parts)


def test_markdown_structure_matches_the_seed_shape():
    d = fixed_week()
    tokens = MD.parse(render_markdown(d))
    assert _headings(tokens, "h2") == [
        "刊首语",
        "本期内容",
        "论文速递",
        "学习心得",
        "学习资料",
        "疑问解答",
        "加入我们",
    ]
    h3 = _headings(tokens, "h3")
    # inline content of headings is the escaped source; compare the rendered text instead
    rendered_h3 = [MD.renderInline(h) for h in h3]
    expected = (
        [p.title for p in d.papers]
        + [n.member_name for n in d.notes]
        + [q.title for q in d.questions]
    )
    assert [html.unescape(h) for h in rendered_h3] == expected
    assert not [t for t in tokens if t.type in ("html_block", "fence", "code_block")]
    assert not [c for t in tokens for c in (t.children or []) if c.type == "html_inline"]


def test_markdown_keeps_links_and_shows_nasty_text_literally():
    d = fixed_week()
    tokens = MD.parse(render_markdown(d))
    hrefs = _links(tokens)
    assert "https://github.com/HaHuangChan/Deep-Mating-for-Portrait-Animation" in hrefs
    assert "https://arxiv.org/abs/1706.03762" in hrefs
    assert "https://github.com/tensorflow/tensor2tensor" in hrefs
    assert "https://www.zhihu.com/question/46197687/answer/229098444" in hrefs
    assert any(h.startswith("https://example.com/a_b-c/") and len(h) > 280 for h in hrefs)
    assert all(h.startswith(("http://", "https://")) for h in hrefs)
    text = _text(tokens)
    for piece in (
        "<b>粗体</b>",
        "* 星号 _下划线_",
        "`反引号`",
        "[方括号]",
        "1 < 2 > 0",
        "🚀🎉",
        "{{ 7*7 }}",
    ):
        assert piece in text
    assert "# 不是标题" in text and "[点我](javascript:alert(1))" in text
    assert "<script>alert(1)</script>" in [
        html.unescape(MD.renderInline(h)) for h in _headings(tokens, "h3")
    ]
    assert "49" not in render_markdown(d)


@given(st.text(alphabet=st.sampled_from(list("ab 汉字*_`[]()<>#|~&!\\{}%=-+.\"'🚀")), max_size=60))
def test_markdown_escaping_shows_any_text_literally(text):
    source = "x" + " ".join(text.split())
    tokens = MD.parse(escape_markdown(source))
    assert [t.type for t in tokens] == ["paragraph_open", "inline", "paragraph_close"]
    assert _text(tokens) == source


# --- Telegram -----------------------------------------------------------------------------


class TagChecker(HTMLParser):
    """Collects text and checks tags are Telegram's and balanced."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        assert tag in TELEGRAM_TAGS, f"tag <{tag}> not allowed by Telegram"
        if tag == "a":
            self.hrefs.append(dict(attrs)["href"])
        self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}>"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def check_telegram(part: str) -> TagChecker:
    assert 0 < utf16_len(part) < 4096
    checker = TagChecker()
    checker.feed(part)
    checker.close()
    assert checker.stack == [], f"unclosed tags {checker.stack}"
    assert not re.search(r"&(?!(amp|lt|gt|quot|#x27);)", part), "bare & in Telegram HTML"
    return checker


def test_telegram_parts_are_valid_and_escaped():
    d = fixed_week()
    parts = render_telegram(d)
    checkers = [check_telegram(p) for p in parts]
    text = "".join("".join(c.text) for c in checkers)
    hrefs = [h for c in checkers for h in c.hrefs]
    assert NASTY.replace("\n", "") in text.replace("\n", "")
    assert "<script>alert(1)</script>" in text
    assert "https://github.com/HaHuangChan/Deep-Mating-for-Portrait-Animation" in hrefs
    assert all(h.startswith(("http://", "https://")) for h in hrefs)
    assert "[点我](javascript:alert(1))" in text


def test_escape_matches_python_telegram_bot():
    from telegram.helpers import escape

    for sample in (NASTY, "a&b<c>d\"e'f", "&amp; &lt;", LONG_URL, ""):
        assert escape_html(sample) == escape(sample)


@given(st.text(max_size=80))
def test_telegram_text_round_trips(text):
    checker = TagChecker()
    checker.feed(f_tg(text))
    checker.close()
    assert "".join(checker.text) == text


def _many_members(count: int, size: int) -> Digest:
    notes = [
        MemberNotes(f"member:{i}", f"成员{i}", [f"第{i}条 " + "学习 & <心得> " * (size // 12)])
        for i in range(count)
    ]
    return replace(fixed_week(), notes=notes)


def test_telegram_splits_at_section_then_entry_boundaries():
    d = _many_members(40, 400)
    parts = render_telegram(d)
    assert len(parts) > 3
    for part in parts:
        check_telegram(part)
    # no member entry is split: each name and its note live in one part
    for i in range(40):
        holders = [p for p in parts if f"<b>成员{i}</b>" in p]
        assert len(holders) == 1 and f"第{i}条" in holders[0]
    # the notes section starts a new part (sections are not cut when they can be kept apart);
    # every later part says 「（续 n/m）」 and its section (#17 changed the first line of parts)
    assert any(
        p.startswith(f"<i>（续 {n}/{len(parts)}）学习心得</i>\n<b>━━ 学习心得 ━━</b>")
        for n, p in enumerate(parts[1:], 2)
    )
    for n, part in enumerate(parts[1:], start=2):
        assert re.match(
            rf"<i>（续 {n}/{len(parts)}）(本期内容|论文速递|学习心得|学习资料|疑问解答|加入我们)</i>\n",
            part,
        )
    assert f_tg_admin(d.chat_join_text["telegram"]) in parts[-1]  # emphasis kept (#17)
    assert parts[-1].rstrip().endswith('">阅读原文（网页版，含全部链接与往期）</a>')


def test_telegram_hard_splits_one_huge_entry_without_breaking_markup():
    huge = "".join(
        f"第{i}行 a&b <tag> 🚀 [链接{i}](https://example.com/{i}) " * 3 + "\n" for i in range(300)
    )
    d = replace(fixed_week(), notes=[MemberNotes("member:9", "话痨", [huge])])
    parts = render_telegram(d)
    text = "".join("".join(check_telegram(p).text) for p in parts)
    for i in (0, 150, 299):
        assert f"第{i}行 a&b <tag> 🚀 链接{i}" in text


def test_split_html_never_cuts_tags_or_entities():
    body = "<blockquote>" + ("x&amp;y <b>粗</b> " * 400) + "</blockquote>"
    pieces = split_html(body, 500)
    assert len(pieces) > 5
    for piece in pieces:
        assert utf16_len(piece) < 500
        checker = TagChecker()
        checker.feed(piece)
        checker.close()
        assert checker.stack == []
        assert piece.startswith("<blockquote>") and piece.endswith("</blockquote>")


# --- WeChat -------------------------------------------------------------------------------

URL_LIKE = re.compile(r"https?://|www\.", re.IGNORECASE)


def test_wechat_has_no_links_but_the_read_more_link_at_the_very_end():
    d = fixed_week()
    parts = render_wechat(d, max_chars=600)
    assert len(parts) > 1
    assert all(len(p) < 600 for p in parts)
    *body, last = parts
    for part in body:
        assert not URL_LIKE.search(part)
    last_lines = last.rstrip().splitlines()
    assert not URL_LIKE.search("\n".join(last_lines[:-1]))
    assert last_lines[-1].endswith("https://club.example/digest/7") and "阅读原文" in last_lines[-1]
    joined = "\n".join(parts)
    assert "复现代码地址（链接见阅读原文）" in joined
    assert "<b>粗体</b>" in joined and "🚀🎉" in joined  # plain text: shown as typed


def test_wechat_without_web_url_has_no_url_at_all():
    parts = render_wechat(replace(fixed_week(), web_url=None))
    assert not any(URL_LIKE.search(p) for p in parts)
    assert all(len(p) < 1800 for p in parts)


def test_wechat_splits_big_weeks_under_the_limit():
    parts = render_wechat(_many_members(60, 300), max_chars=1800)
    assert len(parts) > 3 and all(len(p) < 1800 for p in parts)
    assert "\n".join(parts).count("▌成员") == 60


# --- HTML page ----------------------------------------------------------------------------


class PageChecker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.ids: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a":
            self.hrefs.append(attrs.get("href") or "")

    def handle_data(self, data):
        self.text.append(data)


def test_html_page_links_text_and_typography():
    d = fixed_week()
    page = render_html(d)
    checker = PageChecker()
    checker.feed(page)
    text = "".join(checker.text)
    assert "script" not in checker.tags and "img" not in checker.tags
    assert "<script>alert(1)</script>" in text and NASTY in text
    assert "49" not in text
    for href in checker.hrefs:
        assert href.startswith(("http://", "https://", "#")), href
        if href.startswith("#"):
            assert href[1:] in checker.ids
    assert "https://github.com/HaHuangChan/Deep-Mating-for-Portrait-Animation" in checker.hrefs
    assert not any("javascript" in h.lower() for h in checker.hrefs)
    assert '<html lang="zh-CN">' in page and 'name="viewport"' in page
    assert "prefers-color-scheme: dark" in page and "max-width: 42em" in page
    assert "line-height: 1.8" in page and "PingFang SC" in page


def test_template_syntax_in_user_text_is_data_everywhere():
    inject = "{{ 7*7 }} {% for x in range(3) %}loop{% endfor %} {# c #}"
    d = replace(
        fixed_week(), notes=[MemberNotes("member:1", "{{ config }}", [inject])], preface="{{ d }}"
    )
    outputs = [
        render_markdown(d),
        "\n".join(render_telegram(d)),
        "\n".join(render_wechat(d)),
        render_html(d),
    ]
    for output in outputs:
        assert "49" not in output and "looploop" not in output
        assert "{{ 7" in output and "{% for x in range(3) %}" in output.replace("\\", "")


def test_md_filter_drops_non_http_links_to_text():
    tokens = MD.parse(f_md("[x](javascript:alert(1)) and [y](https://ok.example/)"))
    assert _links(tokens) == ["https://ok.example/"]
    assert "[x](javascript:alert(1))" in _text(tokens)
    assert f_md("see https://a.example/x_y.") == "see <https://a.example/x_y>."


# --- credits and wording (issue #17 point 4) ----------------------------------------------

SEED_PREFACE = (
    "这里记录ML自学者群体，每周分享优秀的学习心得与资料。由于微信不允许外部链接，"
    "需要点击文末的「**阅读原文**」，才能访问文中的链接。*欢迎投稿* 2*3*4 a * b"
)


def test_admin_emphasis_is_emphasis_in_every_format():
    d = replace(fixed_week(), preface=SEED_PREFACE)
    markdown = render_markdown(d)
    assert "> 这里记录" in markdown and "「**阅读原文**」" in markdown
    strong = MD.render(markdown)
    assert "「<strong>阅读原文</strong>」" in strong and "<em>欢迎投稿</em>" in strong
    assert "2\\*3\\*4 a \\* b" in markdown  # stray asterisks stay literal
    telegram = render_telegram(d)[0]
    assert "「<b>阅读原文</b>」" in telegram and "<i>欢迎投稿</i>" in telegram
    wechat = render_wechat(d)[0]
    assert "「阅读原文」" in wechat and "*欢迎投稿*" not in wechat and "欢迎投稿" in wechat
    page = render_html(d)
    assert "「<strong>阅读原文</strong>」" in page and "<em>欢迎投稿</em>" in page
    assert "**" not in page.split('id="preface"')[1].split("</section>")[0]


def test_member_asterisks_stay_literal_and_admin_html_is_escaped():
    d = replace(fixed_week(), preface="<b>x</b> **粗 <i>体</i>**")
    assert "<b>&lt;b&gt;x&lt;/b&gt; </b>" not in render_telegram(d)[0]
    assert "&lt;b&gt;x&lt;/b&gt; <b>粗 &lt;i&gt;体&lt;/i&gt;</b>" in render_telegram(d)[0]
    assert "&lt;b&gt;x&lt;/b&gt; <strong>粗 &lt;i&gt;体&lt;/i&gt;</strong>" in render_html(d)
    notes = render_markdown(d).split("## 学习心得")[1]
    assert "\\* 星号 \\_下划线\\_" in notes  # a member's text is never treated as emphasis


def test_every_answer_names_its_answerer_and_the_asker_is_shown():
    d = fixed_week()
    one = replace(
        d.questions[0],
        answers=[AnswerEntry("sigmoid 做门控", "安芯")],
    )
    d = replace(d, questions=[one, d.questions[1]])
    for text in (
        render_markdown(d),
        "\n".join(render_telegram(d)),
        "\n".join(render_wechat(d)),
        render_html(d),
    ):
        assert "安芯" in text and "回答" in text
        assert "提问：大灵" in text or "提问：</i>" in text
        assert "提问：吕涛" in text
    assert "**回答**（安芯）：" in render_markdown(d)
    assert "<b>回答</b>（安芯）：" in "\n".join(render_telegram(d))


def test_readers_outside_chat_are_not_told_to_send_a_command():
    d = fixed_week()
    for text in (render_markdown(d), render_html(d)):
        assert "/answer 2" not in text and "你的回答" not in text
        assert "欢迎在群里解答" in text
    assert "/answer 2" in "\n".join(render_telegram(d))  # in the chat the command works


def english_week() -> Digest:
    """The same week as an English group reads it (members' own text stays as written)."""
    return replace(
        fixed_week(),
        lang="en",
        group_name="ML Self-Study Club",
        preface="The weekly notes and resources of our club.",
        join_text="Reply 「自学」 to join us.",
        chat_join_text={
            "telegram": "Send 「自学」 privately to the bot to join us.",
            "wechat": "Have a friend add the bot and send it 「自学」.",
        },
    )


@pytest.mark.parametrize("name", sorted(RENDERERS))
def test_golden_english(name):
    rendered = RENDERERS[name](english_week())
    path = GOLDEN / "en" / name
    if os.environ.get("STUDYBOT_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rendered, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}: run with STUDYBOT_UPDATE_GOLDEN=1"
    assert rendered == path.read_text(encoding="utf-8")
    for chinese_label in (
        "刊首语",
        "本期内容",
        "论文速递",
        "加入我们",
        "论文地址",
        "一句话概括",
        "暂无回答",
        "最佳回答",
        "提问：",
        "分享：",
        "周报",
        "阅读原文",
        "第1期",
        "[图片",
        "文中链接",
        "你的回答",
    ):
        assert chinese_label not in rendered, chinese_label
