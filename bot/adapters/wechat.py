"""The WeChat adapter: python ``wechaty`` 0.10.7 talking gRPC to a puppet service.

Lifecycle: :meth:`WechatAdapter.start` checks the endpoint is reachable, connects, and waits
for the account's login (``wechat.login_timeout_seconds``); a wrong token (UNAUTHENTICATED),
an unreachable endpoint or no login raise :class:`WechatError` with what to check, instead of
hanging (``Wechaty.start()`` swallows such errors, so the adapter drives the puppet itself).
When the gateway drops later the connection is retried with exponential backoff (bounded;
``finished`` is set when the adapter gives up, so the runner stops).

Incoming: :meth:`to_incoming` maps one wechaty ``Message`` to the neutral :class:`Incoming`
(room -> group chat, DM -> private chat, the bot's @mention stripped, quote replies to a
question announcement -> ``reply_to_message_id``). The bot's own messages are ignored and
re-delivered message ids are dropped by an in-memory LRU (the dispatcher's database dedupe
covers restarts). Outgoing: text split under ``wechat.max_text_chars``, paced by
``wechat.send_interval_seconds`` (WeChat bans accounts that post in bursts), the digest's
阅读原文 link as a UrlLink card where the puppet supports it. 「自学」 in a DM invites the friend
into ``wechat.study_room_id`` unless already a member.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Sequence
from typing import Any

from bot.adapters.wechat_connect import (
    WechatError,
    WechatSendError,
    check_reachable,
    discover_endpoint,
    explain,
    fresh_pools,
    is_unauthenticated,
    payload_value,
)
from bot.adapters.wechat_send import WechatOutbound
from bot.adapters.wechat_text import (
    RecentIds,
    normalise_command,
    parse_quote,
    quote_matches,
    strip_bot_mention,
    timestamp_to_datetime,
)
from bot.adapters.wechaty_shim import load_wechaty
from bot.config import Config
from bot.dispatch import Dispatcher
from bot.i18n import Messages
from bot.model import ChatRef, Incoming, Outgoing, Reply, UserRef

log = logging.getLogger(__name__)

__all__ = ["WechatAdapter", "WechatError", "WechatSendError"]

PLATFORM = "wechat"

MSG = Messages(
    {
        "invited": (
            "已邀请你加入「{room}」群，请留意微信里的群邀请 ✅",
            "I've invited you to “{room}”; look out for the group invitation in WeChat ✅",
        ),
        "already_member": (
            "你已经在「{room}」群里啦，直接在群里打卡、提问就好 😊",
            "You're already in “{room}”: check in and ask questions right there 😊",
        ),
    }
)


class WechatAdapter:
    """Runs the bot on WeChat through a wechaty puppet service (see docs/wechat.md)."""

    platform = PLATFORM
    reconnect_delays: Sequence[float] = (1, 2, 4, 8, 16, 32, 60, 60, 60, 60)
    connect_timeout = 5.0

    def __init__(
        self,
        dispatcher: Dispatcher,
        config: Config,
        *,
        endpoint: str | None = None,
        token: str | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.config = config
        self.settings = config.wechat
        self.endpoint = endpoint or self.settings.endpoint
        self.token = token or self.settings.token
        self.lang = config.language
        self.finished = asyncio.Event()  # set when the adapter gives up reconnecting
        self.self_id = ""
        self.self_name = ""
        self.logins = 0
        self._bot: Any = None
        self._connection: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._stopping = False
        self._recent = RecentIds()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.outbound = WechatOutbound(self.settings, self._ready, lambda: self._bot)
        self._questions: deque[tuple[str, str, str]] = deque(maxlen=200)
        self._known_rooms = {
            chat.chat_id
            for group in config.groups
            for chat in group.chats
            if chat.platform == PLATFORM
        }

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Connect and wait for the login; raise :class:`WechatError` when that fails."""
        wechaty = load_wechaty()
        from wechaty_puppet import PuppetOptions

        if not self.token:
            raise WechatError(
                "wechat.token is not set: use the token of your puppet service (docs/wechat.md)"
            )
        if not self.endpoint:
            self.endpoint = await discover_endpoint(self.token)
        await check_reachable(self.endpoint, self.connect_timeout)
        options = wechaty.WechatyOptions(
            puppet="wechaty-puppet-service",
            puppet_options=PuppetOptions(token=self.token, end_point=self.endpoint),
        )
        self._bot = wechaty.Wechaty(options)
        self._stopping = False
        self.finished.clear()
        self._connection = asyncio.create_task(self._run_connection(), name="wechat-connection")
        login = asyncio.create_task(self._ready.wait())
        timeout = self.settings.login_timeout_seconds
        done, _ = await asyncio.wait(
            {login, self._connection}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        login.cancel()
        if self._ready.is_set():
            log.info(
                "WeChat: logged in as %s (%s) via %s", self.self_name, self.self_id, self.endpoint
            )
            return
        ended = self._connection in done
        error = self._connection.exception() if ended else None
        await self.stop()
        if ended:
            raise WechatError(explain(self.endpoint, error)) from error
        raise WechatError(
            f"no login from the WeChat puppet service at {self.endpoint} within {timeout:g} s: "
            "is the WeChat account logged in on the gateway (scan its QR code)? "
            "(wechat.login_timeout_seconds)"
        )

    async def stop(self) -> None:
        """Finish in-flight messages (briefly), cancel the connection, close the puppet."""
        self._stopping = True
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=5)
            for task in set(self._tasks):
                task.cancel()
        if self._connection is not None:
            self._connection.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._connection
            self._connection = None
        self._ready.clear()
        if self._bot is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._bot.puppet.stop(), timeout=5)
            fresh_pools(self._bot)
            self._bot = None

    async def _run_connection(self) -> None:
        """Serve the event stream; reconnect with backoff when it drops after a login."""
        failures = 0
        while not self._stopping:
            logins_before = self.logins
            error: BaseException | None = None
            try:
                await self._connect_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                error = exc
            self._ready.clear()
            if self._stopping:
                return
            if self.logins == 0:
                raise error or WechatError("the puppet service closed the event stream")
            reason = explain(self.endpoint, error)
            if is_unauthenticated(error):
                log.error("WeChat: %s; stopping", reason)
                self.finished.set()
                return
            if self.logins > logins_before:
                failures = 0  # that connection worked: start the backoff over
            if failures >= len(self.reconnect_delays):
                log.error("WeChat: giving up after %d reconnect attempts: %s", failures, reason)
                self.finished.set()
                return
            delay = self.reconnect_delays[failures]
            failures += 1
            log.warning(
                "WeChat: connection lost (%s); reconnecting in %g s (attempt %d of %d)",
                reason,
                delay,
                failures,
                len(self.reconnect_delays),
            )
            await asyncio.sleep(delay)

    async def _connect_once(self) -> None:
        bot = self._bot
        with contextlib.suppress(Exception):  # drop the previous stream and its listeners
            await asyncio.wait_for(bot.puppet.stop(), timeout=self.connect_timeout)
        await bot.init_puppet()  # binds fresh Contact/Room/Message classes to the puppet
        fresh_pools(bot)
        puppet = bot.puppet
        puppet.on("login", lambda payload: self._spawn(self._logged_in(payload.contact_id)))
        puppet.on("logout", self._logged_out)
        puppet.on("message", lambda payload: self._spawn(self._handle(payload.message_id)))
        puppet.on("error", lambda payload: log.warning("WeChat puppet error: %s", payload))
        await puppet.start()  # returns (or raises) when the event stream ends

    async def _logged_in(self, contact_id: str) -> None:
        self.self_id = contact_id
        self._bot.contact_id = contact_id
        try:
            contact = self._bot.Contact.load(contact_id)
            await contact.ready()
            self.self_name = contact.name
        except Exception as exc:
            log.warning("WeChat: cannot load the bot's own contact: %s", exc)
        self.logins += 1
        self._ready.set()

    def _logged_out(self, payload: Any) -> None:
        log.warning("WeChat: the account logged out (%s); waiting for a new login", payload)
        self._ready.clear()

    def _spawn(self, job: Awaitable[None]) -> None:
        task = asyncio.ensure_future(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- incoming --------------------------------------------------------------------------
    async def _handle(self, message_id: str) -> None:
        if self._stopping or self._recent.seen(message_id):
            return  # shutting down, or a re-delivery of a message already taken
        try:
            msg = self._bot.Message.load(message_id)
            await msg.ready()
            incoming = await self.to_incoming(msg)
        except Exception:
            log.exception("WeChat: cannot load message %s", message_id)
            return
        if incoming is None:
            return
        self._note_chat(incoming)
        try:
            for reply in await self.dispatcher.dispatch(incoming):
                await self._deliver(incoming, reply)
        except Exception:
            log.exception("WeChat: failed to answer message %s", message_id)

    def _note_chat(self, incoming: Incoming) -> None:
        """Log where messages come from; warn once about rooms missing from the config."""
        chat, sender = incoming.chat, incoming.sender
        log.debug(
            "WeChat: message %s in %s %s 「%s」 from %s 「%s」",
            incoming.message_id, chat.kind, chat.chat_id, chat.title, sender.user_id,
            sender.display_name,
        )  # fmt: skip
        if chat.kind == "group" and chat.chat_id not in self._known_rooms:
            self._known_rooms.add(chat.chat_id)
            log.warning(
                "WeChat: room 「%s」 (%s) is not in groups[].chats; add "
                '{platform: wechat, chat_id: "%s"} to post digests and reminders there',
                chat.title, chat.chat_id, chat.chat_id,
            )  # fmt: skip

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
        quote = parse_quote(text)
        if quote is not None:
            text = quote.body
            reply_to = self._quoted_question(chat.chat_id, quote.quoted)
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
            mentions_bot=mentioned,
        )

    def _quoted_question(self, chat_id: str, quoted: str) -> str | None:
        """The id of the question announcement a quote reply quotes (sent since start)."""
        for sent_chat, message_id, text in reversed(self._questions):
            if sent_chat == chat_id and message_id and quote_matches(quoted, text):
                return message_id
        return None

    # -- outgoing --------------------------------------------------------------------------
    async def send(self, outgoing: Outgoing) -> list[str]:
        """Post a message the bot starts (digest, reminder); raise after the retries."""
        if self._bot is None:
            raise WechatSendError("the WeChat adapter is not started")
        return await self._post(outgoing.chat, outgoing.reply, list(outgoing.mention_user_ids))

    async def _deliver(self, incoming: Incoming, reply: Reply) -> None:
        if reply.invite_to_room and incoming.chat.is_private:
            await self._invite(incoming, reply)
            return
        if reply.chat is not None:
            chat = reply.chat
        elif reply.private and not incoming.chat.is_private:
            chat = ChatRef(
                PLATFORM, incoming.sender.user_id, "private", incoming.sender.display_name
            )
        else:
            chat = incoming.chat
        in_same_room = chat.kind == "group" and chat.chat_id == incoming.chat.chat_id
        await self._post(chat, reply, [incoming.sender.user_id] if in_same_room else [])

    async def _post(self, chat: ChatRef, reply: Reply, mention_ids: list[str]) -> list[str]:
        sent = await self.outbound.post(
            chat.chat_id,
            reply.text,
            mention_ids=mention_ids,
            group=self.dispatcher.group_for_chat(chat).name,
            image=reply.image,
            image_name=reply.image_name,
        )
        if reply.question_id is not None:
            for message_id in sent:
                self.dispatcher.record_sent(chat, message_id, reply.question_id)
            self._questions.append((chat.chat_id, sent[0] if sent else "", reply.text))
        return sent

    # -- 「自学」: invite a friend into the study room ----------------------------------------
    async def _invite(self, incoming: Incoming, reply: Reply) -> None:
        """Invite the sender into the room, never re-inviting a member; else the join text.

        Membership is read fresh from the puppet (``room_members``, what ``Room.member_list``
        uses) rather than the cached room payload, which can be stale after joins and leaves.
        """
        room_id = reply.invite_to_room
        assert room_id is not None
        contact_id = incoming.sender.user_id
        dm = incoming.chat
        topic = self.dispatcher.group_for_chat(ChatRef(PLATFORM, room_id)).name
        try:
            room = self._bot.Room.load(room_id)
            await room.ready()
            topic = payload_value(room, "topic") or topic
            members = await self._bot.puppet.room_members(room_id)
        except Exception as exc:
            log.warning(
                "WeChat: cannot read the study room %s (%s); sending the join text", room_id, exc
            )
            await self._post(dm, Reply(reply.text), [])
            return
        if contact_id in members:
            await self._post(dm, Reply(MSG.get("already_member", self.lang, room=topic)), [])
            return
        try:
            contact = self._bot.Contact.load(contact_id)
            await self.outbound.attempt(
                f"room invite of {contact_id}", lambda: room.add(contact), retries=1
            )
        except Exception as exc:
            log.warning(
                "WeChat: inviting %s into %s failed (%s); sending the join text",
                contact_id,
                room_id,
                exc,
            )
            await self._post(dm, Reply(reply.text), [])
            return
        await self._post(dm, Reply(MSG.get("invited", self.lang, room=topic)), [])
