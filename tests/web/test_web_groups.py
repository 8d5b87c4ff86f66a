"""The web archive with two groups: the first keeps the root, each is served under /g/<slug>/,
each page shows only its own group's issues, names are escaped, unknown slugs are 404s."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app import App
from bot.model import ChatRef
from bot.web import start_web
from bot.web_archive import Archive
from digest.periods import ensure_issue
from digest.publish import Publisher
from storage.identity import ensure_group
from storage.models import DigestIssue
from tests.conftest import Chatter, FakeClock
from tests.support.digest_world import SLUG, TARGETS, WEEK_END, make_app, make_senders

ATOM = "{http://www.w3.org/2005/Atom}"
CV_NAME = "CV <小组> & 朋友"
CV_CHAT = ChatRef("console", "cv-group", "group", CV_NAME)
GROUPS = [
    {"slug": SLUG, "name": "ML自学者俱乐部", "chats": TARGETS},
    {
        "slug": "cv",
        "name": CV_NAME,
        "chats": [
            {"platform": "console", "chat_id": "cv-group"},
            {"platform": "wechat", "chat_id": "cv@chatroom"},
        ],
    },
]


def add_issue(app: App, slug: str, number: int, body: str) -> None:
    gconf = next(g for g in app.config.groups if g.slug == slug)
    start = WEEK_END - timedelta(weeks=10 - number)
    with app.db.session() as s:
        group = ensure_group(s, gconf.slug, gconf.name, gconf.timezone)
        s.add(
            DigestIssue(
                group_id=group.id,
                number=number,
                period_start=start,
                period_end=start + timedelta(weeks=1),
                status="published",
                markdown=f"# {body}",
                html=f'<html><body><main><a href="../">往期</a><p>{body}</p></main></body></html>',
                published_at=start + timedelta(weeks=1),
                featured=[],
                dropped=[],
            )
        )


@pytest.fixture
async def app(tmp_path: Path, clock: FakeClock) -> Any:
    """ml-club: issues 1 and 2 (「ML内容」); cv: issue 1 (「CV内容」)."""
    built = make_app(f"sqlite:///{tmp_path / 'bot.db'}", clock, make_senders(), groups=GROUPS)
    add_issue(built, SLUG, 1, "ML内容一")
    add_issue(built, SLUG, 2, "ML内容二")
    add_issue(built, "cv", 1, "CV内容一")
    yield built
    built.db.dispose()


@pytest.fixture
async def server(app: App) -> Any:
    handle = await start_web(app, port=0)
    async with aiohttp.ClientSession(base_url=handle.url) as session:
        yield session
    await handle()


async def get(session: aiohttp.ClientSession, path: str) -> tuple[Any, str]:
    async with session.get(path, allow_redirects=False) as response:
        return response, await response.text()


async def test_each_group_index_lists_only_its_own_issues(server: aiohttp.ClientSession) -> None:
    response, root = await get(server, "/")  # the first group, as before
    assert response.status == 200
    assert 'href="issues/2"' in root and 'href="issues/1"' in root
    assert 'href="g/cv/">CV &lt;小组&gt; &amp; 朋友</a>' in root  # links the other group
    assert CV_NAME not in root
    response, cv = await get(server, "/g/cv/")
    assert response.status == 200
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert "<h1>CV &lt;小组&gt; &amp; 朋友周报</h1>" in cv and CV_NAME not in cv
    assert 'href="issues/1"' in cv and "第2期" not in cv and 'href="issues/2"' not in cv
    assert "<strong>CV &lt;小组&gt; &amp; 朋友</strong>" in cv  # this group, not a link
    assert 'href="../ml-club/">ML自学者俱乐部</a>' in cv
    assert '<img src="stats.png"' in cv
    _, ml = await get(server, "/g/ml-club/")
    assert 'href="issues/2"' in ml and "<strong>ML自学者俱乐部</strong>" in ml


async def test_issue_pages_belong_to_their_group(server: aiohttp.ClientSession) -> None:
    _, page = await get(server, "/g/cv/issues/1")
    assert "CV内容一" in page and "ML内容" not in page
    _, page = await get(server, "/issues/1")  # backwards compatible: the first group
    assert "ML内容一" in page and "CV内容" not in page
    _, page = await get(server, "/g/ml-club/issues/2.html")
    assert "ML内容二" in page
    md, text = await get(server, "/g/cv/issues/1.md")
    assert md.headers["Content-Type"] == "text/markdown; charset=utf-8" and text == "# CV内容一"
    missing, body = await get(server, "/g/cv/issues/2")  # ml-club has a 2nd issue, cv not
    assert missing.status == 404 and "第2期还没有发布" in body
    assert 'href="/g/cv/"' in body  # back to this group's list


async def test_feeds_per_group(server: aiohttp.ClientSession) -> None:
    response, body = await get(server, "/g/cv/feed.xml")
    assert response.headers["Content-Type"] == "application/rss+xml; charset=utf-8"
    channel = ET.fromstring(body.encode()).find("channel")
    assert channel is not None
    assert channel.findtext("title") == f"{CV_NAME}周报"
    assert channel.findtext("link") == "https://club.example.org/g/cv/"
    [item] = channel.findall("item")
    assert item.findtext("link") == "https://club.example.org/g/cv/issues/1"
    assert "CV内容一" in (item.findtext("description") or "")
    _, alias = await get(server, "/g/cv/rss.xml")
    assert alias == body
    _, atom = await get(server, "/g/cv/atom.xml")
    feed = ET.fromstring(atom.encode())
    links = {e.get("rel"): e.get("href") for e in feed.findall(f"{ATOM}link")}
    assert links == {
        "self": "https://club.example.org/g/cv/atom.xml",
        None: "https://club.example.org/g/cv/",
    }
    assert [e.findtext(f"{ATOM}id") for e in feed.findall(f"{ATOM}entry")] == [
        "https://club.example.org/g/cv/issues/1"
    ]
    _, root_feed = await get(server, "/feed.xml")
    items = ET.fromstring(root_feed.encode()).findall("./channel/item")
    assert [i.findtext("link") for i in items] == [
        "https://club.example.org/issues/2",
        "https://club.example.org/issues/1",
    ]


async def test_group_list_and_trailing_slash(server: aiohttp.ClientSession) -> None:
    response, body = await get(server, "/g/")
    assert response.status == 200
    assert 'href="ml-club/">ML自学者俱乐部</a>' in body and "2 期" in body
    assert 'href="cv/">CV &lt;小组&gt; &amp; 朋友</a>' in body and "1 期" in body
    assert CV_NAME not in body and "feed.xml" not in body
    for path, location in (("/g/cv", "/g/cv/"), ("/g", "/g/")):
        redirect, _ = await get(server, path)
        assert redirect.status == 308 and redirect.headers["Location"] == location


async def test_unknown_slug_is_404(server: aiohttp.ClientSession) -> None:
    for path in (
        "/g/nope/",
        "/g/nope",
        "/g/nope/issues/1",
        "/g/nope/feed.xml",
        "/g/nope/atom.xml",
        "/g/nope/stats.png",
        "/g/CV/",
        "/g/%3Cscript%3E/",
        "/g/cv/nothing",
    ):
        response, body = await get(server, path)
        assert response.status == 404, path
        assert response.headers["Content-Type"].startswith("text/html"), path
        assert "没有找到" in body and "<script" not in body, path
        assert "default-src 'none'" in response.headers["Content-Security-Policy"], path


async def test_stats_chart_per_group(server: aiohttp.ClientSession) -> None:
    async with server.get("/g/cv/stats.png") as response:
        assert response.status == 200 and response.headers["Content-Type"] == "image/png"
        assert (await response.read()).startswith(b"\x89PNG")


async def test_published_issue_links_to_its_group_page(
    app: App, server: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """Publishing cv's digest: the 阅读原文 link and the report name /g/cv/issues/N."""
    chat = Chatter(app, clock)
    assert await chat.say("/checkin 读了 ResNet 论文", user="v1", name="小红", chat=CV_CHAT)
    gconf = app.config.groups[1]
    with app.db.session() as s:
        group = ensure_group(s, gconf.slug, gconf.name, gconf.timezone)
        issue = ensure_issue(s, group, clock(), app.config.digest.cron)
        issue_id, number = issue.id, issue.number
    clock.set(WEEK_END + timedelta(minutes=5))
    report = await Publisher(app.db, app.config, app.senders, clock).publish("cv", issue_id)
    assert report.published
    url = f"https://club.example.org/g/cv/issues/{number}"
    assert report.web_url == url
    [sent] = app.senders["wechat"].sent  # type: ignore[attr-defined]
    assert sent.chat.chat_id == "cv@chatroom" and url in sent.reply.text  # 阅读原文
    response, page = await get(server, f"/g/cv/issues/{number}")
    assert response.status == 200 and "读了 ResNet 论文" in page and "ML内容" not in page
    _, ml = await get(server, f"/issues/{number}")
    assert "读了 ResNet 论文" not in ml


def test_one_group_has_no_group_navigation(tmp_path: Path, clock: FakeClock) -> None:
    app = make_app(f"sqlite:///{tmp_path / 'one.db'}", clock)
    try:
        assert "<nav" not in Archive(app.config, app.db).index_html()
    finally:
        app.db.dispose()


async def test_static_export_writes_every_group_like_the_site(app: App, tmp_path: Path) -> None:
    from bot.cli_digest import export_archive

    out = tmp_path / "site"
    assert export_archive(app, out) == 3
    assert sorted(p.name for p in (out / "issues").glob("*.html")) == ["1.html", "2.html"]
    assert [p.name for p in (out / "g" / "cv" / "issues").glob("*.html")] == ["1.html"]
    cv_index = (out / "g" / "cv" / "index.html").read_text(encoding="utf-8")
    assert "CV &lt;小组&gt; &amp; 朋友" in cv_index and "CV <小组>" not in cv_index
    assert "CV内容一" in (out / "g" / "cv" / "issues" / "1.html").read_text(encoding="utf-8")
    assert "CV内容一" not in (out / "issues" / "1.html").read_text(encoding="utf-8")
    ET.fromstring((out / "g" / "cv" / "feed.xml").read_bytes())  # a well-formed feed
