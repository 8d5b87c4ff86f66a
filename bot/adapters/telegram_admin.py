"""Telegram command menu (setMyCommands) and chat-administrator lookups (cached).

The command menu comes from the registry: the public commands for everyone and, for chat
administrators, the admin commands too; each in the configured language (default) and the
other one (``language_code``). Telegram accepts only ``[a-z0-9_]{1,32}`` names, so Chinese
aliases stay out of the menu (they still work when typed).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Sequence

from telegram import (
    Bot,
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeChat,
    BotCommandScopeChatAdministrators,
)
from telegram.error import TelegramError

from bot.registry import Registry

log = logging.getLogger(__name__)

COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
FAILURE_TTL = 60.0


def command_menus(
    registry: Registry, lang: str, chat_languages: Sequence[tuple[str, str]] = ()
) -> list[tuple[BotCommandScope | None, str | None, list[BotCommand]]]:
    """(scope, language_code, commands) for every setMyCommands call to make; a group chat
    whose language is not ``lang`` (``groups[].language``) gets its own menus in its language."""
    other = "en" if lang == "zh" else "zh"
    menus: list[tuple[BotCommandScope | None, str | None, list[BotCommand]]] = []
    scopes: Sequence[tuple[BotCommandScope | None, bool]] = (
        (None, False),
        (BotCommandScopeAllChatAdministrators(), True),
    )
    for scope, include_admin in scopes:
        specs = [
            spec
            for spec in registry.visible_commands(include_admin=include_admin)
            if COMMAND_NAME.match(spec.name)
        ]
        for language_code, help_lang in ((None, lang), (other, other)):
            commands = [BotCommand(s.name, (s.help(help_lang) or s.name)[:256]) for s in specs]
            menus.append((scope, language_code, commands))
    for chat_id, chat_lang in chat_languages:
        if chat_lang == lang:
            continue
        for chat_scope, include_admin in (
            (BotCommandScopeChat(chat_id), False),
            (BotCommandScopeChatAdministrators(chat_id), True),
        ):
            specs = [
                spec
                for spec in registry.visible_commands(include_admin=include_admin)
                if COMMAND_NAME.match(spec.name)
            ]
            commands = [BotCommand(s.name, (s.help(chat_lang) or s.name)[:256]) for s in specs]
            menus.append((chat_scope, None, commands))
    return menus


async def register_commands(
    bot: Bot, registry: Registry, lang: str, chat_languages: Sequence[tuple[str, str]] = ()
) -> None:
    """Set the command menus; a failure is logged (the bot works without a menu)."""
    for scope, language_code, commands in command_menus(registry, lang, chat_languages):
        try:
            await bot.set_my_commands(commands, scope=scope, language_code=language_code)
        except TelegramError as error:
            log.warning("setMyCommands failed (%s); the command menu may be stale", error)
            return


class ChatAdmins:
    """Administrators per chat from getChatAdministrators, cached for ``ttl`` seconds.

    A failed lookup (no rights, emulator, network) counts as "no administrators" and is
    cached briefly, so a broken chat does not cost an API call per command. Concurrent lookups
    of one chat share a single request (a burst of commands after a restart asks once).
    """

    def __init__(
        self, bot: Callable[[], Bot], ttl: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._bot = bot
        self.ttl = ttl
        self.clock = clock
        self._cache: dict[int | str, tuple[float, frozenset[int]]] = {}
        self._locks: dict[int | str, asyncio.Lock] = {}

    async def of(self, chat_id: int | str) -> frozenset[int]:
        """The chat's administrators' user ids (cached; one request at a time per chat)."""
        cached = self._cached(chat_id)
        if cached is not None:
            return cached
        async with self._locks.setdefault(chat_id, asyncio.Lock()):
            # whoever waited here finds what the request before it cached
            cached = self._cached(chat_id)
            return cached if cached is not None else await self._ask(chat_id)

    def _cached(self, chat_id: int | str) -> frozenset[int] | None:
        cached = self._cache.get(chat_id)
        return cached[1] if cached is not None and cached[0] > self.clock() else None

    async def _ask(self, chat_id: int | str) -> frozenset[int]:
        ttl = self.ttl
        try:
            members = await self._bot().get_chat_administrators(chat_id)
            admins = frozenset(member.user.id for member in members)
        except TelegramError as error:
            log.warning(
                "getChatAdministrators(%s) failed (%s); treating as not admin", chat_id, error
            )
            admins, ttl = frozenset(), min(ttl, FAILURE_TTL)
        self._cache[chat_id] = (self.clock() + ttl, admins)
        return admins

    async def any_of(self, user_id: int, chats: Sequence[int | str]) -> bool:
        """Whether ``user_id`` administers at least one of ``chats``."""
        for chat in chats:
            if user_id in await self.of(chat):
                return True
        return False
