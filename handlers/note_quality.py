"""Whether a learning note says something: emoji-only notes and near-duplicates are refused.

Pure, no I/O. Points reward learning, not volume (issue #19): a note needs at least
:data:`MIN_MEANINGFUL` letters or digits (any script), and one that reads the same as another
note of the member's last days (:data:`DUPLICATE_RATIO` after dropping spaces, punctuation and
emoji) is a repeat. 「同问」/「+1」 are echoes, not answers.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from difflib import SequenceMatcher

MIN_MEANINGFUL = 1
DUPLICATE_RATIO = 0.9
ECHOES = frozenset(
    {"同问", "同求", "同疑问", "+1", "＋1", "1", "顶", "顶顶", "mark", "同", "求解", "蹲", "蹲一个",
     "me too", "same", "same question", "同问+1", "同问＋1", "+1同问", "插眼"}
)  # fmt: skip
"""Replies that agree with a question instead of answering it."""


def meaningful(text: str) -> str:
    """``text`` reduced to letters and digits, lower-case (what two notes are compared by)."""
    return "".join(
        ch.lower()
        for ch in unicodedata.normalize("NFKC", text)
        if unicodedata.category(ch)[0] in "LN"
    )


def is_contentless(text: str) -> bool:
    """Only emoji, symbols or punctuation: nothing learned is said."""
    return len(meaningful(text)) < MIN_MEANINGFUL


def is_echo(text: str) -> bool:
    """「同问」, 「+1」, 「顶」 and the like, possibly with emoji or punctuation around them."""
    return meaningful(text) in _ECHO_KEYS


def near_duplicate(text: str, earlier: Iterable[str]) -> str | None:
    """The first of ``earlier`` that ``text`` repeats (same words, or ≥ 90 % alike), if any."""
    key = meaningful(text)
    for other in earlier:
        other_key = meaningful(other)
        if not other_key:
            continue
        if key == other_key or SequenceMatcher(None, key, other_key).ratio() >= DUPLICATE_RATIO:
            return other
    return None


_ECHO_KEYS = frozenset(meaningful(echo) for echo in ECHOES)
