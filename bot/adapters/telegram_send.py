"""Outbound Telegram messages: send tokens, retries, flood control, splitting.

Every sending Bot API call goes through :meth:`TelegramOutbound.call`: it first takes a token
from the send stage's :class:`~bot.sending.RateLimiter` for its chat (Telegram's limits, best
priority first), then ``RetryAfter`` is honoured (the chat is held and the call sleeps the time
Telegram asks, then retries), ``NetworkError``/``TimedOut`` are retried with backoff a bounded
number of times; ``BadRequest``/``Forbidden`` are final. Lookups (``getChatAdministrators``)
do not go through here: Telegram does not count them against the send limits.

Note: a timeout after Telegram already accepted a message is indistinguishable from one
before; read timeouts are generous so that a retry duplicating a message stays very unlikely.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Literal, TypeVar

from telegram import Bot, LinkPreviewOptions, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.helpers import mention_html

from bot.adapters.telegram_text import caption_fits, escape, split_html, strip_tags
from bot.sending import Limits, RateLimiter, Window
from bot.sent import SentMessages

log = logging.getLogger(__name__)
#: The bot's messages (digest parts with many links above all) never unfold link previews.
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)

T = TypeVar("T")
PLATFORM = "telegram"
RETRYABLE = (NetworkError, RetryAfter)
# Telegram's limits: ~30 messages/s per bot (25 here: our token and Telegram's count are a few
# ms apart, so a full 30 would meet 429s), 20/min into one group, ~1/s into a private chat
LIMITS = Limits(overall=Window(25, 1.0), group=Window(20, 60.0), private=Window(1, 1.0))


def is_final(error: BaseException) -> bool:
    """Errors that retrying cannot fix (bad request, blocked by the user, ...)."""
    return isinstance(error, TelegramError) and (
        isinstance(error, BadRequest) or not isinstance(error, RETRYABLE)
    )


def chat_key(chat_id: str | int) -> int | str:
    """Telegram chat ids are integers, or ``@channelusername`` strings."""
    text = str(chat_id).strip()
    try:
        return int(text)
    except ValueError:
        return text


def is_group_chat(chat_id: str) -> bool:
    """Groups, supergroups and channels have negative ids (or ``@name``); users positive."""
    key = chat_key(chat_id)
    return isinstance(key, str) or key < 0


def telegram_limiter(enforce: bool = True) -> RateLimiter:
    """The send limiter for one bot (``enforce=False``: no limits, for benchmarks)."""
    return RateLimiter(LIMITS if enforce else Limits(), is_group=is_group_chat)


def retry_seconds(error: RetryAfter) -> float:
    """The wait Telegram asked for, in seconds (PTB 22 may give an int or a timedelta)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def reply_parameters(reply_to: int | None) -> ReplyParameters | None:
    """Reply to ``reply_to`` if it still exists (sent anyway when it was deleted)."""
    if reply_to is None:
        return None
    return ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)


