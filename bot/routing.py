"""Text hygiene and the per-member flood limit, used by the dispatcher before any handler.

:func:`clean_text` normalises what platforms deliver (newlines, control characters, lone
surrogates, NFC); :class:`Route` is what a message asks for; :class:`RateLimiter` is a token
bucket per member.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from bot.registry import CommandSpec

COMMAND_PATTERN = re.compile(r"^/([A-Za-z0-9_\u4e00-\u9fff]{1,40})(?:@(\S+))?(?:\s+|$)(.*)$", re.S)
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u2028\u2029]")


def clean_text(text: str) -> str:
    """Normalise newlines, drop control characters and invalid code points, NFC, trim."""
    text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates -> '?'
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = CONTROL_CHARS.sub("", text)
    return unicodedata.normalize("NFC", text).strip()


@dataclass(frozen=True)
class Route:
    """What a message asks for: a command (with its arguments) or a keyword."""

    spec: CommandSpec | None
    name: str
    args: str
    keyword: str | None = None


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
