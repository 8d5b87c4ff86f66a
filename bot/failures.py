"""Start-up failures explained in one or two lines: what went wrong and how to fix it.

The command line catches whatever stops ``studybot`` and prints :func:`explain`'s answer
instead of a traceback (the traceback only with ``-vv``). Secrets never appear: database URLs
are shown without their password and Bot API URLs without the token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.engine import make_url

from bot.config import Config, ConfigError

BOT_TOKEN_IN_URL = re.compile(r"/bot[^/\s]+")


@dataclass(frozen=True)
class Failure:
    """A start-up failure as the operator should read it."""

    cause: str
    fix: str

    def lines(self) -> str:
        return f"studybot: {self.cause}\n  fix: {self.fix}"


def safe_database_url(url: str) -> str:
    """The database URL with its password hidden (``postgresql://u:***@host/db``)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparsable database.url)"


def _telegram_api(config: Config) -> str:
    base = config.telegram.base_url or "https://api.telegram.org"
    return BOT_TOKEN_IN_URL.sub("/bot…", base)


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def explain(error: BaseException, config: Config | None) -> Failure:
    """Name the cause of ``error`` and its fix (a generic answer for the unforeseen)."""
    if isinstance(error, ConfigError):
        return Failure(str(error), "edit the configuration (see config.example.yaml)")
    for item in _chain(error):
        found = _telegram(item, config) or _database(item, config) or _os(item, config)
        if found is not None:
            return found
    return Failure(
        f"{type(error).__name__}: {_first_line(error)}",
        "run again with -vv for the traceback",
    )


def _telegram(error: BaseException, config: Config | None) -> Failure | None:
    try:
        from telegram import error as tg
    except ImportError:  # pragma: no cover - the telegram extra is part of the install
        return None
    api = _telegram_api(config) if config is not None else "the Bot API"
    if isinstance(error, tg.InvalidToken):
        return Failure(
            f"Telegram rejected the bot token ({api} answered 401 Unauthorized)",
            "set TELEGRAM_BOT_TOKEN to the token @BotFather gave you (/mybots → API Token); "
            "a revoked token must be replaced",
        )
    if isinstance(error, tg.Forbidden | tg.BadRequest):
        return Failure(f"Telegram refused a request: {_first_line(error)}", _telegram_fix(config))
    if isinstance(error, tg.NetworkError):  # TimedOut is a NetworkError too
        return Failure(
            f"cannot reach the Telegram Bot API at {api}: {_first_line(error)}",
            "check the network, DNS and any proxy; with a local Bot API server, "
            "check telegram.base_url",
        )
    return None


def _telegram_fix(config: Config | None) -> str:
    return "check that the bot is a member of every configured chat"


def _database(error: BaseException, config: Config | None) -> Failure | None:
    from sqlalchemy import exc as sa

    if not isinstance(error, sa.OperationalError | sa.InterfaceError | sa.ArgumentError):
        return None
    url = safe_database_url(config.database.url) if config is not None else "the database"
    message = str(getattr(error, "orig", None) or error)
    lowered = message.lower()
    if isinstance(error, sa.ArgumentError):
        return Failure(
            f"database.url is not a database URL: {_first_line(error)}",
            "use e.g. sqlite:///data/studybot.db or postgresql://user@host/dbname",
        )
    if "does not exist" in lowered and "database" in lowered:
        name = make_url(config.database.url).database if config is not None else "studybot"
        return Failure(
            f"the database {url} does not exist",
            f"create it (`createdb {name}`), then run `studybot db upgrade`",
        )
    if "password authentication failed" in lowered or "authentication" in lowered:
        return Failure(
            f"the database server refused the login for {url}",
            "check the user and password in database.url (e.g. ${PGPASSWORD})",
        )
    if "unable to open database file" in lowered:
        return Failure(
            f"cannot open the SQLite file of {url}",
            "check that its folder exists and the bot's user may write there",
        )
    if "connection refused" in lowered or "could not connect" in lowered or "timeout" in lowered:
        return Failure(
            f"cannot connect to the database {url}: the server is not answering",
            "start PostgreSQL (e.g. `systemctl start postgresql`) or correct host/port "
            "in database.url",
        )
    return Failure(
        f"database {url}: {message.strip().splitlines()[0] if message.strip() else 'error'}",
        "check database.url and that the server is running",
    )


def _os(error: BaseException, config: Config | None) -> Failure | None:
    if isinstance(error, PermissionError):
        return Failure(
            f"permission denied: {error.filename or _first_line(error)}",
            "run as the user that owns the data directory, or change data_dir",
        )
    if isinstance(error, OSError) and error.errno in (98, 48):  # EADDRINUSE (Linux, macOS)
        return Failure(
            f"a port is already in use ({_first_line(error)})",
            "stop the other process, or choose another web.port / telegram.webhook.port",
        )
    return None
