"""The Jinja2 filters that escape user text for each digest target, and the environment.

Every piece of user text in a template goes through one of these: ``md`` / ``md_quote``
(Markdown), ``tg`` (Telegram HTML), ``wx`` (WeChat plain text: links replaced by
「（链接见阅读原文）」), ``rich`` (the web page); URLs through ``md_url`` / ``safe_href`` /
``tg_href`` (http(s) only, else ''). :data:`ENV` loads ``digest/templates`` with autoescaping
on only for ``.html`` templates; :mod:`digest.render` renders with it.
"""

from __future__ import annotations

import re
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context, select_autoescape
from markupsafe import Markup

from digest.text import (
    IMAGE,
    TEXT,
    emphasis_runs,
    escape_attr,
    escape_html,
    escape_markdown,
    safe_url,
    segments,
)

WECHAT_LINK_NOTE = "（链接见阅读原文）"
WECHAT_IMAGE_NOTE = "（图片见阅读原文）"
_SLOT_CHARS = re.compile("[\ue000\ue001]")


def _looks_like_url(value: str) -> bool:
    return value.lower().startswith(("http://", "https://", "www."))


# --- filters ------------------------------------------------------------------------------


_SLOT = re.compile("\ue000(\\d+)\ue001")


def f_md(text: str) -> str:
    """Markdown: escape plain runs, keep http(s) links (bare URLs become autolinks).

    Links are swapped for placeholders while the whole text is escaped, so line-level rules
    (a line of dashes, a heading mark) see each line as a reader would.
    """
    links: list[str] = []
    source = []
    for seg in segments(_SLOT_CHARS.sub("", text or "")):
        if seg.kind == TEXT:
            source.append(seg.text)
            continue
        if seg.kind == IMAGE:
            links.append(f"![{escape_markdown(seg.text)}]({seg.url})")
        elif _looks_like_url(seg.text):
            links.append(f"<{seg.url}>")
        else:
            links.append(f"[{escape_markdown(seg.text)}]({seg.url})")
        source.append(f"\ue000{len(links) - 1}\ue001")
    escaped = escape_markdown("".join(source))
    return _SLOT.sub(lambda m: links[int(m.group(1))], escaped)


def f_md_inline(text: str) -> str:
    """Markdown on one line (for a list item): whitespace runs, line breaks too, as a space."""
    return f_md(" ".join((text or "").split()))


def f_md_quote(text: str) -> str:
    """Markdown blockquote of user text (every line prefixed)."""
    return "\n".join(f"> {line}" if line.strip() else ">" for line in f_md(text).split("\n"))


def f_url(url: str | None) -> str:
    """A safe http(s) URL or '' (templates test it to leave a bad link out)."""
    return (safe_url(url) or "") if url else ""


def f_tg(text: str, image: str = "图片") -> str:
    """Telegram HTML: escape plain runs, http(s) links as ``<a href>`` (an image's link reads
    ``image``)."""
    out = []
    for seg in segments(text or ""):
        if seg.kind == TEXT:
            out.append(escape_html(seg.text))
        else:
            label = image if seg.kind == IMAGE else seg.text
            out.append(f'<a href="{escape_attr(seg.url)}">{escape_html(label or seg.url)}</a>')
    return "".join(out)


def f_tg_href(url: str | None) -> str:
    """A safe http(s) URL escaped for a Telegram ``href`` attribute, or ''."""
    return escape_attr(f_url(url))


def f_wx(text: str, link_note: str = WECHAT_LINK_NOTE, image_note: str = WECHAT_IMAGE_NOTE) -> str:
    """WeChat plain text: links replaced by their text and 「（链接见阅读原文）」."""
    out = []
    for seg in segments(text or ""):
        if seg.kind == TEXT:
            out.append(seg.text)
        elif seg.kind == IMAGE:
            out.append(image_note)
        elif _looks_like_url(seg.text):
            out.append(link_note)
        else:
            out.append(seg.text + link_note)
    return "".join(out)


def _wx_notes(context: Any) -> tuple[str, str]:
    """The link and image notes in the digest's language (``t`` of a parts template)."""
    labels = context.get("t") or {}
    return labels.get("wx_link", WECHAT_LINK_NOTE), labels.get("wx_image", WECHAT_IMAGE_NOTE)


@pass_context
def f_wx_in(context: Any, text: str) -> str:
    """:func:`f_wx` with the notes in the template's language."""
    return f_wx(text, *_wx_notes(context))


@pass_context
def f_wx_admin_in(context: Any, text: str) -> str:
    """:func:`f_wx_admin` with the notes in the template's language."""
    notes = _wx_notes(context)
    return "".join(f_wx(run, *notes) for _, run in emphasis_runs(text))


