"""The digest as a 公众号 article: inline-styled HTML for ``draft/add`` and the editor.

WeChat's editor keeps only inline ``style`` attributes (no ``<style>``, classes or scripts) and
an article may not link outside WeChat. So :func:`render_mp_article` renders the seed's
sections (刊首语, 本期内容, then 论文速递, 学习心得, 学习资料, 疑问解答 in the digest's order, 加入我们)
with every style inline, and
turns each link into its label plus a footnote number; the footnotes (文中链接) list the
addresses as plain text at the end, and the 阅读原文 button (the draft's
``content_source_url``, the issue's web archive page) opens them all. Images are shown only
when ``image_url`` maps them to a WeChat-hosted address (``media/uploadimg``); others become
「（图片见阅读原文）」. ``**bold**`` in member text (the seed's 「**阅读原文**」) is bold.

WeChat's limits: under 20,000 characters of content (markup included) and 1 MB. A longer
issue is rendered again with each note and answer cut to its beginning (「……全文见阅读原文」),
shorter each time, down to the headings and names with 「全文见阅读原文」.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from digest.labels import labels
from digest.model import Digest
from digest.render_filters import ENV
from digest.text import IMAGE, LINK, segments

MAX_CHARS = 20_000  # WeChat: an article's content is under 20,000 characters
MAX_BYTES = 1_000_000
# over the limit, member text is cut to these many characters, step by step (0: a pointer only)
COLLAPSED_CHARS = (160, 60, 0)
ACCENT = "#0b63c4"
WECHAT_HOSTS = ("mmbiz.qpic.cn", "mmbiz.qlogo.cn")

STYLE = {
    "article": (
        "font-size:15px;line-height:1.75;color:#333;letter-spacing:0.5px;"
        "word-break:break-word;padding:0 4px;"
    ),
    "h2": (
        f"margin:32px 0 14px;padding:0 0 0 10px;border-left:4px solid {ACCENT};"
        f"font-size:18px;font-weight:bold;line-height:1.4;color:{ACCENT};"
    ),
    "h3": "margin:22px 0 8px;font-size:16px;font-weight:bold;line-height:1.5;color:#222;",
    "h4": "margin:12px 0 4px;font-size:15px;font-weight:bold;color:#222;",
    "p": "margin:8px 0;",
    "quote": (
        "margin:10px 0;padding:10px 14px;background:#f6f8fa;border-left:3px solid #d0d7de;"
        "color:#555;"
    ),
    "ul": "margin:4px 0 8px;padding-left:22px;",
    "li": "margin:2px 0;",
    "muted": "margin:6px 0;font-size:13px;color:#888;",
    "label": "margin:10px 0 2px;font-weight:bold;",
    "link": f"color:{ACCENT};",
    "sup": f"font-size:11px;color:{ACCENT};",
    "img": "display:block;max-width:100%;height:auto;margin:12px auto;",
    "notes": "margin:6px 0;font-size:12px;line-height:1.6;color:#888;word-break:break-all;",
    "title": "margin:0 0 4px;font-size:20px;font-weight:bold;color:#222;",
    "strong": "font-weight:bold;color:#222;",
}
BOLD = re.compile(r"\*\*([^*\n]+?)\*\*")


def is_wechat_image(url: str) -> bool:
    """True for images WeChat already hosts (they may stay in an article as they are)."""
    host = re.sub(r"^https?://", "", url).split("/", 1)[0].lower()
    return host in WECHAT_HOSTS


def image_urls(d: Digest) -> list[str]:
    """Every image address in the digest's member text, in order, once each."""
    texts = [d.preface, d.join_text]
    texts += [p.summary for p in d.papers]
    texts += [t for n in d.notes for t in n.texts]
    texts += [r.text for r in d.resources]
    for q in d.questions:
        texts.append(q.details)
        texts += [a.text for a in q.answers]
    found: dict[str, None] = {}
    for text in texts:
        for seg in segments(text or ""):
            if seg.kind == IMAGE:
                found.setdefault(seg.url)
    return list(found)


