"""Splitting a rendered digest into messages under a platform's length limit.

:func:`pack` joins sections into parts (whole sections when they fit, else entry by entry,
else a hard split); :func:`split_html` hard-splits Telegram HTML without cutting a tag or an
entity (open tags are closed and reopened); :func:`split_text` hard-splits plain text, at line
ends when possible. Telegram measures in UTF-16 code units (:func:`utf16_len`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

PART_SEP = "\n\n"


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
