"""Telegram adapter on python-telegram-bot 22: native updates in, neutral replies out.

One method, :meth:`TelegramAdapter.to_incoming`, translates an ``Update`` into the neutral
:class:`Incoming`; :meth:`TelegramAdapter.handle_update` dispatches it and returns: its replies
were queued in the outbox in the message's transaction, and the adapter's send stage
(``bot.sending``: a lane per chat within Telegram's limits) sends them. ``telegram_reply.py``
places replies; ``telegram_send.py`` does send tokens, retries and splitting.

Choices worth knowing:
- Polling by default (pending updates are kept across restarts), webhook when
  ``telegram.mode: webhook`` (PTB's webhook server inside our event loop, with secret token).
- Ids: ``Incoming.message_id`` and ``reply_to_message_id`` are Telegram's message ids as text;
  the chat id is part of every key (dedupe, sent questions), so they are unique.
- Edited messages update the entry they created, or become the post they now are, once
  (bot.amend); channel posts, service messages and messages without text are ignored. A
  re-delivered update is dropped here (recent ids) and by the dispatcher (database).
- Bursts: PTB hands over up to ``CONCURRENT_UPDATES`` updates at once; each takes its place in
  line on arrival, messages are dispatched in that order (plain commands of a burst in one
  transaction, see ``bot.batching``) and each chat's replies are sent in order by its lane.
  During a burst a batch waits up to ``telegram.batch_window_ms`` for more messages (group
  commit). No update handler ever waits for a send: one group's 20-a-minute allowance holds
  only that group's lane.
- Shutdown: polling stops, the updates already fetched are handled (stored, replies queued),
  then the send stage stops within ``sending.shutdown_seconds``; unsent replies stay queued.
- Admins: config admins (dispatcher) plus the chat's administrators from
  ``getChatAdministrators``, asked only for commands and cached ``admin_cache_seconds``; in a
  private chat, administrators of a group's configured Telegram chats count for that group
  (``Incoming.admin_groups``), when the private chat acts for it (``/group``).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import urlparse

from telegram import Bot, Message, Update
from telegram.constants import ChatType, MessageEntityType
from telegram.error import NetworkError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler
from telegram.request import BaseRequest

from bot.acks import AckBatches
from bot.adapters.telegram_admin import ChatAdmins, register_commands
from bot.adapters.telegram_reply import TelegramReplies
from bot.adapters.telegram_send import PLATFORM, TelegramOutbound, chat_key, telegram_limiter
from bot.config import Config
from bot.dispatch import Dispatcher
from bot.ingest import Ingest, enqueue
from bot.model import ChatKind, ChatRef, Incoming, UserRef
from bot.sending import Gather, SendStage
from bot.sent import SentLog, SentMessages

log = logging.getLogger(__name__)

ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE]
ANONYMOUS_ADMIN_NAME = {"zh": "匿名管理员", "en": "Anonymous admin"}
"""Who an admin posting as the group is (Telegram says "Group"), keyed by the chat's id; in
the language of the chat's group."""
CONCURRENT_UPDATES = 100  # getUpdates returns at most 100 at a time


HEALTH_CACHE_SECONDS = 3.0


def _polling_error(error: Exception) -> None:
    """PTB retries polling errors itself; say what the lasting ones mean."""
    from telegram.error import Conflict, InvalidToken

    if isinstance(error, Conflict):
        log.error(
            "telegram: another process is polling this bot token (409 Conflict); "
            "stop it: only one process may poll a token"
        )
    elif isinstance(error, InvalidToken):
        log.error("telegram: the bot token was revoked (401); set a new TELEGRAM_BOT_TOKEN")
    else:
        log.warning("telegram: polling failed, retrying: %s", error)


