"""Splitting and escaping Telegram HTML: every part fits, nothing is cut inside markup."""

from __future__ import annotations

import html
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.adapters.telegram_text import (
    MAX_MESSAGE,
    escape,
    split_html,
    strip_tags,
    utf16_len,
)

ENTITY = re.compile(r"&(amp|lt|gt|quot|#\d+);")


def squash(text: str) -> str:
    return "".join(text.split())


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.text(alphabet=st.sampled_from("学习ab <>&\n😀 "), min_size=0, max_size=400),
        min_size=1,
        max_size=40,
    )
)
def test_escaped_text_splits_into_valid_parts_that_keep_every_character(
    chunks: list[str],
) -> None:
    text = "".join(chunks) * 3
    parts = split_html(escape(text), limit=500)
    for part in parts:
        assert utf16_len(part) <= 500
        assert "<" not in part and ">" not in part
        assert part.count("&") == len(ENTITY.findall(part))  # no entity cut in half
    assert squash("".join(html.unescape(p) for p in parts)) == squash(text)


def test_emoji_count_twice_towards_the_limit() -> None:
    text = "😀" * 3000  # 6000 UTF-16 units
    parts = split_html(text)
    assert len(parts) == 2
    assert all(utf16_len(part) < MAX_MESSAGE for part in parts)
    assert "".join(parts) == text


def test_split_reopens_tags_in_the_next_part() -> None:
    body = "\n".join(f"第 {i} 行 <i>斜体</i> & 更多" for i in range(300))
    parts = split_html(f"<pre>{body}</pre>", limit=1000)
    assert len(parts) > 3
    for part in parts:
        assert part.startswith("<pre>") and part.endswith("</pre>")
    assert squash(strip_tags("".join(parts))) == squash(strip_tags(f"<pre>{body}</pre>"))


def test_a_tag_is_never_cut() -> None:
    link = '<a href="https://github.com/karpathy/nanoGPT">nanoGPT</a>'
    parts = split_html(" ".join([link] * 200), limit=700)
    for part in parts:
        assert part.count("<a ") == part.count("</a>")
        assert re.sub(r"<a href=\"[^\"]+\">|</a>", "", part).count("<") == 0


def test_escape_leaves_quotes_alone() -> None:
    assert escape('a < b && "c" > d') == 'a &lt; b &amp;&amp; "c" &gt; d'
    assert split_html("   \n ") == []
