"""What a handler gets: the message, its arguments, a unit of work, config and services.

Handlers raise :class:`UserError` for bad input: the dispatcher rolls the unit of work back
(nothing stored half-way) and replies with the error text.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from bot.i18n import Messages
from bot.model import Incoming

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bot.config import Config, GroupConfig
    from storage.models import Group, Member


class CommandInfo(Protocol):
    """A command as handlers read it (``/help``): :class:`bot.registry.CommandSpec`."""

    @property
    def name(self) -> str: ...
    @property
    def hashtags(self) -> tuple[str, ...]: ...
    @property
    def admin(self) -> bool: ...
    @property
    def hidden(self) -> bool: ...
    def help(self, lang: str) -> str: ...
    def usage_for(self, lang: str) -> str: ...


class Commands(Protocol):
    """The command table as handlers read it: :class:`bot.registry.Registry` (which holds
    handlers of a :class:`Context`, so this module does not import it)."""

    @property
    def commands(self) -> Mapping[str, CommandInfo]: ...
    @property
    def keywords(self) -> Mapping[str, object]: ...
    def visible_commands(self, *, include_admin: bool) -> Sequence[CommandInfo]: ...


class UserError(Exception):
    """Bad input from a user: the text is shown to them and nothing is stored."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


@dataclass
class Services:
    """What handlers may call beyond storage, passed in by ``bot.app.build_app``.

    ``publish_digest(group_slug, number=None) -> summary text`` sends the digest to the
    group's chats (:meth:`digest.service.DigestService.publish_digest`);
    ``push_mp_draft(number=None, *, force=False) -> summary text`` makes or updates the
    issue's 公众号 draft (:meth:`digest.service.DigestService.push_mp_draft`);
    ``paper_metadata(paper_id)`` fetches a paper's arXiv/GitHub metadata in the background
    (:meth:`bot.paper_metadata.PaperMetadata.schedule`; returns at once).
    """

    publish_digest: Callable[[str, int | None], Awaitable[str]] | None = None
    push_mp_draft: Callable[..., Awaitable[str]] | None = None
    paper_metadata: Callable[[int], None] | None = None


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
    registry: Commands
    now: datetime
    services: Services
    question_id: int | None = None
    deferred: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)

    @property
    def lang(self) -> str:
        """The group's language (``groups[].language``, default the global ``language``)."""
        return self.group_config.language or self.config.language

    def text(self, messages: Messages, key: str, /, **values: object) -> str:
        """A message from ``messages`` in the group's language."""
        return messages.get(key, self.lang, **values)

    def after_commit(self, job: Callable[[], Awaitable[Any]]) -> None:
        """Run ``job`` once this message's unit of work has committed (e.g. publishing).

        Its result (a Reply, a list of them or None) is appended to the handler's replies.
        Use it for work that opens its own sessions or talks to platforms.
        """
        self.deferred.append(job)

    @property
    def source(self) -> str:
        """``platform:chat_id:message_id`` of this message, stored with what it creates so an
        edit or a recall of the message reaches the entry (see ``bot.amend``)."""
        from storage.sources import source_key

        incoming = self.incoming
        return source_key(incoming.platform, incoming.chat.chat_id, incoming.message_id)

    def fail(self, messages: Messages, key: str, /, **values: object) -> UserError:
        """``raise ctx.fail(MSG, "key")``: a UserError in the group's language."""
        return UserError(messages.get(key, self.lang, **values))
