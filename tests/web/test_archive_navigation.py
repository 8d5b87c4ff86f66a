"""The archive as a reader moves through it: previous/next links on issue pages, each issue's
highlights on the index (per language), and feeds a real feed parser (feedparser) reads with
absolute links and titles naming the highlights."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import feedparser
import pytest
from sqlalchemy import select

from bot.app import App
from bot.cli_digest import export_archive
from bot.web import start_web
from bot.web_archive import Archive, issue_highlights
from digest.publish import Publisher
from storage.models import DigestIssue
from tests.conftest import FakeClock
from tests.support.digest_world import (
    SLUG,
    WEEK_END,
    issue_id_for,
    make_app,
    make_senders,
    seed_week,
)

BASE = "https://club.example.org"
HEADLINE = "基于元学习和AutoML的模型压缩新方法"


@pytest.fixture
async def three(tmp_path: Path, clock: FakeClock) -> Any:
    """Issue 1 published from a seeded week; issues 2 and 3 published with the same page."""
    app = make_app(f"sqlite:///{tmp_path / 'bot.db'}", clock, make_senders())
    await seed_week(app, clock, long=False)
    issue_id = issue_id_for(app, clock())
    clock.set(WEEK_END + timedelta(minutes=5))
    report = await Publisher(app.db, app.config, app.senders, clock).publish(SLUG, issue_id)
    assert report.published
    with app.db.session() as s:
        first = s.scalars(select(DigestIssue).where(DigestIssue.number == 1)).one()
        for n in (2, 3):
            s.add(
                DigestIssue(
                    group_id=first.group_id,
                    number=n,
                    period_start=first.period_start + timedelta(weeks=n - 1),
                    period_end=first.period_end + timedelta(weeks=n - 1),
                    status="published",
                    markdown=first.markdown,
                    html=first.html,
                    published_at=(first.published_at or WEEK_END) + timedelta(weeks=n - 1),
                    featured=[],
                    dropped=[],
                )
            )
    yield app
    app.db.dispose()


@pytest.fixture
async def site(three: App) -> Any:
    handle = await start_web(three, port=0)
    async with aiohttp.ClientSession(base_url=handle.url) as session:
        yield session
    await handle()


async def text(session: aiohttp.ClientSession, path: str) -> str:
    async with session.get(path) as response:
        assert response.status == 200, path
        return await response.text()


def nav_links(page: str) -> dict[str, str]:
    nav = re.search(r'<nav class="issue-nav[^>]*>(.*?)</nav>', page, re.S)
    assert nav is not None
    return dict(re.findall(r'<a rel="(prev|next)" href="([^"]*)"', nav.group(1)))


async def test_issue_pages_link_the_previous_and_next_issue(site: aiohttp.ClientSession) -> None:
    first, middle, last = [await text(site, f"/issues/{n}") for n in (1, 2, 3)]
    assert nav_links(first) == {"next": "2"}
    assert nav_links(middle) == {"prev": "1", "next": "3"}
    assert nav_links(last) == {"prev": "2"}
    assert "← 上一期：第1期" in middle and "下一期：第3期 →" in middle
    # the links lead where they say, from /issues/2 and from /issues/2.html alike
    for page in ("/issues/2", "/issues/2.html"):
        async with site.get(page) as response:
            target = response.url.join(aiohttp.client.URL(nav_links(await response.text())["next"]))
        assert target.path == "/issues/3"


async def test_the_index_shows_each_issues_highlights(site: aiohttp.ClientSession) -> None:
    index = await text(site, "/")
    rows = re.findall(r"<li><span class=\"num\">(.*?)</li>", index, re.S)
    assert len(rows) == 3
    for row in rows:
        assert re.search(r"论文 \d+ 篇 · 心得 \d+ 人", row), row
        assert HEADLINE in row, row


async def test_english_archive_pages_and_index(three: App) -> None:
    group = three.config.groups[0].model_copy(update={"language": "en"})
    archive = Archive(three.config, three.db, group)
    index = archive.index_html()
    assert re.search(r"\d+ papers? · notes from \d+ members?", index)
    assert "论文" not in re.sub(r"<span class=\"headlines\">.*?</span>", "", index)
    page = archive.issue_html(2) or ""
    assert "← Previous: issue 1" in page and "Next: issue 3 →" in page


def test_highlights_read_from_a_page_count_every_section() -> None:
    page = (
        '<main><section id="papers"><h2>论文速递</h2>'
        '<article id="paper-1"><h3>注意力 &amp; 你</h3></article>'
        '<article id="paper-2"><h3>BERT</h3></article></section>'
        '<section id="notes"><article id="member-1"><h3>大煌</h3></article></section>'
        '<section id="resources"><li id="resource-1">x</li><li id="resource-2">y</li></section>'
        '<section id="questions"><article id="question-3"><h3>为什么？</h3></article></section>'
        "</main>"
    )
    found = issue_highlights(page)
    assert found.headlines == ("注意力 & 你", "BERT", "为什么？")
    assert found.summary("zh") == "论文 2 篇 · 心得 1 人 · 资料 2 条 · 问答 1 个"
    assert found.summary("en") == "2 papers · notes from 1 member · 2 resources · 1 question"


async def test_feeds_read_by_feedparser_have_absolute_links_and_highlights(
    site: aiohttp.ClientSession,
) -> None:
    for path in ("/feed.xml", "/atom.xml"):
        feed: Any = feedparser.parse((await text(site, path)).encode("utf-8"))
        assert not feed.bozo, (path, feed.get("bozo_exception"))
        assert [e.link for e in feed.entries] == [f"{BASE}/issues/{n}" for n in (3, 2, 1)]
        for entry in feed.entries:
            assert HEADLINE in entry.title, entry.title
            assert re.match(r"ML自学者俱乐部周报 · 第\d期（", entry.title)
            body = entry.content[0].value if "content" in entry else entry.summary
            links = re.findall(r'(?:href|src)="([^"]*)"', body)
            assert links and all(link.startswith(("https://", "http://")) for link in links)
            assert 'rel="prev"' not in body  # the page's navigation is not part of the feed


async def test_static_export_links_neighbours_as_files(three: App, tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert export_archive(three, out) == 3
    as_file = (out / "issues" / "2.html").read_text(encoding="utf-8")
    assert nav_links(as_file) == {"prev": "1.html", "next": "3.html"}
    as_folder = (out / "issues" / "2" / "index.html").read_text(encoding="utf-8")
    assert nav_links(as_folder) == {"prev": "../1/index.html", "next": "../3/index.html"}
    assert HEADLINE in (out / "index.html").read_text(encoding="utf-8")
