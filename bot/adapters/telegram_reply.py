"""Outbound side of the Telegram adapter: handler replies and bot-initiated messages.

:class:`TelegramReplies` is mixed into :class:`bot.adapters.telegram.TelegramAdapter`; it puts a
reply where it belongs (the group, as a reply to the member's message; or privately), sends
photos and files with the text as caption when it fits, records question announcements so
replies to them count as answers, and posts the digest and reminders (:meth:`send`). Retries,
flood control, splitting and the outbox are :mod:`bot.adapters.telegram_send`'s.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from telegram import Message
from telegram.error import Forbidden

from bot.adapters.telegram_outbox import PLATFORM, chat_key
from bot.adapters.telegram_text import escape, render_html
from bot.i18n import Messages
from bot.model import ChatRef, Incoming, Outgoing, Reply

if TYPE_CHECKING:
    from bot.adapters.telegram_send import TelegramOutbound
    from bot.config import Config
    from bot.dispatch import Dispatcher

log = logging.getLogger("bot.adapters.telegram")

MSG = Messages(
    {
        "dm_blocked": (
            "{name}，我无法私信你：请先打开与我的私聊并发送 /start，再试一次。",
            "{name}, I can't message you privately: open a chat with me, send /start, then retry.",
        ),
    }
)


class TelegramReplies:
    """Sending replies and bot-initiated messages (needs ``outbound``, ``config``, ``dispatcher``)."""

    outbound: TelegramOutbound
    config: Config
    dispatcher: Dispatcher

    async def send_reply(self, incoming: Incoming, reply: Reply, message: Message) -> None:
        """Send one handler reply where it belongs; record question announcements."""
        if reply.chat is not None and reply.chat.platform != PLATFORM:
            log.warning(
                "reply for %s chat %s skipped by telegram", reply.chat.platform, reply.chat.chat_id
            )
            return
        target = chat_key(
            reply.chat.chat_id
            if reply.chat
            else incoming.sender.user_id
            if reply.private
            else incoming.chat.chat_id
        )
        reply_to = int(reply.reply_to_message_id) if reply.reply_to_message_id else None
        if reply_to is None and target == message.chat.id and not incoming.chat.is_private:
            reply_to = message.message_id
        try:
            sent = await self._send(target, reply, reply_to)
        except Forbidden as error:
            log.warning("cannot message %s (%s)", target, error)
            if reply.private and not incoming.chat.is_private:
                name = incoming.sender.display_name
                notice = MSG.get("dm_blocked", self.config.language, name=name)
                await self.outbound.deliver(
                    message.chat.id, escape(notice), reply_to=message.message_id
                )
            return
        if reply.question_id is not None:
            for sent_message in sent:
                chat = ChatRef(PLATFORM, str(sent_message.chat_id), incoming.chat.kind)
                self.dispatcher.record_sent(chat, str(sent_message.message_id), reply.question_id)

    async def _send(self, chat_id: int | str, reply: Reply, reply_to: int | None) -> list[Message]:
        """Document or photo (text as caption when it fits), then the text if it did not fit."""
        sent: list[Message] = []
        if reply.file is not None:  # a document (e.g. /export), same caption rule as photos
            doc = await self.outbound.send_document(
                chat_id, reply.file, reply.file_name, reply.text, reply_to=reply_to
            )
            if doc is not None and (doc.caption or not reply.text.strip()):
                return [doc]
            sent += [doc] if doc is not None else []
        if reply.image is not None:
            photo = await self.outbound.send_photo(
                chat_id, reply.image, reply.image_name, reply.text, reply_to=reply_to
            )
            if photo is not None:
                sent.append(photo)
                if photo.caption or not reply.text.strip():
                    return sent
        return sent + await self.outbound.deliver(
            chat_id, render_html(reply), reply_to=reply_to, question_id=reply.question_id
        )

    async def send(self, outgoing: Outgoing) -> list[str]:
        """Post a bot-initiated message (digest, reminder); raises on final failure."""
        if outgoing.chat.platform != PLATFORM:
            raise ValueError(f"telegram cannot send to a {outgoing.chat.platform} chat")
        chat_id = chat_key(outgoing.chat.chat_id)
        reply = outgoing.reply
        ids: list[str] = []
        if reply.image is not None:
            photo = await self.outbound.send_photo(
                chat_id, reply.image, reply.image_name, reply.text
            )
            if photo is not None:
                ids.append(str(photo.message_id))
                if photo.caption or not reply.text.strip():
                    return ids
        html = render_html(reply)
        mentions = self.outbound.mention_line(outgoing.mention_user_ids)
        if mentions:
            html = f"{html}\n{mentions}"
        return ids + await self.outbound.send_outgoing(chat_id, html)