@dataclass
class _Writer:
    """Turns member text into styled paragraphs, numbering its links as footnotes."""

    image_url: Callable[[str], str | None]
    limit: int | None = None
    t: dict[str, str] = field(default_factory=lambda: labels("zh"))  # fixed words (digest.labels)
    footnotes: list[tuple[str, str]] = field(default_factory=list)

    def note(self, label: str, url: str) -> int:
        for number, (_, known) in enumerate(self.footnotes, start=1):
            if known == url:
                return number
        self.footnotes.append((label, url))
        return len(self.footnotes)

    def link(self, label: str, url: str) -> Markup:
        number = self.note(label, url)
        return Markup('<span style="{}">{}</span><sup style="{}">[{}]</sup>').format(
            STYLE["link"], label, STYLE["sup"], number
        )

    def text(self, text: str) -> Markup:
        """Plain text: escaped, line breaks kept, ``**bold**`` (as in the seed) in bold."""
        parts = BOLD.split(text)
        out = []
        for index, part in enumerate(parts):
            shown = escape(part).replace("\n", Markup("<br>"))
            if index % 2:
                shown = Markup('<strong style="{}">{}</strong>').format(STYLE["strong"], shown)
            out.append(shown)
        return Markup("").join(out)

    def rich(self, text: str, style: str = "p") -> Markup:
        text = (text or "").strip()
        if self.limit is not None and len(text) > self.limit:
            text = (text[: self.limit].rstrip() + "……" if self.limit else "") + self.t["cut_full"]
        out = []
        for paragraph in re.split(r"\n\s*\n", text):
            if not paragraph.strip():
                continue
            inner: list[Markup] = []
            for seg in segments(paragraph):
                if seg.kind == LINK:
                    inner.append(self.link(seg.text, seg.url))
                elif seg.kind == IMAGE:
                    hosted = seg.url if is_wechat_image(seg.url) else self.image_url(seg.url)
                    if hosted:
                        inner.append(
                            Markup('<img src="{}" alt="{}" style="{}">').format(
                                hosted, seg.text, STYLE["img"]
                            )
                        )
                    else:
                        inner.append(escape(self.t["image_elsewhere"]))
                else:
                    inner.append(self.text(seg.text))
            out.append(Markup('<p style="{}">{}</p>').format(STYLE[style], Markup("").join(inner)))
        return Markup("\n").join(out)


def _render(d: Digest, image_url: Callable[[str], str | None], limit: int | None) -> str:
    writer = _Writer(image_url=image_url, limit=limit, t=d.t)
    toc = [(section, d.section_title(section)) for section in d.sections]
    html = ENV.get_template("mp_article.html").render(d=d, toc=toc, s=STYLE, w=writer)
    return re.sub(r"\n\s*\n+", "\n", html).strip()


def render_mp_article(d: Digest, *, image_url: Callable[[str], str | None] | None = None) -> str:
    """The article's HTML (the ``content`` of a draft), within WeChat's limits."""
    mapper = image_url or (lambda url: None)
    html = _render(d, mapper, None)
    for limit in COLLAPSED_CHARS:
        if len(html) < MAX_CHARS and len(html.encode("utf-8")) < MAX_BYTES:
            break
        html = _render(d, mapper, limit)
    return html


def article_summary(d: Digest, limit: int = 110) -> str:
    """The draft's ``digest`` (the summary under the title in chats): what the issue holds."""
    counts = {
        "papers": len(d.papers),
        "notes": len(d.notes),
        "resources": len(d.resources),
        "questions": len(d.questions),
    }
    parts = [d.label(f"summary_{s}", n=counts[s]) for s in d.sections]
    head = d.label("summary_head", group=d.group_name, n=d.number)
    text = head + d.t["summary_sep"].join(parts) if parts else d.title
    return text if len(text) <= limit else text[: limit - 1] + "…"
