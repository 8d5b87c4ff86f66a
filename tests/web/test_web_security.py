"""The archive under attack: headers on every response, no version banner, a per-client rate
limit, and a /stats.png flood that draws the chart once (docs/security.md)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.web import start_web
from tests.conftest import FakeClock
from tests.support.digest_world import make_app, seed_week


async def serve(tmp_path: Path, clock: FakeClock, **web: Any) -> Any:
    app = make_app(
        f"sqlite:///{tmp_path / 'bot.db'}",
        clock,
        web={"enabled": False, "base_url": "https://club.example.org", **web},
    )
    await seed_week(app, clock, long=False)
    return app, await start_web(app, port=0)


@pytest.fixture
async def site(tmp_path: Path, clock: FakeClock) -> Any:
    app, handle = await serve(tmp_path, clock)
    async with aiohttp.ClientSession(base_url=handle.url) as session:
        yield app, session
    await handle()
    app.db.dispose()


async def test_error_responses_carry_the_security_headers_and_no_banner(site: Any) -> None:
    _, session = site
    for method, path, status in (
        ("POST", "/", 405),
        ("DELETE", "/issues/1", 405),
        ("GET", "/issues/999", 404),
        ("GET", "/no/such/page", 404),
        ("GET", "/", 200),
    ):
        async with session.request(method, path) as response:
            assert response.status == status, (method, path)
            assert "default-src 'none'" in response.headers["Content-Security-Policy"]
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["Server"] == "studybot"
            assert "aiohttp" not in str(response.headers).lower()


async def raw_exchange(url: str, request: bytes) -> tuple[str, dict[str, str]]:
    """Send ``request`` bytes as they are (no client library tidies them): the status line
    and the headers of the answer."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(request)
        await writer.drain()
        head = (await asyncio.wait_for(reader.read(65536), 10)).split(b"\r\n\r\n", 1)[0]
    finally:
        writer.close()
    status, *lines = head.decode("latin-1").split("\r\n")
    return status, {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET / HTTP/1.1\r\nHost: x\r\nA Header With Spaces\r\n\r\n",  # malformed header
        b"NOT-HTTP AT ALL\r\n\r\n",  # malformed request line
        b"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n",  # a NUL in the path
        b"PUT /feed.xml HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",  # 405
    ],
)
async def test_requests_the_parser_rejects_get_the_headers_and_no_banner(
    tmp_path: Path, clock: FakeClock, request_bytes: bytes
) -> None:
    app, handle = await serve(tmp_path, clock)
    try:
        status, headers = await raw_exchange(handle.url, request_bytes)
    finally:
        await handle()
        app.db.dispose()
    assert status.split()[1] in {"400", "405"}, status
    assert "default-src 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["server"] == "studybot"
    assert "aiohttp" not in str(headers).lower() and "python" not in str(headers).lower()


async def test_a_client_over_its_rate_gets_429_and_others_are_served(
    tmp_path: Path, clock: FakeClock
) -> None:
    app, handle = await serve(tmp_path, clock, requests_per_minute=60, burst=5)
    try:
        async with aiohttp.ClientSession(base_url=handle.url) as session:
            statuses = []
            for _ in range(8):
                async with session.get("/healthz") as response:
                    statuses.append(response.status)
                    if response.status == 429:
                        assert int(response.headers["Retry-After"]) >= 1
                        assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert statuses == [200] * 5 + [429] * 3
    finally:
        await handle()
        app.db.dispose()


async def test_a_stats_flood_draws_the_chart_once(site: Any, monkeypatch: Any) -> None:
    import digest.charts

    drawn = 0
    real = digest.charts.render_chart

    async def counted(*args: Any, **kwargs: Any) -> bytes:
        nonlocal drawn
        drawn += 1
        return await real(*args, **kwargs)

    monkeypatch.setattr(digest.charts, "render_chart", counted)
    app, session = site

    async def fetch() -> bytes:
        async with session.get("/stats.png") as response:
            assert response.status == 200
            return await response.read()

    pngs = await asyncio.gather(*(fetch() for _ in range(20)))
    assert drawn == 1 and len(set(pngs)) == 1 and pngs[0].startswith(b"\x89PNG")
    await fetch()
    assert drawn == 1  # nothing changed: not drawn again
    from tests.conftest import Chatter

    chatter = Chatter(app, FakeClock(app.dispatcher.clock()))
    assert await chatter.say("#打卡 又读了一篇", user="z9", message_id="after-the-flood")
    await fetch()
    assert drawn == 2  # new activity: drawn once more
