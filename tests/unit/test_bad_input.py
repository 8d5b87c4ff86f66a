"""Bad input for every registered command (the registry is iterated, so new commands are
covered automatically): empty arguments, 10 KB messages, control characters, HTML/Markdown
metacharacters, unknown commands, non-admins using admin commands, private-chat chatter.
Each gets a clear reply in the configured language (zh and en) and stores nothing half-way.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import App, build_app, load_handlers
from bot.i18n import COMMON
from bot.model import ChatRef
from storage.models import Base
from tests.conftest import Chatter, make_config

REGISTRY = load_handlers()
COMMANDS = sorted(REGISTRY.commands)
ADMIN_COMMANDS = sorted(name for name, spec in REGISTRY.commands.items() if spec.admin)
TRIGGERS = [f"/{name}" for name in COMMANDS] + REGISTRY.hashtags
# link_codes: a bare /link answers with a one-time code (#18), its whole purpose, not content
# audit_log: an admin command is logged even when its input is bad (who tried what, when)
# seen_chats: every chat a message came from (studybot chats), like members
# group_members: which group's chat a member used the bot in (the groups /group offers)
BOOKKEEPING = {
    "processed_messages", "members", "groups", "alembic_version", "link_codes", "audit_log",
    "seen_chats", "group_members",
}  # fmt: skip
DM = ChatRef("console", "dm-bob", "private", "")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u2028\u2029]")
CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")
META = "<script>alert('x')</script> & *粗体* _斜体_ [链接](x) `code` a<b>c"

# Plausible arguments per command (unknown commands get DEFAULT_ARGS); setup runs first.
SAMPLES: dict[str, tuple[list[str], str]] = {
    "checkin": ([], "今天读完了 CS231n 第三讲"),
    "ask": ([], "什么是 dropout？"),
    "answer": (["/ask 什么是 dropout？"], "1 随机丢弃神经元"),
    "paper": (
        [],
        "https://arxiv.org/abs/1706.03762 Attention Is All You Need | 提出 Transformer | 注意力",
    ),
    "share": ([], "https://example.com/post #nlp 好文章"),
    "search": ([], "dropout"),
    "keyword": ([], "add 书单 西瓜书"),
}
DEFAULT_ARGS = "hello"
STORING = ("checkin", "ask", "answer", "paper", "share", "keyword")


def sample(name: str) -> tuple[list[str], str]:
    return SAMPLES.get(name, ([], DEFAULT_ARGS))


def rows(app: App) -> dict[str, set[tuple[Any, ...]]]:
    """Every stored row outside bookkeeping tables."""
    with app.db.session() as session:
        return {
            table.name: {
                tuple(repr(v) if isinstance(v, list | dict) else v for v in row)  # JSON columns
                for row in session.execute(select(table)).all()
            }
            for table in Base.metadata.sorted_tables
            if table.name not in BOOKKEEPING
        }


def new_strings(
    before: dict[str, set[tuple[Any, ...]]], after: dict[str, set[tuple[Any, ...]]]
) -> list[str]:
    return [
        value
        for name, table_rows in after.items()
        for row in table_rows - before.get(name, set())
        for value in row
        if isinstance(value, str)
    ]


def in_language(text: str, lang: str) -> bool:
    return bool(CJK.search(text)) if lang == "zh" else bool(LATIN_WORD.search(text))


@pytest.fixture(params=["zh", "en"])
def lang(request) -> str:
    return request.param


@pytest.fixture
def chat(tmp_path, clock, lang):
    app = build_app(
        make_config(tmp_path, language=lang, limits={"messages_per_minute": 1000, "burst": 1000}),
        clock=clock,
    )
    yield Chatter(app, clock)
    app.db.dispose()


def user_for(trigger: str) -> str:
    spec = REGISTRY.find_hashtag(trigger) or REGISTRY.find_command(trigger.lstrip("/"))
    return "admin" if spec is not None and spec.admin else "bob"


def test_registry_has_the_core_commands():
    assert {"start", "help", "keyword"} <= set(COMMANDS)


# -- empty arguments -----------------------------------------------------------------------------
@pytest.mark.parametrize("trigger", TRIGGERS)
async def test_empty_arguments_get_a_clear_reply_and_store_nothing(chat, lang, trigger):
    before = rows(chat.app)
    for text in (trigger, f"{trigger}    ", f"{trigger} \n\t "):
        reply = await chat.say(text, user=user_for(trigger))
        assert reply.strip(), f"{text!r} got no reply"
        assert reply != COMMON.get("internal_error", lang)
        assert in_language(reply, lang), reply
    assert rows(chat.app) == before


# -- 10 KB messages ------------------------------------------------------------------------------
@pytest.mark.parametrize("trigger", TRIGGERS)
async def test_ten_kilobyte_message_is_refused_and_stores_nothing(chat, lang, trigger):
    before = rows(chat.app)
    text = f"{trigger} " + "长" * 10_240
    expected = COMMON.get(
        "too_long", lang, length=len(text), limit=chat.app.config.limits.max_message_chars
    )
    assert await chat.say(text, user=user_for(trigger)) == expected
    assert rows(chat.app) == before


async def test_ten_kilobyte_plain_message_in_private_gets_the_hint(chat, lang):
    """Plain private text is never stored, so a huge one just gets the usual hint."""
    before = rows(chat.app)
    assert await chat.say("x" * 10_240, chat=DM) == COMMON.get("private_hint", lang)
    assert rows(chat.app) == before


# -- control characters and metacharacters ----------------------------------------------------------
@pytest.mark.parametrize("name", COMMANDS)
async def test_control_characters_are_refused_with_a_reply_and_nothing_stored(chat, lang, name):
    """Issue #19: control characters were stripped silently and the rest stored."""
    setup, args = sample(name)
    user = "admin" if REGISTRY.commands[name].admin else "bob"
    for line in setup:
        await chat.say(line, user=user)
    before = rows(chat.app)
    for noisy in (f"/{name} {args}\x00\x07 \x1b{META}\x7f", f"/{name} {args} \u202e{META}"):
        reply = await chat.say(noisy, user=user)
        char = "U+0000" if "\x00" in noisy else "U+202E"
        assert reply == COMMON.get("control_chars", lang, char=char)
    assert rows(chat.app) == before


