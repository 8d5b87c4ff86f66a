"""What each digest chat is sent: an issue rendered into the parts of one platform.

Owns the issue's web-archive address (the WeChat 阅读原文 link), the links the stored issue
page uses, the plain-text fallback of a Telegram HTML part, and :func:`render_parts`, which
:mod:`digest.publish` freezes into every delivery at the first attempt.
"""

from __future__ import annotations

import html
import re

from bot.config import Config
from digest.budget import fit_telegram, fit_wechat
from digest.model import Digest

ISSUE_HOME_URL = "../"  # the issue page's link to the index, relative (server and export)
ISSUE_FEED_URL = "../atom.xml"


def archive_path(config: Config, slug: str | None = None) -> str:
    """Where a group's web archive lives: the root (``""``) for the first configured group
    (and when ``slug`` is None), ``/g/<slug>`` for the others."""
    return "" if slug is None or slug == config.groups[0].slug else f"/g/{slug}"


def issue_url(config: Config, number: int, slug: str | None = None) -> str:
    """The issue's page on the web archive (the WeChat 阅读原文 link) in group ``slug``."""
    return f"{config.web.base_url.rstrip('/')}{archive_path(config, slug)}/issues/{number}"


_LINK = re.compile(r'<a\s+href="([^"]*)"[^>]*>(.*?)</a>', re.S)
_TAG = re.compile(r"<[^>]+>")


def html_to_text(part: str) -> str:
    """A plain-text fallback of a Telegram HTML part: tags dropped, links as ``text (url)``."""

    def link(match: re.Match[str]) -> str:
        url, label = html.unescape(match.group(1)), _TAG.sub("", match.group(2))
        label = html.unescape(label)
        return label if label.strip() == url else f"{label} ({url})"

    return html.unescape(_TAG.sub("", _LINK.sub(lambda m: html.escape(link(m)), part)))


def render_parts(d: Digest, platform: str, config: Config) -> list[dict[str, str | None]]:
    """The messages a chat on ``platform`` gets: [{"text": plain, "html": telegram-html}],
    within the platform's length budget (:mod:`digest.budget`) — exactly what ``/digest
    preview`` shows in that chat: WeChat text on WeChat, the Telegram layout elsewhere (the
    console too), never the 公众号 article, which is the 公众号's own."""
    if platform == "wechat":
        return [{"text": p, "html": None} for p in fit_wechat(d, config).parts]
    fitted = fit_telegram(d, config, platform=platform)
    return [{"text": html_to_text(p), "html": p} for p in fitted.parts]
