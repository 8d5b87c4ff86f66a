"""The length budget (issue #17 point 5) over a heavy week — 60 members' check-ins, 20 papers,
15 questions, 8 resources: no target over its limit, collapsing deterministic, featured entries
kept in full, every continuation part labelled; golden renders of every target
(``STUDYBOT_UPDATE_GOLDEN=1`` rewrites them)."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import parse_config
from digest.budget import fit_markdown, fit_telegram, fit_wechat
from digest.model import (
    AnswerEntry,
    Digest,
    MemberNotes,
    PaperEntry,
    QuestionEntry,
    ResourceEntry,
)
from digest.render import render_html
from digest.render_split import utf16_len

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
CONFIG = parse_config({})
URL = "https://club.example/issues/9"


def heavy_week() -> Digest:
    """A busy week in the seed's style, sized like the one the issue measured (21.5k chars)."""
    papers = [
        PaperEntry(
            key=f"paper:{i}",
            title=f"第{i}篇：一种新的自监督表示学习方法",
            url=f"https://arxiv.org/abs/2401.{10000 + i}",
            arxiv_id=f"2401.{10000 + i}",
            summary="该文献属于表示学习领域。文章提出了一种对比学习框架，" * 6,
            one_liner=f"用更少的标注学到更好的表示（{i}）",
            code_url=f"https://github.com/club/paper{i}",
            shared_by=f"成员{i}",
            paper_name=f"Self-Supervised Representation Learning {i}",
        )
        for i in range(1, 21)
    ]
    notes = [
        MemberNotes(
            key=f"member:{i}",
            member_name=f"成员{i}",
            texts=[f"本周第{i}位：复习了概率论和线性代数，做了 CS231n 作业。" * 5],
        )
        for i in range(1, 61)
    ]
    questions = [
        QuestionEntry(
            key=f"question:{i}",
            number=i,
            title=f"问题{i}：lstm 激活函数为什么 sigmoid 和 tanh 同时存在",
            text=f"问题{i}：lstm 激活函数为什么 sigmoid 和 tanh 同时存在\n" + "补充说明。" * 10,
            asked_by=f"成员{i}",
            answers=[AnswerEntry("sigmoid 做门控，tanh 做状态。" * 4, f"成员{i + 1}", best=True)]
            if i % 3
            else [],
            carried_over=i > 12,
            open=i % 3 == 0,
        )
        for i in range(1, 16)
    ]
    resources = [
        ResourceEntry(
            key=f"resource:{i}",
            title=f"资料{i}：神经网络入门 [荐]",
            url=f"https://zhuanlan.zhihu.com/p/{i}",
            text="讲得很清楚",
            tags=("入门",) if i % 2 else ("nlp",),
            shared_by=f"成员{i}",
        )
        for i in range(1, 9)
    ]
    return Digest(
        group_name="ML自学者俱乐部",
        number=9,
        period_start=datetime(2026, 11, 15, 12, 0, tzinfo=UTC),
        period_end=datetime(2026, 11, 22, 12, 0, tzinfo=UTC),
        preface="这里记录ML自学者群体，每周分享优秀的学习心得与资料。请点击文末的「**阅读原文**」。",
        papers=papers,
        notes=notes,
        questions=questions,
        join_text="公众号内回复「自学」，即可加入ML自学者俱乐部社群。",
        web_url=URL,
        resources=resources,
        featured=("member:7", "paper:3", "question:2"),
        toc_names_max=CONFIG.digest.budget.toc_names_max,
    )


def test_every_target_within_its_budget_and_says_where_the_rest_is():
    d = heavy_week()
    markdown, telegram, wechat = (
        fit_markdown(d, CONFIG),
        fit_telegram(d, CONFIG),
        fit_wechat(d, CONFIG),
    )
    assert markdown.fits and len(markdown.parts[0]) < 20_000
    assert telegram.fits and len(telegram.parts) <= 4
    assert all(utf16_len(p) < 4096 for p in telegram.parts)
    assert wechat.fits and len(wechat.parts) <= 3
    assert all(len(p) < CONFIG.wechat.max_text_chars for p in wechat.parts)
    for fitted in (markdown, telegram, wechat):
        text = "\n".join(fitted.parts)
        assert fitted.collapsed and fitted.collapsed[0] == "notes"
        assert "全文见阅读原文" in text
        assert "另有 59 位成员的心得" in text  # the featured member is shown in full
        assert "成员7</" in text or "### 成员7" in text or "▌成员7" in text
        assert "共 60 位成员的心得" in text  # 本期内容 counts, it does not list 60 names
        assert "成员59、成员60" in text  # the rest listed by name
    assert URL in "\n".join(telegram.parts) and URL in markdown.parts[0]
    assert wechat.parts[-1].rstrip().endswith(URL)
    # the web page (阅读原文 itself) is complete
    page = render_html(d)
    assert all(f"成员{i}" in page for i in range(1, 61)) and "另有" not in page


def test_collapsing_is_deterministic_and_small_weeks_are_untouched():
    d = heavy_week()
    assert fit_telegram(d, CONFIG) == fit_telegram(heavy_week(), CONFIG)
    small = replace(d, notes=d.notes[:3], papers=d.papers[:2], questions=d.questions[:2])
    for fitted in (
        fit_markdown(small, CONFIG),
        fit_telegram(small, CONFIG),
        fit_wechat(small, CONFIG),
    ):
        assert fitted.fits and fitted.collapsed == ()
        assert "另有" not in "\n".join(fitted.parts)


def test_continuation_parts_say_which_part_and_section():
    d = heavy_week()
    config = parse_config({"digest": {"budget": {"telegram_messages": 50, "wechat_messages": 50}}})
    for fitted in (fit_telegram(d, config), fit_wechat(d, config)):
        parts = fitted.parts
        assert len(parts) > 4 and fitted.collapsed == ()
        for n, part in enumerate(parts[1:], start=2):
            first = part.splitlines()[0]
            assert re.fullmatch(
                rf"(<i>)?（续 {n}/{len(parts)}）(本期内容|论文速递|学习心得|学习资料|疑问解答|加入我们)(</i>)?",
                first,
            ), first


def test_budget_is_configurable():
    config = parse_config({"digest": {"budget": {"markdown_chars": 60_000}}})
    assert fit_markdown(heavy_week(), config).collapsed == ()
    with pytest.raises(ValueError):
        parse_config({"digest": {"budget": {"telegram_messages": 0}}})


SEP = "\n\n===== 下一条消息 =====\n\n"
HEAVY = {
    "heavy.md": lambda d: fit_markdown(d, CONFIG).parts[0],
    "heavy.telegram.html": lambda d: SEP.join(fit_telegram(d, CONFIG).parts) + "\n",
    "heavy.wechat.txt": lambda d: SEP.join(fit_wechat(d, CONFIG).parts) + "\n",
    "heavy.html": lambda d: render_html(d),
}


@pytest.mark.parametrize("name", sorted(HEAVY))
def test_heavy_week_golden(name):
    rendered = HEAVY[name](heavy_week())
    path = GOLDEN / name
    if os.environ.get("STUDYBOT_UPDATE_GOLDEN") == "1":
        path.write_text(rendered, encoding="utf-8")
    assert rendered == path.read_text(encoding="utf-8")