class TelegramOutbound:
    """Sends parts within the limits, with retries."""

    def __init__(
        self,
        bot: Callable[[], Awaitable[Bot]],
        sent: SentMessages | None,
        *,
        limiter: RateLimiter | None = None,
        retry_delays: Sequence[float] = (1.0, 3.0, 9.0),
        max_flood_waits: int = 5,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._bot = bot
        self.sent = sent  # members' names for @-mentions
        self.limiter = limiter or telegram_limiter()
        self.retry_delays = tuple(retry_delays)
        self.max_flood_waits = max_flood_waits
        self.sleep = sleep
        # parts of an Outgoing already sent when a later part failed: a retry resumes there
        self._partial: OrderedDict[tuple[str, tuple[str, ...]], list[str]] = OrderedDict()

    async def call(
        self,
        what: str,
        make: Callable[[Bot], Awaitable[T]],
        chat: int | str | None = None,
        *,
        in_chat: bool = True,
    ) -> T:
        """Run one Bot API call into ``chat``: a send token first (``in_chat=False``: one
        Telegram counts only overall, e.g. a reaction), then flood-control waits and bounded
        network retries."""
        bot = await self._bot()
        if chat is not None:
            await self.limiter.acquire(str(chat), in_chat=in_chat)
        retries = floods = 0
        while True:
            try:
                return await make(bot)
            except RetryAfter as error:
                floods += 1
                if floods > self.max_flood_waits:
                    raise
                wait = retry_seconds(error)
                log.warning("%s: flood control, waiting %.1f s as Telegram asks", what, wait)
                if chat is not None:
                    self.limiter.hold(str(chat), wait)  # the chat's other sends wait too
                await self.limiter.pause(self.sleep(wait))  # a shutdown does not wait for it
                if chat is not None:  # the retry takes a token like any send
                    await self.limiter.acquire(str(chat), in_chat=in_chat)
            except NetworkError as error:  # TimedOut included
                if isinstance(error, BadRequest) or retries >= len(self.retry_delays):
                    raise
                delay = self.retry_delays[retries]
                retries += 1
                log.warning(
                    "%s failed (%s); retry %d/%d in %.1f s",
                    what,
                    error,
                    retries,
                    len(self.retry_delays),
                    delay,
                )
                await self.sleep(delay)

    async def send_part(
        self, chat_id: int | str, part: str, *, reply_to: int | None = None
    ) -> Message:
        """Send one HTML part; falls back to plain text if Telegram rejects the markup."""
        parameters = reply_parameters(reply_to)
        what = f"sendMessage to {chat_id}"
        try:
            return await self.call(
                what,
                lambda bot: bot.send_message(
                    chat_id,
                    part,
                    parse_mode=ParseMode.HTML,
                    reply_parameters=parameters,
                    link_preview_options=NO_PREVIEW,
                ),
                chat_id,
            )
        except BadRequest as error:
            if "parse" not in str(error).lower() and "entit" not in str(error).lower():
                raise
            log.warning("%s: HTML rejected (%s); sending as plain text", what, error)
            return await self.call(
                what,
                lambda bot: bot.send_message(
                    chat_id,
                    strip_tags(part),
                    reply_parameters=parameters,
                    link_preview_options=NO_PREVIEW,
                ),
                chat_id,
            )

    async def send_photo(
        self,
        chat_id: int | str,
        image: bytes,
        filename: str,
        text: str,
        *,
        reply_to: int | None = None,
    ) -> Message | None:
        """sendPhoto with ``text`` as caption when it fits (else none); None when it fails.

        The caller then sends the text as a message, so nothing is lost. ``Forbidden`` raises.
        """
        return await self._send_file("photo", chat_id, image, filename, text, reply_to)

    async def send_document(
        self,
        chat_id: int | str,
        data: bytes,
        filename: str,
        text: str,
        *,
        reply_to: int | None = None,
    ) -> Message | None:
        """sendDocument (e.g. the /export file), like :meth:`send_photo`: caption when it fits."""
        return await self._send_file("document", chat_id, data, filename, text, reply_to)

    async def _send_file(
        self,
        kind: Literal["photo", "document"],
        chat_id: int | str,
        data: bytes,
        filename: str,
        text: str,
        reply_to: int | None,
    ) -> Message | None:
        caption = escape(text) if caption_fits(text) else None
        parameters = reply_parameters(reply_to)
        what = f"send{kind.capitalize()} to {chat_id}"

        def send(bot: Bot) -> Awaitable[Message]:
            method = bot.send_photo if kind == "photo" else bot.send_document
            return method(
                chat_id,
                data,
                caption=caption,
                parse_mode=ParseMode.HTML,
                filename=filename,
                reply_parameters=parameters,
            )

        try:
            return await self.call(what, send, chat_id)
        except Forbidden:
            raise
        except TelegramError as error:
            log.warning("%s failed (%s); sending the text instead", what, error)
            return None

    async def send_parts(
        self, chat_id: int | str, parts: Sequence[str], *, reply_to: int | None = None
    ) -> list[Message]:
        """Send ``parts`` in order (the first one as a reply to ``reply_to``)."""
        sent: list[Message] = []
        for index, part in enumerate(parts):
            try:
                message = await self.send_part(
                    chat_id, part, reply_to=reply_to if index == 0 else None
                )
            except ChatMigrated as error:
                log.warning(
                    "chat %s became supergroup %s: update chat_id in the config",
                    chat_id,
                    error.new_chat_id,
                )
                chat_id = error.new_chat_id
                message = await self.send_part(chat_id, part)
            sent.append(message)
        return sent

    async def send_outgoing(self, chat_id: int | str, html: str) -> list[str]:
        """Send a bot-initiated message; raise on final failure; resume a retried send."""
        parts = split_html(html)
        key = (str(chat_id), tuple(parts))
        done = self._partial.pop(key, [])
        try:
            for part in parts[len(done) :]:
                message = (await self.send_parts(chat_id, [part]))[0]
                done.append(str(message.message_id))
        except TelegramError:
            if done:
                self._partial[key] = done
                while len(self._partial) > 100:
                    self._partial.popitem(last=False)
            raise
        return done

    def mention_line(self, user_ids: Sequence[str]) -> str:
        """``<a href="tg://user?id=..">name</a>`` for each user (names from the members table)."""
        if not user_ids:
            return ""
        names = self.sent.display_names(PLATFORM, user_ids) if self.sent is not None else {}
        return " ".join(mention_html(uid, names.get(uid) or uid) for uid in user_ids)
