"""A published digest becomes one 公众号 draft (fake 公众号 API): cover, images, no links,
updated on a rebuild, never added twice, published only when configured."""

from __future__ import annotations

import asyncio
import io
import itertools
import re
from datetime import timedelta
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from digest.mp_draft import MpDrafts
from digest.publish_parts import issue_url
from storage.models import DigestIssue, MpDraft
from tests.conftest import Chatter, FakeClock
from tests.support.digest_world import (
    GROUP_CHAT,
    SLUG,
    WEEK_END,
    issue_id_for,
    make_app,
    make_senders,
    seed_week,
)
from tests.support.mp_fake import APP_ID, APP_SECRET, FakeMp


def png(color: str, size: tuple[int, int] = (320, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def fake():
    with FakeMp() as running:
        running.images["diagram.png"] = png("orange")
        yield running


def mp_app(tmp_path, clock: FakeClock, fake: FakeMp, db_url: str | None = None, **mp: Any):
    settings = {"app_id": APP_ID, "app_secret": APP_SECRET, "api_base_url": fake.url, **mp}
    url = db_url or f"sqlite:///{tmp_path / 'bot.db'}"
    return make_app(url, clock, make_senders(), mp=settings)


async def publish_week(app, clock: FakeClock, fake: FakeMp) -> None:
    await seed_week(app, clock, long=False)
    chat = Chatter(app, clock)
    note = (
        f"/checkin 画了一张反向传播的示意图 ![示意图]({fake.url}img/diagram.png) ，"
        "代码在 [我的仓库](https://github.com/example/backprop) 里。"
    )
    reply = await chat.say(note, user="u9", name="画图的同学", chat=GROUP_CHAT, message_id="art-1")
    assert reply
    share = "/share https://zh.d2l.ai/ #深度学习 《动手学深度学习》中文版"
    assert await chat.say(share, user="u3", name="同学3", chat=GROUP_CHAT, message_id="art-2")
    issue_id = issue_id_for(app, clock())
    clock.set(WEEK_END + timedelta(minutes=5))
    report = await app.digest.publish_issue(SLUG, issue_id)
    assert report.published


def ledger(app) -> list[MpDraft]:
    with app.db.session() as session:
        rows = list(session.scalars(select(MpDraft)))
        for row in rows:
            session.expunge(row)
        return rows


async def test_a_published_digest_becomes_one_draft_like_the_seed(tmp_path, clock, fake):
    app = mp_app(tmp_path, clock, fake)
    try:
        await publish_week(app, clock, fake)
        assert len(fake.drafts) == 1
        [(media_id, [article])] = fake.drafts.items()
        assert article["title"] == "ML自学者俱乐部周报 · 第1期"
        assert (
            article["content_source_url"]
            == issue_url(app.config, 1)
            == ("https://club.example.org/issues/1")
        )
        content = article["content"]
        headings = re.findall(r"<h2[^>]*>([^<]+)</h2>", content)
        assert headings == [
            "刊首语",
            "本期内容",
            "论文速递",
            "学习心得",
            "学习资料",
            "疑问解答",
            "加入我们",
            "文中链接",
        ]
        assert "#深度学习" in content and "https://zh.d2l.ai/" in content
        assert "公众号内回复「**自学**」" not in content  # Markdown is not left raw
        assert "回复「自学」" in content or "公众号内回复" in content  # the seed's 加入我们
        # no external links: no <a>, the addresses are footnotes in plain text
        assert "<a " not in content and "href" not in content
        assert "[1]" in content and "https://github.com/example/backprop" in content
        assert "<style" not in content and "class=" not in content and "<script" not in content
        assert "&lt;script&gt;" in content  # a member's markup stays text
        # the member's image was uploaded once with media/uploadimg and points at WeChat
        [upload] = fake.endpoint_calls("media/uploadimg")
        assert upload["_files"]["media"] == fake.images["diagram.png"]
        srcs = re.findall(r'<img src="([^"]+)"', content)
        assert srcs and all(src.startswith("http://mmbiz.qpic.cn/") for src in srcs)
        # the cover: drawn here, a permanent image, 2.35:1
        cover = Image.open(io.BytesIO(fake.permanent[article["thumb_media_id"]]))
        assert cover.size == (900, 383)
        assert len(content) < 20_000
        [row] = ledger(app)
        assert (row.state, row.media_id, row.issue_number) == ("added", media_id, 1)
        assert not fake.published  # default: a draft, an editor presses publish
    finally:
        app.db.dispose()


async def test_pushing_again_adds_nothing_and_a_rebuild_updates_the_draft(tmp_path, clock, fake):
    app = mp_app(tmp_path, clock, fake)
    service = app.digest
    try:
        await publish_week(app, clock, fake)
        assert "已是最新" in await service.push_mp_draft()
        assert len(fake.endpoint_calls("draft/add")) == 1
        assert not fake.endpoint_calls("draft/update")
        with app.db.session() as session:  # an admin edits the published issue: a rebuild
            issue = session.scalars(select(DigestIssue)).one()
            issue.preface = "本期刊首语改过了：欢迎新同学。"
        assert "已更新" in await service.push_mp_draft(1)
        assert len(fake.endpoint_calls("draft/add")) == 1
        [update] = fake.endpoint_calls("draft/update")
        assert "本期刊首语改过了" in update["articles"]["content"]
        [(media_id, [article])] = fake.drafts.items()
        assert update["media_id"] == media_id and "本期刊首语改过了" in article["content"]
        assert len(fake.endpoint_calls("media/uploadimg")) == 1  # images are not uploaded again
        assert len(fake.endpoint_calls("material/add_material")) == 1  # nor the cover
    finally:
        app.db.dispose()


async def test_two_processes_add_one_draft(tmp_path, clock, fake, database_url):
    app = mp_app(tmp_path, clock, fake, database_url, draft=False)  # publish without the hook
    other = mp_app(tmp_path, clock, fake, database_url, draft=False)
    try:
        await publish_week(app, clock, fake)
        assert not fake.drafts
        from bot.adapters.mp_client import MpClient
        from storage.mp_state import SharedState

        def drafts(of) -> MpDrafts:
            state = SharedState(of.db)
            client = MpClient(APP_ID, APP_SECRET, state, base_url=fake.url)
            return MpDrafts(of.db, of.config, client, state, clock=clock)

        results = await asyncio.gather(drafts(app).push(), drafts(other).push())
        assert len(fake.drafts) == 1, [r.status for r in results]
        # both may fetch at once: stable_token hands both the same token, none is invalidated
        assert len(fake.tokens) == 1 and not fake.invalidated
        assert sorted(r.status for r in results)[0] in ("added", "unchanged")
    finally:
        app.db.dispose()
        other.db.dispose()


async def test_quota_error_reported_then_retried(tmp_path, clock, fake):
    app = mp_app(tmp_path, clock, fake)
    service = app.digest
    try:
        fake.fail_next("draft/add", 45009)
        await publish_week(app, clock, fake)
        assert not fake.drafts
        [row] = ledger(app)
        assert row.state == "failed" and row.last_error.startswith("45009")
        admin_notes = [o.reply.text for o in app.senders["telegram"].sent]  # type: ignore[attr-defined]
        assert any("45009" in t or "次数已用完" in t for t in admin_notes)
        assert "草稿箱" in await service.push_mp_draft()
        assert len(fake.drafts) == 1
    finally:
        app.db.dispose()


async def test_an_interrupted_add_is_not_repeated_until_an_admin_says_so(tmp_path, clock, fake):
    app = mp_app(tmp_path, clock, fake, draft=False)
    try:
        await publish_week(app, clock, fake)
        from bot.adapters.mp_client import MpClient
        from storage.mp_state import SharedState

        state = SharedState(app.db)
        client = MpClient(APP_ID, APP_SECRET, state, base_url=fake.url)

        class Unreachable(MpClient):
            def add_draft(self, article: dict[str, Any]) -> str:
                client.add_draft(article)  # it reached WeChat...
                raise ConnectionError("...but the answer was lost")

        broken = Unreachable(APP_ID, APP_SECRET, state, base_url=fake.url)
        result = await MpDrafts(app.db, app.config, broken, state, clock=clock).push()
        assert result.status == "failed" and len(fake.drafts) == 1
        drafts = MpDrafts(app.db, app.config, client, state, clock=clock)
        result = await drafts.push()
        assert result.status == "uncertain" and "草稿箱" in result.summary("zh")
        assert len(fake.drafts) == 1  # not added a second time
        result = await drafts.push(force=True)  # the admin checked: /digest mp retry
        assert result.status == "added"
    finally:
        app.db.dispose()


async def test_publish_when_configured_submits_once(tmp_path, clock, fake):
    app = mp_app(tmp_path, clock, fake, publish=True)
    try:
        await publish_week(app, clock, fake)
        [media_id] = fake.drafts
        assert fake.published == [media_id]
        [row] = ledger(app)
        assert row.state == "submitted" and row.publish_id
        result = await app.mp_drafts.push()
        assert result.status == "already_published" and fake.published == [media_id]
    finally:
        app.db.dispose()


async def test_a_draft_deleted_in_the_editor_is_added_again(tmp_path, clock, fake):
    app = mp_app(tmp_path, clock, fake)
    try:
        await publish_week(app, clock, fake)
        fake.drafts.clear()  # deleted in the 公众号 editor
        with app.db.session() as session:
            session.scalars(select(DigestIssue)).one().preface = "改一下，触发更新"
        result = await app.mp_drafts.push()
        assert result.status == "added" and len(fake.drafts) == 1
    finally:
        app.db.dispose()


async def test_digest_mp_command_and_its_errors(tmp_path, clock, fake):
    app = mp_app(tmp_path, clock, fake)
    chat = Chatter(app, clock, ids=itertools.count(5000))
    try:
        assert "还没有已发布的周报" in await chat.say("/digest mp", user="admin", chat=GROUP_CHAT)
        assert "仅限管理员" in await chat.say("/digest mp", user="u1", chat=GROUP_CHAT)
        assert "用法" in await chat.say("/digest mp 第一期", user="admin", chat=GROUP_CHAT)
        await publish_week(app, clock, fake)
        assert "已是最新" in await chat.say("/digest mp", user="admin", chat=GROUP_CHAT)
        assert "第1期" in await chat.say("/digest 公众号 1", user="admin", chat=GROUP_CHAT)
        assert len(fake.drafts) == 1
    finally:
        app.db.dispose()


async def test_without_a_configured_account_digest_mp_says_so(tmp_path, clock):
    app = make_app(f"sqlite:///{tmp_path / 'bot.db'}", clock, make_senders())
    try:
        reply = await Chatter(app, clock).say("/digest mp", user="admin", chat=GROUP_CHAT)
        assert "没有配置公众号" in reply
    finally:
        app.db.dispose()


async def test_studybot_digest_mp_command_line(tmp_path, clock, fake, capsys, monkeypatch):
    import yaml

    from bot.cli import main

    app = mp_app(tmp_path, clock, fake, draft=False)  # published without a draft
    try:
        await publish_week(app, clock, fake)
    finally:
        app.db.dispose()
    assert not fake.drafts
    config = tmp_path / "config.yaml"
    data = {
        "database": {"url": f"sqlite:///{tmp_path / 'bot.db'}"},
        "groups": [{"slug": SLUG, "name": "ML自学者俱乐部"}],
        "web": {"enabled": False, "base_url": "https://club.example.org"},
        "mp": {
            "app_id": "${MP_APP_ID}",
            "app_secret": "${MP_APP_SECRET}",
            "api_base_url": fake.url,
        },
    }
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("MP_APP_ID", APP_ID)
    monkeypatch.setenv("MP_APP_SECRET", APP_SECRET)
    assert await asyncio.to_thread(main, ["-c", str(config), "digest", "mp"]) == 0
    assert "草稿箱" in capsys.readouterr().out
    [[article]] = fake.drafts.values()
    assert article["content_source_url"] == "https://club.example.org/issues/1"
