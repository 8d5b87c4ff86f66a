"""What a handler gets: the message, its arguments, a unit of work, config and services.

Handlers raise :class:`UserError` for bad input: the dispatcher rolls the unit of work back
(nothing stored half-way) and replies with the error text.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.i18n import Messages
from bot.model import Incoming

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bot.config import Config, GroupConfig
    from bot.registry import Registry
    from storage.models import Group, Member


class UserError(Exception):
    """Bad input from a user: the text is shown to them and nothing is stored."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


@dataclass
class Services:
    """Hooks wired by bot.app for handlers that need more than storage.

    ``publish_digest(group_slug, number=None) -> summary text`` sends the digest to the
    group's chats (set by ``digest.service.wire``).
    ``extra`` holds optional services by name (search index, stats renderer, ...).
    """

    publish_digest: Callable[..., Awaitable[str]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Context:
    """Everything a handler needs for one message."""

    incoming: Incoming
    command: str
    args: str
    session: Session
    config: Config
    group_config: GroupConfig
    group: Group
    member: Member
    is_admin: bool
    registry: Registry
    now: datetime
    services: Services
    question_id: int | None = None
    deferred: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)

    @property
    def lang(self) -> str:
        return self.config.language

    def text(self, messages: Messages, key: str, /, **values: object) -> str:
        """A message from ``messages`` in the configured language."""
        return messages.get(key, self.lang, **values)

    def after_commit(self, job: Callable[[], Awaitable[Any]]) -> None:
        """Run ``job`` once this message's unit of work has committed (e.g. publishing).

        Its result (a Reply, a list of them or None) is appended to the handler's replies.
        Use it for work that opens its own sessions or talks to platforms.
        """
        self.deferred.append(job)

    def fail(self, messages: Messages, key: str, /, **values: object) -> UserError:
        """``raise ctx.fail(MSG, "key")``: a UserError in the configured language."""
        return UserError(messages.get(key, self.lang, **values))
