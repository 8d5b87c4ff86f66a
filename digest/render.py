"""Render a :class:`~digest.model.Digest` for each target, from Jinja2 templates.

* :func:`render_markdown` — the seed digest's shape, for the 公众号 editor and a git archive.
* :func:`render_telegram` — Telegram HTML messages, each under 4096 characters (UTF-16 code
  units, Telegram's measure), split at section, then entry boundaries, then inside an entry
  without breaking a tag or an entity.
* :func:`render_wechat` — plain text with no links but the 阅读原文 web link at the very end.
* :func:`render_html` — a standalone page for the web archive.

Autoescaping is on only for ``.html`` templates. The Markdown, Telegram and WeChat templates
are not autoescaped; every piece of user text goes through an explicit filter (``md``, ``tg``,
``wx``). User text is only ever template *data*: ``{{ 7*7 }}`` in a note is printed as is.
Telegram escaping is ``html.escape(text)``, which is exactly ``telegram.helpers.escape``
(PTB re-exports :func:`html.escape`; platform SDKs are imported only by adapters, and a unit
test compares the two).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from digest.model import SECTION_TITLES, Digest
from digest.text import (
    IMAGE,
    TEXT,
    escape_attr,
    escape_html,
    escape_markdown,
    safe_url,
    segments,
)

TELEGRAM_LIMIT = 4096
WECHAT_LINK_NOTE = "（链接见阅读原文）"
WECHAT_IMAGE_NOTE = "（图片见阅读原文）"
PART_SEP = "\n\n"
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


def f_md_quote(text: str) -> str:
    """Markdown blockquote of user text (every line prefixed)."""
    return "\n".join(f"> {line}" if line.strip() else ">" for line in f_md(text).split("\n"))


def f_url(url: str | None) -> str:
    """A safe http(s) URL or '' (templates test it to leave a bad link out)."""
    return (safe_url(url) or "") if url else ""


def f_tg(text: str) -> str:
    """Telegram HTML: escape plain runs, http(s) links as ``<a href>``."""
    out = []
    for seg in segments(text or ""):
        if seg.kind == TEXT:
            out.append(escape_html(seg.text))
        else:
            label = "图片" if seg.kind == IMAGE else seg.text
            out.append(f'<a href="{escape_attr(seg.url)}">{escape_html(label or seg.url)}</a>')
    return "".join(out)


def f_tg_href(url: str | None) -> str:
    """A safe http(s) URL escaped for a Telegram ``href`` attribute, or ''."""
    return escape_attr(f_url(url))


def f_wx(text: str) -> str:
    """WeChat plain text: links replaced by their text and 「（链接见阅读原文）」."""
    out = []
    for seg in segments(text or ""):
        if seg.kind == TEXT:
            out.append(seg.text)
        elif seg.kind == IMAGE:
            out.append(WECHAT_IMAGE_NOTE)
        elif _looks_like_url(seg.text):
            out.append(WECHAT_LINK_NOTE)
        else:
            out.append(seg.text + WECHAT_LINK_NOTE)
    return "".join(out)


def f_rich(text: str) -> Markup:
    """HTML: paragraphs and line breaks, text escaped, only http(s) URLs as links."""
    paragraphs = re.split(r"\n\s*\n", (text or "").strip())
    html_parts = []
    for paragraph in paragraphs:
        if not paragraph.strip():
            continue
        inner = []
        for seg in segments(paragraph):
            if seg.kind == TEXT:
                inner.append(escape_html(seg.text).replace("\n", "<br>\n"))
            else:
                label = (
                    f"[图片{('：' + seg.text) if seg.text else ''}]"
                    if seg.kind == IMAGE
                    else seg.text
                )
                inner.append(
                    f'<a href="{escape_attr(seg.url)}" rel="nofollow noopener">'
                    f"{escape_html(label)}</a>"
                )
        html_parts.append("<p>" + "".join(inner) + "</p>")
    return Markup("\n".join(html_parts))


def f_anchor(key: str) -> str:
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
        md_url=f_url,
        safe_href=f_url,
        tg=f_tg,
        tg_plain=escape_html,
        tg_href=f_tg_href,
        wx=f_wx,
        rich=f_rich,
        anchor=f_anchor,
    )
    return env


ENV = _environment()


def _toc(d: Digest) -> list[tuple[str, str]]:
    return [(section, SECTION_TITLES[section]) for section in d.sections]


# --- Markdown and HTML --------------------------------------------------------------------


def render_markdown(d: Digest) -> str:
    """The digest as Markdown in the seed's shape."""
    text = ENV.get_template("digest.md.j2").render(d=d, toc=_toc(d))
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip() + "\n"


def render_html(d: Digest, *, home_url: str | None = None, feed_url: str | None = None) -> str:
    """A standalone, responsive HTML page for the issue (web archive)."""
    return ENV.get_template("digest.html").render(
        d=d, toc=_toc(d), home_url=home_url, feed_url=feed_url
    )


