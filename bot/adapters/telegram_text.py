"""Telegram message text: HTML rendering of a :class:`Reply` and splitting under 4096 chars.

Telegram counts a message's length in UTF-16 code units after entity parsing; we measure the
raw HTML (always at least as long) so every part is accepted. Parts are cut at a paragraph,
then a line, then a space, never inside an HTML tag or an ``&entity;``, and open tags
(``<b>``, ``<a href=..>``, ``<pre>`` ...) are closed at the end of a part and reopened at the
start of the next one.
"""

from __future__ import annotations

import html
import re

from bot.model import Reply

MAX_MESSAGE = 4096
MAX_CAPTION = 1024
PART_LIMIT = 3900  # leaves room for the closing/reopening tags added when balancing
TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)([^<>]*)>")


def escape(text: str) -> str:
    """Escape plain text for Telegram's HTML parse mode (``<``, ``>`` and ``&``)."""
    return html.escape(text, quote=False)


def render_html(reply: Reply) -> str:
    """The HTML to send: ``reply.html`` as given, otherwise ``reply.text`` escaped."""
    return reply.html if reply.html is not None else escape(reply.text)


def strip_tags(text: str) -> str:
    """Plain text of a Telegram-HTML string (for the no-parse-mode fallback)."""
    return html.unescape(TAG.sub("", text))


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units: an emoji counts twice)."""
    return len(text.encode("utf-16-le")) // 2


def _fit(text: str, limit: int) -> int:
    """The largest prefix length (in code points) whose UTF-16 length is within ``limit``."""
    end = min(len(text), limit)
    while utf16_len(text[:end]) > limit:
        end -= max(1, (utf16_len(text[:end]) - limit) // 2)
    return end


def _safe(text: str, cut: int) -> int:
    """Move ``cut`` left so it does not fall inside ``<tag ...>`` or ``&entity;``."""
    head = text[:cut]
    lt = head.rfind("<")
    if lt > head.rfind(">"):
        cut = lt
    amp = text.rfind("&", 0, cut)
    if amp != -1 and ";" not in text[amp:cut] and re.match(r"&#?\w{1,10};", text[amp:]):
        cut = amp
    return cut


def _cut_point(text: str, limit: int) -> int:
    end = _fit(text, limit)
    floor = end // 2
    for separator in ("\n\n", "\n", " "):
        at = text.rfind(separator, floor, end)
        if at > 0:
            return _safe(text, at + len(separator))
    return _safe(text, end) or end


def _split_raw(text: str, limit: int) -> list[str]:
    parts: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        cut = _cut_point(rest, limit)
        head = rest[:cut].rstrip()
        if head:
            parts.append(head)
        rest = rest[cut:].lstrip("\n")
    if rest.strip():
        parts.append(rest)
    return parts


def _balance(parts: list[str]) -> list[str]:
    """Close the tags left open at the end of each part and reopen them in the next."""
    balanced = []
    carried: list[tuple[str, str]] = []  # (name, opening tag) still open
    for part in parts:
        text = "".join(tag for _, tag in carried) + part
        stack = list(carried)
        for match in TAG.finditer(part):
            closing, name = match.group(1), match.group(2).lower()
            if not closing:
                stack.append((name, match.group(0)))
                continue
            for index in range(len(stack) - 1, -1, -1):
                if stack[index][0] == name:
                    del stack[index:]
                    break
        text += "".join(f"</{name}>" for name, _ in reversed(stack))
        balanced.append(text)
        carried = stack
    return balanced


def split_html(text: str, limit: int = PART_LIMIT) -> list[str]:
    """Split Telegram-HTML ``text`` into parts that each fit one message."""
    if utf16_len(text) <= limit:
        return [text] if text.strip() else []
    return _balance(_split_raw(text, limit))


def caption_fits(text: str) -> bool:
    """Whether ``text`` (plain) can be a photo caption as it is."""
    return 0 < utf16_len(escape(text)) <= MAX_CAPTION