@pytest.mark.parametrize("name", COMMANDS)
async def test_zero_width_spaces_are_dropped_and_metacharacters_kept(chat, lang, name):
    setup, args = sample(name)
    user = "admin" if REGISTRY.commands[name].admin else "bob"
    for line in setup:
        await chat.say(line, user=user)
    before = rows(chat.app)
    reply = await chat.say(f"/{name} {args} {META}\u200b", user=user)
    assert reply != COMMON.get("internal_error", lang)
    assert not CONTROL.search(reply)
    stored = new_strings(before, rows(chat.app))
    assert not [value for value in stored if CONTROL.search(value)]
    if stored:
        assert any(META in value for value in stored), stored
    if name in STORING:
        assert stored, f"/{name} stored nothing for a valid message"


@pytest.mark.parametrize("name", [n for n in STORING if n in REGISTRY.commands])
async def test_replies_to_metacharacters_are_plain_text_not_escaped(chat, name):
    """Replies are plain text (adapters escape): no HTML entities appear in them."""
    setup, args = sample(name)
    user = "admin" if REGISTRY.commands[name].admin else "bob"
    for line in setup:
        await chat.say(line, user=user)
    reply = await chat.say(f"/{name} {args} {META}", user=user)
    assert "&lt;" not in reply and "&amp;" not in reply


# -- unknown commands -------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["/nosuch", "/nosuch with args", "/打卡了吗 今天", "/NOSUCH"])
async def test_unknown_commands_are_named_in_private_and_quiet_in_groups(chat, lang, text):
    """Issue #19: in a group another bot's command (/warn, /rules) is not ours to answer;
    in a DM, or when the message addresses this bot, the reply names the command."""
    before = rows(chat.app)
    name = text[1:].split()[0]
    assert await chat.say(text) == ""
    assert await chat.say(text, chat=DM) == COMMON.get("unknown_command", lang, name=name)
    assert rows(chat.app) == before


async def test_slash_alone_is_not_a_command(chat, lang):
    assert await chat.say("/") == ""
    assert await chat.say("/", chat=DM) == COMMON.get("private_hint", lang)


# -- admin commands ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ADMIN_COMMANDS)
async def test_non_admin_is_refused_every_admin_command(chat, lang, name):
    before = rows(chat.app)
    spec = REGISTRY.commands[name]
    _, args = sample(name)
    for trigger in (name, *spec.aliases):
        for text in (f"/{trigger} {args}", f"/{trigger}"):
            assert await chat.say(text, user="bob") == COMMON.get("admin_only", lang, name=name)
            assert await chat.say(text, user="bob", chat=DM) == COMMON.get(
                "admin_only", lang, name=name
            )
    assert rows(chat.app) == before


# -- private chat -----------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["你好", "hello bot", "<b>hi</b>", "`code`", "自学吗"])
async def test_private_plain_text_gets_the_hint(chat, lang, text):
    before = rows(chat.app)
    assert await chat.say(text, chat=DM) == COMMON.get("private_hint", lang)
    assert rows(chat.app) == before


@pytest.mark.parametrize("text", ["", "   ", "\x00\x07", "\u200b"])
async def test_empty_or_invisible_messages_are_ignored(chat, text):
    before = rows(chat.app)
    assert await chat.say(text) == ""
    assert await chat.say(text, chat=DM) == ""
    assert rows(chat.app) == before


async def test_group_plain_text_is_not_stored(chat):
    before = rows(chat.app)
    assert await chat.say("大家好，今天天气不错 <script>") == ""
    assert rows(chat.app) == before
