"""Text hygiene, tag recognition and the per-member flood limit, used before any handler.

:func:`clean_text` normalises what platforms deliver (newlines, control characters, lone
surrogates, NFC); :func:`match_tag` recognises the ways people write a hashtag trigger
(``#打卡：…``, ``＃打卡``, ``【打卡】…``, ``打卡 day3 …``, ``提问 …``, ``问题：…``); :class:`Route` is what a message asks
for; :class:`RateLimiter` is a token bucket per member.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from bot.registry import CommandSpec

_NAME_CHARS = r"A-Za-z0-9_\u4e00-\u9fff"
COMMAND_PATTERN = re.compile(
    rf"^[/／]([{_NAME_CHARS}]+)(?:@([^\s@:：,，、.。!！?？~～/]+))?(?![{_NAME_CHARS}/@])(.*)$",
    re.S,
)
"""``/name[@bot] args``: the name ends at the first character that cannot be part of one, so
``/ask：…``, ``/me。``, ``/rank！`` are commands too (``/usr/bin`` and ``/a@b@c`` are not)."""
UNICODE_SPACES = "".join(chr(c) for c in range(0x80, 0x3001) if chr(c).isspace())
"""No-break, en/em, thin, ideographic (U+3000) … spaces: separators like the ASCII space."""
LEADING_PUNCTUATION = " \t\n:：,，、.。!！?？~～" + UNICODE_SPACES
"""What is dropped between a command's name and its arguments (``/ask：…``, ``/ask: …``)."""
TRAILING_PUNCTUATION = "。.!！?？~～…"
"""Sentence punctuation a member ends a line with; ignored after number and option arguments
(``/q 1。``, ``/rank all！``), kept after free text (a question's 「？」)."""
_NUMBER_ARGS = re.compile(r"(?:(?:[#＃]?\d{1,9}|[A-Za-z]{1,12})(?:\s+(?=\S)|$))*")
"""Arguments that are numbers and option words only (``1``, ``del 2``, ``answer 3 2``, ``all``)."""
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u2028\u2029]")
FORBIDDEN_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""Control characters and bidi overrides (U+202E turns text around): a command or note that
carries them is refused with a reply saying so (invisible, never meant, and able to disguise
what is stored). Zero-width spaces and line separators, which copy-paste brings along, are
simply dropped by :func:`clean_text`."""
BIDI_CONTROLS = re.compile(r"[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean_text(text: str) -> str:
    """Normalise newlines, drop control characters and invalid code points, NFC, trim."""
    text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates -> '?'
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = CONTROL_CHARS.sub("", text)
    return unicodedata.normalize("NFC", text).strip()


SEPARATORS = " \t\n:：,，.。;；、!！~～|｜-—" + UNICODE_SPACES
"""What may stand between a tag and the text: spaces and the punctuation people type there."""
_HASH = "[#＃]"
_DAY = r"(?:day\s*\d|第\s*[\d一二三四五六七八九十百]+\s*天)"


COLON_ONLY = "："
"""A bare word written with a trailing full-width colon (``问题：``) triggers without its ``#``
only before a colon (``问题：…``, ``问题:…``): 「问题 解决了」 is chat."""


@lru_cache(maxsize=64)
def _tag_patterns(word: str, bare: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The leading and the trailing forms of the tag ``word`` (``打卡`` for ``#打卡``);
    ``bare``: ``""`` (only with ``#`` or brackets), ``"loose"`` (also the word alone before a
    separator or a day number) or ``"colon"`` (also the word alone before a colon)."""
    w = re.escape(word)
    # "#ask" is not the start of "#asking": an English tag ends where its word does
    word_end = r"(?![A-Za-z0-9_])" if word.isascii() else ""
    leading = [rf"{_HASH}{w}{word_end}{_HASH}?", rf"【{w}】", rf"\[{w}\]", rf"「{w}」"]
    if bare == "loose":  # "打卡 day3 …", "打卡：…", "打卡第3天 …": a separator or a day after it
        leading.append(rf"{w}(?=[{re.escape(SEPARATORS)}]+\S|{_DAY})")
    elif bare == "colon":  # "问题：…"
        leading.append(rf"{w}(?=\s*[:：]\s*\S)")
    start = re.compile(rf"^(?:{'|'.join(leading)})(?P<rest>.*)$", re.S | re.I)
    trailing = rf"(?:(?<=\s)|(?<=[，。,.!！]))(?:{_HASH}{w}{_HASH}?|【{w}】)"
    end = re.compile(rf"^(?P<rest>.*?){trailing}$", re.S | re.I)
    return start, end


