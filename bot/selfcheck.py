"""Start-up self-check: which optional parts are missing, and what each one's absence disables.

``studybot run`` logs one warning per missing part (a part the configuration asks for is an
error), so an operator sees at start-up — not weeks later — that, say, charts will have English
labels or the WeChat extra is not installed. Nothing here stops the bot: a missing optional
part only switches its feature off.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from bot.config import Config
from digest.charts import fontconfig_zh

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MissingPart:
    """An optional part that is not available, what that disables, and how to add it."""

    name: str
    disables: str
    fix: str
    needed: bool  # the configuration asks for what it provides

    def sentence(self) -> str:
        return f"{self.name} missing: {self.disables} ({self.fix})"


def missing_parts(config: Config, platforms: Sequence[str]) -> list[MissingPart]:
    """The optional parts this installation lacks, given the config and the platforms to run."""
    missing = []
    if importlib.util.find_spec("wechaty") is None:
        wanted = "wechat" in platforms or config.wechat.token is not None
        missing.append(
            MissingPart(
                "the WeChat extra (wechaty)",
                "the bot cannot serve WeChat",
                "pip install 'studybot[wechat]'",
                needed=wanted,
            )
        )
    if not fontconfig_zh():
        missing.append(
            MissingPart(
                "a Chinese font (fc-list :lang=zh finds none)",
                "/stats charts and the archive's stats.png get English labels",
                "install e.g. the Debian package fonts-wqy-microhei",
                needed=config.language == "zh",
            )
        )
    return missing


def report_optional_parts(config: Config, platforms: Sequence[str]) -> list[MissingPart]:
    """Log every missing optional part (an error when the config needs it); returns them."""
    missing = missing_parts(config, platforms)
    for part in missing:
        log.log(logging.ERROR if part.needed else logging.WARNING, part.sentence())
    return missing
