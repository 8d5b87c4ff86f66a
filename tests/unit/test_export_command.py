"""/export (导出): the group's data as a file for the admin who asked, in the import format."""

from __future__ import annotations

import gzip
import io
import json
import re

import pytest

import handlers.export as export_handler
from bot.adapters.console import ConsoleAdapter
from bot.app import build_app
from bot.model import ChatRef
from storage.import_file import load_export
from tests.conftest import GROUP_CHAT, Chatter, make_config

OTHER_CHAT = ChatRef("console", "cv-group", "group", "CV小组")


async def fill(chat: Chatter) -> None:
    await chat.say("/checkin 学了 <b>word2vec</b> & GloVe", user="u1", name="大煌")
    await chat.say("/ask 什么是正则化？", user="u2", name="小明")
    await chat.say("/answer 1 L2 正则化就是权重衰减", user="u1", name="大煌")
    await chat.say(
        "/paper https://arxiv.org/abs/1706.03762 Attention Is All You Need", user="u2", name="小明"
    )
    await chat.say("/share https://example.com/yolo #cv YOLO 入门", user="u3", name="Ann")


async def test_admin_gets_the_group_as_json_privately(chat):
    await fill(chat)
    [reply] = await chat.send("/export", user="admin")
    assert reply.private and reply.file is not None
    # trial item 22: named in the club's local time (CST 17:00), like every time shown; not UTC
    assert reply.file_name == "studybot-ml-club-20261116-1700.json"
    assert reply.text.startswith("📦 已导出「ML自学者俱乐部」：成员 4 · 打卡 1 · 提问 1")
    assert "论文 1 · 资料 1 · 周报 1 期" in reply.text  # the check-in opened its issue (#22)
    assert "studybot import studybot-ml-club-20261116-1700.json" in reply.text
    assert re.search(r"（\d+\.\d KB）", reply.text)  # the size, no compression for small data
    data = load_export(reply.file.decode("utf-8"))
    [group] = data.groups
    assert group.slug == "ml-club"
    assert [c.text for c in group.checkins] == ["学了 <b>word2vec</b> & GloVe"]
    assert [a.text for a in group.questions[0].answers] == ["L2 正则化就是权重衰减"]
    names = {m.display_name for m in data.members}
    assert names == {"大煌", "小明", "Ann", "admin"}  # the only group: everyone, as the CLI


async def test_chinese_alias_and_admins_only(chat):
    await fill(chat)
    [refusal] = await chat.send("/导出", user="u1")
    assert refusal.text == "抱歉，/export 仅限管理员使用。" and refusal.file is None
    [reply] = await chat.send("/导出", user="admin")
    assert reply.file is not None


async def test_each_group_exports_only_its_own_data_and_writers(tmp_path, clock):
    groups = [
        {
            "slug": "ml-club",
            "name": "ML自学者俱乐部",
            "chats": [{"platform": "console", "chat_id": GROUP_CHAT.chat_id}],
        },
        {
            "slug": "cv",
            "name": "CV小组",
            "chats": [{"platform": "console", "chat_id": OTHER_CHAT.chat_id}],
        },
    ]
    app = build_app(make_config(tmp_path, groups=groups), clock=clock)
    try:
        chat = Chatter(app, clock)
        await fill(chat)
        await chat.say("/checkin 读了 ResNet", user="v1", name="小红", chat=OTHER_CHAT)
        [reply] = await chat.send("/export", user="admin", chat=OTHER_CHAT)
        assert reply.file_name.startswith("studybot-cv-")
        assert "已导出「CV小组」：成员 1 · 打卡 1 · 提问 0" in reply.text
        data = load_export(reply.file.decode("utf-8"))
        assert [g.slug for g in data.groups] == ["cv"]
        assert [c.text for c in data.groups[0].checkins] == ["读了 ResNet"]
        assert [m.display_name for m in data.members] == ["小红"]  # not ml-club's members
    finally:
        app.db.dispose()


async def test_large_export_is_gzipped_and_says_both_sizes(chat, monkeypatch):
    await fill(chat)
    monkeypatch.setattr(export_handler, "GZIP_OVER", 200)
    [reply] = await chat.send("/export", user="admin")
    assert reply.file_name.endswith(".json.gz")
    assert reply.file is not None and reply.file[:2] == b"\x1f\x8b"
    raw = gzip.decompress(reply.file)
    assert json.loads(raw)["groups"][0]["slug"] == "ml-club"
    assert f"gzip 压缩，原始 JSON {export_handler.human_size(len(raw))}" in reply.text


async def test_too_large_for_a_chat_points_to_the_cli(chat, monkeypatch):
    await fill(chat)
    monkeypatch.setattr(export_handler, "MAX_FILE", 100)
    [reply] = await chat.send("/export", user="admin")
    assert reply.file is None and reply.private
    assert "无法在聊天中发送" in reply.text and "studybot export --out" in reply.text


@pytest.mark.parametrize(
    ("size", "shown"), [(532, "532 B"), (12_600, "12.3 KB"), (4_718_592, "4.5 MB")]
)
def test_human_size(size, shown):
    assert export_handler.human_size(size) == shown


async def test_console_saves_the_file_and_prints_its_path(tmp_path, clock):
    app = build_app(make_config(tmp_path), clock=clock)
    out = io.StringIO()
    adapter = ConsoleAdapter(
        app.dispatcher,
        app.config,
        stdin=io.StringIO("/checkin 今天读完 CS231n\n/export\n"),
        stdout=out,
        as_admin=True,
        image_dir=tmp_path / "data" / "console-images",
    )
    try:
        await adapter.run()
    finally:
        app.db.dispose()
    saved = tmp_path / "data" / "exports" / "studybot-ml-club-20261116-1700.json"
    assert f"文件已保存：{saved}" in out.getvalue()
    assert "已导出「ML自学者俱乐部」" in out.getvalue()
    data = load_export(saved.read_bytes().decode("utf-8"))
    assert [c.text for c in data.groups[0].checkins] == ["今天读完 CS231n"]