class TelegramAdapter(TelegramReplies):
    """Serves the dispatcher on Telegram; also the digest publisher's Telegram sender."""

    platform = PLATFORM
    start_delays: Sequence[float] = (1, 2, 4, 8, 16, 32, 60)
    """Backoff while the Bot API is unreachable at start; then every minute."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        config: Config,
        *,
        request: BaseRequest | None = None,
        get_updates_request: BaseRequest | None = None,
        base_url: str | None = None,
        poll_interval: float | None = None,
        retry_delays: Sequence[float] = (1.0, 3.0, 9.0),
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        sent: SentMessages | None = None,
    ) -> None:
        if not config.telegram.token:
            raise ValueError("telegram.token is not set in the config")
        self.dispatcher = dispatcher
        self.sent = sent if sent is not None else SentLog(dispatcher.db, dispatcher.bot_names)
        self.config = config
        self.poll_interval = 0.0 if poll_interval is None else poll_interval
        self.application = self._build(request, get_updates_request, base_url)
        limiter = telegram_limiter(config.telegram.rate_limiter)
        self.outbound = TelegramOutbound(
            self._ready_bot,
            self.sent,
            limiter=limiter,
            retry_delays=retry_delays,
            sleep=sleep,
        )
        sending = config.sending
        self.acks = AckBatches(window=sending.ack_window_seconds)
        self.no_reactions = set()
        self.sending = SendStage(
            PLATFORM,
            dispatcher.db,
            self.send_queued,
            limiter,
            max_age=sending.max_age_seconds,
            retry_seconds=sending.retry_seconds,
            gather=Gather(self.gathers, self.send_acks, sending.ack_batch_seconds),
        )
        dispatcher.use_outbox(PLATFORM)
        self.username = ""
        self.bot_id = 0
        self._sleep = sleep
        self._init_lock = asyncio.Lock()
        self._initialized = False
        self.chat_admins = ChatAdmins(
            lambda: self.application.bot, config.telegram.admin_cache_seconds
        )
        self._seen: OrderedDict[tuple[int, int], None] = OrderedDict()
        self.ingest = Ingest(
            dispatcher,
            window=config.telegram.batch_window_ms / 1000,
            max_batch=CONCURRENT_UPDATES,
        )
        self.finished = asyncio.Event()
        self._health: tuple[float, tuple[bool, str]] | None = None

    def _build(
        self,
        request: BaseRequest | None,
        get_updates_request: BaseRequest | None,
        base_url: str | None,
    ) -> Application[Any, Any, Any, Any, Any, Any]:
        token = self.config.telegram.token
        assert token is not None
        # updates are handled concurrently (CONCURRENT_UPDATES at a time) but dispatched in
        # arrival order, in batches (bot.batching), and each chat's replies are sent in order
        # Telegram's limits are the send stage's (bot.sending), not PTB's AIORateLimiter, which
        # would make update handlers wait and count lookups against the send allowance
        builder: Any = ApplicationBuilder().token(token).concurrent_updates(CONCURRENT_UPDATES)
        if request is not None:
            builder = builder.request(request)
        else:
            builder = builder.connect_timeout(10).read_timeout(20).write_timeout(30)
        if get_updates_request is not None:
            builder = builder.get_updates_request(get_updates_request)
        base = base_url or self.config.telegram.base_url
        if base:
            base = base.rstrip("/")
            file_base = base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base
            builder = builder.base_url(base).base_file_url(file_base)
        application: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        application.add_handler(TypeHandler(Update, self._on_update))
        application.add_error_handler(self._on_error)
        return application

    # -- lifecycle ---------------------------------------------------------------------------
    async def setup(self) -> None:
        """Initialise the bot (getMe), tell the dispatcher our username, register commands."""
        async with self._init_lock:
            if self._initialized:
                return
            await self._initialize_with_backoff()
            me = self.application.bot
            self.username, self.bot_id = me.username, me.id
            self.sent.add_bot_name(me.username)
            self._initialized = True
        await self.register_commands()

    async def _initialize_with_backoff(self) -> None:
        """``initialize()`` (getMe), retried while the Bot API is unreachable: a network
        outage at start delays the bot instead of killing it (#19). A wrong token is no
        network error and still fails at once. Past ``telegram.start_retry_seconds`` of
        waiting the error is raised: the bot exits naming the cause (#23), and a supervisor
        restarts it."""
        waited = 0.0
        limit = self.config.telegram.start_retry_seconds
        for attempt in itertools.count(1):
            try:
                await self.application.initialize()
                return
            except NetworkError as error:
                delay = self.start_delays[min(attempt, len(self.start_delays)) - 1]
                if waited + delay > limit:
                    raise
                waited += delay
                log.warning(
                    "telegram: Bot API unreachable at start (%s); retrying in %g s (attempt %d)",
                    error,
                    delay,
                    attempt,
                )
                await self._sleep(delay)

    async def _ready_bot(self) -> Bot:
        if not self._initialized:
            await self.setup()
        bot: Bot = self.application.bot
        return bot

    async def start(self) -> None:
        """Start the send stage and receiving updates (polling or webhook)."""
        await self.setup()
        await self.application.start()
        updater = self.application.updater
        assert updater is not None, "the Application was built without an updater"
        telegram = self.config.telegram
        if telegram.mode == "webhook":
            hook = telegram.webhook
            if hook is None:
                raise ValueError("telegram.mode is webhook but telegram.webhook is not set")
            await updater.start_webhook(
                listen=hook.listen,
                port=hook.port,
                url_path=urlparse(hook.url).path.lstrip("/"),
                webhook_url=hook.url,
                secret_token=hook.secret_token,
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,
            )
        else:
            await updater.start_polling(
                poll_interval=self.poll_interval,
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,
                error_callback=_polling_error,
            )
        self.sending.start()
        log.info(
            "telegram: @%s is %s",
            self.username,
            "on webhook" if telegram.mode == "webhook" else "polling",
        )

    async def health(self) -> tuple[bool, str]:
        """Whether the Bot API answers ``getMe`` now (for /readyz; cached a few seconds so a
        busy monitor does not turn into Bot API traffic)."""
        now = time.monotonic()
        if self._health is not None and now - self._health[0] < HEALTH_CACHE_SECONDS:
            return self._health[1]
        try:
            me = await self.application.bot.get_me(read_timeout=5, connect_timeout=5)
            result = (True, f"@{me.username} {self.config.telegram.mode}")
        except Exception as error:
            result = (False, f"Bot API not answering: {type(error).__name__}: {error}"[:300])
        self._health = (now, result)
        return result

    async def stop(self) -> None:
        """Stop fetching updates, handle those fetched (stored, replies queued), stop the send
        stage within ``sending.shutdown_seconds`` (unsent replies stay queued), close."""
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.application.running:
            await self.application.stop()  # handles the updates already fetched
        await self.sending.stop(self.config.sending.shutdown_seconds)
        if self._initialized:
            await self.application.shutdown()
            self._initialized = False
        self.finished.set()

    def recover_interrupted(self) -> None:
        """Fail outbox rows a crash left mid-send (done when the send stage starts)."""
        self.sending.start()

    async def flush_outbox(self) -> int:
        """Send waiting outbox rows now (retries included); returns how many were sent."""
        return await self.sending.flush()

    async def register_commands(self) -> None:
        """setMyCommands from the registry (see telegram_admin)."""
        chat_languages = [
            (chat.chat_id, group.language or self.config.language)
            for group in self.config.groups
            for chat in group.chats
            if chat.platform == PLATFORM
        ]
        await register_commands(
            self.application.bot, self.dispatcher.registry, self.config.language, chat_languages
        )

    # -- inbound ---------------------------------------------------------------------------
    async def _on_update(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.handle_update(update)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram update %r failed", update, exc_info=context.error)

    async def handle_update(self, update: Update) -> None:
        """Translate and dispatch one update (processed once even if re-delivered); its
        replies go to the outbox, never sent from here."""
        if update.edited_message is not None:
            await self.handle_edit(update.edited_message)
            return
        message = update.message
        if message is None:
            return
        key = (message.chat.id, message.message_id)
        if key in self._seen:
            log.info("update %s re-delivered; already handled", update.update_id)
            return
        self._seen[key] = None
        while len(self._seen) > 10_000:
            self._seen.popitem(last=False)
        if message.new_chat_members:
            await self.handle_joins(message)
            return
        slot = self.ingest.reserve()  # its place in line, before anything is awaited
        incoming = None
        try:
            incoming = await self.to_incoming(message)
        finally:
            self.ingest.fill(slot, incoming)
        # replies queued in its transaction; publishing, charts, files in the background
        await self.ingest.queue(slot, self.sending.notify)

    async def handle_joins(self, message: Message) -> None:
        """Welcome people who joined a configured group (bots, ourselves included, are not)."""
        people = [u for u in message.new_chat_members or () if not u.is_bot]
        if not people:
            return
        chat = message.chat
        ref = ChatRef(PLATFORM, str(chat.id), "group", chat.title or "")
        replies = self.dispatcher.welcome(ref, [u.full_name for u in people])
        if not replies:
            return
        first = people[0]
        incoming = Incoming(
            chat=ref,
            sender=UserRef(PLATFORM, str(first.id), first.full_name),
            text="",
            message_id=str(message.message_id),
            sent_at=message.date,
        )
        await enqueue(self.dispatcher, incoming, replies)
        self.sending.notify()

    async def handle_edit(self, message: Message) -> None:
        """An edited message: the check-in it created is updated (replies via the outbox)."""
        incoming = await self.to_incoming(message)
        if incoming is None:
            return
        replies = await self.dispatcher.db.run(self.dispatcher.edited, incoming)
        await enqueue(self.dispatcher, incoming, replies)
        self.sending.notify()

    async def to_incoming(self, message: Message) -> Incoming | None:
        """The neutral form of a Telegram message, or None for what the bot ignores."""
        chat, user = message.chat, message.from_user
        text = message.text or message.caption or ""
        if chat.type == ChatType.CHANNEL or user is None or not text.strip():
            return None
        anonymous_admin = message.sender_chat is not None and message.sender_chat.id == chat.id
        if user.is_bot and not anonymous_admin:
            return None
        mention = f"@{self.username}".lower() if self.username else ""
        mentions_bot = bool(mention) and any(
            (e.type == MessageEntityType.MENTION and t.lower() == mention)
            or (e.type == MessageEntityType.TEXT_MENTION and e.user and e.user.id == self.bot_id)
            for e, t in message.parse_entities().items()
        )
        if mention and text.lower().startswith(mention):
            text = text[len(mention) :].lstrip()
        replied = message.reply_to_message
        if replied is not None and replied.from_user and replied.from_user.id == self.bot_id:
            mentions_bot = True
        kind: ChatKind = "private" if chat.type == ChatType.PRIVATE else "group"
        command = text.startswith("/")
        platform_admin = anonymous_admin or (
            command and kind != "private" and await self.is_chat_admin(chat.id, user.id)
        )
        admin_groups = await self.admin_groups(user.id) if command and kind == "private" else ()
        if anonymous_admin:  # GroupAnonymousBot, "Group": the admin behind it is unknown
            lang = self.dispatcher.language_of(ChatRef(PLATFORM, str(chat.id)))
            sender = UserRef(PLATFORM, str(chat.id), ANONYMOUS_ADMIN_NAME[lang])
        else:
            sender = UserRef(PLATFORM, str(user.id), user.full_name)
        return Incoming(
            chat=ChatRef(PLATFORM, str(chat.id), kind, chat.title or chat.full_name or ""),
            sender=sender,
            text=text,
            message_id=str(message.message_id),
            sent_at=message.date,
            reply_to_message_id=str(replied.message_id) if replied is not None else None,
            mentions_bot=mentions_bot,
            platform_admin=platform_admin,
            anonymous=anonymous_admin,
            admin_groups=admin_groups,
        )

    async def is_chat_admin(self, chat_id: int, user_id: int) -> bool:
        """Whether the user administers this group chat.

        Only configured chats count: the administrator of a chat that is in no group's
        ``chats`` (someone's own group that added the bot) administers nothing here.
        """
        if self.dispatcher.group_for_chat(ChatRef(PLATFORM, str(chat_id), "group")) is None:
            return False
        return await self.chat_admins.any_of(user_id, [chat_id])

    async def admin_groups(self, user_id: int) -> tuple[str, ...]:
        """In a private chat: the groups whose configured Telegram chats the user
        administers (admin commands there count for the group the chat acts for)."""
        found = []
        for group in self.dispatcher.config.groups:
            chats = [chat_key(c.chat_id) for c in group.chats if c.platform == PLATFORM]
            if chats and await self.chat_admins.any_of(user_id, chats):
                found.append(group.slug)
        return tuple(found)
