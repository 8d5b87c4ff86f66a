"""User text for the digest: find links in it, make titles, and escape it for each format.

Members write plain text, sometimes with Markdown links ``[文字](https://...)``, images
``![](https://...)`` or bare URLs. :func:`segments` splits a text into plain runs and links so
each renderer can escape the plain runs for its format and emit links its own way (Markdown
link, ``<a href>``, or nothing at all for WeChat). Only ``http``/``https`` URLs become links;
anything else (``javascript:``, ``data:``) stays literal text.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

TEXT, LINK, IMAGE = "text", "link", "image"

_URL_BODY = r"[^\s<>\"'`\u3000-\u303f\uff00-\uffef\u4e00-\u9fff]+"
_MD_URL = r"https?://[^\s()<>]+(?:\([^\s()<>]*\)[^\s()<>]*)*"
_TOKEN = re.compile(
    r"(?P<md>(?P<bang>!?)\[(?P<label>[^\[\]\n]{0,500})\]\(\s*(?P<target>" + _MD_URL + r")\s*\))"
    r"|(?P<bare>(?:https?://|www\.)" + _URL_BODY + ")",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?"
_SENTENCE_END = re.compile(r"[。！？!?]|\.(?:\s|$)")
# Characters that must not appear raw in a link target (Markdown or HTML attribute).
_URL_SAFE = "!#$%&*+,-./:;=?@[]^_|~"


@dataclass(frozen=True)
class Segment:
    """A run of user text: ``kind`` is ``text``, ``link`` or ``image``; ``url`` for links."""

    kind: str
    text: str
    url: str = ""


def _trim_bare(url: str) -> tuple[str, str]:
    """Split trailing punctuation (and unbalanced ``)``) off a bare URL: (url, rest)."""
    rest = ""
    while url and (url[-1] in _TRAILING or (url[-1] == ")" and url.count("(") < url.count(")"))):
        rest = url[-1] + rest
        url = url[:-1]
    return url, rest


def safe_url(url: str) -> str | None:
    """An http(s) URL made safe to put in a link target, or None for any other scheme."""
    url = url.strip()
    if url.lower().startswith("www."):
        url = "http://" + url
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    if scheme not in ("http", "https") or len(url) <= len(scheme) + 3:
        return None
    return quote(url, safe=_URL_SAFE + "%")


def segments(text: str) -> list[Segment]:
    """Split user text into plain text, links and images (adjacent text merged)."""
    out: list[Segment] = []

    def add_text(value: str) -> None:
        if not value:
            return
        if out and out[-1].kind == TEXT:
            out[-1] = Segment(TEXT, out[-1].text + value)
        else:
            out.append(Segment(TEXT, value))

    pos = 0
    for match in _TOKEN.finditer(text):
        add_text(text[pos : match.start()])
        pos = match.end()
        if match.group("md"):
            url = safe_url(match.group("target"))
            label = match.group("label").strip()
            if url is None:
                add_text(match.group(0))
            elif match.group("bang"):
                out.append(Segment(IMAGE, label, url))
            else:
                out.append(Segment(LINK, label or match.group("target"), url))
            continue
        raw, rest = _trim_bare(match.group("bare"))
        url = safe_url(raw)
        if url is None:
            add_text(raw)
        else:
            out.append(Segment(LINK, raw, url))
        add_text(rest)
    add_text(text[pos:])
    return out


def plain(text: str) -> str:
    """User text without link syntax: link labels kept, bare URLs kept as text."""
    return "".join(seg.text for seg in segments(text) if seg.kind != IMAGE)


def _looks_like_url(value: str) -> bool:
    return value.lower().startswith(("http://", "https://", "www."))


def make_title(text: str, limit: int = 60) -> str:
    """A short title: the first line / first sentence, links reduced to their text,
    bare URLs dropped, trimmed to ``limit`` characters (with …)."""
    for line in text.splitlines():
        parts = [
            "" if seg.kind == LINK and _looks_like_url(seg.text) else seg.text
            for seg in segments(line)
            if seg.kind != IMAGE
        ]
        candidate = " ".join("".join(parts).split())
        if candidate:
            break
    else:
        return ""
    match = _SENTENCE_END.search(candidate)
    if match and match.end() < len(candidate):
        candidate = candidate[: match.end()].strip()
    candidate = candidate.rstrip("。.")
    if len(candidate) > limit:
        candidate = candidate[: limit - 1].rstrip() + "…"
    return candidate


def split_question(text: str, limit: int = 60) -> tuple[str, str]:
    """A question's (title, details), split only where the member split it: at the first line
    break or ``|``. A title longer than ``limit`` is trimmed (with …) and the details are then
    the whole question, so nothing is lost. Links are reduced to their text in the title."""
    text = text.strip()
    head, sep, rest = text.partition("\n")
    if "|" in head:
        head, _, tail = head.partition("|")
        rest = (tail.strip() + ("\n" + rest if sep else "")).strip()
    pieces = [seg for seg in segments(head) if seg.kind != IMAGE]
    title = " ".join(
        "".join(
            "" if seg.kind == LINK and _looks_like_url(seg.text) else seg.text for seg in pieces
        ).split()
    )
    if not title:
        return "", text
    if len(title) > limit:
        return title[: limit - 1].rstrip() + "…", text
    # links of the title line stay with the question (the title shows only their text)
    links = [
        seg.url if _looks_like_url(seg.text) else f"[{seg.text}]({seg.url})"
        for seg in pieces
        if seg.kind == LINK
    ]
    return title, "\n".join(([" ".join(links)] if links else []) + [rest.strip()]).strip()


_EMPHASIS = re.compile(
    r"\*\*(?=\S)(.+?)(?<=\S)\*\*|(?<![*\w])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![*\w])"
)


def emphasis_runs(text: str) -> list[tuple[str, str]]:
    """Admin text (preface, join text) as runs ``("", text)``, ``("strong", text)`` for
    ``**bold**`` and ``("em", text)`` for ``*italic*``, Markdown style."""
    runs: list[tuple[str, str]] = []
    pos = 0
    for match in _EMPHASIS.finditer(text or ""):
        if match.start() > pos:
            runs.append(("", text[pos : match.start()]))
        strong = match.group(1)
        runs.append(("strong", strong) if strong is not None else ("em", match.group(2)))
        pos = match.end()
    if pos < len(text or ""):
        runs.append(("", text[pos:]))
    return runs


# --- escaping -----------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~&])")
_SETEXT = re.compile(r"^(\s*)([=-])(?=[=\-\s]*$)")


def escape_markdown(text: str) -> str:
    """Escape plain text for CommonMark so it cannot open headings, code, HTML, emphasis
    or links, nor turn the previous line into a heading; list markers (``-``, ``1.``) and
    line breaks are kept so members' lists still read as lists."""
    lines = []
    for line in text.split("\n"):
        line = _MD_SPECIAL.sub(r"\\\1", line)
        line = _SETEXT.sub(r"\1\\\2", line)
        lines.append(line)
    return "\n".join(lines)


def escape_html(text: str) -> str:
    """Escape text for Telegram HTML / HTML exactly like ``telegram.helpers.escape``, which is
    ``html.escape`` itself (``quote=True``: ``& < > " '`` all escaped; Telegram accepts the
    resulting ``&quot;`` and ``&#x27;``)."""
    return html.escape(text)


def escape_attr(text: str) -> str:
    """Escape a value for a double-quoted HTML attribute."""
    return html.escape(text, quote=True)
