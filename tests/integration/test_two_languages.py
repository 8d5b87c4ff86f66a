"""One process serving a Chinese and an English group: each group's members and readers see
their own language in replies, /help, the join text, the archive pages and the feeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import App, build_app
from bot.model import ChatRef
from bot.web_archive import Archive
from tests.conftest import Chatter, FakeClock, make_config

ZH_CHAT = ChatRef("console", "zh-room", "group", "ML自学者俱乐部")
EN_CHAT = ChatRef("console", "en-room", "group", "ML Self-Study Club")


@pytest.fixture
def two_clubs(tmp_path: Path, clock: FakeClock) -> App:
    config = make_config(
        tmp_path,
        groups=[
            {
                "slug": "ml-club",
                "name": "ML自学者俱乐部",
                "chats": [{"platform": "console", "chat_id": "zh-room"}],
            },
            {
                "slug": "ml-en",
                "name": "ML Self-Study Club",
                "language": "en",
                "timezone": "Europe/London",
                "chats": [{"platform": "console", "chat_id": "en-room"}],
            },
        ],
        join={"chat_text": "欢迎加入{group}！", "chat_text_en": "Welcome to {group}!"},
        web={"enabled": False, "base_url": "https://club.example"},
    )
    app = build_app(config, clock=clock)
    yield app
    app.db.dispose()


async def test_replies_help_and_join_text_follow_the_group(two_clubs: App, clock: FakeClock):
    chat = Chatter(two_clubs, clock)
    en_help = await chat.say("/help", chat=EN_CHAT)
    assert en_help.startswith("Commands:")
    assert "/paper <url> [title] | summary | one-line takeaway" in en_help
    assert "/checkin <learning note>" in en_help
    assert "链接" not in en_help and "学习心得>" not in en_help and "（" not in en_help
    zh_help = await chat.say("/help", chat=ZH_CHAT)
    assert zh_help.startswith("可用命令：") and "/paper <链接> [标题]" in zh_help

    admin_help = await chat.say("/help", chat=EN_CHAT, user="admin")
    assert "Admin commands:" in admin_help
    assert (
        "/digest preview|publish [now]|preface <text>|feature N|drop N|undrop N|edit <ref> [field "
        "text]|move <ref> <position>|status|mp [N] [retry]" in admin_help
    )
    assert "/keyword add <word> <reply> | del <word> | list" in admin_help

    # in a club's own chat 「自学」 gets one line in its language (#19), not the join text
    assert (await chat.say("自学", chat=EN_CHAT)).startswith(
        "You're already in “ML Self-Study Club” 👋 To bring a friend"
    )
    assert (await chat.say("自学", chat=ZH_CHAT)).startswith("你已经在「ML自学者俱乐部」里啦 👋")
    assert (await chat.say("/ask", chat=EN_CHAT)).startswith("Usage: ")
    assert (await chat.say("/ask", chat=ZH_CHAT)).startswith("用法：")
    saved = await chat.say("/checkin read the attention paper", chat=EN_CHAT)
    assert saved.startswith("✅ Saved alice's learning note #1 this week")
    assert (await chat.say("/checkin 读完了注意力论文", chat=ZH_CHAT)).startswith("✅ 已记录")
    assert "Sorry, /stats is for admins only." == await chat.say("/stats", chat=EN_CHAT)


def test_archive_pages_and_feeds_follow_the_group(two_clubs: App) -> None:
    config = two_clubs.config
    en = Archive(config, two_clubs.db, config.groups[1])
    zh = Archive(config, two_clubs.db, config.groups[0])
    page = en.index_html()
    assert '<html lang="en">' in page
    assert "<title>ML Self-Study Club weekly digest · Archive</title>" in page
    assert "0 issues" in page and "No digest has been published yet." in page
    assert "Subscribe:" in page
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in page.replace("自学", ""))
    missing = en.not_found_html(en.text("no_issue", n=3))
    assert '<html lang="en">' in missing and "Issue 3 is not published" in missing
    assert "Back to the archive" in missing
    assert b"<language>en</language>" in en.rss()
    assert b'xml:lang="en"' in en.atom() and b"ML Self-Study Club weekly digest" in en.atom()

    zh_page = zh.index_html()
    assert '<html lang="zh-CN">' in zh_page and "共 0 期" in zh_page and "往期" in zh_page
    assert b"<language>zh-cn</language>" in zh.rss()


async def test_each_group_previews_its_digest_in_its_language(two_clubs: App, clock: FakeClock):
    chat = Chatter(two_clubs, clock)
    await chat.say("/checkin finished the CS231n assignment", chat=EN_CHAT)
    await chat.say("/checkin 读完了 CS231n 第三讲", chat=ZH_CHAT)
    english = await chat.say("/digest preview", chat=EN_CHAT, user="admin")
    assert "ML Self-Study Club weekly digest" in english
    assert "Editor's note" in english and "Learning notes" in english and "Join us" in english
    for chinese in ("刊首语", "学习心得", "加入我们", "周报"):
        assert chinese not in english, chinese
    chinese_preview = await chat.say("/digest preview", chat=ZH_CHAT, user="admin")
    assert "ML自学者俱乐部周报" in chinese_preview and "学习心得" in chinese_preview


def test_an_english_group_chat_gets_an_english_command_menu() -> None:
    from bot.adapters.telegram_admin import command_menus
    from bot.app import load_handlers

    menus = command_menus(load_handlers(), "zh", [("-1001", "zh"), ("-1009", "en")])
    by_chat = {
        (str(scope.type), str(scope.chat_id)): commands
        for scope, _code, commands in menus
        if scope is not None and getattr(scope, "chat_id", None) is not None
    }
    assert set(by_chat) == {("chat", "-1009"), ("chat_administrators", "-1009")}
    checkin = next(c for c in by_chat[("chat", "-1009")] if c.command == "checkin")
    assert checkin.description.isascii() and "weekly learning note" in checkin.description
    assert any(c.command == "digest" for c in by_chat[("chat_administrators", "-1009")])
    assert not any(c.command == "digest" for c in by_chat[("chat", "-1009")])
