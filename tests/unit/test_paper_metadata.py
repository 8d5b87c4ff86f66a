"""Paper metadata from arXiv and GitHub, fetched after the reply, against a local fake server.

The fake serves recorded response shapes (``tests/data/metadata``: an arXiv API Atom answer,
arXiv's error entry, a GitHub ``/repos/{owner}/{repo}`` answer and its 404) and can be made
slow, malformed or unreachable. Never the internet.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from bot.app import build_app
from bot.paper_metadata import PaperMetadata
from storage import content, identity
from storage.models import Paper
from tests.conftest import Chatter

pytestmark = pytest.mark.fetches_metadata

DATA = Path(__file__).parent.parent / "data" / "metadata"
T2T = "https://github.com/tensorflow/tensor2tensor"


@dataclass
class FakeApis:
    """arXiv's /api/query and GitHub's /repos/{owner}/{repo}, with switchable behaviour."""

    arxiv: str = "ok"  # ok | slow | malformed | down (HTTP 503) | hang
    github: str = "ok"  # ok | malformed | ratelimited | hang
    delay: float = 0.0
    hits: Counter[str] = field(default_factory=Counter)

    async def query(self, request: web.Request) -> web.StreamResponse:
        identifier = request.query.get("id_list", "")
        self.hits[f"arxiv:{identifier}"] += 1
        await asyncio.sleep(self.delay)
        if self.arxiv == "hang":
            await asyncio.sleep(30)
        if self.arxiv == "down":
            return web.Response(status=503, text="Service Unavailable")
        if self.arxiv == "malformed":
            body = (DATA / "arxiv-1706.03762.xml").read_text(encoding="utf-8")
            return web.Response(text=body[:900], content_type="application/atom+xml")
        name = "arxiv-1706.03762.xml" if identifier == "1706.03762" else "arxiv-error.xml"
        return web.Response(
            body=(DATA / name).read_bytes(), content_type="application/atom+xml", charset="utf-8"
        )

    async def repo(self, request: web.Request) -> web.StreamResponse:
        path = f"{request.match_info['owner']}/{request.match_info['repo']}"
        self.hits[f"github:{path}"] += 1
        if self.github == "hang":
            await asyncio.sleep(30)
        if self.github == "ratelimited":
            return web.json_response({"message": "API rate limit exceeded"}, status=403)
        if self.github == "malformed":
            return web.Response(text="<html>oops</html>", content_type="application/json")
        if path != "tensorflow/tensor2tensor":
            return web.Response(
                body=(DATA / "github-404.json").read_bytes(),
                status=404,
                content_type="application/json",
            )
        return web.Response(
            body=(DATA / "github-tensor2tensor.json").read_bytes(), content_type="application/json"
        )


@pytest.fixture
async def apis():
    fake = FakeApis()
    app = web.Application()
    app.router.add_get("/api/query", fake.query)
    app.router.add_get("/repos/{owner}/{repo}", fake.repo)
    server = TestServer(app)
    await server.start_server()
    fake.url = str(server.make_url(""))  # type: ignore[attr-defined]
    yield fake
    await server.close()


def papers_config(base: str, **extra: object) -> dict[str, object]:
    return {
        "fetch_metadata": True,
        "arxiv_api_url": f"{base}/api/query",
        "github_api_url": base,
        "timeout_seconds": 2,
        "retry_seconds": 0.05,
        "max_attempts": 3,
        **extra,
    }


@pytest.fixture
def make_chat(config_factory, clock):
    apps = []

    def make(base: str, **extra: object) -> Chatter:
        app = build_app(config_factory(papers=papers_config(base, **extra)), clock=clock)
        apps.append(app)
        return Chatter(app, clock)

    yield make
    for app in apps:
        app.db.dispose()


def stored(chat: Chatter) -> list[Paper]:
    with chat.app.db.session() as session:
        return list(session.scalars(select(Paper).order_by(Paper.id)))


async def settle(chat: Chatter) -> None:
    await asyncio.wait_for(chat.app.dispatcher.tasks.idle(), 10)


async def test_the_member_is_answered_at_once_and_metadata_fills_in_later(apis, make_chat):
    apis.delay = 3.0
    chat = make_chat(apis.url, timeout_seconds=10)
    started = time.monotonic()
    reply = await chat.say(f"/paper 1706.03762 注意力就是全部 代码 {T2T} | 讲透了", user="u1")
    assert time.monotonic() - started < 2.0  # the reply did not wait for arXiv (3 s)
    assert "已收录论文" in reply and "注意力就是全部" in reply
    assert "稍后自动从 arXiv 补全" in reply
    [paper] = stored(chat)
    assert paper.arxiv_status == "pending" and paper.arxiv_title == ""
    await settle(chat)
    [paper] = stored(chat)
    assert paper.arxiv_status == "ok"
    assert paper.arxiv_title == "Attention Is All You Need"
    assert paper.arxiv_authors.splitlines()[:2] == ["Ashish Vaswani", "Noam Shazeer"]
    assert len(paper.arxiv_authors.splitlines()) == 8
    assert paper.arxiv_abstract.startswith("The dominant sequence transduction models")
    assert "\n" not in paper.arxiv_abstract
    assert paper.arxiv_published == "2017-06-12"
    assert paper.code_status == "ok" and paper.code_stars == 16102
    assert paper.code_description.startswith("Library of deep learning models")
    assert paper.title == "注意力就是全部"  # the member's headline stays
    listing = await chat.say("/papers", user="u2")
    assert "Attention Is All You Need" in listing
    assert "作者：Ashish Vaswani, Noam Shazeer, Niki Parmar 等" in listing


async def test_a_paper_is_fetched_once(apis, make_chat):
    chat = make_chat(apis.url)
    await chat.say(f"/paper 1706.03762 注意力 代码 {T2T}", user="u1")
    await chat.say(f"/paper https://x.org/other.pdf 另一篇 {T2T}", user="u2")
    await settle(chat)
    assert apis.hits == Counter({"arxiv:1706.03762": 1, f"github:{T2T[19:]}": 1})
    # another group shares the same paper: its metadata comes from the stored row
    with chat.app.db.session() as session:
        other = identity.ensure_group(session, "other", "Other club", "Asia/Shanghai")
        member = identity.ensure_member(session, "console", "bob", "Bob")
        row = content.add_paper(
            session,
            other.id,
            member.id,
            url="https://arxiv.org/abs/1706.03762",
            url_key="arxiv:1706.03762",
            arxiv_id="1706.03762",
            code_url=None,
            title="",
            summary="",
            one_liner="",
            now=chat.clock(),
        )
        session.commit()
        row_id = row.id
    fresh = PaperMetadata(chat.app.db, chat.app.config.papers, chat.app.dispatcher.tasks)
    await fresh.fill(row_id)
    assert apis.hits["arxiv:1706.03762"] == 1
    assert stored(chat)[-1].arxiv_title == "Attention Is All You Need"


async def test_unknown_paper_and_repository_are_final_not_retried(apis, make_chat):
    chat = make_chat(apis.url)
    await chat.say("/paper arXiv:2512.99999 我的标题 https://github.com/nobody/nothing", user="u1")
    await settle(chat)
    [paper] = stored(chat)
    assert (paper.arxiv_status, paper.code_status) == ("missing", "missing")
    assert paper.arxiv_title == "" and paper.code_stars is None
    assert paper.metadata_attempts == 0
    assert apis.hits == Counter({"arxiv:2512.99999": 1, "github:nobody/nothing": 1})
    assert "我的标题" in await chat.say("/papers", user="u2")


@pytest.mark.parametrize(("arxiv", "github"), [("malformed", "malformed"), ("down", "ratelimited")])
async def test_malformed_or_failing_answers_store_nothing_and_are_retried(
    apis, make_chat, arxiv, github
):
    apis.arxiv, apis.github = arxiv, github
    chat = make_chat(apis.url, max_attempts=2)
    await chat.say(f"/paper 1706.03762 注意力 代码 {T2T}", user="u1")
    await settle(chat)
    [paper] = stored(chat)
    assert (paper.arxiv_status, paper.code_status) == ("failed", "failed")
    assert paper.arxiv_title == "" and paper.code_stars is None
    assert paper.metadata_attempts == 2
    assert apis.hits["arxiv:1706.03762"] == 2  # retried once, then left for the next start
    assert "论文信息稍后自动重试" in await chat.say("/papers", user="u2")


async def test_a_timeout_is_retried_later_and_nothing_is_lost(apis, make_chat):
    apis.arxiv = apis.github = "hang"
    chat = make_chat(apis.url, timeout_seconds=2.0, retry_seconds=0.5)
    started = time.monotonic()
    await chat.say(f"/paper 1706.03762 注意力 代码 {T2T}", user="u1")
    assert time.monotonic() - started < 1.5  # the reply did not wait for the 2 s timeout
    for _ in range(100):  # the first try times out after 2 s
        if stored(chat)[0].arxiv_status == "failed":
            break
        await asyncio.sleep(0.05)
    assert stored(chat)[0].code_status == "failed"
    apis.arxiv = apis.github = "ok"  # the network is back before the retry
    await settle(chat)
    [paper] = stored(chat)
    assert (paper.arxiv_status, paper.code_status) == ("ok", "ok")
    assert paper.arxiv_title == "Attention Is All You Need" and paper.code_stars == 16102


async def test_network_down_then_the_next_start_fetches_what_is_missing(apis, make_chat, clock):
    down = make_chat("http://127.0.0.1:9", max_attempts=1)  # nothing listens on port 9
    reply = await down.say(f"/paper 1706.03762 注意力 代码 {T2T}", user="u1")
    assert "已收录论文" in reply
    await settle(down)
    assert stored(down)[0].arxiv_status == "failed"
    # a restart with the network back: resume() finds the paper and fills it in
    config = down.app.config.model_copy(
        update={"papers": down.app.config.papers.model_copy(update=papers_config(apis.url))}
    )
    restarted = build_app(config, clock=clock)
    try:
        assert restarted.paper_metadata is not None
        assert restarted.paper_metadata.resume() == 1
        await asyncio.wait_for(restarted.dispatcher.tasks.idle(), 10)
    finally:
        restarted.db.dispose()
    [paper] = stored(down)
    assert paper.arxiv_title == "Attention Is All You Need" and paper.code_status == "ok"


async def test_switched_off_nothing_is_fetched(apis, make_chat):
    chat = make_chat(apis.url, fetch_metadata=False)
    reply = await chat.say(f"/paper 1706.03762 注意力 代码 {T2T}", user="u1")
    assert "已收录论文" in reply and "补全" not in reply
    await settle(chat)
    assert apis.hits == Counter()
    assert stored(chat)[0].arxiv_status == "pending"  # fetched once switched on
