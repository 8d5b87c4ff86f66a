"""What adapters tell the bot about its own messages, and ask back: one small interface.

Adapters neither import storage nor call into the dispatcher for this bookkeeping; the
bootstrap (:func:`bot.app.build_app`) makes one :class:`SentLog` and hands it to each adapter
as its :class:`SentMessages`:

- :meth:`~SentMessages.record_sent`: the platform id of a sent question announcement, so a
  member's reply to it counts as an answer;
- :meth:`~SentMessages.announcement_of`: that id again, for platforms whose replies quote the
  text instead of pointing at a message (WeChat);
- :meth:`~SentMessages.add_bot_name`: the bot's username once the platform tells it
  (Telegram's getMe), so ``/cmd@otherbot`` is left to the other bot;
- :meth:`~SentMessages.display_names`: members' names for @-mentions;
- :meth:`~SentMessages.last_invitation` / :meth:`~SentMessages.note_invitation`: room
  invitations the bot sent (WeChat 「自学」), remembered across restarts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Protocol

from sqlalchemy import select

from bot.model import ChatRef
from storage import announcements, invitations
from storage.db import Database
from storage.models import Member


class SentMessages(Protocol):
    """The bookkeeping an adapter does about the bot's own messages."""

    def record_sent(self, chat: ChatRef, message_id: str, question_id: int) -> None:
        """``message_id`` (the platform's) announced question ``question_id`` in ``chat``."""

    def announcement_of(self, chat: ChatRef, number: int) -> str | None:
        """The id of the bot's latest message in ``chat`` announcing question ``number``."""

    def quoted_questions(self, chat: ChatRef, who: str, quoted: str) -> list[str]:
        """The message ids of the questions asked in ``chat`` by a member shown as ``who``
        that a quote of ``quoted`` can be (WeChat quotes show the name and the text)."""

    def add_bot_name(self, username: str) -> None:
        """The bot is also called ``username`` (commands addressed to it are ours)."""

    def display_names(self, platform: str, user_ids: Sequence[str]) -> dict[str, str]:
        """The stored display names of these members (unknown ids are left out)."""

    def last_invitation(
        self, platform: str, contact_id: str, room_id: str
    ) -> tuple[str, datetime] | None:
        """(state, when) of the latest room invitation of a person (``sent``/``failed``)."""

    def note_invitation(
        self,
        platform: str,
        contact_id: str,
        room_id: str,
        state: str,
        when: datetime,
        error: str | None = None,
    ) -> None:
        """Remember a room invitation (``sent`` before it goes out, ``failed`` after)."""


class BotNames:
    """The bot's own usernames, lower-case, shared by the dispatcher's routing and the
    adapters that learn them."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self._names = {name.lower() for name in names}

    def add(self, name: str) -> None:
        """Another name of the bot."""
        self._names.add(name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._names))

    def __len__(self) -> int:
        return len(self._names)


class SentLog:
    """:class:`SentMessages` kept in the database (``sent_messages``, ``members``,
    ``room_invitations``) and in the
    shared :class:`BotNames`."""

    def __init__(self, db: Database, names: BotNames) -> None:
        self.db = db
        self.names = names

    def record_sent(self, chat: ChatRef, message_id: str, question_id: int) -> None:
        with self.db.session() as session:
            announcements.record_sent_question(
                session, chat.platform, chat.chat_id, message_id, question_id
            )

    def announcement_of(self, chat: ChatRef, number: int) -> str | None:
        with self.db.session() as session:
            return announcements.announcement_of(session, chat.platform, chat.chat_id, number)

    def quoted_questions(self, chat: ChatRef, who: str, quoted: str) -> list[str]:
        with self.db.session() as session:
            found = announcements.quoted_questions(
                session, chat.platform, chat.chat_id, who, quoted
            )
        return [message_id for message_id, _ in found]

    def add_bot_name(self, username: str) -> None:
        self.names.add(username)

    def display_names(self, platform: str, user_ids: Sequence[str]) -> dict[str, str]:
        if not user_ids:
            return {}
        with self.db.session() as session:
            rows = session.execute(
                select(Member.platform_user_id, Member.display_name).where(
                    Member.platform == platform, Member.platform_user_id.in_(list(user_ids))
                )
            )
            return {user_id: name for user_id, name in rows}

    def last_invitation(
        self, platform: str, contact_id: str, room_id: str
    ) -> tuple[str, datetime] | None:
        with self.db.session() as session:
            return invitations.last_invitation(session, platform, contact_id, room_id)

    def note_invitation(
        self,
        platform: str,
        contact_id: str,
        room_id: str,
        state: str,
        when: datetime,
        error: str | None = None,
    ) -> None:
        with self.db.session() as session:
            invitations.note_invitation(session, platform, contact_id, room_id, state, when, error)
