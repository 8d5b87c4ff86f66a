"""The 公众号 article renderer on its own: the seed's sections, footnotes instead of links,
images only from WeChat, text shown literally, and WeChat's 20,000-character limit."""

from __future__ import annotations

import re

from digest.labels import label
from digest.render_mp import (
    MAX_CHARS,
    article_summary,
    image_urls,
    render_mp_article,
)
from tests.unit.test_digest_render import _many_members, fixed_week


def test_the_seed_week_as_an_article():
    d = fixed_week()
    html = render_mp_article(d)
    headings = re.findall(r"<h2[^>]*>([^<]+)</h2>", html)
    assert headings[:2] == ["刊首语", "本期内容"] and headings[-2:] == ["加入我们", "文中链接"]
    assert {"论文速递", "学习心得", "疑问解答", "学习资料"} <= set(headings)
    assert "<a " not in html and "href=" not in html and "class=" not in html
    # each distinct address once, numbered, as plain text
    notes = re.findall(r"\[(\d+)\] [^：<]*：(\S+?)</p>", html)
    numbers = [int(n) for n, _ in notes]
    assert numbers == list(range(1, len(numbers) + 1))
    assert len({url for _, url in notes}) == len(notes)
    assert "https://www.zhihu.com/question/46197687/answer/229098444" in html
    assert "**自学**" not in html and ">自学</strong>" in html  # the seed's bold
    assert "sigmoid 做门控 (0~1)，tanh 做状态 &lt;-1~1&gt;。" in html
    assert article_summary(d).startswith(f"{d.group_name}第{d.number}期：论文速递")


def test_images_are_kept_only_when_hosted_by_wechat():
    d = _many_members(1, 10)
    d = d.__class__(
        **{
            **d.__dict__,
            "preface": "看图 ![a](https://example.org/a.png) 和 "
            "![b](http://mmbiz.qpic.cn/mmbiz_png/x/0?wx_fmt=png)",
        }
    )
    assert image_urls(d) == [
        "https://example.org/a.png",
        "http://mmbiz.qpic.cn/mmbiz_png/x/0?wx_fmt=png",
    ]
    html = render_mp_article(d)
    assert (
        label("zh", "image_elsewhere") in html
        and 'src="http://mmbiz.qpic.cn/mmbiz_png/x/0?wx_fmt=png"' in html
    )
    hosted = render_mp_article(d, image_url=lambda url: "http://mmbiz.qpic.cn/uploaded/0")
    assert (
        label("zh", "image_elsewhere") not in hosted
        and 'src="http://mmbiz.qpic.cn/uploaded/0"' in hosted
    )
    assert "example.org/a.png" not in hosted


def test_a_huge_week_is_cut_under_wechat_limit():
    d = _many_members(60, 900)
    html = render_mp_article(d)
    assert len(html) < MAX_CHARS
    assert "全文见阅读原文" in html
    assert all(f">成员{i}</h3>" in html for i in range(60))  # every member, each cut short
