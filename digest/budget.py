"""Fit a digest into each target's length budget (``digest.budget`` in config).

A target that would be too long — the Markdown article over ``markdown_chars`` characters (the
公众号 limit is 20,000), more than ``telegram_messages`` / ``wechat_messages`` chat messages —
gets its content sections collapsed one at a time, in :data:`COLLAPSE_ORDER`, until it fits:
a collapsed section shows the featured entries in full and lists the rest by name, with
「全文见阅读原文」 and the archive link. The order is fixed, so the same week always collapses
the same way. The web page (阅读原文 itself) is never collapsed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from bot.config import Config
from digest.model import (
    SECTION_NOTES,
    SECTION_PAPERS,
    SECTION_QUESTIONS,
    SECTION_RESOURCES,
    Digest,
)
from digest.render import render_markdown, render_telegram, render_wechat
from digest.render_split import utf16_len

#: Sections collapsed first to last: the long per-member notes first, papers last.
COLLAPSE_ORDER = (SECTION_NOTES, SECTION_QUESTIONS, SECTION_RESOURCES, SECTION_PAPERS)

TARGET_MARKDOWN = "markdown"
TARGET_TELEGRAM = "telegram"
TARGET_WECHAT = "wechat"


@dataclass(frozen=True)
class Fitted:
    """What one target gets: its parts, whether they fit, which sections were collapsed."""

    target: str
    parts: list[str]
    collapsed: tuple[str, ...]
    fits: bool
    sizes: list[int]


def _fit(
    d: Digest, render: Callable[[Digest], list[str]], fits: Callable[[list[str]], bool]
) -> tuple[list[str], tuple[str, ...], bool]:
    parts = render(d)
    collapsed: list[str] = []
    for section in COLLAPSE_ORDER:
        if fits(parts):
            return parts, tuple(collapsed), True
        if section not in d.sections:
            continue
        collapsed.append(section)
        d = replace(d, collapsed=frozenset(collapsed))
        parts = render(d)
    return parts, tuple(collapsed), fits(parts)


def with_toc_limit(d: Digest, config: Config) -> Digest:
    return replace(d, toc_names_max=config.digest.budget.toc_names_max)


def fit_markdown(d: Digest, config: Config) -> Fitted:
    """The Markdown article (公众号 / archive ``.md``) within ``budget.markdown_chars``."""
    limit = config.digest.budget.markdown_chars
    parts, collapsed, ok = _fit(
        with_toc_limit(d, config), lambda x: [render_markdown(x)], lambda p: len(p[0]) < limit
    )
    return Fitted(TARGET_MARKDOWN, parts, collapsed, ok, [len(p) for p in parts])


def fit_telegram(
    d: Digest, config: Config, *, numbered: bool = False, platform: str = "telegram"
) -> Fitted:
    """Telegram messages, at most ``budget.telegram_messages`` (the console's chat gets the
    same layout, with its own wording: ``platform``)."""
    most = config.digest.budget.telegram_messages
    parts, collapsed, ok = _fit(
        with_toc_limit(d, config),
        lambda x: render_telegram(x, numbered=numbered, platform=platform),
        lambda p: len(p) <= most,
    )
    return Fitted(TARGET_TELEGRAM, parts, collapsed, ok, [utf16_len(p) for p in parts])


def fit_wechat(d: Digest, config: Config, *, numbered: bool = False) -> Fitted:
    """WeChat text messages, at most ``budget.wechat_messages``."""
    most = config.digest.budget.wechat_messages
    parts, collapsed, ok = _fit(
        with_toc_limit(d, config),
        lambda x: render_wechat(x, max_chars=config.wechat.max_text_chars, numbered=numbered),
        lambda p: len(p) <= most,
    )
    return Fitted(TARGET_WECHAT, parts, collapsed, ok, [len(p) for p in parts])
