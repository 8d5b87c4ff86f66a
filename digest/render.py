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

The escaping filters and the Jinja2 environment are :mod:`digest.render_filters`, splitting
into messages under a length limit is :mod:`digest.render_split`; this module renders each
target, and the public names of all three are importable from here.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from digest.model import (
    SECTION_NOTES,
    SECTION_PAPERS,
    SECTION_QUESTIONS,
    SECTION_RESOURCES,
    SECTION_UNITS,
    Digest,
    entry_code,
)
from digest.render_filters import ENV
from digest.render_split import pack, split_html, split_text, utf16_len
from digest.text import safe_url

TELEGRAM_LIMIT = 4096


ENV.globals["units"] = SECTION_UNITS


def _toc(d: Digest) -> list[tuple[str, str]]:
    return [(section, d.section_title(section)) for section in d.sections]


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


# --- Telegram and WeChat ------------------------------------------------------------------


CONTINUATION_RESERVE = 80  # room kept in every part for the 「（续 n/m）section」 line


def _parts(d: Digest, name: str) -> Any:
    """A parts template's macros, with the digest's labels (``t``, ``label``) in reach."""
    return ENV.get_template(name).make_module({"t": d.t, "label": d.label})


def _sections(d: Digest, module: Any, numbered: bool) -> list[tuple[str, list[str]]]:
    """The digest as (heading, entries) sections, from the macros of a parts template."""
    sections: list[tuple[str, list[str]]] = [(d.t["preface"], [str(module.header(d)).strip()])]
    toc = _toc(d)
    if toc:
        first, *rest = [str(module.toc_part(d, s, t, numbered)).strip() for s, t in toc]
        sections.append(
            (d.t["contents"], [str(module.section_head(d.t["contents"])) + "\n" + first, *rest])
        )
    macros: dict[str, Any] = {
        SECTION_PAPERS: module.paper,
        SECTION_NOTES: module.notes,
        SECTION_RESOURCES: module.resource_group,
        SECTION_QUESTIONS: module.question,
    }
    for section in d.sections:
        title = d.section_title(section)
        entries = d.shown_resource_groups if section == SECTION_RESOURCES else d.shown(section)
        blocks = [re.sub(r"\n{3,}", "\n\n", str(macros[section](e)).strip()) for e in entries]
        names = d.rest(section)
        if names:
            blocks.append(str(module.rest(d, section, names)).strip())
        blocks[0] = str(module.section_head(title)) + "\n" + blocks[0]
        sections.append((title, blocks))
    sections.append(
        (d.t["join"], [str(module.section_head(d.t["join"])) + "\n" + str(module.join(d)).strip()])
    )
    return sections


def _label_continuations(
    parts: list[str], sections: list[tuple[str, list[str]]], module: Any
) -> list[str]:
    """Start every part after the first with 「（续 n/m）」 and the section it continues or opens."""
    total = len(parts)
    if total < 2:
        return parts
    heads = [(title, str(module.section_head(title))) for title, _ in sections]
    current = heads[0][0]
    labelled = [parts[0]]
    for title, head in heads:
        if head in parts[0]:
            current = title
    for n, part in enumerate(parts[1:], start=2):
        opening = next((title for title, head in heads if part.startswith(head)), None)
        label = opening or current
        labelled.append(str(module.continued(n, total, label)).strip() + "\n" + part)
        for title, head in heads:
            if head in part:
                current = title
    return labelled


def _with_codes(d: Digest) -> Digest:
    """For previews: each check-in prefixed with its stable reference (``〔C45〕``), so one
    check-in can be dropped without dropping the member's whole block."""
    notes = [
        replace(
            n, texts=[f"〔{entry_code(k)}〕{t}" for k, t in zip(n.text_keys, n.texts, strict=True)]
        )
        if len(n.text_keys) == len(n.texts)
        else n
        for n in d.notes
    ]
    return replace(d, notes=notes)


def render_telegram(
    d: Digest,
    *,
    limit: int = TELEGRAM_LIMIT,
    numbered: bool = False,
    platform: str = "telegram",
) -> list[str]:
    """Telegram HTML messages (parse_mode HTML), each under ``limit`` UTF-16 units, worded for
    a chat on ``platform`` (Telegram, or the console, which gets the same layout).

    ``numbered`` shows the table-of-contents numbers used by ``/digest feature|drop N``.
    Parts after the first say 「（续 n/m）」 and their section; the last links the web archive.
    """
    if numbered:
        d = _with_codes(d)
    d = d.for_chat(platform)
    module: Any = _parts(d, "telegram.tg.j2")
    sections = _sections(d, module, numbered)
    archive = str(module.archive(d)).strip()
    if archive:
        sections.append((d.t["join"], [archive]))
    room = limit - CONTINUATION_RESERVE
    parts = pack(
        [blocks for _, blocks in sections],
        room,
        utf16_len,
        lambda block, lim: split_html(block, lim, utf16_len),
    )
    return _label_continuations(parts, sections, module)


def render_wechat(d: Digest, *, max_chars: int = 1800, numbered: bool = False) -> list[str]:
    """WeChat plain-text messages under ``max_chars``; the only link is the 阅读原文 web link
    (``d.web_url``) at the end of the last part. Parts after the first say 「（续 n/m）」."""
    if numbered:
        d = _with_codes(d)
    d = d.for_chat("wechat")
    module = _parts(d, "wechat.txt.j2")
    sections = _sections(d, module, numbered)
    url = safe_url(d.web_url) if d.web_url else None
    if url:
        sections.append((d.t["join"], [d.label("read_more", url=url)]))
    room = max(max_chars - CONTINUATION_RESERVE, max_chars // 2)
    parts = pack(
        [blocks for _, blocks in sections],
        room,
        len,
        lambda block, lim: split_text(block, lim, len),
    )
    return _label_continuations(parts, sections, module)
