"""The web archive in a real browser: headless Debian Chromium driven by playwright-core."""

from __future__ import annotations

import asyncio
import json
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urlsplit

import aiohttp

from bot.web import start_web
from digest.publish import Publisher
from tests.conftest import Chatter, FakeClock, require_or_skip
from tests.support.digest_world import (
    GROUP_CHAT,
    SLUG,
    WEEK_END,
    issue_id_for,
    make_app,
    make_senders,
    seed_week,
)

PEERS = Path(__file__).resolve().parents[1] / "peers"
CHROMIUM = Path("/usr/bin/chromium")
INJECTED = "<script>window.__xss = 1; alert('xss')</script><img src=x onerror=\"alert('img')\">"


def browser_available() -> bool:
    return bool(
        shutil.which("node")
        and CHROMIUM.exists()
        and (PEERS / "node_modules" / "playwright-core" / "package.json").exists()
    )


async def browse(url: str, screenshot: Path) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        "node",
        str(PEERS / "browse.mjs"),
        url,
        str(screenshot),
        cwd=PEERS,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout=90)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode == 0, err.decode(errors="replace")
    return json.loads(out.decode().strip().splitlines()[-1])  # type: ignore[no-any-return]


async def test_archive_in_headless_chromium(tmp_path: Path, clock: FakeClock) -> None:
    require_or_skip(
        browser_available(),
        "needs node, /usr/bin/chromium and tests/peers/node_modules (make test installs them)",
    )
    app = make_app(f"sqlite:///{tmp_path / 'bot.db'}", clock, make_senders())
    try:
        await seed_week(app, clock, long=False)
        reply = await Chatter(app, clock).say(
            f"/checkin 看看会不会执行：{INJECTED}",
            user="mallory",
            name="Mallory",
            chat=GROUP_CHAT,
            message_id="mallory-1",
        )
        assert reply
        issue_id = issue_id_for(app, clock())
        clock.set(WEEK_END + timedelta(minutes=5))
        report = await Publisher(app.db, app.config, app.senders, clock).publish(SLUG, issue_id)
        assert report.published

        handle = await start_web(app, port=0)
        try:
            shot = tmp_path / "issue.png"
            result = await browse(f"{handle.url}/", shot)
            index, issue = result["pages"]
            assert result["indexStatus"] == 200
            assert "ML自学者俱乐部周报" in index["title"] and "第1期" in index["text"]
            assert issue["url"] == f"{handle.url}/issues/1"
            assert "第1期" in issue["title"]
            for expected in ("刊首语", "论文速递", "学习心得", "疑问解答", "加入我们", "同学3"):
                assert expected in issue["text"], expected
            # the injected markup is shown as text and never ran
            assert "<script>window.__xss = 1;" in issue["text"]
            assert issue["injected"] is False and issue["scripts"] == 0
            assert result["dialogs"] == []
            assert result["consoleErrors"] == [] and result["pageErrors"] == []
            assert result["failed"] == []
            assert shot.stat().st_size > 10_000
            # every internal link works
            internal = {
                urldefrag(link).url
                for page in (index, issue)
                for link in page["links"]
                if urlsplit(link).netloc == urlsplit(handle.url).netloc
            }
            assert f"{handle.url}/issues/1" in internal and f"{handle.url}/atom.xml" in internal
            async with aiohttp.ClientSession() as session:
                for link in sorted(internal):
                    async with session.get(link) as response:
                        assert response.status == 200, link
        finally:
            await handle()
    finally:
        app.db.dispose()
