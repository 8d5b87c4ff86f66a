"""The 公众号 (WeChat Official Account) adapter: followers' messages on the bot's web server.

WeChat POSTs every follower message and event to ``mp.callback_path`` on the bot's aiohttp
server (``bot.web``), and GETs it with ``echostr`` once when the admin saves the server
configuration. This adapter:

* checks the signature (``sha1`` of token, timestamp, nonce, with wechatpy): a forged one gets
  403 and nothing is read or stored; in safe mode (``mp.encoding_aes_key``) it decrypts the
  message and encrypts the reply with wechatpy's ``WeChatCrypto``;
* parses the XML with wechatpy: a text message becomes an :class:`Incoming` from the private
  chat ``mp:<openid>``, the sender's openid as identity (so ``/checkin``, ``/ask``, ``/me``... run
  the same handlers); ``subscribe`` becomes ``/start`` (the handler answers ``mp.welcome``);
  malformed XML is logged and answered ``success`` (never a traceback to WeChat);
* answers within WeChat's 5 seconds: the first reply text is the *passive reply* (the HTTP
  response) when the handlers finish within ``mp.reply_timeout_seconds``; otherwise the
  response is ``success`` and every reply goes out later through the customer-service message
  API (valid for 48 hours after the follower's message; 45015 beyond it is logged). Replies past
  the first, and images (the join QR code: uploaded once as temporary media, its media id kept
  in the shared store and uploaded again when it expires or WeChat says 40007), go that way too;
* handles a message once: WeChat retries a callback up to 3 times; the dispatcher's processed
  message record (keyed by MsgId, or FromUserName + CreateTime for events) drops a retry, and a
  retry of a message still being handled here waits for the same answer instead of a second one.

API calls (:class:`~bot.adapters.mp_client.MpClient`) block, so they run in a worker thread.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from bot.adapters.mp_client import BAD_MEDIA_ID, OUT_OF_WINDOW, MpApiError, MpClient, TokenStore
from bot.config import Config
from bot.model import ChatRef, Incoming, Outgoing, Reply, UserRef

log = logging.getLogger(__name__)

PLATFORM = "mp"
TEXT_LIMIT = 600  # characters per message (WeChat counts 2048 bytes; Chinese is 3 bytes each)
MEDIA_TTL = 3 * 24 * 3600 - 3600  # temporary media lives 3 days; re-upload an hour before
RECENT = 512  # messages whose answer is kept for WeChat's retries

Dispatch = Callable[[Incoming], Coroutine[Any, Any, list[Reply]]]


@dataclass
class _Pending:
    """One follower message being (or just) handled: its task and how it was answered."""

    task: asyncio.Task[list[Reply]]
    deferred: bool = False  # its replies go (went) out through the customer-service API
    passive: str | None = None  # the passive reply served, served again to a retry
    at: float = field(default_factory=time.monotonic)


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """``text`` in messages under ``limit`` characters, cut at line ends where possible."""
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        cut = cut if cut > limit // 2 else limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n")
    if rest:
        parts.append(rest)
    return parts


class MpAdapter:
    """Serves the 公众号 callback and sends customer-service messages (see docs/mp.md)."""

    platform = PLATFORM

    def __init__(
        self,
        dispatch: Dispatch,
        config: Config,
        client: MpClient | None,
        store: TokenStore,
    ) -> None:
        mp = config.mp
        assert mp.token and mp.app_id, "mp.token and mp.app_id are required"
        self.dispatch = dispatch
        self.config = config
        self.client = client
        self.store = store
        self.token = mp.token
        self.crypto = (
            WeChatCrypto(mp.token, mp.encoding_aes_key, mp.app_id) if mp.encoding_aes_key else None
        )
        self.timeout = mp.reply_timeout_seconds
        self._pending: OrderedDict[str, _Pending] = OrderedDict()
        self._background: set[asyncio.Task[None]] = set()

    # -- life cycle (the route lives on the web server; nothing to connect) ----------------
    def routes(self) -> list[web.RouteDef]:
        path = self.config.mp.callback_path
        return [web.get(path, self.handle_get), web.post(path, self.handle_post)]

    async def start(self) -> None:
        log.info("公众号 callbacks served at %s", self.config.mp.callback_path)

    async def stop(self) -> None:
        """Let replies already on their way finish (briefly), then stop."""
        if self._background:
            await asyncio.wait(self._background, timeout=10)

    # -- HTTP --------------------------------------------------------------------------------
    def _signed(self, request: web.Request) -> bool:
        q = request.query
        try:
            check_signature(
                self.token, q.get("signature", ""), q.get("timestamp", ""), q.get("nonce", "")
            )
        except InvalidSignatureException:
            return False
        return True

    async def handle_get(self, request: web.Request) -> web.Response:
        """WeChat's server-configuration check: echo ``echostr`` when the signature holds."""
        if not self._signed(request):
            log.warning("公众号 verification with a bad signature from %s", request.remote)
            return web.Response(status=403, text="forbidden")
        return web.Response(text=request.query.get("echostr", ""))

    async def handle_post(self, request: web.Request) -> web.Response:
        """One follower message or event: the passive reply, or ``success``."""
        if not self._signed(request):
            log.warning("公众号 callback with a bad signature from %s", request.remote)
            return web.Response(status=403, text="forbidden")
        q = request.query
        body = await request.text()
        encrypted = q.get("encrypt_type") == "aes"
        try:
            if encrypted:
                if self.crypto is None:
                    raise ValueError("encrypted callback but mp.encoding_aes_key is not set")
                xml = self.crypto.decrypt_message(
                    body, q.get("msg_signature", ""), q.get("timestamp", ""), q.get("nonce", "")
                )
            else:
                xml = body
            message = parse_message(xml)
        except InvalidSignatureException:
            log.warning("公众号 callback with a bad msg_signature from %s", request.remote)
            return web.Response(status=403, text="forbidden")
        except Exception as error:  # malformed XML or ciphertext: never a traceback to WeChat
            log.warning("公众号 callback not understood (%s): %.200r", error, body)
            return self._success()
        reply_xml = await self.answer(message)
        if reply_xml is None:
            return self._success()
        if encrypted and self.crypto is not None:
            reply_xml = self.crypto.encrypt_message(
                reply_xml, q.get("nonce", ""), q.get("timestamp")
            )
        return web.Response(text=reply_xml, content_type="application/xml")

    @staticmethod
    def _success() -> web.Response:
        return web.Response(text="success")

    # -- messages ----------------------------------------------------------------------------
    def to_incoming(self, message: Any) -> Incoming | None:
        """A wechatpy message as the neutral :class:`Incoming` (None: nothing to handle)."""
        openid = str(message.source)
        created = int(message.time or 0)
        sent_at = datetime.fromtimestamp(created, UTC) if created else datetime.now(UTC)
        if message.type == "text":
            text = str(message.content or "")
            message_id = str(message.id)
        elif message.type == "event" and message.event in ("subscribe", "subscribe_scan"):
            text = "/start"
            message_id = f"{openid}:{created}:subscribe"
        else:
            return None  # images, voice, unsubscribe, menu clicks...: nothing to do
        chat = ChatRef(PLATFORM, openid, "private", "")
        sender = UserRef(PLATFORM, openid, self._reader_name(openid))
        return Incoming(chat=chat, sender=sender, text=text, message_id=message_id, sent_at=sent_at)

    def _reader_name(self, openid: str) -> str:
        """A follower has no name on the 公众号: "reader" and the openid's tail, in the language
        of the group followers belong to (``mp.group``, default the first group)."""
        groups = self.config.groups
        slug = self.config.mp.group or (groups[0].slug if groups else "")
        if self.config.group_language(slug) == "en":
            return f"Reader {openid[-4:]}"
        return f"公众号读者{openid[-4:]}"

    async def answer(self, message: Any) -> str | None:
        """Handle ``message``; the passive reply XML, or None for ``success``."""
        incoming = self.to_incoming(message)
        if incoming is None:
            return None
        key = f"{incoming.sender.user_id}:{incoming.message_id}"
        pending = self._pending.get(key)
        if pending is None:
            task = asyncio.create_task(self.dispatch(incoming))
            pending = self._pending[key] = _Pending(task)
            while len(self._pending) > RECENT:
                self._pending.popitem(last=False)
        elif pending.passive is not None:
            return pending.passive  # WeChat did not get our answer: the same one again
        done, _ = await asyncio.wait({pending.task}, timeout=self.timeout)
        if not done or pending.deferred:
            self._defer(pending, incoming.sender.user_id)
            return None
        try:
            replies = pending.task.result()
        except Exception:
            log.exception("公众号 message %s failed", incoming.message_id)
            return None
        messages = self._messages(replies)
        if not messages or messages[0][0] != "text":
            self._defer(pending, incoming.sender.user_id)
            return None
        first, rest = messages[0], messages[1:]
        pending.passive = TextReply(message=message, content=first[1]).render()
        if rest:
            self._spawn(self._send_all(incoming.sender.user_id, rest))
        return pending.passive

    def _defer(self, pending: _Pending, openid: str) -> None:
        """Send ``pending``'s replies through the customer-service API once they are ready."""
        if pending.deferred:
            return
        pending.deferred = True

        async def later() -> None:
            try:
                replies = await pending.task
            except Exception:
                log.exception("公众号 message from %s failed", openid)
                return
            await self._send_all(openid, self._messages(replies))

        self._spawn(later())

    def _spawn(self, job: Awaitable[None]) -> None:
        task = asyncio.ensure_future(job)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    @staticmethod
    def _messages(replies: list[Reply]) -> list[tuple[str, Any]]:
        """Replies as the messages a follower gets: ("text", str) and ("image", (bytes, name))."""
        out: list[tuple[str, Any]] = []
        for reply in replies:
            out.extend(("text", part) for part in split_text(reply.text))
            if reply.image is not None:
                out.append(("image", (reply.image, reply.image_name)))
        return out

    # -- customer-service messages -----------------------------------------------------------
    async def _send_all(self, openid: str, messages: list[tuple[str, Any]]) -> None:
        for kind, value in messages:
            try:
                await self._send_one(openid, kind, value)
            except MpApiError as error:
                if error.errcode == OUT_OF_WINDOW:
                    log.warning(
                        "公众号 follower %s is outside the 48-hour window: not sent", openid
                    )
                    return
                log.error("公众号 message to %s not sent: %s", openid, error)
            except Exception:
                log.exception("公众号 message to %s not sent", openid)

    async def _send_one(self, openid: str, kind: str, value: Any) -> None:
        if self.client is None:
            log.warning("公众号 reply to %s dropped: mp.app_secret is not set", openid)
            return
        client = self.client
        if kind == "text":
            await asyncio.to_thread(client.send_text, openid, value)
            return
        data, name = value
        media_id = await self.media_id(data, name)
        try:
            await asyncio.to_thread(client.send_image, openid, media_id)
        except MpApiError as error:
            if error.errcode != BAD_MEDIA_ID:
                raise
            media_id = await self.media_id(data, name, fresh=True)  # expired early: once more
            await asyncio.to_thread(client.send_image, openid, media_id)

    async def media_id(self, data: bytes, name: str, *, fresh: bool = False) -> str:
        """The temporary media id of an image, uploaded once and again when it expires."""
        assert self.client is not None
        key = "mp:media:" + hashlib.sha256(data).hexdigest()
        if not fresh:
            known = await asyncio.to_thread(self.store.get, key)
            if known:
                return known
        media_id = await asyncio.to_thread(self.client.upload_temporary_image, data, name)
        await asyncio.to_thread(self.store.set, key, media_id, MEDIA_TTL)
        return media_id

    async def send(self, outgoing: Outgoing) -> list[str]:
        """A message the bot starts itself (an admin notice) to a follower: customer-service
        API, so only within 48 hours of their last message. Raises when WeChat refuses."""
        openid = outgoing.chat.chat_id
        for kind, value in self._messages([outgoing.reply]):
            await self._send_one(openid, kind, value)
        return []