def _rich_inline(text: str, image: str = "图片") -> str:
    """HTML of one paragraph's text: escaped, line breaks as ``<br>``, http(s) URLs as links."""
    inner = []
    for seg in segments(text):
        if seg.kind == TEXT:
            inner.append(escape_html(seg.text).replace("\n", "<br>\n"))
        else:
            label = seg.text
            if seg.kind == IMAGE:
                colon = "：" if image == "图片" else ": "
                label = f"[{image}{colon + seg.text if seg.text else ''}]"
            inner.append(
                f'<a href="{escape_attr(seg.url)}" rel="nofollow noopener">{escape_html(label)}</a>'
            )
    return "".join(inner)


def f_rich(text: str, image: str = "图片") -> Markup:
    """HTML: paragraphs and line breaks, text escaped, only http(s) URLs as links."""
    paragraphs = re.split(r"\n\s*\n", (text or "").strip())
    return Markup(
        "\n".join("<p>" + _rich_inline(p, image) + "</p>" for p in paragraphs if p.strip())
    )


# --- admin text (preface, join text): Markdown emphasis kept as emphasis --------------------

_TAGS = {"strong": ("<b>", "</b>"), "em": ("<i>", "</i>")}
_HTML_TAGS = {"strong": ("<strong>", "</strong>"), "em": ("<em>", "</em>")}
_MD_MARKS = {"strong": "**", "em": "*"}


def f_md_admin(text: str) -> str:
    """Markdown of admin text: ``**bold**`` / ``*italic*`` kept, everything else escaped."""
    out = []
    for kind, run in emphasis_runs(text):
        mark = _MD_MARKS.get(kind, "")
        out.append(f"{mark}{f_md(run)}{mark}")
    return "".join(out)


def f_md_admin_quote(text: str) -> str:
    """:func:`f_md_admin` as a blockquote (every line prefixed)."""
    lines = f_md_admin(text).split("\n")
    return "\n".join(f"> {line}" if line.strip() else ">" for line in lines)


def f_tg_admin(text: str, image: str = "图片") -> str:
    """Telegram HTML of admin text: emphasis as ``<b>`` / ``<i>``."""
    out = []
    for kind, run in emphasis_runs(text):
        start, end = _TAGS.get(kind, ("", ""))
        out.append(f"{start}{f_tg(run, image)}{end}")
    return "".join(out)


def f_wx_admin(text: str) -> str:
    """WeChat text of admin text: plain text has no emphasis, so the marks are dropped."""
    return "".join(f_wx(run) for _, run in emphasis_runs(text))


def f_rich_admin(text: str, image: str = "图片") -> Markup:
    """HTML paragraphs of admin text: emphasis as ``<strong>`` / ``<em>``."""
    paragraphs = re.split(r"\n\s*\n", (text or "").strip())
    html_parts = []
    for paragraph in paragraphs:
        if not paragraph.strip():
            continue
        inner = []
        for kind, run in emphasis_runs(paragraph):
            start, end = _HTML_TAGS.get(kind, ("", ""))
            inner.append(f"{start}{_rich_inline(run, image)}{end}")
        html_parts.append("<p>" + "".join(inner) + "</p>")
    return Markup("\n".join(html_parts))


def _image_label(context: Any) -> str:
    """What an image's link reads in the template's digest language (``d.t.image``)."""
    d = context.get("d")
    labels = getattr(d, "t", None) or {}
    return str(labels.get("image", "图片"))


@pass_context
def f_tg_in(context: Any, text: str) -> str:
    return f_tg(text, _image_label(context))


@pass_context
def f_tg_admin_in(context: Any, text: str) -> str:
    return f_tg_admin(text, _image_label(context))


@pass_context
def f_rich_in(context: Any, text: str) -> Markup:
    return f_rich(text, _image_label(context))


@pass_context
def f_rich_admin_in(context: Any, text: str) -> Markup:
    return f_rich_admin(text, _image_label(context))


def f_anchor(key: str) -> str:
    """An id for an HTML anchor: lower case, anything but a-z, 0-9 and - as -."""
    return re.sub(r"[^a-z0-9-]", "-", key.lower())


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("digest", "templates"),
        autoescape=select_autoescape(
            enabled_extensions=("html",), default_for_string=False, default=False
        ),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,
    )
    env.filters.update(
        md=f_md,
        md_quote=f_md_quote,
        md_inline=f_md_inline,
        md_url=f_url,
        safe_href=f_url,
        tg=f_tg_in,
        tg_plain=escape_html,
        tg_href=f_tg_href,
        wx=f_wx_in,
        rich=f_rich_in,
        md_admin=f_md_admin,
        md_admin_quote=f_md_admin_quote,
        tg_admin=f_tg_admin_in,
        wx_admin=f_wx_admin_in,
        rich_admin=f_rich_admin_in,
        anchor=f_anchor,
    )
    return env


ENV = _environment()
