"""WeChat message text, without the SDK: splitting, @mentions, quotes, the 阅读原文 link.

Pure functions (and a small LRU of seen message ids) used by :mod:`bot.adapters.wechat`, kept
apart so they are tested without a puppet and importable without the ``wechat`` extra.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime

AT_SEPARATOR = "\u2005"  # WeChat puts a four-per-em space after "@name"
QUOTE_DIVIDER = re.compile(r"\n-(?: -){3,}\s*\n")
QUOTE = re.compile(r"^「(?P<who>[^：:」\n]{1,64})[：:](?P<quoted>.*)」$", re.S)
READ_MORE = re.compile(
    r"^\s*(?:👉\s*)?(?P<label>阅读原文|Read (?:the )?full (?:text|issue)|Read more)"
    r"\s*(?:（[^）]{0,40}）|\([^)]{0,40}\))?\s*[:：]?\s*(?P<url>https?://\S+)\s*$",
    re.IGNORECASE,
)
FULLWIDTH_PREFIX = {"／": "/", "＃": "#"}


@dataclass(frozen=True)
class Quote:
    """A WeChat quote reply as text puppets deliver it: 「who：quoted」, a divider, the reply."""

    who: str
    quoted: str
    body: str


@dataclass(frozen=True)
class ReadMore:
    """The 阅读原文 link of a digest: sent as a UrlLink card where the puppet supports it."""

    label: str
    url: str
    line: str  # the whole line, sent as text where cards are not supported


def split_text(text: str, limit: int) -> list[str]:
    """Cut ``text`` into parts of at most ``limit`` characters.

    Cuts at a blank line, else a line break, else a space, else hard; parts are stripped and
    empty parts dropped, so the parts joined by newlines keep every word of the text.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = limit
        for separator in ("\n\n", "\n", " ", AT_SEPARATOR):
            found = window.rfind(separator)
            if found > limit // 3:
                cut = found
                break
        part = rest[:cut].strip()
        if part:
            parts.append(part)
        rest = rest[cut:].strip()
    if rest:
        parts.append(rest)
    return parts


def strip_bot_mention(text: str, names: list[str], mentioned_by_id: bool) -> tuple[str, bool]:
    """Remove ``@<bot name>`` from ``text``; returns (text, whether the bot was mentioned).

    A mention is ``@name`` followed by WeChat's separator, a space or the end. When the puppet
    says the bot was mentioned (``mention_ids``) but under another name (e.g. its 群昵称), the
    leading ``@word`` is dropped instead.
    """
    found = False
    for name in sorted({n for n in names if n}, key=len, reverse=True):
        pattern = re.compile("@" + re.escape(name) + rf"(?:{AT_SEPARATOR}|\s|$)")
        text, count = pattern.subn(" ", text)
        found = found or count > 0
    if mentioned_by_id and not found:
        text, count = re.subn(rf"^\s*@[^\s{AT_SEPARATOR}]+[{AT_SEPARATOR}\s]", "", text)
        found = count > 0
    text = re.sub(r"[ \t]{2,}", " ", text).strip()
    return text, found or mentioned_by_id


def normalise_command(text: str) -> str:
    """Full-width ``／checkin`` or ``＃打卡`` (typed with a Chinese IME) -> ASCII prefix."""
    if text[:1] in FULLWIDTH_PREFIX:
        return FULLWIDTH_PREFIX[text[0]] + text[1:]
    return text


def parse_quote(text: str) -> Quote | None:
    """Recognise a quote reply: ``「Bot：question…」\\n- - - - - -\\nanswer``."""
    pieces = QUOTE_DIVIDER.split(text, maxsplit=1)
    if len(pieces) != 2:
        return None
    match = QUOTE.match(pieces[0].strip())
    if match is None:
        return None
    return Quote(match["who"].strip(), match["quoted"].strip(), pieces[1].strip())


def quote_matches(quoted: str, sent: str) -> bool:
    """Whether a (possibly shortened) quote is the start of, or contained in, a sent text."""
    quoted = quoted.strip().rstrip("…").rstrip(".").strip()
    if len(quoted) < 2:
        return False
    return quoted in sent or sent.startswith(quoted[:20])


def extract_read_more(text: str) -> tuple[str, ReadMore | None]:
    """Take the 阅读原文 line out of a digest part: (the rest of the text, the link or None)."""
    lines = text.splitlines()
    for index in range(len(lines) - 1, -1, -1):
        match = READ_MORE.match(lines[index])
        if match:
            rest = "\n".join(lines[:index] + lines[index + 1 :]).strip()
            return rest, ReadMore(match["label"], match["url"], lines[index].strip())
    return text, None


def timestamp_to_datetime(value: int | float | None) -> datetime:
    """A puppet timestamp (seconds or milliseconds since the epoch) as an aware UTC datetime."""
    if not value:
        return datetime.now(UTC)
    seconds = value / 1000 if value > 10**11 else value
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return datetime.now(UTC)


class RecentIds:
    """A bounded set of recently seen message ids (least recently seen dropped first)."""

    def __init__(self, maxsize: int = 2048) -> None:
        self.maxsize = maxsize
        self._ids: OrderedDict[str, None] = OrderedDict()

    def seen(self, message_id: str) -> bool:
        """True if ``message_id`` was seen before; records it either way."""
        if message_id in self._ids:
            self._ids.move_to_end(message_id)
            return True
        self._ids[message_id] = None
        if len(self._ids) > self.maxsize:
            self._ids.popitem(last=False)
        return False

    def __len__(self) -> int:
        return len(self._ids)