def match_tag(
    text: str, tags: Sequence[str], bare_words: Sequence[str] = ()
) -> tuple[str, str] | None:
    """``(tag, rest)`` when ``text`` is a ``tags`` trigger (``"#打卡"``) in any usual form.

    Leading: ``#打卡 …``, ``#打卡：…`` / ``，`` / ``。`` (any of :data:`SEPARATORS`), ``#打卡学习了…``
    (no space), ``＃打卡`` (full-width), ``#打卡#…``, ``【打卡】…``, ``[打卡]…``, ``「打卡」…``;
    for words in ``bare_words`` also the word alone before a separator or a day number
    (``打卡 day3 …``, ``提问 …``, ``求助：…``), for ``问题：`` (see :data:`COLON_ONLY`) the word
    alone before a colon. Trailing: ``… #打卡`` after a space or punctuation. A tag inside a
    sentence, or the word glued to the next one (「提问的人好多」), is just chat. ``rest`` is
    the text without the tag and its separators.
    """
    for tag in sorted(tags, key=len, reverse=True):
        word = tag.lstrip("#＃")
        bare = "loose" if word in bare_words else ""
        if word + COLON_ONLY in bare_words:
            bare = "colon"
        start, end = _tag_patterns(word, bare)
        if match := start.match(text):
            return tag, match.group("rest").lstrip(SEPARATORS).rstrip()
        if match := end.match(text):
            return tag, match.group("rest").rstrip(SEPARATORS).strip()
    return None


def command_args(args: str, *, options_only: bool = False) -> str:
    """A command's arguments as written after its name (``/ask：…`` → ``…``), without the
    sentence punctuation that ends a number or option argument (``/q 1。`` → ``1``, ``/me。`` →
    ````); ``options_only`` (a command that takes no free text) also for a word alone
    (``/rank all！``)."""
    args = args.lstrip(LEADING_PUNCTUATION).rstrip()
    bare = args.rstrip(TRAILING_PUNCTUATION + UNICODE_SPACES + " \t\n")
    if bare == args or not _NUMBER_ARGS.fullmatch(bare):
        return args
    if options_only or not re.search("[A-Za-z]", bare):
        return bare
    if bare[-1:].isdigit():  # "/checkin del 2。"; a question mark stays ("/ask GPT 4?")
        return args.rstrip("。.!！~～…" + UNICODE_SPACES + " \t\n")
    return args


def _decoration(char: str) -> bool:
    """Punctuation, spaces, symbols and emoji (with their joiners and variation selectors)."""
    return char in "\u200d\ufe0e\ufe0f" or unicodedata.category(char)[0] in "PZS" or char.isspace()


def keyword_form(text: str) -> str:
    """A keyword message without what people put around the word: ``自学。``, ``自学!``,
    `` 自学 ``, ``自学～``, ``自学🙏`` -> ``自学`` (a word inside a sentence stays a sentence)."""
    start, end = 0, len(text)
    while start < end and _decoration(text[start]):
        start += 1
    while end > start and _decoration(text[end - 1]):
        end -= 1
    return text[start:end]


def forbidden_char(text: str) -> str | None:
    """The first control character or bidi override in ``text`` as ``U+XXXX``, if any."""
    found = FORBIDDEN_CHARS.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def clean_name(name: str) -> str:
    """A display name fit to show in lists: :func:`clean_text` without bidi controls (a name
    with U+202E would reverse the rest of its ``/rank`` line)."""
    return BIDI_CONTROLS.sub("", clean_text(name))


@dataclass(frozen=True)
class Route:
    """What a message asks for: a command (with its arguments) or a keyword."""

    spec: CommandSpec | None
    name: str
    args: str
    keyword: str | None = None
    addressed: bool = False
    """``/cmd@thisbot``: the command names this bot explicitly."""


class RateLimiter:
    """A token bucket per member: ``rate`` messages a minute with bursts of ``burst``."""

    def __init__(self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float, bool]] = {}

    def check(self, key: str) -> tuple[bool, bool, int]:
        """(allowed, warn_now, seconds_to_wait). Warns once per empty bucket."""
        now = self.clock()
        tokens, last, warned = self._buckets.get(key, (self.burst, now, False))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now, False)
            return True, False, 0
        self._buckets[key] = (tokens, now, True)
        wait = max(1, int((1 - tokens) / self.rate + 0.999))
        return False, not warned, wait
