"""The WeChat adapter's connection to a puppet service: start, login, reconnect, stop.

:class:`WechatSession` is the base of :class:`~bot.adapters.wechat.WechatAdapter` and owns the
puppet's lifecycle. :meth:`WechatSession.start` checks the endpoint is reachable, connects, and
waits for the account's login (``wechat.login_timeout_seconds``); a wrong token
(UNAUTHENTICATED), an unreachable endpoint or no login raise
:class:`~bot.adapters.wechat_connect.WechatError` with what to check, instead of hanging
(``Wechaty.start()`` swallows such errors, so the session drives the puppet itself). When the
gateway drops later the connection is retried with exponential backoff, then every minute for
as long as it takes (only a revoked token sets ``finished``, so the runner stops). Each incoming message id is handed to
:meth:`WechatSession._handle`, which the adapter implements.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Sequence
from typing import Any

from bot.adapters.wechat_connect import (
    WechatError,
    check_reachable,
    discover_endpoint,
    explain,
    fresh_pools,
    is_unauthenticated,
)
from bot.adapters.wechaty_shim import load_wechaty
from bot.config import Config

log = logging.getLogger("bot.adapters.wechat")  # the adapter's log, as before the split

PLATFORM = "wechat"


class WechatSession:
    """A wechaty puppet-service connection that logs in, reconnects, and serves messages."""

    reconnect_delays: Sequence[float] = (1, 2, 4, 8, 16, 32, 60, 60, 60, 60)
    connect_timeout = 5.0

    def __init__(
        self, config: Config, *, endpoint: str | None = None, token: str | None = None
    ) -> None:
        self.settings = config.wechat
        self.endpoint = endpoint or self.settings.endpoint
        self.token = token or self.settings.token
        self.finished = asyncio.Event()  # set when the adapter gives up reconnecting
        self.self_id = ""
        self.self_name = ""
        self.logins = 0
        self._bot: Any = None
        self._connection: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._stopping = False
        self._tasks: set[asyncio.Task[Any]] = set()

    async def _handle(self, message_id: str) -> None:
        """Answer one incoming message (the adapter's job)."""
        raise NotImplementedError

    async def _room_join(self, room_id: str, invited_ids: list[str]) -> None:
        """People joined a room (the adapter welcomes them)."""

    async def _friendship(self, friendship_id: str) -> None:
        """A friend request (the adapter accepts it by keyword)."""

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

    async def health(self) -> tuple[bool, str]:
        """Whether the puppet service is connected and the account logged in (for /readyz)."""
        if self._ready.is_set():
            return True, f"logged in as {self.self_name or self.self_id}"
        return False, f"not logged in (puppet service {self.endpoint})"

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
            # never give up: a bot that exits needs a supervisor to come back (#19); after the
            # backoff's steps it keeps trying at the longest delay
            delay = self.reconnect_delays[min(failures, len(self.reconnect_delays) - 1)]
            failures += 1
            report = log.warning if failures <= len(self.reconnect_delays) else log.error
            report(
                "WeChat: connection lost (%s); reconnecting in %g s (attempt %d)",
                reason,
                delay,
                failures,
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
        puppet.on(
            "room-join",
            lambda payload: self._spawn(
                self._room_join(payload.room_id, list(payload.invited_ids or []))
            ),
        )
        puppet.on(
            "friendship", lambda payload: self._spawn(self._friendship(payload.friendship_id))
        )
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
