"""``studybot doctor``: the whole set-up checked item by item, each failure with its fix.

Checks, in order: the config file, the secrets its chats need, the database (reachable,
migrations current, no group left behind by a slug change), the data directory (writable),
each platform (Telegram ``getMe``; the WeChat gateway's port), every configured Telegram chat
(``getChat``: the bot is a member), and ``web.base_url`` (answers ``/healthz`` while the bot
runs). Each check is a function returning :class:`Check` results, so a start-up self-check
can call the same ones (:func:`check_config`, :func:`check_database`...).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bot.config import Config, ConfigError, config_file, resolve_config
from bot.failures import explain, safe_database_url

Status = Literal["ok", "warn", "fail"]
MARKS = {"ok": "✔", "warn": "!", "fail": "✘"}
TIMEOUT = 8.0


@dataclass(frozen=True)
class Check:
    """One line of the checklist."""

    name: str
    status: Status
    detail: str
    fix: str = ""


def check_secrets(config: Config) -> list[Check]:
    problems = config.missing_secrets()
    if problems:
        return [Check("secrets", "fail", *p.split("; fix: ", 1)) for p in problems]
    platforms = [p for p in ("telegram", "wechat") if getattr(config, p).token]
    detail = ", ".join(f"{p}.token set" for p in platforms) or "no platform token: console only"
    return [Check("secrets", "ok", detail)]


def check_database(config: Config) -> list[Check]:
    """Reachable, at the migrations' head, and every stored group configured."""
    from storage.chats import orphaned_groups
    from storage.db import Database, current_revisions, script_heads

    url = safe_database_url(config.database.url)
    sqlite_file = _sqlite_file(config.database.url)
    if sqlite_file is not None and not sqlite_file.exists():
        return [
            Check(
                "database",
                "fail",
                f"the SQLite file {sqlite_file} does not exist yet",
                "run `studybot db upgrade` to create it (the bot also does at its first start)",
            )
        ]
    try:
        db = Database(config.database.url, migrate=False)
    except Exception as error:
        failure = explain(error, config)
        return [Check("database", "fail", failure.cause, failure.fix)]
    try:
        try:
            current = current_revisions(db.engine)
            with db.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
        except Exception as error:
            failure = explain(error, config)
            return [Check("database", "fail", failure.cause, failure.fix)]
        results = [Check("database", "ok", f"{url} reachable")]
        heads = script_heads()
        if not current:
            results.append(
                Check("migrations", "fail", "the database is empty", "run `studybot db upgrade`")
            )
            return results
        if current != heads:
            results.append(
                Check(
                    "migrations",
                    "fail",
                    f"at {', '.join(sorted(current))}, this version needs {', '.join(heads)}",
                    "run `studybot db upgrade` (after `studybot db backup`)",
                )
            )
        else:
            results.append(Check("migrations", "ok", f"at {', '.join(sorted(current))}"))
        with db.session() as session:
            left = orphaned_groups(session, [g.slug for g in config.groups])
        if left:
            new = [g.slug for g in config.groups]
            results.append(
                Check(
                    "groups",
                    "warn",
                    f"group(s) {', '.join(left)} in the database are not in the config "
                    "(their history is not served)",
                    f"if you renamed a slug: `studybot db rename-group {left[0]} "
                    f"{new[0] if new else 'NEW'}`",
                )
            )
        return results
    finally:
        db.dispose()


def _sqlite_file(url: str) -> Path | None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database or "").expanduser()


def check_data_dir(config: Config) -> list[Check]:
    folder = config.data_path
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".doctor-"):
            pass
    except OSError as error:
        return [
            Check(
                "data_dir",
                "fail",
                f"{folder} is not writable ({error.strerror or error})",
                "create it and give the bot's user write access (chown), or set data_dir",
            )
        ]
    return [Check("data_dir", "ok", f"{folder} writable")]


