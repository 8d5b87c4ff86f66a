"""The 公众号 article in headless Chromium: on the archive's 「复制到公众号」 page, every section
renders with inline styles only, no link leaves WeChat, and the button copies the article."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bot.web import start_web
from digest.publish import Publisher
from tests.conftest import FakeClock, require_or_skip
from tests.support.digest_world import (
    SLUG,
    WEEK_END,
    issue_id_for,
    make_app,
    make_senders,
    seed_week,
)
from tests.web.test_chromium import browse, browser_available


async def open_copy_page(url: str, screenshot: Path) -> dict[str, Any]:
    return await browse(url, screenshot, script="mp_page.mjs")


async def test_mp_article_in_headless_chromium(tmp_path: Path, clock: FakeClock) -> None:
    require_or_skip(
        browser_available(),
        "needs node, /usr/bin/chromium and tests/peers/node_modules (make test installs them)",
    )
    app = make_app(f"sqlite:///{tmp_path / 'bot.db'}", clock, make_senders())
    try:
        await seed_week(app, clock, long=False)
        issue_id = issue_id_for(app, clock())
        clock.set(WEEK_END + timedelta(minutes=5))
        report = await Publisher(app.db, app.config, app.senders, clock).publish(SLUG, issue_id)
        assert report.published
        handle = await start_web(app, port=0)
        try:
            async with aiohttp.ClientSession() as session:
                async with session.get(f"{handle.url}/issues/1") as response:
                    page = await response.text()
                assert 'href="1/mp"' in page and "复制到公众号" in page
                async with session.get(f"{handle.url}/issues/9/mp") as response:
                    assert response.status == 404
            shot = tmp_path / "mp.png"
            result = await open_copy_page(f"{handle.url}/issues/1/mp", shot)
        finally:
            await handle()
    finally:
        app.db.dispose()
    assert result["status"] == 200
    assert result["headings"] == [
        "刊首语",
        "本期内容",
        "论文速递",
        "学习心得",
        "疑问解答",
        "加入我们",
        "文中链接",
    ]
    assert result["links"] == []  # WeChat articles allow no external links
    assert result["classed"] == 0 and result["unstyled"] == 0  # inline styles only
    assert result["h2Color"] == "rgb(11, 99, 196)"
    assert result["articleHtml"] < 20_000
    text = result["articleText"]
    assert "同学3" in text and "lstm激活函数" in text and "https://arxiv.org/abs/1903.10258" in text
    assert "<script>alert(1)</script>" in text  # a member's markup is shown, never run
    assert result["statusText"].startswith("已复制")
    assert result["clipboard"] and "论文速递" in result["clipboard"]
    assert result["pageErrors"] == [] and result["consoleErrors"] == []
    assert shot.stat().st_size > 10_000
