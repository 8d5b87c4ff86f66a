"""The web archive over real HTTP: index, issue pages, feeds, 404s, XSS, export, speed."""

from __future__ import annotations

import asyncio
import re
import time
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from bot.app import App
from bot.cli import main
from bot.cli_digest import export_archive
from bot.web import start_web
from digest.publish import Publisher
from storage.identity import ensure_group
from storage.models import DigestIssue
from tests.conftest import Chatter, FakeClock
from tests.support.digest_world import (
    GROUP_CHAT,
    SLUG,
    TARGETS,
    WEEK_END,
    XSS,
    issue_id_for,
    make_app,
    make_senders,
    seed_week,
)

ATOM = "{http://www.w3.org/2005/Atom}"
ESCAPED_XSS = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture
async def published(tmp_path: Path, clock: FakeClock) -> Any:
    """Issue 1 published (with a note carrying a script tag); issue 2 still a draft."""
    app = make_app(f"sqlite:///{tmp_path / 'bot.db'}", clock, make_senders())
    await seed_week(app, clock, long=False)
    issue_id = issue_id_for(app, clock())
    clock.set(WEEK_END + timedelta(minutes=5))
    report = await Publisher(app.db, app.config, app.senders, clock).publish(SLUG, issue_id)
    assert report.published
    issue_id_for(app, clock())  # issue 2: the running week, not published
    yield app
    app.db.dispose()


@pytest.fixture
async def server(published: App) -> Any:
    handle = await start_web(published, port=0)
    assert handle.port > 0
    async with aiohttp.ClientSession(base_url=handle.url) as session:
        yield session
    await handle()


async def get(session: aiohttp.ClientSession, path: str, **kwargs: Any) -> tuple[Any, str]:
    async with session.get(path, **kwargs) as response:
        return response, await response.text()


async def test_index_lists_published_issues(server: aiohttp.ClientSession) -> None:
    response, body = await get(server, "/")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "script-src" not in response.headers["Content-Security-Policy"]  # none allowed
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert "ML自学者俱乐部周报" in body
    assert 'href="issues/1"' in body and "第1期" in body
    assert "2026-11-15 至 2026-11-22" in body  # period dates in Asia/Shanghai
    assert "第2期" not in body  # the draft is not listed


async def test_index_shows_the_activity_chart(server: aiohttp.ClientSession) -> None:
    _, body = await get(server, "/")
    assert '<img src="stats.png"' in body
    async with server.get("/stats.png") as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "image/png"
        assert (await response.read()).startswith(b"\x89PNG")


async def test_issue_page_escapes_member_html(server: aiohttp.ClientSession) -> None:
    response, body = await get(server, "/issues/1")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "ML自学者俱乐部周报 · 第1期" in body and "同学3" in body
    assert ESCAPED_XSS in body and XSS not in body
    assert "&lt;b&gt;粗体&lt;/b&gt;" in body
    alias, same = await get(server, "/issues/1.html")
    assert alias.status == 200 and same == body
    md, text = await get(server, "/issues/1.md")
    assert md.headers["Content-Type"] == "text/markdown; charset=utf-8"
    assert text.startswith("## 刊首语") or "## 刊首语" in text


async def test_unknown_and_unpublished_issues_are_404_pages(
    server: aiohttp.ClientSession,
) -> None:
    for path in ("/issues/2", "/issues/999", "/nothing/here", "/issues/abc"):
        response, body = await get(server, path)
        assert response.status == 404, path
        assert response.headers["Content-Type"].startswith("text/html"), path
        assert "没有找到" in body and 'href="/"' in body, path


async def test_rss_and_atom_parse_and_contain_the_issue(server: aiohttp.ClientSession) -> None:
    response, body = await get(server, "/feed.xml")
    assert response.headers["Content-Type"] == "application/rss+xml; charset=utf-8"
    rss = ET.fromstring(body.encode())
    items = rss.findall("./channel/item")
    assert len(items) == 1
    assert "第1期" in (items[0].findtext("title") or "")
    title = items[0].findtext("title") or ""
    assert "：基于元学习和AutoML的模型压缩新方法" in title, title  # highlights (#17)
    assert items[0].findtext("link") == "https://club.example.org/issues/1"
    description = items[0].findtext("description") or ""
    assert "同学3" in description and ESCAPED_XSS in description and XSS not in description

    response, body = await get(server, "/atom.xml")
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    atom = ET.fromstring(body.encode())
    entries = atom.findall(f"{ATOM}entry")
    assert len(entries) == 1
    assert entries[0].findtext(f"{ATOM}id") == "https://club.example.org/issues/1"
    link = entries[0].find(f"{ATOM}link")
    assert link is not None and link.get("href") == "https://club.example.org/issues/1"
    content = entries[0].findtext(f"{ATOM}content") or ""
    assert ESCAPED_XSS in content and XSS not in content
    self_link = [e.get("href") for e in atom.findall(f"{ATOM}link") if e.get("rel") == "self"]
    assert self_link == ["https://club.example.org/atom.xml"]
    # every link in the entries is absolute (feed readers show them away from the page, #17)
    for text in (description, content):
        links = re.findall(r'(?:href|src)="([^"]*)"', text)
        assert links and all(link.startswith(("https://", "http://")) for link in links), links
        assert 'href="https://club.example.org/issues/1#member-' in text  # was "#member-…"