async def check_telegram(config: Config, *, request: Any = None) -> list[Check]:
    """``getMe`` with the token, then ``getChat`` for every configured Telegram chat."""
    from telegram import Bot

    token = config.telegram.token
    if not token:
        return []
    kwargs: dict[str, Any] = {}
    if config.telegram.base_url:
        kwargs["base_url"] = config.telegram.base_url.rstrip("/")
    if request is not None:
        kwargs["request"] = request
    bot = Bot(token, **kwargs)
    results: list[Check] = []
    try:
        try:
            await asyncio.wait_for(bot.initialize(), TIMEOUT)
        except Exception as error:
            failure = explain(error, config)
            return [Check("telegram", "fail", failure.cause, failure.fix)]
        results.append(Check("telegram", "ok", f"getMe: @{bot.username} (id {bot.id})"))
        for group in config.groups:
            for chat in group.chats:
                if chat.platform != "telegram":
                    continue
                name = f"chat {chat.chat_id} ({group.slug})"
                try:
                    found = await asyncio.wait_for(bot.get_chat(chat.chat_id), TIMEOUT)
                except Exception as error:  # TelegramError, a timeout, a bad answer
                    results.append(
                        Check(
                            name,
                            "fail",
                            f"getChat failed: {error}",
                            "add the bot to that chat, or correct the id: send a message there "
                            "while the bot runs, then `studybot chats` shows the right id",
                        )
                    )
                    continue
                title = found.title or found.full_name or ""
                results.append(Check(name, "ok", f"reachable: {title}".rstrip(": ")))
    finally:
        with contextlib.suppress(Exception):
            await bot.shutdown()
    return results


async def check_wechat(config: Config) -> list[Check]:
    """The gateway's port answers (the account's login is checked when the bot starts)."""
    if not config.wechat.token:
        return []
    endpoint = config.wechat.endpoint or os.environ.get("WECHATY_PUPPET_SERVICE_ENDPOINT", "")
    if not endpoint or ":" not in endpoint:
        return [
            Check(
                "wechat",
                "fail",
                "wechat.endpoint is not set",
                "set wechat.endpoint to the gateway's host:port (e.g. 127.0.0.1:8788)",
            )
        ]
    host, _, port = endpoint.rpartition(":")
    try:
        _reader, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), TIMEOUT)
        writer.close()
    except (OSError, ValueError, TimeoutError) as error:
        return [
            Check(
                "wechat",
                "fail",
                f"the puppet service gateway at {endpoint} is not answering ({error})",
                "start the gateway (docs/wechat.md) or correct wechat.endpoint",
            )
        ]
    return [
        Check(
            "wechat",
            "ok",
            f"gateway {endpoint} answers (login and rooms are checked when the bot starts)",
        )
    ]


async def check_web(config: Config) -> list[Check]:
    """``web.base_url`` answers /healthz; while no bot runs locally this is only a warning."""
    import httpx

    web = config.web
    if not web.enabled:
        return [Check("web", "ok", "web archive disabled")]
    public = web.base_url.rstrip("/")
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT) as client:
            answer = await client.get(f"{public}/healthz")
        if answer.status_code == 200:
            return [Check("web", "ok", f"{public}/ answers")]
        problem = f"{public}/healthz answered {answer.status_code}"
    except httpx.HTTPError as error:
        problem = f"{public}/ is not answering ({type(error).__name__})"
    local_running = await _port_open(web.host, web.port)
    if not local_running:
        return [
            Check(
                "web",
                "warn",
                f"{problem}; no bot is serving on {web.host}:{web.port} now",
                "start the bot, then run doctor again to check web.base_url",
            )
        ]
    return [
        Check(
            "web",
            "fail",
            f"{problem}, though the bot serves on {web.host}:{web.port}",
            "point web.base_url at the public address and check the reverse proxy "
            f"forwards to {web.host}:{web.port}",
        )
    ]


async def _port_open(host: str, port: int) -> bool:
    if not port:
        return False
    try:
        _reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 2)
    except (OSError, TimeoutError):
        return False
    writer.close()
    return True


async def run_checks(config_path: str | None, *, telegram_request: Any = None) -> list[Check]:
    """Every check; stops after the config when it cannot be read."""
    try:
        config = resolve_config(config_path)
    except ConfigError as error:
        return [Check("config", "fail", str(error), "edit the file (see config.example.yaml)")]
    source = config_file(config_path) or "defaults (no config file)"
    results = [Check("config", "ok", f"{source}: {len(config.groups)} group(s)")]
    results += check_secrets(config)
    results += await asyncio.to_thread(check_database, config)
    results += check_data_dir(config)
    results += await check_telegram(config, request=telegram_request)
    results += await check_wechat(config)
    results += await check_web(config)
    return results


def print_report(results: list[Check]) -> int:
    """Print the checklist; 1 when any check failed."""
    for check in results:
        print(f"{MARKS[check.status]} {check.name}: {check.detail}")
        if check.fix and check.status != "ok":
            print(f"    fix: {check.fix}")
    failed = sum(check.status == "fail" for check in results)
    print(f"\n{failed} problem(s) found" if failed else "\nall checks passed")
    return 1 if failed else 0
