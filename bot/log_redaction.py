"""Secrets never reach the logs: every log record is redacted when it is made.

:func:`install` replaces the logging record factory once per process, so every logger (ours,
PTB's, httpx's, wechaty's, SQLAlchemy's) and every handler, at every level, sees only redacted
text: the message with its arguments, and the exception text. What is redacted:

* values registered with :func:`protect` — :func:`protect_config` registers every config value
  whose key names a secret (``token``, ``secret``, ``password``, ``aes_key``, ``app_secret``...),
  whatever section it is in, so a new section's secrets are covered without touching this file;
* known shapes whatever their source: Telegram bot tokens (``123456:AA...``, also inside
  ``/bot<token>/`` URLs), passwords in URLs (``scheme://user:password@host``), secret query
  parameters (``?access_token=``, ``secret=``, ``appsecret=``, ``key=``...) and
  ``Authorization:`` / ``Bearer`` values.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"
MIN_SECRET_CHARS = 6  # shorter values ("", "no", a port) would mask ordinary words
SECRET_KEY = re.compile(
    r"(token|secret|password|passwd|pwd|aes_?key|api_?key|app_?secret|credential)", re.I
)
PATTERNS = (
    # Telegram bot tokens: <bot id>:<35 url-safe characters>, alone or in /bot<token>/ URLs
    (re.compile(r"(?<!\d)\d{5,12}:[A-Za-z0-9_-]{30,}"), MASK),
    # scheme://user:password@host -> scheme://user:***@host
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s:/@]*:)[^\s@/]+@", re.I), rf"\g<1>{MASK}@"),
    # secret query parameters and key=value pairs
    (
        re.compile(
            r"(\b(?:access_token|token|secret|appsecret|app_secret|secret_token|password|"
            r"encoding_aes_key|aes_key|api_key|key|sign|signature)=)[^\s&\"']+",
            re.I,
        ),
        rf"\g<1>{MASK}",
    ),
    (re.compile(r"(\bAuthorization:\s*(?:Bearer|Basic|Token)?\s*)\S+", re.I), rf"\g<1>{MASK}"),
    (re.compile(r"(\bBearer\s+)[A-Za-z0-9._~+/=-]{8,}"), rf"\g<1>{MASK}"),
)

_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False
_secret_pattern: re.Pattern[str] | None = None


def redact(text: str) -> str:
    """``text`` with every registered secret and every known secret shape masked."""
    pattern = _secret_pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    for shape, replacement in PATTERNS:
        text = shape.sub(replacement, text)
    return text


def protect(values: Iterable[str]) -> None:
    """Register secret values: from now on no log record shows them."""
    global _secret_pattern
    with _lock:
        _secrets.update(v for v in values if isinstance(v, str) and len(v) >= MIN_SECRET_CHARS)
        if _secrets:  # longest first, so a secret containing another is masked whole
            ordered = sorted(_secrets, key=len, reverse=True)
            _secret_pattern = re.compile("|".join(re.escape(v) for v in ordered))


def secret_values(tree: Any, key: str = "") -> list[str]:
    """Every string in a (config) tree whose key names a secret, and URL passwords."""
    found: list[str] = []
    if isinstance(tree, Mapping):
        for name, value in tree.items():
            found += secret_values(value, str(name))
    elif isinstance(tree, list | tuple):
        for value in tree:
            found += secret_values(value, key)
    elif isinstance(tree, str):
        if SECRET_KEY.search(key):
            found.append(tree)
        match = re.search(r"://[^\s:/@]*:([^\s@/]+)@", tree)
        if match:
            found.append(match.group(1))
    return found


def protect_config(config: Any) -> None:
    """Register every secret of a :class:`bot.config.Config` (and install the redaction)."""
    install()
    protect(secret_values(config.model_dump()))


def install() -> None:
    """Redact every log record from now on (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
        make = logging.getLogRecordFactory()

    def redacted_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: let the handler report it as usual
            return record
        record.msg, record.args = redact(message), ()
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return record

    logging.setLogRecordFactory(redacted_record)
