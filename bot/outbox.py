"""Replies into the outbox: where each reply goes, written in its message's own transaction.

Receiving never waits on sending: the dispatcher hands a message's replies to :func:`stage`
inside the transaction that stores the message, so a reply exists exactly when its message was
handled, and the platform's send stage (:mod:`bot.sending`) delivers it later, once.

Addressing is platform-neutral: a reply goes to ``reply.chat`` if set, privately to the sender
when ``reply.private`` (with the group as ``fallback`` if the platform refuses the DM), else
back to the message's chat, answering the member's message (``reply_to``, Telegram) and naming
them (``mention_user_id``, WeChat). Each adapter places a :class:`Queued` row its own way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.model import ChatKind, ChatRef, Incoming, Reply, ReplyKind, UserRef
from storage import outbox
from storage.models import OutboxMessage

# the send stage's order within a platform (lower goes first)
ANSWER, DIGEST, QUIET = 0, 1, 2
PRIORITY: dict[ReplyKind, int] = {"answer": ANSWER, "ack": QUIET, "notice": QUIET}


@dataclass(frozen=True)
class Queued:
    """One outbox row as a platform's sender sees it."""

    id: int
    platform: str
    chat_id: str
    chat_kind: ChatKind
    text: str
    html: str | None = None
    reply_to: str | None = None
    mention_user_id: str | None = None
    question_id: int | None = None
    priority: int = ANSWER
    kind: str = "reply"
    created_at: datetime | None = None
    attempts: int = 0
    parts_sent: int = 0  # parts of a long reply that went out before (skipped when resumed)
    extra: dict[str, Any] = field(default_factory=dict)
    image: bytes | None = None
    file: bytes | None = None

    @classmethod
    def of(cls, row: OutboxMessage) -> Queued:
        return cls(
            id=row.id,
            platform=row.platform,
            chat_id=row.chat_id,
            chat_kind="private" if row.chat_kind == "private" else "group",
            text=row.text,
            html=row.html,
            reply_to=row.reply_to,
            mention_user_id=row.mention_user_id,
            question_id=row.question_id,
            priority=row.priority,
            kind=row.kind,
            created_at=row.created_at,
            attempts=row.attempts,
            parts_sent=row.parts_sent or 0,
            extra=dict(row.extra or {}),
            image=row.image,
            file=row.file,
        )

    @property
    def chat(self) -> ChatRef:
        return ChatRef(self.platform, self.chat_id, self.chat_kind, self.extra.get("title", ""))

    @property
    def sender(self) -> UserRef:
        """The member whose message this answers (empty for bot-initiated rows)."""
        return UserRef(self.platform, self.extra.get("sender_id", ""), self.extra.get("name", ""))

    @property
    def is_ack(self) -> bool:
        return self.kind == "ack"

    def reply(self) -> Reply:
        """The reply this row carries (for adapters that place a :class:`Reply`)."""
        return Reply(
            self.text,
            html=self.html,
            question_id=self.question_id,
            invite_to_room=self.extra.get("invite_to_room"),
            image=self.image,
            image_name=self.extra.get("image_name", "image.png"),
            file=self.file,
            file_name=self.extra.get("file_name", "file.bin"),
        )


def row_fields(incoming: Incoming, reply: Reply) -> dict[str, Any]:
    """The outbox columns for ``reply`` to ``incoming`` (see the module docstring)."""
    if reply.to_member is not None:
        return _to_member_fields(incoming, reply, reply.to_member)
    extra: dict[str, Any] = {
        "sender_id": incoming.sender.user_id,
        "name": incoming.sender.display_name,
    }
    reply_to = reply.reply_to_message_id
    mention = None
    if reply.chat is not None:
        chat = reply.chat
    elif reply.private and not incoming.chat.is_private:
        chat = ChatRef(incoming.platform, incoming.sender.user_id, "private")
        extra["fallback"] = {"chat_id": incoming.chat.chat_id, "reply_to": incoming.message_id}
    else:
        chat = incoming.chat
    if chat.platform == incoming.platform and chat.chat_id == incoming.chat.chat_id:
        if not chat.is_private:
            reply_to = reply_to or incoming.message_id
            mention = incoming.sender.user_id
        extra["message_id"] = incoming.message_id
    if chat.title:
        extra["title"] = chat.title
    if reply.invite_to_room:
        extra["invite_to_room"] = reply.invite_to_room
    if reply.image is not None:
        extra["image_name"] = reply.image_name
    if reply.file is not None:
        extra["file_name"] = reply.file_name
    kind = "ack" if reply.kind == "ack" else "reply"
    return _columns(chat, reply, reply_to, mention, kind, extra, reply.image, reply.file)


def _to_member_fields(incoming: Incoming, reply: Reply, member: UserRef) -> dict[str, Any]:
    """A reply addressed to ``member`` (not the sender) in ``reply.chat``: privately, or in a
    group quoting ``reply.reply_to_message_id`` and mentioning them (``extra.to_member``).
    ``reply.instead`` (text only) is kept as ``extra.instead``: the row the send stage queues
    once if the platform refuses this one for good (:func:`instead_row`)."""
    chat = reply.chat or incoming.chat
    extra: dict[str, Any] = {"sender_id": member.user_id, "name": member.display_name}
    extra["to_member"] = True
    if chat.title:
        extra["title"] = chat.title
    if reply.instead is not None:
        extra["instead"] = {
            key: value
            for key, value in row_fields(incoming, reply.instead).items()
            if key not in ("image", "file")
        }
    mention = None if chat.is_private else member.user_id
    return _columns(chat, reply, reply.reply_to_message_id, mention, "reply", extra, None, None)


def _columns(
    chat: ChatRef,
    reply: Reply,
    reply_to: str | None,
    mention: str | None,
    kind: str,
    extra: dict[str, Any],
    image: bytes | None,
    file: bytes | None,
) -> dict[str, Any]:
    """One outbox row's columns: where it goes, what it says and how it is sent."""
    return {
        "platform": chat.platform,
        "chat_id": chat.chat_id,
        "chat_kind": chat.kind,
        "text": reply.text,
        "html": reply.html,
        "reply_to": reply_to,
        "mention_user_id": mention,
        "question_id": reply.question_id,
        "priority": PRIORITY[reply.kind],
        "kind": kind,
        "extra": extra,
        "image": image,
        "file": file,
    }


def instead_row(session: Session, item: Queued) -> bool:
    """Queue ``item``'s stand-in (``extra.instead``) in ``session``: the platform refused
    ``item`` for good. The caller settles ``item`` as failed in the same transaction, so the
    stand-in is queued once; it has no stand-in of its own."""
    fields = item.extra.get("instead")
    if not fields:
        return False
    extra = {key: value for key, value in (fields.get("extra") or {}).items() if key != "instead"}
    outbox.add(session, **{**fields, "extra": extra})
    return True


def stage(session: Session, incoming: Incoming, replies: Sequence[Reply]) -> None:
    """Queue ``replies`` to ``incoming`` in ``session`` (the message's transaction)."""
    for reply in replies:
        outbox.add(session, **row_fields(incoming, reply))


def queue_outgoing(session: Session, chat: ChatRef, reply: Reply) -> None:
    """Queue a bot-initiated message (a notice) for ``chat``'s platform."""
    fields = row_fields(Incoming(chat, UserRef(chat.platform, ""), "", ""), reply)
    fields["extra"] = {k: v for k, v in fields["extra"].items() if k not in {"sender_id", "name"}}
    fields["mention_user_id"] = None
    fields["reply_to"] = reply.reply_to_message_id
    outbox.add(session, **fields)
