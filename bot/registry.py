"""The command and keyword registry: ``@command`` / ``@keyword`` decorators fill one table.

A handler is ``async def handler(ctx: Context) -> list[Reply] | Reply | None``. Importing a
handler module registers it; :func:`bot.app.load_handlers` imports them all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    from bot.context import Context
    from bot.model import Reply

HandlerResult = Union["Reply", Sequence["Reply"], None]
Handler = Callable[["Context"], Awaitable[HandlerResult]]


@dataclass(frozen=True)
class CommandSpec:
    """One command: its name, aliases, hashtag triggers, help text and permission.

    ``bare_words`` are hashtag words that also trigger without their ``#`` when followed by a
    separator or a day number (``打卡 day3 …``, ``提问 …``): only for words nobody starts a
    chat line with; a word written with a trailing ``：`` (``问题：``) triggers only before a
    colon (see :func:`bot.routing.match_tag`).
    ``content``: the command stores what a member posts (打卡, a question, an answer, a paper, a
    resource); the per-member flood limit never refuses it (``bot.dispatch``).
    """

    name: str
    handler: Handler
    help_zh: str
    help_en: str
    usage: str = ""
    usage_en: str = ""  # the usage's placeholders in English (default: ``usage``)
    aliases: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    bare_words: tuple[str, ...] = ()
    admin: bool = False
    hidden: bool = False
    content: bool = False

    def help(self, lang: str) -> str:
        return self.help_en if lang == "en" else self.help_zh

    def usage_for(self, lang: str) -> str:
        """The arguments' placeholders in ``lang`` (``<链接>`` / ``<url>``)."""
        return (self.usage_en or self.usage) if lang == "en" else self.usage


@dataclass(frozen=True)
class KeywordSpec:
    """A built-in keyword reply: the message must equal ``word`` (after trimming)."""

    word: str
    handler: Handler


@dataclass
class Registry:
    """All commands and keywords, looked up by name, alias or hashtag."""

    commands: dict[str, CommandSpec] = field(default_factory=dict)
    _by_alias: dict[str, CommandSpec] = field(default_factory=dict)
    _by_hashtag: dict[str, CommandSpec] = field(default_factory=dict)
    keywords: dict[str, KeywordSpec] = field(default_factory=dict)

    def add_command(self, spec: CommandSpec) -> None:
        for key in (spec.name, *spec.aliases):
            if key.lower() in self._by_alias:
                raise ValueError(f"command name or alias {key!r} registered twice")
            self._by_alias[key.lower()] = spec
        for tag in spec.hashtags:
            self._by_hashtag[tag] = spec
        self.commands[spec.name] = spec

    def add_keyword(self, spec: KeywordSpec) -> None:
        self.keywords[spec.word] = spec

    def find_command(self, name: str) -> CommandSpec | None:
        return self._by_alias.get(name.lower())

    def find_hashtag(self, tag: str) -> CommandSpec | None:
        return self._by_hashtag.get(tag)

    @property
    def hashtags(self) -> list[str]:
        return sorted(self._by_hashtag, key=len, reverse=True)

    @property
    def bare_words(self) -> list[str]:
        return [word for spec in self.commands.values() for word in spec.bare_words]

    def visible_commands(self, *, include_admin: bool) -> list[CommandSpec]:
        return [
            c for c in self.commands.values() if not c.hidden and (include_admin or not c.admin)
        ]


REGISTRY = Registry()

JOIN_KEYWORD = "__join__"
"""Register ``@keyword(JOIN_KEYWORD)`` for the join reply: the dispatcher routes every word in
``config.join.keywords`` (default 「自学」) to it."""


def command(
    name: str,
    *,
    help_zh: str,
    help_en: str,
    usage: str = "",
    usage_en: str = "",
    aliases: Sequence[str] = (),
    hashtags: Sequence[str] = (),
    bare_words: Sequence[str] = (),
    admin: bool = False,
    hidden: bool = False,
    content: bool = False,
    registry: Registry | None = None,
) -> Callable[[Handler], Handler]:
    """Register ``handler`` as the command ``/name`` (plus aliases and ``#hashtag`` triggers)."""

    def decorate(handler: Handler) -> Handler:
        (registry or REGISTRY).add_command(
            CommandSpec(
                name=name,
                handler=handler,
                help_zh=help_zh,
                help_en=help_en,
                usage=usage,
                usage_en=usage_en,
                aliases=tuple(aliases),
                hashtags=tuple(hashtags),
                bare_words=tuple(bare_words),
                admin=admin,
                hidden=hidden,
                content=content,
            )
        )
        return handler

    return decorate


def keyword(word: str, *, registry: Registry | None = None) -> Callable[[Handler], Handler]:
    """Register ``handler`` for messages that are exactly ``word``."""

    def decorate(handler: Handler) -> Handler:
        (registry or REGISTRY).add_keyword(KeywordSpec(word=word, handler=handler))
        return handler

    return decorate
