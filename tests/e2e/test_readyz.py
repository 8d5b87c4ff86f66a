"""/readyz over real HTTP with the bot polling the Telegram emulator: ready while the Bot API
answers, 503 once it stops; /healthz (liveness) stays 200 throughout."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from bot.web import start_web
from tests.conftest import require_or_skip
from tests.e2e.telegram_emulator import EmulatorServer, emulator_available
from tests.e2e.test_telegram_emulator import start_bot


async def test_readyz_goes_503_when_the_bot_api_stops(tmp_path: Path) -> None:
    require_or_skip(emulator_available(), "node or tests/peers/node_modules missing")
    emulator = EmulatorServer()
    emulator.start()
    bot = await start_bot(emulator, tmp_path)
    handle = await start_web(bot.app, port=0)
    try:
        async with httpx.AsyncClient(base_url=handle.url, timeout=20) as web:
            ready = await web.get("/readyz")
            assert ready.status_code == 200, ready.text
            report = ready.json()
            assert report["status"] == "ready"
            assert report["platforms"]["telegram"]["ok"] is True
            assert report["database"] == {"ok": True, "detail": "sqlite"}
            assert report["scheduler"] in ("leader", "follower", "off")
            assert report["last_digest"] == {"ml-club": {"number": None, "published_at": None}}

            emulator.stop()
            deadline = time.monotonic() + 30
            while True:
                down = await web.get("/readyz")
                if down.status_code == 503 or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.5)
            assert down.status_code == 503, down.text
            assert down.json()["platforms"]["telegram"]["ok"] is False
            assert down.json()["status"] == "not ready"
            assert (await web.get("/healthz")).status_code == 200
    finally:
        await handle()
        emulator.stop()
        await bot.adapter.stop()
        await bot.client.aclose()
        bot.app.db.dispose()
