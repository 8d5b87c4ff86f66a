"""Sending on WeChat: one message at a time, paced, retried, split under the length limit.

WeChat restricts accounts that post in bursts, so every send (replies, digests, invitations)
goes through :meth:`WechatOutbound.attempt`: a token from the send stage's limiter (one per
``wechat.send_interval_seconds`` for the whole account, no bursts, answers before digest parts
before acknowledgments, see ``bot.sending``), one at a time, at least the interval apart,
retried with backoff, raising :class:`~bot.adapters.wechat_connect.WechatSendError` when every
attempt failed.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bot.adapters.wechat_connect import WechatSendError
from bot.adapters.wechat_text import AT_SEPARATOR, ReadMore, extract_read_more, split_text
from bot.config import WechatConfig
from bot.i18n import Messages
from bot.sending import Limits, Parts, RateLimiter, Window

log = logging.getLogger(__name__)

MSG = Messages(
    {
        "file_not_sent": (
            "\n（微信未能发送文件。/export 可在 Telegram 或控制台使用，也可以在服务器上运行"
            " studybot export。）",
            "\n(WeChat could not send the file: use /export on Telegram or the console, or run"
            " studybot export on the server.)",
        ),
    }
)


def wechat_limiter(settings: WechatConfig) -> RateLimiter:
    """One send per ``send_interval_seconds`` for the whole account, whatever the chat."""
    interval = settings.send_interval_seconds
    limits = Limits(overall=Window(1, interval)) if interval > 0 else Limits()
    return RateLimiter(limits, is_group=lambda chat: chat.endswith("@chatroom"))


class WechatOutbound:
    """Paced, retried sends through the adapter's current puppet."""

    retries = 3
    retry_delay = 1.0

    def __init__(
        self,
        settings: WechatConfig,
        ready: asyncio.Event,
        bot: Callable[[], Any],
        limiter: RateLimiter | None = None,
    ) -> None:
        self.settings = settings
        self.limiter = limiter or wechat_limiter(settings)
        self._ready = ready
        self._bot = bot
        self._lock = asyncio.Lock()
        self._last = float("-inf")

    def _current_bot(self) -> Any:
        bot = self._bot()
        if bot is None:
            raise WechatSendError("the WeChat adapter is stopped")
        return bot

    async def post(
        self,
        conversation: str,
        text: str,
        *,
        mention_ids: list[str],
        group: str,
        image: bytes | None = None,
        image_name: str = "image.png",
        file: tuple[bytes, str] | None = None,
        parts: Parts | None = None,
        lang: str = "zh",
    ) -> list[str]:
        """Image or file (if any), text parts (the first one @-mentioning), the 阅读原文 card.

        ``file`` is ``(data, name)`` (e.g. the /export JSON), sent as a FileBox; when the
        puppet refuses it, a note saying where /export works follows the text. ``parts``
        (an outbox row's, see :class:`~bot.sending.Parts`): each of these is a part, and a
        resumed row skips those that went out before.
        """
        parts = parts or Parts()
        text, link = extract_read_more(text)
        ids: list[str] = []
        if image and parts.due():
            ids.append(await self.send_file(conversation, image, image_name, what="image") or "")
            parts.sent()
        if file is not None and parts.due():
            sent_file = await self.send_file(conversation, *file)
            ids.append(sent_file or "")
            parts.sent()
            text += MSG.get("file_not_sent", lang) if sent_file is None else ""
        prefix = await self.mention_prefix(mention_ids)
        for index, part in enumerate(split_text(prefix + text, self.settings.max_text_chars)):
            if parts.due():
                mentions = mention_ids if index == 0 else []
                ids.append(await self.send_text(conversation, part, mentions))
                parts.sent()
        if link is not None and parts.due():
            ids.append(await self.send_link(conversation, link, text, group))
            parts.sent()
        return [message_id for message_id in ids if message_id]

    async def mention_prefix(self, contact_ids: list[str]) -> str:
        names = []
        for contact_id in contact_ids:
            try:
                contact = self._current_bot().Contact.load(contact_id)
                await contact.ready()
                names.append(f"@{contact.name}{AT_SEPARATOR}")
            except Exception as exc:
                log.debug("WeChat: no name for mention %s: %s", contact_id, exc)
        return "".join(names)

    async def send_text(self, conversation: str, text: str, mention_ids: list[str]) -> str:
        puppet = self._current_bot().puppet
        return await self.attempt(
            f"text to {conversation}",
            lambda: puppet.message_send_text(
                conversation_id=conversation, message=text, mention_ids=mention_ids or None
            ),
            chat=conversation,
        )

    async def send_link(self, conversation: str, link: ReadMore, text: str, group: str) -> str:
        """A UrlLink card; puppets without cards (e.g. the web protocol) get the link as text."""
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        card = {
            "url": link.url,
            "title": f"{link.label} · {group}"[:60],
            "description": (lines[0] if lines else link.line)[:120],
            "thumbnailUrl": "",
        }
        puppet = self._current_bot().puppet
        try:
            return await self.attempt(
                f"link card to {conversation}",
                lambda: puppet.message_send_url(conversation, json.dumps(card, ensure_ascii=False)),
                retries=1,
                chat=conversation,
            )
        except WechatSendError as exc:
            log.info("WeChat: UrlLink card not sent (%s); sending the link as text", exc)
            return await self.send_text(conversation, link.line, [])

    async def send_file(
        self, conversation: str, data: bytes, name: str, *, what: str = "file"
    ) -> str | None:
        """An image or any file as a FileBox: its message id, None when it was not sent."""
        from wechaty_puppet import FileBox

        box = FileBox.from_base64(base64.b64encode(data), name=name)
        puppet = self._current_bot().puppet
        try:
            return await self.attempt(
                f"{what} to {conversation}",
                lambda: puppet.message_send_file(conversation_id=conversation, file=box),
                retries=1,
                chat=conversation,
            )
        except WechatSendError as exc:  # the text still goes out
            log.warning("WeChat: %s not sent: %s", what, exc)
            return None

    async def attempt(
        self,
        what: str,
        make: Callable[[], Awaitable[Any]],
        retries: int | None = None,
        *,
        chat: str | None = None,
    ) -> str:
        """Run one send (into ``chat``: a token first), paced and serialised, retrying with
        backoff; raise when all fail."""
        retries = retries or self.retries
        last: Exception | None = None
        for attempt in range(retries):
            await self._wait_ready(what)
            if chat is not None:
                await self.limiter.acquire(chat)
            async with self._lock:
                wait = self._last + self.settings.send_interval_seconds - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                try:
                    return str(await make() or "")
                except Exception as exc:
                    last = exc
                finally:
                    self._last = time.monotonic()
            log.warning(
                "WeChat: sending %s failed (attempt %d of %d): %s", what, attempt + 1, retries, last
            )
            if attempt + 1 < retries:
                await asyncio.sleep(self.retry_delay * 2**attempt)
        raise WechatSendError(f"sending {what} failed after {retries} attempt(s): {last}") from last

    async def _wait_ready(self, what: str) -> None:
        if self._bot() is None:
            raise WechatSendError(f"cannot send {what}: the WeChat adapter is stopped")
        if not self._ready.is_set():
            try:
                await asyncio.wait_for(self._ready.wait(), self.settings.login_timeout_seconds)
            except TimeoutError:
                raise WechatSendError(f"cannot send {what}: not logged in to WeChat") from None
