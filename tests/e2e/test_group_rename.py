"""Renaming a group's slug: ``studybot db rename-group OLD NEW`` keeps its history (members,
check-ins, issues) and the old archive links redirect to the new ones."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from sqlalchemy import func, select

from bot.app import build_app
from bot.config import load_config
from bot.model import ChatRef
from bot.web import start_web
from storage.models import CheckIn, Group
from tests.conftest import Chatter, FakeClock
from tests.e2e.test_cli_console import studybot
from tests.web.test_web_groups import add_issue

CV_CHAT = ChatRef("console", "cv-room", "group", "CV club")


def config_text(tmp_path: Path, second_slug: str) -> str:
    return f"""
database: {{url: 'sqlite:///{tmp_path / "club.db"}'}}
web: {{enabled: true, port: 0, base_url: 'http://127.0.0.1:1'}}
digest: {{enabled: false}}
reminders: {{enabled: false}}
groups:
  - slug: ml-club
    chats: [{{platform: console, chat_id: console-group}}]
  - slug: {second_slug}
    name: CV club
    chats: [{{platform: console, chat_id: cv-room}}]
"""


async def test_rename_keeps_history_and_old_links(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(config_text(tmp_path, "cv"), encoding="utf-8")
    clock = FakeClock()
    app = build_app(load_config(path), clock=clock)
    try:
        add_issue(app, "cv", 1, "第一期的内容")  # published before this week's check-in
        await Chatter(app, clock).say("/checkin 读完了 ResNet", chat=CV_CHAT)
    finally:
        app.db.dispose()

    result = studybot("-c", str(path), "db", "rename-group", "cv", "cv-club", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "links under /g/cv/ redirect to /g/cv-club/" in result.stdout
    assert "next: set groups[1].slug: cv-club in the config" in result.stdout
    again = studybot("-c", str(path), "db", "rename-group", "cv", "cv-club", cwd=tmp_path)
    assert again.returncode != 0 and "no group 'cv'" in again.stderr

    path.write_text(config_text(tmp_path, "cv-club"), encoding="utf-8")
    app = build_app(load_config(path), clock=clock)
    try:
        chat = Chatter(app, clock)
        reply = await chat.say("/checkin 又读了 ViT", chat=CV_CHAT, message_id="second")
        assert "第 2 条" in reply  # the same member's week goes on: no new empty group
        with app.db.session() as s:
            assert set(s.scalars(select(Group.slug))) == {"cv-club"}
            assert s.scalar(select(func.count()).select_from(CheckIn)) == 2
        handle = await start_web(app, port=0)
        try:
            async with aiohttp.ClientSession() as http:
                new = await http.get(f"{handle.url}/g/cv-club/issues/1")
                assert new.status == 200 and "第一期的内容" in await new.text()
                old = await http.get(f"{handle.url}/g/cv/issues/1", allow_redirects=False)
                assert old.status == 308
                assert old.headers["Location"] == "/g/cv-club/issues/1"
                followed = await http.get(f"{handle.url}/g/cv/issues/1")
                assert followed.status == 200 and "第一期的内容" in await followed.text()
                feed = await http.get(f"{handle.url}/g/cv/feed.xml")
                assert feed.status == 200 and str(feed.url).endswith("/g/cv-club/feed.xml")
                unknown = await http.get(f"{handle.url}/g/never-was/issues/1")
                assert unknown.status == 404
        finally:
            await handle()
    finally:
        app.db.dispose()
