"""Connecting to a wechaty puppet service: errors, endpoint checks, wechaty's class caches.

Kept apart from the adapter so the checks that make startup fail fast (unreachable endpoint,
wrong token) read on their own; nothing here imports wechaty at module import time.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from bot.config import ConfigError

DISCOVERY_URL = "https://api.chatie.io/v0/hosties/{token}"


class WechatError(ConfigError):
    """WeChat could not start; the message says why and which setting to check.

    A :class:`~bot.config.ConfigError`, so ``studybot run`` prints it as one clear line
    (exit status 2) instead of a traceback.
    """


class WechatSendError(RuntimeError):
    """A message could not be sent after the adapter's retries."""


async def discover_endpoint(token: str) -> str:
    """Ask the wechaty token directory for the endpoint (when wechat.endpoint is unset)."""
    import aiohttp

    url = DISCOVERY_URL.format(token=token)
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session,
            session.get(url) as response,
        ):
            data = await response.json(content_type=None)
    except Exception as exc:
        raise WechatError(
            "wechat.endpoint is not set and the token's endpoint could not be discovered "
            f"({exc.__class__.__name__}): set wechat.endpoint to host:port of your puppet service"
        ) from None
    host = data.get("ip") or data.get("host") if isinstance(data, dict) else None
    if not host or host == "0.0.0.0" or not data.get("port"):
        raise WechatError(
            "the puppet service token has no registered endpoint: is the gateway running? "
            "Or set wechat.endpoint to host:port"
        )
    return f"{host}:{data['port']}"


async def check_reachable(endpoint: str, within: float) -> None:
    """Open and close a TCP connection to the endpoint; a clear error when that fails."""
    from wechaty_puppet_service.utils import extract_host_and_port

    try:
        host, port = extract_host_and_port(endpoint)
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout=within)
    except Exception as exc:
        detail = str(exc) or exc.__class__.__name__
        raise WechatError(
            f"cannot reach the WeChat puppet service at {endpoint} (wechat.endpoint): {detail}"
        ) from None
    writer.close()
    with contextlib.suppress(Exception):
        await writer.wait_closed()


def explain(endpoint: str | None, error: BaseException | None) -> str:
    where = f"the WeChat puppet service at {endpoint}"
    if error is None:
        return f"{where} closed the connection"
    if is_unauthenticated(error):
        return f"{where} rejected the token (UNAUTHENTICATED): check wechat.token"
    status = getattr(error, "status", None)
    if status is not None:
        return f"{where} failed: {getattr(status, 'name', status)}: {getattr(error, 'message', '')}"
    return f"{where} failed: {error.__class__.__name__}: {error}"


def is_unauthenticated(error: BaseException | None) -> bool:
    return getattr(getattr(error, "status", None), "name", "") == "UNAUTHENTICATED"


def payload_value(entity: Any, key: str) -> str:
    """``entity.payload.<key>`` or '' (wechaty raises when a payload is not loaded)."""
    try:
        return str(getattr(entity.payload, key, "") or "")
    except Exception:
        return ""


def fresh_pools(bot: Any) -> None:
    """Give this bot's Contact/Room/Tag classes their own empty caches.

    wechaty keeps them in class attributes shared by every ``Wechaty`` instance, so a second
    bot (a reconnect, a test) would otherwise get objects bound to an old puppet.
    """
    for name in ("Contact", "ContactSelf", "Room", "Tag"):
        cls = getattr(bot, name, None)
        if cls is not None:
            cls._pool = {}