# --- splitting ----------------------------------------------------------------------------


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units (how Telegram counts message length)."""
    return len(text.encode("utf-16-le")) // 2


def pack(
    sections: list[list[str]],
    limit: int,
    measure: Callable[[str], int],
    hard_split: Callable[[str, int], list[str]],
) -> list[str]:
    """Join sections into parts with ``measure(part) < limit``.

    A section goes whole into the current part, or starts a new part; a section too big for
    one part is split between its entries; an entry too big for a part is hard-split.
    """
    parts: list[str] = []
    current = ""

    def fits(text: str) -> bool:
        return measure(text) < limit

    def flush() -> None:
        nonlocal current
        if current:
            parts.append(current)
        current = ""

    def push(block: str) -> None:
        nonlocal current
        if fits(current + PART_SEP + block if current else block):
            current = current + PART_SEP + block if current else block
            return
        flush()
        if fits(block):
            current = block
            return
        pieces = hard_split(block, limit)
        parts.extend(pieces[:-1])
        current = pieces[-1]

    for section in sections:
        whole = PART_SEP.join(section)
        if fits(current + PART_SEP + whole if current else whole):
            current = current + PART_SEP + whole if current else whole
        elif fits(whole):
            flush()
            current = whole
        else:
            flush()
            for entry in section:
                push(entry)
    flush()
    return parts


_HTML_TOKEN = re.compile(r"<[^>]*>|&#?\w+;|[^<&\n]+\n?|\n")
_TAG_NAME = re.compile(r"</?\s*([a-zA-Z0-9-]+)")


def split_html(html: str, limit: int, measure: Callable[[str], int] = utf16_len) -> list[str]:
    """Split Telegram HTML into pieces under ``limit`` without cutting a tag or an entity;
    tags open at a cut are closed and reopened. Prefers cutting at line ends."""
    pieces: list[str] = []
    stack: list[tuple[str, str]] = []  # (name, opening tag)
    current = ""

    def closing() -> str:
        return "".join(f"</{name}>" for name, _ in reversed(stack))

    def reopening() -> str:
        return "".join(tag for _, tag in stack)

    def cut() -> None:
        nonlocal current
        pieces.append(current + closing())
        current = reopening()

    for token in _HTML_TOKEN.findall(html):
        if token.startswith("<"):
            match = _TAG_NAME.match(token)
            name = match.group(1).lower() if match else ""
            if token.startswith("</"):
                current += token
                if stack and stack[-1][0] == name:
                    stack.pop()
                continue
            if measure(current + token + f"</{name}>" + closing()) >= limit and current.strip():
                cut()
            current += token
            stack.append((name, token))
            continue
        units = [token] if token.startswith("&") else list(token)
        if measure(current + token + closing()) < limit:
            current += token
            continue
        if token.startswith("&") or measure(reopening() + token + closing()) < limit:
            cut()
            current += token
            continue
        for unit in units:  # a single line longer than a piece: cut between characters
            if measure(current + unit + closing()) >= limit:
                cut()
            current += unit
    if current.strip():
        pieces.append(current + closing())
    return [piece.strip("\n") for piece in pieces if piece.strip()]


def split_text(text: str, limit: int, measure: Callable[[str], int] = len) -> list[str]:
    """Split plain text into pieces under ``limit``, at line ends when possible."""
    pieces: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        if measure(current + line) < limit:
            current += line
            continue
        if current:
            pieces.append(current)
            current = ""
        while measure(line) >= limit:
            pieces.append(line[: limit - 1])
            line = line[limit - 1 :]
        current = line
    if current:
        pieces.append(current)
    return [piece.strip("\n") for piece in pieces if piece.strip()]


# --- Telegram and WeChat ------------------------------------------------------------------


def _sections(d: Digest, module: Any, numbered: bool) -> list[list[str]]:
    """The digest as sections of entries, from the macros of a parts template."""
    sections: list[list[str]] = [[str(module.header(d)).strip()]]
    toc = _toc(d)
    if toc:
        first, *rest = [str(module.toc_part(d, s, t, numbered)).strip() for s, t in toc]
        sections.append([str(module.section_head("本期内容")) + "\n" + first, *rest])
    groups: list[tuple[str, list[Any], Any]] = [
        ("论文速递", d.papers, module.paper),
        ("学习心得", d.notes, module.notes),
        ("疑问解答", d.questions, module.question),
    ]
    for title, entries, macro in groups:
        if not entries:
            continue
        blocks = [re.sub(r"\n{3,}", "\n\n", str(macro(e)).strip()) for e in entries]
        blocks[0] = str(module.section_head(title)) + "\n" + blocks[0]
        sections.append(blocks)
    sections.append([str(module.section_head("加入我们")) + "\n" + str(module.join(d)).strip()])
    return sections


def render_telegram(d: Digest, *, limit: int = TELEGRAM_LIMIT, numbered: bool = False) -> list[str]:
    """Telegram HTML messages (parse_mode HTML), each under ``limit`` UTF-16 units.

    ``numbered`` shows the table-of-contents numbers used by ``/digest feature|drop N``.
    """
    module = ENV.get_template("telegram.tg.j2").module
    return pack(
        _sections(d, module, numbered),
        limit,
        utf16_len,
        lambda block, lim: split_html(block, lim, utf16_len),
    )


def render_wechat(d: Digest, *, max_chars: int = 1800, numbered: bool = False) -> list[str]:
    """WeChat plain-text messages under ``max_chars``; the only link is the 阅读原文 web link
    (``d.web_url``) at the end of the last part."""
    module = ENV.get_template("wechat.txt.j2").module
    sections = _sections(d, module, numbered)
    url = safe_url(d.web_url) if d.web_url else None
    if url:
        sections.append([f"👉 阅读原文（文中链接都在这里）：{url}"])
    return pack(sections, max_chars, len, lambda block, lim: split_text(block, lim, len))
