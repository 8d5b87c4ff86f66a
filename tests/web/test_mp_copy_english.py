"""An English group's 公众号 copy page and the issue page's link to it speak English."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import aiohttp

from bot.web import start_web
from digest.publish import Publisher
from tests.conftest import FakeClock
from tests.support.digest_world import (
    SLUG,
    WEEK_END,
    issue_id_for,
    make_app,
    make_senders,
    seed_week,
)


async def test_english_group_gets_an_english_copy_page(tmp_path: Path, clock: FakeClock) -> None:
    app = make_app(f"sqlite:///{tmp_path / 'bot.db'}", clock, make_senders(), language="en")
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
                    issue = await response.text()
                async with session.get(f"{handle.url}/issues/1/mp") as response:
                    assert response.status == 200
                    page = await response.text()
        finally:
            await handle()
    finally:
        app.db.dispose()
    assert 'href="1/mp"' in issue and "Copy for the 公众号" in issue
    assert '<html lang="en">' in page
    assert "Copy for the 公众号" in page and "Back to this issue" in page
    assert "Editor&#39;s note" in page and "Papers" in page and "Join us" in page
    assert 'data-done="Copied: paste it' in page
    for chinese in ("复制到公众号", "返回本期", "公众号版", "刊首语", "论文速递", "分享：", "文中链接"):
        assert chinese not in issue + page, chinese
