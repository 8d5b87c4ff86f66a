"""Log levels for the ``studybot`` command line: quiet by default, ``-v`` INFO, ``-vv`` DEBUG.

At INFO the log says what runs (platforms and bot names, groups and their chats, the archive
URL, the next digest and reminder) and what happened (digests published, reminders sent,
retries, chats refused). Third-party libraries log their requests at INFO (httpx writes one
line per Bot API call, with the token in the URL), so they stay at WARNING unless ``-vv``.
"""

from __future__ import annotations

import logging

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# libraries whose INFO lines are per-request noise (and may carry secrets in URLs)
CHATTY_LIBRARIES = (
    "httpx",
    "httpcore",
    "telegram",
    "telegram.ext",
    "apscheduler",
    "aiohttp.access",
    "wechaty",
    "wechaty_puppet",
    "wechaty_puppet_service",
    "grpc",
    "alembic",
    "jieba",
    "asyncio",
)


def level_for(verbosity: int) -> int:
    """0 -> WARNING, 1 (``-v``) -> INFO, 2 or more (``-vv``) -> DEBUG."""
    if verbosity >= 2:
        return logging.DEBUG
    if verbosity == 1:
        return logging.INFO
    return logging.WARNING


def configure_logging(verbosity: int) -> None:
    """Set the root level from ``-v`` count; keep chatty libraries at WARNING below ``-vv``."""
    level = level_for(verbosity)
    logging.basicConfig(level=level, format=LOG_FORMAT, force=True)
    library_level = logging.DEBUG if verbosity >= 2 else logging.WARNING
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(library_level)
    # "Run time of job ... was missed": a job missed during downtime runs once, late (coalesce)
    logging.getLogger("apscheduler.executors.default").setLevel(
        logging.DEBUG if verbosity >= 2 else logging.ERROR
    )
