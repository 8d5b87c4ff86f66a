"""Start-up self-check: the cheap ``studybot doctor`` checks, and the optional parts missing.

``studybot run`` logs one WARNING line per problem with its fix, so an operator sees at
start-up — not weeks later — what is wrong: a secret missing, the database behind the
migrations, the data directory not writable, a configured chat the bot has never heard from
while it hears from others (a wrong id), the WeChat extra or a Chinese font missing (a part
the configuration asks for is an error). Nothing here stops the bot; the checks that need the
network (``getMe``, ``getChat``, ``web.base_url``) stay in ``studybot doctor``.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from bot.config import Config
from bot.doctor import Check, check_data_dir, check_secrets
from digest.charts import fontconfig_zh
from storage.db import Database, current_revisions, script_heads

log = logging.getLogger(__name__)


def check_setup(config: Config, db: Database) -> list[Check]:
    """Secrets, migrations, data directory and configured chats, on the running database."""
    results = check_secrets(config) + check_data_dir(config)
    results += _check_migrations(db)
    results += _check_chats_known(config, db)
    return results


def report_setup(config: Config, db: Database) -> list[Check]:
    """Log one WARNING per problem found by :func:`check_setup`, fix included; returns them."""
    problems = [c for c in check_setup(config, db) if c.status != "ok"]
    for check in problems:
        log.warning(
            "%s: %s%s", check.name, check.detail, f"; fix: {check.fix}" if check.fix else ""
        )
    return problems


def _check_migrations(db: Database) -> list[Check]:
    try:
        current = current_revisions(db.engine)
    except Exception as error:  # the database went away since the start
        return [Check("database", "fail", f"not reachable ({type(error).__name__})", "")]
    heads = script_heads()
    if current == heads:
        return [Check("migrations", "ok", ", ".join(sorted(current)))]
    return [
        Check(
            "migrations",
            "fail",
            f"the database is at {', '.join(sorted(current)) or 'no revision'}, "
            f"this version needs {', '.join(sorted(heads))}",
            "stop the bot, `studybot db backup`, then `studybot db upgrade` (or run the "
            "studybot version that wrote the database)",
        )
    ]


def _check_chats_known(config: Config, db: Database) -> list[Check]:
    """A configured chat never seen, on a platform whose other chats are seen, is probably a
    wrong id (a fresh install, which has seen nothing yet, is not warned about)."""
    from storage.chats import seen_chats

    with db.session() as session:
        seen = {(row.platform, row.chat_id) for row in seen_chats(session)}
    platforms_seen = {platform for platform, _ in seen}
    results = []
    for group in config.groups:
        for chat in group.chats:
            key = (chat.platform, str(chat.chat_id))
            if key in seen or chat.platform not in platforms_seen:
                continue
            results.append(
                Check(
                    f"chat {chat.platform}:{chat.chat_id} ({group.slug})",
                    "warn",
                    "the bot has never received a message from this chat, though it has from "
                    f"other {chat.platform} chats",
                    "check the id: `studybot chats` lists the chats the bot has seen "
                    "(or send a message there and check again)",
                )
            )
    return results


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
