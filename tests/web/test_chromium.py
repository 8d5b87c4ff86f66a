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


async def browse(url: str, screenshot: Path, script: str = "browse.mjs") -> dict[str, Any]:
    """Open ``url`` in headless Chromium with the peer ``script``; what it reports as JSON."""
    process = await asyncio.create_subprocess_exec(
        "node",
        str(PEERS / script),
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


async def test_static_export_links_in_headless_chromium(tmp_path: Path, clock: FakeClock) -> None:
    """``studybot digest export`` served by a plain static file server: the index links every
    group, and every link the pages, the feeds and the WeChat 阅读原文 carry answers."""
    import functools
    import re
    import threading
    import xml.etree.ElementTree as ET
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from bot.cli_digest import export_archive
    from tests.support.digest_world import TARGETS

    require_or_skip(browser_available(), "needs node, /usr/bin/chromium and tests/peers")
    out = tmp_path / "site"
    out.mkdir()
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(out))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    site = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    senders = make_senders()
    groups = [
        {"slug": SLUG, "name": "ML自学者俱乐部", "chats": TARGETS},
        {"slug": "en", "name": "ML Self-Study Club", "language": "en", "chats": []},
    ]
    app = make_app(
        f"sqlite:///{tmp_path / 'bot.db'}",
        clock,
        senders,
        groups=groups,
        web={"enabled": False, "base_url": site},
    )
    try:
        await seed_week(app, clock, long=False)
        issue_id = issue_id_for(app, clock())
        clock.set(WEEK_END + timedelta(minutes=5))
        report = await Publisher(app.db, app.config, app.senders, clock).publish(SLUG, issue_id)
        assert report.published
        read_more = [
            url
            for sent in senders["wechat"].sent
            for url in re.findall(re.escape(site) + r"[^\s）)]*", sent.reply.text)
        ]
        assert read_more == [f"{site}/issues/1"]  # the 阅读原文 link WeChat readers got
        assert export_archive(app, out) == 1

        result = await browse(f"{site}/index.html", tmp_path / "export.png")
        index, issue = result["pages"]
        assert result["failed"] == [] and result["consoleErrors"] == []
        assert issue["url"] == f"{site}/issues/1.html" and "第1期" in issue["title"]
        assert f"{site}/g/en/index.html" in index["links"]  # the index links every group
        feed_links = [
            element.text or element.get("href") or ""
            for name in ("feed.xml", "atom.xml", "g/en/feed.xml")
            for element in ET.parse(out / name).iter()
            if element.tag.endswith("link") or element.tag.endswith("guid")
        ]
        feed_text = (out / "feed.xml").read_text(encoding="utf-8")
        assert 'href="../"' not in feed_text and "href=&quot;../&quot;" not in feed_text
        links = {urldefrag(link).url for page in (index, issue) for link in page["links"]}
        links |= {link for link in feed_links if link.startswith(site)} | set(read_more)
        links = {link for link in links if link.startswith(site)}
        assert f"{site}/issues/1" in links and f"{site}/atom.xml" in links
        async with aiohttp.ClientSession() as session:
            for link in sorted(links):
                async with session.get(link) as response:
                    assert response.status == 200, link
            async with session.get(f"{site}/g/en/index.html") as response:
                english = await response.text()
            assert '<html lang="en">' in english and "No digest has been published yet." in english
            assert 'href="../../index.html"' in english  # back to the Chinese group
    finally:
        server.shutdown()
        app.db.dispose()
