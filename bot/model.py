"""Platform-neutral message model.

Adapters translate native updates into :class:`Incoming` and send :class:`Reply` objects back.
Handlers see only these types, never a platform SDK.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

ChatKind = Literal["private", "group"]
ReplyKind = Literal["answer", "ack", "notice"]


@dataclass(frozen=True, slots=True)
class UserRef:
    """A person on one platform."""

    platform: str
    user_id: str
    display_name: str = ""

    @property
    def qualified_id(self) -> str:
        """``platform:user_id``: the form used for admins in config."""
        return f"{self.platform}:{self.user_id}"


@dataclass(frozen=True, slots=True)
class ChatRef:
    """A chat (group/room or private conversation) on one platform."""

    platform: str
    chat_id: str
    kind: ChatKind = "group"
    title: str = ""

    @property
    def is_private(self) -> bool:
        return self.kind == "private"


@dataclass(frozen=True, slots=True)
class Incoming:
    """One message a user sent, as the handlers see it.

    ``reply_to_message_id`` is the platform id of the message this one replies to (if any);
    ``platform_admin`` is True when the platform itself says the sender administers the chat
    (e.g. a Telegram chat administrator); config admins are checked by the dispatcher.
    In a private chat, ``admin_groups`` names the groups (slugs) whose configured chats the
    sender administers: admin commands there count only for the group the chat acts for.
    """

    chat: ChatRef
    sender: UserRef
    text: str
    message_id: str
    sent_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    reply_to_message_id: str | None = None
    mentions_bot: bool = False
    platform_admin: bool = False
    anonymous: bool = False
    admin_groups: tuple[str, ...] = ()
    quotes_a_question: bool = False
    """A WeChat quote of a member's question-like message that is no known question of theirs
    (or could be several): the dispatcher says once how to answer instead of staying silent."""

    @property
    def platform(self) -> str:
        return self.chat.platform


@dataclass(frozen=True, slots=True)
class Reply:
    """What a handler wants said back.

    ``text`` is plain text (adapters escape it for their format). ``html`` optionally carries a
    pre-rendered Telegram-HTML version (e.g. the digest); adapters that cannot show HTML use
    ``text``. ``question_id`` marks the message that announces a question: adapters report the
    platform id of the sent message so that replies to it count as answers.
    ``chat`` overrides the destination (default: the chat the message came from); ``private``
    asks the adapter to send it to the sender privately where the platform allows.
    ``invite_to_room`` asks the adapter to invite the sender into that room (WeChat 「自学」);
    ``image`` is an optional PNG (e.g. the /stats chart) sent with ``text`` as its caption.
    ``file`` is an optional attachment (e.g. the /export JSON) named ``file_name``: sent as a
    document (Telegram), a file (WeChat) or saved under the data folder (console).
    ``kind``: ``answer`` (what the member asked for, an error, anything needing attention),
    ``ack`` (a quiet confirmation such as 「已记录」: a reaction or one batched message in
    groups, see ``bot.outbox``), ``notice`` (bot-initiated, sent after answers and digests).
    ``to_member`` addresses someone other than the sender (an asker told of an answer);
    ``instead`` is a text reply queued in its place, once, when the platform refuses this one
    for good (an asker's DM blocked: the notice goes to the group, see ``bot.sending``).
    """

    text: str
    html: str | None = None
    question_id: int | None = None
    chat: ChatRef | None = None
    private: bool = False
    reply_to_message_id: str | None = None
    invite_to_room: str | None = None
    image: bytes | None = None
    image_name: str = "image.png"
    file: bytes | None = None
    file_name: str = "file.bin"
    kind: ReplyKind = "answer"
    to_member: UserRef | None = None
    instead: Reply | None = None


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message the bot starts itself (digest, reminder): a destination plus the reply."""

    chat: ChatRef
    reply: Reply
    mention_user_ids: tuple[str, ...] = ()


def utcnow() -> datetime:
    """The current time, timezone-aware (UTC)."""
    return datetime.now(UTC)
