"""Outbound side of the Telegram adapter: queued replies and bot-initiated messages.

:class:`TelegramReplies` is mixed into :class:`bot.adapters.telegram.TelegramAdapter`;
:meth:`~TelegramReplies.send_queued` is the send stage's sender (``bot.sending``): it puts an
outbox row where it belongs (the group, as a reply to the member's message; or privately, with
a notice in the group when the member never started the bot), sends photos and files with the
text as caption when it fits, records question announcements so replies to them count as
answers. Check-in acknowledgments in groups follow the chat's mode (``bot.acks``): a reaction
on the member's message (a batch where the chat disallows reactions), one batched message
edited in place while its window is open, or a reply. :meth:`~TelegramReplies.send` posts the
digest and reminders. Tokens, retries, flood control and splitting are
:mod:`bot.adapters.telegram_send`'s.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from telegram import Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.helpers import mention_html

from bot.acks import AckBatches, AckMode, batch_text
from bot.adapters.telegram_send import PLATFORM, chat_key, is_final
from bot.adapters.telegram_text import escape, render_html, split_html
from bot.i18n import Messages
from bot.model import ChatRef, Outgoing, Reply
from bot.outbox import DIGEST, QUIET, Queued
from bot.sending import Parts, SendFailed, SendLater, SendStage, current_priority

if TYPE_CHECKING:
    from bot.adapters.telegram_send import TelegramOutbound
    from bot.config import Config
    from bot.dispatch import Dispatcher
    from bot.sent import SentMessages

log = logging.getLogger("bot.adapters.telegram")

MSG = Messages(
    {
        "dm_sent": ("{name}，已私信发送 📬", "{name}, sent to you privately 📬"),
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
    sent: SentMessages
    acks: AckBatches
    sending: SendStage
    no_reactions: set[str]  # chats where Telegram refused a reaction

    def ack_mode(self, chat_id: str) -> AckMode:
        """The chat's acknowledgment mode: its own ``ack``, else ``telegram.ack``."""
        for group in self.config.groups:
            for chat in group.chats:
                if chat.platform == PLATFORM and chat.chat_id == chat_id and chat.ack:
                    return chat.ack
        return self.config.telegram.ack

    def gathers(self, item: Queued) -> bool:
        """Whether ``item`` goes out in a batch of acknowledgments (see :meth:`send_acks`)."""
        if not item.is_ack or item.chat_kind == "private":
            return False
        mode = self.ack_mode(item.chat_id)
        return mode == "batch" or (mode == "react" and item.chat_id in self.no_reactions)

    async def send_acks(self, items: list[Queued]) -> None:
        """One message naming everyone in ``items``: the chat's open batch message edited in
        place, else a new one that opens a window."""
        chat = items[0].chat_id
        lang = self.dispatcher.language_of(ChatRef(PLATFORM, str(chat)))  # the chat's group's
        names = [item.sender.display_name for item in items]
        batch = self.acks.open_for(chat)
        if batch is not None:
            shown = [*batch.names, *names]
            text = escape(batch_text(shown, lang))
            message_id = int(batch.message_id)
            try:
                await self.outbound.call(
                    f"editMessageText in {chat}",
                    lambda bot: bot.edit_message_text(
                        text,
                        chat_id=chat_key(chat),
                        message_id=message_id,
                        parse_mode=ParseMode.HTML,
                    ),
                    chat,
                )
                batch.names = shown
                return
            except BadRequest as error:  # deleted meanwhile, or too old to edit
                log.info("batch message %s in %s not edited (%s)", message_id, chat, error)
                self.acks.close(chat)
        [sent] = await self.outbound.send_parts(chat_key(chat), [escape(batch_text(names, lang))])
        self.acks.opened(chat, str(sent.message_id), names)

    async def _react(self, item: Queued) -> bool:
        """Acknowledge with a reaction on the member's message; False when not possible."""
        message_id = str(item.extra.get("message_id", ""))
        if not message_id.isdigit():
            return False
        emoji = self.config.telegram.ack_reaction
        try:
            await self.outbound.call(
                f"setMessageReaction in {item.chat_id}",
                lambda bot: bot.set_message_reaction(
                    chat_key(item.chat_id), int(message_id), reaction=emoji
                ),
                item.chat_id,
                in_chat=False,  # Telegram's per-group message limit is for messages
            )
        except BadRequest as error:
            log.info("reactions refused in %s (%s): batching acknowledgments", item.chat_id, error)
            self.no_reactions.add(item.chat_id)
            return False
        return True

    async def send_queued(self, item: Queued) -> None:
        """Send one outbox row (the send stage calls this); record question announcements.

        Raises :class:`SendFailed` when Telegram refuses it for good, :class:`SendLater`
        when it may go through later (from its first unsent part).
        """
        if item.is_ack and item.chat_kind != "private" and self.ack_mode(item.chat_id) == "react":
            try:
                if not await self._react(item):
                    await self.send_acks([item])  # reactions not allowed there: a batch
            except TelegramError as error:
                if is_final(error):
                    raise SendFailed(str(error)) from error
                raise SendLater(str(error)) from error
            return
        target = chat_key(item.chat_id)
        reply_to = int(item.reply_to) if item.reply_to and item.reply_to.isdigit() else None
        reply = item.reply()
        if item.extra.get("to_member") and item.mention_user_id and item.mention_user_id.isdigit():
            # addressed to a member in a group (an asker): a mention notifies them
            name = item.sender.display_name or item.mention_user_id
            mention = mention_html(int(item.mention_user_id), name)
            reply = replace(reply, html=f"{mention} {render_html(reply)}")

        def record(messages: list[Message]) -> None:  # replies to any part answer the question
            if item.question_id is None:
                return
            for message in messages:
                chat = ChatRef(PLATFORM, str(message.chat_id), item.chat_kind)
                self.sent.record_sent(chat, str(message.message_id), item.question_id)

        fallback = item.extra.get("fallback")  # a private reply to a command in a group
        try:
            await self._send(target, reply, reply_to, self.sending.parts(item), record)
        except Forbidden as error:
            log.warning("cannot message %s (%s)", target, error)
            if item.chat_kind == "private" and fallback:
                name = item.sender.display_name
                notice = MSG.get("dm_blocked", self.config.language, name=name)
                notice_to = fallback.get("reply_to")
                await self.outbound.send_parts(
                    chat_key(fallback["chat_id"]),
                    [escape(notice)],
                    reply_to=int(notice_to) if notice_to and notice_to.isdigit() else None,
                )
            raise SendFailed(str(error)) from error
        except TelegramError as error:
            if is_final(error):
                raise SendFailed(str(error)) from error
            raise SendLater(str(error)) from error
        if item.chat_kind == "private" and fallback:
            # the group sees the command was answered (else it looks ignored there)
            notice = MSG.get("dm_sent", self.config.language, name=item.sender.display_name)
            notice_to = fallback.get("reply_to")
            try:
                await self.outbound.send_parts(
                    chat_key(fallback["chat_id"]),
                    [escape(notice)],
                    reply_to=int(notice_to) if notice_to and notice_to.isdigit() else None,
                )
            except TelegramError as error:  # the private reply went: nothing to retry
                log.warning("no 'sent privately' line in %s (%s)", fallback["chat_id"], error)

    async def _send(
        self,
        chat_id: int | str,
        reply: Reply,
        reply_to: int | None,
        parts: Parts,
        record: Callable[[list[Message]], None],
    ) -> None:
        """Document or photo (text as caption when it fits), then the text if it did not fit;
        each one a part (see :class:`~bot.sending.Parts`: a resumed reply skips those sent)."""
        if reply.file is not None and parts.due():  # a document (e.g. /export), caption rule
            doc = await self.outbound.send_document(
                chat_id, reply.file, reply.file_name, reply.text, reply_to=reply_to
            )
            parts.sent()  # (not sent at all: the text follows, nothing lost)
            record([doc] if doc is not None else [])
            if doc is not None and (doc.caption or not reply.text.strip()):
                return
        if reply.image is not None and parts.due():
            photo = await self.outbound.send_photo(
                chat_id, reply.image, reply.image_name, reply.text, reply_to=reply_to
            )
            parts.sent()
            record([photo] if photo is not None else [])
            if photo is not None and (photo.caption or not reply.text.strip()):
                return
        for index, part in enumerate(split_html(render_html(reply))):
            if parts.due():
                record(
                    await self.outbound.send_parts(
                        chat_id, [part], reply_to=reply_to if index == 0 else None
                    )
                )
                parts.sent()

    async def send(self, outgoing: Outgoing) -> list[str]:
        """Post a bot-initiated message (digest, reminder); raises on final failure."""
        if outgoing.chat.platform != PLATFORM:
            raise ValueError(f"telegram cannot send to a {outgoing.chat.platform} chat")
        # digest parts and reminders take tokens after answers; admin notices after both
        current_priority.set(QUIET if outgoing.reply.kind == "notice" else DIGEST)
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
