"""After a restart the scheduler waits for the platform's backlog to be taken in (#22)."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

from bot.runner import wait_for_backlog


async def test_waits_until_messages_stop_coming_then_returns() -> None:
    app = SimpleNamespace(dispatcher=SimpleNamespace(last_received=0.0))

    async def backlog() -> None:  # a message every 0.1 s for 0.5 s
        for _ in range(5):
            app.dispatcher.last_received = time.monotonic()
            await asyncio.sleep(0.1)

    feeding = asyncio.create_task(backlog())
    started = time.monotonic()
    await wait_for_backlog(app, quiet=0.3, limit=5)  # type: ignore[arg-type]
    waited = time.monotonic() - started
    assert feeding.done()
    assert time.monotonic() - app.dispatcher.last_received >= 0.3
    assert 0.6 <= waited < 2


async def test_no_backlog_costs_one_quiet_period_and_a_flood_stops_at_the_limit() -> None:
    app = SimpleNamespace(dispatcher=SimpleNamespace(last_received=0.0))
    started = time.monotonic()
    await wait_for_backlog(app, quiet=0.2, limit=5)  # type: ignore[arg-type]
    assert 0.2 <= time.monotonic() - started < 1

    async def flood() -> None:
        while True:
            app.dispatcher.last_received = time.monotonic()
            await asyncio.sleep(0.05)

    feeding = asyncio.create_task(flood())
    started = time.monotonic()
    await wait_for_backlog(app, quiet=0.2, limit=0.6)  # type: ignore[arg-type]
    feeding.cancel()
    assert 0.6 <= time.monotonic() - started < 1.5