async def test_etag_and_health(server: aiohttp.ClientSession) -> None:
    response, _ = await get(server, "/issues/1")
    etag = response.headers["ETag"]
    again, body = await get(server, "/issues/1", headers={"If-None-Match": etag})
    assert again.status == 304 and body == ""
    health, text = await get(server, "/healthz")
    assert health.status == 200 and '"ok"' in text


async def test_index_of_five_years_is_fast(tmp_path: Path, clock: FakeClock) -> None:
    app = make_app(f"sqlite:///{tmp_path / 'big.db'}", clock)
    page = "<html><body><main>" + "学习心得" * 3000 + "</main></body></html>"
    gconf = app.config.groups[0]
    with app.db.session() as s:
        group = ensure_group(s, gconf.slug, gconf.name, gconf.timezone)
        start = WEEK_END - timedelta(weeks=260)
        for n in range(1, 261):
            s.add(
                DigestIssue(
                    group_id=group.id,
                    number=n,
                    period_start=start + timedelta(weeks=n - 1),
                    period_end=start + timedelta(weeks=n),
                    status="published",
                    markdown="# md",
                    html=page,
                    published_at=start + timedelta(weeks=n),
                    featured=[],
                    dropped=[],
                )
            )
    handle = await start_web(app, port=0)
    try:
        async with aiohttp.ClientSession(base_url=handle.url) as session:
            began = time.perf_counter()
            response, body = await get(session, "/")
            elapsed = time.perf_counter() - began
            assert response.status == 200
            assert body.count('class="num"') == 260
            assert body.index("第260期") < body.index("第1期<")  # newest first
            assert elapsed < 2.0, f"index took {elapsed:.2f}s"
            feed, xml = await get(session, "/feed.xml")
            assert feed.status == 200
            assert len(ET.fromstring(xml.encode()).findall("./channel/item")) == 20
    finally:
        await handle()
        app.db.dispose()


async def test_static_export(published: App, tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert export_archive(published, out) == 1
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="issues/1.html"' in index
    page = (out / "issues" / "1.html").read_text(encoding="utf-8")
    assert ESCAPED_XSS in page and 'href="../index.html"' in page
    assert "## 学习心得" in (out / "issues" / "1.md").read_text(encoding="utf-8")
    ET.parse(out / "feed.xml")
    ET.parse(out / "atom.xml")
    assert not (out / "issues" / "2.html").exists()


async def test_export_command_line(published: App, tmp_path: Path) -> None:
    config_file = tmp_path / "config.yaml"
    data = {
        "database": {"url": published.config.database.url},
        "groups": [{"slug": SLUG, "name": "ML自学者俱乐部", "chats": TARGETS}],
        "web": {"base_url": "https://club.example.org"},
    }
    config_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "cli-site"
    assert main(["--config", str(config_file), "digest", "export", "--out", str(out)]) == 0
    assert (out / "issues" / "1.html").exists() and (out / "atom.xml").exists()


async def test_a_slow_archive_page_does_not_hold_up_other_requests(
    server: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages are read and rendered in a worker thread: while a slow index page is being
    made, the event loop keeps answering (here /healthz, at once)."""
    from bot.web_archive import Archive

    original = Archive.index_html

    def slow(self: Archive, **values: Any) -> str:
        time.sleep(0.6)
        return original(self, **values)

    monkeypatch.setattr(Archive, "index_html", slow)
    page = asyncio.create_task(get(server, "/"))
    await asyncio.sleep(0.1)  # the slow page is being made
    response, _ = await get(server, "/healthz")
    assert response.status == 200
    assert not page.done()  # answered while the page was still being made
    response, body = await page
    assert response.status == 200 and "第1期" in body


async def test_a_new_issue_shows_at_once_though_pages_are_kept(
    published: App, clock: FakeClock
) -> None:
    """Rendered pages are kept for a few seconds (web.page_cache_seconds), but a publish
    changes the archive's version: the new issue is listed and served at once, never a kept
    index or a 404 from before."""
    handle = await start_web(published, port=0)
    try:
        async with aiohttp.ClientSession(base_url=handle.url) as session:
            _, body = await get(session, "/")
            assert "第1期" in body and "第2期" not in body
            response, _ = await get(session, "/issues/2")
            assert response.status == 404
            reply = await Chatter(published, clock).say(
                "/checkin 第二周：读完了 Attention Is All You Need",
                user="u9",
                chat=GROUP_CHAT,
                message_id="week-2-note",
            )
            assert "已记录" in reply
            issue_id = issue_id_for(published, clock())
            clock.set(WEEK_END + timedelta(days=7, minutes=5))
            report = await Publisher(
                published.db, published.config, published.senders, clock
            ).publish(SLUG, issue_id)
            assert report.published
            _, body = await get(session, "/")
            assert "第2期" in body
            response, page = await get(session, "/issues/2")
            assert response.status == 200 and "第2期" in page
            _, feed = await get(session, "/feed.xml")
            assert "第2期" in feed
    finally:
        await handle()
