"""The WeChat adapter: python ``wechaty`` 0.10.7 talking gRPC to a puppet service.

The connection (start, login, bounded reconnects with backoff, stop) is
:class:`~bot.adapters.wechat_session.WechatSession`, this adapter's base class; room membership
(rooms missing from the config, 「自学」 invitations into ``wechat.study_room_id``) is
:mod:`bot.adapters.wechat_rooms`; paced, retried sending is :mod:`bot.adapters.wechat_send`.

This module translates. Incoming: :meth:`WechatAdapter.to_incoming` maps one wechaty
``Message`` to the neutral :class:`Incoming` (room -> group chat, DM -> private chat, the bot's
@mention stripped, quote replies to a question announcement -> ``reply_to_message_id``). The
bot's own messages are ignored and re-delivered message ids are dropped by an in-memory LRU (the
dispatcher's database dedupe covers restarts). Outgoing: a message's replies are queued in the
outbox in its transaction and the adapter's send stage (``bot.sending``) sends them, so
receiving never waits on WeChat's pacing; each goes to its chat (text split under
``wechat.max_text_chars``, paced by ``wechat.send_interval_seconds`` for the whole account since
WeChat bans accounts that post in bursts, the digest's 阅读原文 link as a UrlLink card where
the puppet supports it); 「自学」 in a DM becomes an invitation into the study room. A reply
that could not be sent stays queued and is retried (``sending.retry_seconds``). Check-in
acknowledgments in rooms are batched (``wechat.ack: batch``, ``bot.acks``): the room's
acknowledgments of ``wechat.ack_batch_seconds`` go out as one message naming everyone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections import deque
from typing import Any

from bot.acks import AckMode, batch_text
from bot.adapters.wechat_connect import WechatSendError, payload_value
from bot.adapters.wechat_rooms import WechatRooms
from bot.adapters.wechat_send import WechatOutbound, wechat_limiter
from bot.adapters.wechat_session import PLATFORM, WechatSession
from bot.adapters.wechat_text import (
    RecentIds,
    normalise_command,
    parse_quote,
    quote_matches,
    strip_bot_mention,
    timestamp_to_datetime,
)
from bot.config import Config
from bot.dispatch import Dispatcher
from bot.ingest import Ingest, enqueue
from bot.model import ChatRef, Incoming, Outgoing, Reply, UserRef
from bot.outbox import DIGEST, QUIET, Queued
from bot.sending import Gather, Parts, SendFailed, SendLater, SendStage, current_priority
from bot.sent import SentLog, SentMessages

log = logging.getLogger(__name__)
QUESTION_LIKE = re.compile(r"^\s*(?:[#＃【\[「]\s*)?(?:提问|求助|问题|ask|question)\b|[?？]\s*…?$", re.I)
"""A quoted member message that reads as a question (「#提问 …」, 「…？」)."""
QUESTION_NUMBER = re.compile(r"(?:问题|Question) ?#(\d{1,9})")  # the announcement's "问题 #N"


FRIENDSHIP_RECEIVE = 2
"""``FriendshipType.FRIENDSHIP_TYPE_RECEIVE``: someone asks to be our friend."""


def room_admin(room: Any, contact_id: str) -> bool:
    """Whether the contact owns or administers the room (its payload's ``owner_id`` and
    ``admin_ids``, as the puppet reports them): they administer that room's group."""
    try:
        payload = room.payload
    except Exception:  # not loaded: no admin rights from the room
        return False
    owner = getattr(payload, "owner_id", "") or ""
    admins = set(getattr(payload, "admin_ids", None) or ())
    return bool(contact_id) and contact_id in {owner, *admins} - {""}


DRAIN_SECONDS = 5.0  # on shutdown, how long messages in hand (and still arriving) get


class WechatAdapter(WechatSession):
    """Runs the bot on WeChat through a wechaty puppet service (see docs/wechat.md)."""

    platform = PLATFORM

    def __init__(
        self,
        dispatcher: Dispatcher,
        config: Config,
        *,
        endpoint: str | None = None,
        token: str | None = None,
        sent: SentMessages | None = None,
    ) -> None:
        super().__init__(config, endpoint=endpoint, token=token)
        self.sent = sent if sent is not None else SentLog(dispatcher.db, dispatcher.bot_names)
        self.dispatcher = dispatcher
        self.config = config
        self._recent = RecentIds()
        limiter = wechat_limiter(self.settings)
        self.outbound = WechatOutbound(self.settings, self._ready, lambda: self._bot, limiter)
        sending = config.sending
        self.sending = SendStage(
            PLATFORM,
            dispatcher.db,
            self.send_queued,
            limiter,
            max_age=sending.max_age_seconds,
            retry_seconds=sending.retry_seconds,
            gather=Gather(self.gathers, self.send_acks, self.settings.ack_batch_seconds),
        )
        dispatcher.use_outbox(PLATFORM)
        self.ingest = Ingest(dispatcher)  # in arrival order; a burst is stored as one batch
        self.rooms = WechatRooms(
            config, dispatcher, self.sent, self.outbound, lambda: self._bot, self._post
        )
        self._questions: deque[tuple[str, str, str]] = deque(maxlen=200)

    # -- incoming --------------------------------------------------------------------------
    async def _handle(self, message_id: str) -> None:
        if self._recent.seen(message_id):
            return  # a re-delivery of a message already taken
        if self._stopping:  # disconnecting: WeChat will not deliver it again
            log.warning("WeChat: message %s arrived while disconnecting; not handled", message_id)
            return
        slot = self.ingest.reserve()  # its place in line, before anything is awaited
        incoming = None
        try:
            msg = self._bot.Message.load(message_id)
            await msg.ready()
            if await self.handle_recall(msg):
                return
            incoming = await self.to_incoming(msg)
        except Exception:
            log.exception("WeChat: cannot load message %s", message_id)
            return
        finally:
            self.ingest.fill(slot, incoming)  # stored once the messages before it are
        if incoming is None:
            return
        self.rooms.note_chat(incoming)  # before the batch runs (it starts on the next tick)
        try:
            replies = await self.ingest.replies(slot)  # queued in its transaction
            await enqueue(self.dispatcher, incoming, replies)  # refusals and errors made outside it
        except Exception:
            log.exception("WeChat: failed to answer message %s", message_id)
        self.sending.notify()

    async def start(self) -> None:
        """Connect, wait for the login, start sending what waits in the outbox."""
        await super().start()
        self.sending.start()

    async def stop(self) -> None:
        """Handle the messages already taken (their replies queued), stop the send stage
        within ``sending.shutdown_seconds`` (unsent replies stay queued), disconnect.

        WeChat delivers a message once, so messages that arrive until the disconnect are still
        stored (within :data:`DRAIN_SECONDS`); one arriving after it is logged."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DRAIN_SECONDS
        while self._tasks and (left := deadline - loop.time()) > 0:
            await asyncio.wait(set(self._tasks), timeout=left)
        await self.sending.stop(self.config.sending.shutdown_seconds)
        await super().stop()  # waits (briefly) for messages that came meanwhile

    async def _room_join(self, room_id: str, invited_ids: list[str]) -> None:
        """Welcome people who joined a configured room: one message through the outbox,
        mentioning the first of them."""
        newcomers = [i for i in invited_ids if i and i != self.self_id]
        if self._stopping or not newcomers:
            return
        names = []
        for contact_id in newcomers:
            try:
                contact = self._bot.Contact.load(contact_id)
                await contact.ready()
                names.append(contact.name or contact_id)
            except Exception:
                names.append(contact_id)
        chat = ChatRef(PLATFORM, room_id, "group")
        first = UserRef(PLATFORM, newcomers[0], names[0])  # the welcome @-mentions them
        incoming = Incoming(chat, first, "", f"join-{room_id}-{'-'.join(newcomers)}"[:128])
        try:
            replies = self.dispatcher.welcome(chat, names)
            await enqueue(self.dispatcher, incoming, replies)  # sent, retried
        except Exception:
            log.exception("WeChat: cannot welcome %s in %s", newcomers, room_id)
        self.sending.notify()

    async def _friendship(self, friendship_id: str) -> None:
        """FriendshipAccepter: a friend request whose greeting contains a join keyword
        (「自学」) is accepted, and the new friend gets the 「自学」 reply (an invitation)."""
        if self._stopping or not self.config.join.accept_friends:
            return
        try:
            puppet = self._bot.puppet
            request = await puppet.friendship_payload(friendship_id)
            if int(getattr(request, "type", 0) or 0) != FRIENDSHIP_RECEIVE:
                return
            hello = str(getattr(request, "hello", "") or "")
            keyword = next((k for k in self.config.join.keywords if k in hello), None)
            if keyword is None:
                log.info(
                    "WeChat: friend request %s without a join keyword left alone", friendship_id
                )
                return
            await puppet.friendship_accept(friendship_id)
        except Exception:
            log.exception("WeChat: cannot handle friend request %s", friendship_id)
            return
        contact_id = str(getattr(request, "contact_id", ""))
        name = contact_id
        with contextlib.suppress(Exception):
            contact = self._bot.Contact.load(contact_id)
            await contact.ready()
            name = contact.name or contact_id
        incoming = Incoming(
            chat=ChatRef(PLATFORM, contact_id, "private", name),
            sender=UserRef(PLATFORM, contact_id, name),
            text=keyword,
            message_id=f"friendship-{friendship_id}",
        )
        try:
            replies = await self.ingest.handle(incoming)  # queued in its transaction
            await enqueue(self.dispatcher, incoming, replies)
        except Exception:
            log.exception("WeChat: cannot answer the new friend %s", contact_id)
        self.sending.notify()

    async def handle_recall(self, msg: Any) -> bool:
        """A recall (撤回) notice: the entry the recalled message created is withdrawn (its
        text is the recalled message's id; a question's notice goes through the outbox).
        True when ``msg`` was a recall notice."""
        if getattr(msg.message_type(), "name", "") != "MESSAGE_TYPE_RECALLED":
            return False
        room = msg.room()
        chat_id = room.room_id if room is not None else msg.talker().contact_id
        recalled_id = (msg.text() or "").strip()
        if recalled_id:
            await self.dispatcher.db.run(self.dispatcher.recalled, PLATFORM, chat_id, recalled_id)
            self.sending.notify()
        return True

    async def to_incoming(self, msg: Any) -> Incoming | None:
        """Map a wechaty ``Message`` to :class:`Incoming`; None for non-text and own messages."""
        if getattr(msg.message_type(), "name", "") != "MESSAGE_TYPE_TEXT" or msg.is_self():
            return None
        payload = msg.payload
        talker = msg.talker()
        sender = UserRef(PLATFORM, talker.contact_id, payload_value(talker, "name"))
        room = msg.room()
        if room is not None:
            chat = ChatRef(PLATFORM, room.room_id, "group", payload_value(room, "topic"))
        else:
            chat = ChatRef(PLATFORM, talker.contact_id, "private", sender.display_name)
        text = msg.text()
        reply_to = None
        quotes_a_question = False
        quote = parse_quote(text)
        if quote is not None:
            text = quote.body
            if self.quotes_the_bot(quote.who):
                reply_to = self._quoted_question(chat.chat_id, quote.quoted)
            else:  # the asker's own question message answers it, when it is exactly one
                found = self.sent.quoted_questions(chat, quote.who.strip(), quote.quoted)
                if len(found) == 1:
                    reply_to = found[0]
                quotes_a_question = bool(found) or bool(QUESTION_LIKE.search(quote.quoted))
        mention_ids = list(getattr(payload, "mention_ids", None) or [])
        text, mentioned = strip_bot_mention(
            text, [self.self_name], bool(self.self_id) and self.self_id in mention_ids
        )
        return Incoming(
            chat=chat,
            sender=sender,
            text=normalise_command(text),
            message_id=msg.message_id,
            sent_at=timestamp_to_datetime(getattr(payload, "timestamp", None)),
            reply_to_message_id=reply_to,
            quotes_a_question=quotes_a_question and reply_to is None,
            mentions_bot=mentioned,
            platform_admin=room is not None and room_admin(room, talker.contact_id),
        )

    def quotes_the_bot(self, who: str) -> bool:
        """Whether a quote's 「who：…」 names this bot (its WeChat name, or its name in
        the room shown instead)."""
        return bool(self.self_name) and who.strip() == self.self_name.strip()

    def _quoted_question(self, chat_id: str, quoted: str) -> str | None:
        """The id of the question announcement a quote reply quotes: one sent since start
        (matched by text), else -- after a restart -- the chat's stored announcement of the
        question number the quote shows (``#N``)."""
        for sent_chat, message_id, text in reversed(self._questions):
            if sent_chat == chat_id and message_id and quote_matches(quoted, text):
                return message_id
        number = QUESTION_NUMBER.search(quoted)
        if number is None:
            return None
        return self.sent.announcement_of(ChatRef(PLATFORM, chat_id), int(number[1]))

    # -- outgoing --------------------------------------------------------------------------
    async def send(self, outgoing: Outgoing) -> list[str]:
        """Post a message the bot starts (digest, reminder); raise after the retries."""
        if self._bot is None:
            raise WechatSendError("the WeChat adapter is not started")
        # digest parts and reminders take tokens after answers; admin notices after both
        current_priority.set(QUIET if outgoing.reply.kind == "notice" else DIGEST)
        return await self._post(outgoing.chat, outgoing.reply, list(outgoing.mention_user_ids))

    def ack_mode(self, chat_id: str) -> AckMode:
        """The room's acknowledgment mode: its own ``ack``, else ``wechat.ack`` (WeChat has
        no reactions: ``react`` means ``batch`` here)."""
        mode: AckMode = self.settings.ack
        for group in self.config.groups:
            for chat in group.chats:
                if chat.platform == PLATFORM and chat.chat_id == chat_id and chat.ack:
                    mode = chat.ack
        return "batch" if mode == "react" else mode

    def gathers(self, item: Queued) -> bool:
        """Acknowledgments in rooms go out batched unless the room asks for replies."""
        return (
            item.is_ack and item.chat_kind != "private" and self.ack_mode(item.chat_id) != "reply"
        )

    async def send_acks(self, items: list[Queued]) -> None:
        """One message naming everyone acknowledged (WeChat cannot edit a sent message)."""
        names = [item.sender.display_name for item in items]
        text = batch_text(names, self.dispatcher.language_of(items[0].chat))
        try:
            await self._post(items[0].chat, Reply(text), [])
        except WechatSendError as error:
            raise SendLater(str(error)) from error

    async def send_queued(self, item: Queued) -> None:
        """Send one outbox row (the send stage calls this): to its chat, naming the member
        in their room; 「自学」 in a DM as an invitation. Raises :class:`SendLater` when
        WeChat did not take it, :class:`SendFailed` for a notice to someone who is no longer
        the bot's friend (WeChat would drop it: its stand-in goes to the group instead)."""
        reply = item.reply()
        if item.extra.get("to_member") and item.chat_kind == "private":
            if await self._is_friend(item.chat_id) is False:
                raise SendFailed(f"{item.chat_id} is not the bot's friend (any more)")
        try:
            if reply.invite_to_room and item.chat_kind == "private":
                dm = ChatRef(PLATFORM, item.chat_id, "private", item.sender.display_name)
                incoming = Incoming(dm, item.sender, "", item.extra.get("message_id", ""))
                await self.rooms.invite(incoming, reply)
                return
            mention = [item.mention_user_id] if item.mention_user_id else []
            await self._post(item.chat, reply, mention, self.sending.parts(item))
        except WechatSendError as error:
            raise SendLater(str(error)) from error

    async def _is_friend(self, contact_id: str) -> bool | None:
        """Whether the contact is the bot's friend (None: unknown, e.g. the lookup failed)."""
        try:
            contact = self._bot.Contact.load(contact_id)
            await contact.ready(force_sync=True)  # they may have deleted the bot since
            friend = contact.is_friend()
        except Exception as error:
            log.debug("WeChat: friendship of %s unknown: %s", contact_id, error)
            return None
        return None if friend is None else bool(friend)

    async def _post(
        self, chat: ChatRef, reply: Reply, mention_ids: list[str], parts: Parts | None = None
    ) -> list[str]:
        group = self.dispatcher.group_for_chat(chat)
        sent = await self.outbound.post(
            chat.chat_id,
            reply.text,
            mention_ids=mention_ids,
            group=group.name if group is not None else "",
            image=reply.image,
            image_name=reply.image_name,
            file=(reply.file, reply.file_name) if reply.file is not None else None,
            parts=parts,
            lang=self.dispatcher.language_of(chat),
        )
        if reply.question_id is not None:
            for message_id in sent:
                self.sent.record_sent(chat, message_id, reply.question_id)
            self._questions.append((chat.chat_id, sent[0] if sent else "", reply.text))
        return sent
