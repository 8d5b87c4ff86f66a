"""How members type commands in a real chat (#19): punctuation stuck to the name (``/ask：…``,
``/me。``, ``/rank！``), sentence punctuation after a number (``/q 1。``), Unicode spaces
(U+3000) as separators — without catching other bots' commands or paths."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app import load_handlers
from bot.dispatch import Dispatcher
from bot.i18n import COMMON
from bot.model import ChatRef
from bot.routing import command_args, match_tag
from bot.sent import BotNames
from storage.models import CheckIn, Question

REGISTRY = load_handlers()
PRIVATE = ChatRef("console", "dm-alice", "private")


def route(text: str):
    dispatcher = Dispatcher.__new__(Dispatcher)  # routing reads only the registry and names
    dispatcher.registry = REGISTRY
    dispatcher.bot_names = BotNames(["studybot"])
    found = dispatcher.route(text)
    return None if found is None else (found.name, found.args, found.spec is not None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/ask：怎么选学习率？", ("ask", "怎么选学习率？", True)),
        ("/ask: how to pick a learning rate?", ("ask", "how to pick a learning rate?", True)),
        ("/ask:why?", ("ask", "why?", True)),
        ("/提问：全角冒号提问？", ("提问", "全角冒号提问？", True)),
        ("/提问，怎么办", ("提问", "怎么办", True)),
        ("/打卡了吗 今天", ("打卡了吗", "今天", False)),  # a Chinese name runs on: not ours
        ("/checkin：学了 PCA", ("checkin", "学了 PCA", True)),
        ("/打卡：学了 PCA。", ("打卡", "学了 PCA。", True)),
        ("/me。", ("me", "", True)),
        ("/me!", ("me", "", True)),
        ("/me ！", ("me", "", True)),
        ("/rank！", ("rank", "", True)),
        ("/rank all!", ("rank", "all", True)),
        ("/help。", ("help", "", True)),
        ("/q 1。", ("q", "1", True)),
        ("/q 1?", ("q", "1", True)),
        ("/q #1！", ("q", "#1", True)),
        ("/best 1 2。", ("best", "1 2", True)),
        ("/checkin del 2。", ("checkin", "del 2", True)),
        ("/answer 1：用 lr finder", ("answer", "1：用 lr finder", True)),
        ("/answer 1: use an lr finder.", ("answer", "1: use an lr finder.", True)),
        ("/ask GPT 4?", ("ask", "GPT 4?", True)),  # a question keeps its question mark
        ("/ask 为什么？", ("ask", "为什么？", True)),
        ("/rank@studybot！", ("rank", "", True)),
        ("/ask@studybot：怎么办", ("ask", "怎么办", True)),
        ("/q1。", ("q", "1", True)),
        ("/warn：spam", ("warn", "spam", False)),  # unknown: the dispatcher decides etiquette
    ],
)
def test_a_command_name_ends_at_any_character_that_cannot_be_part_of_it(text, expected):
    assert route(text) == expected


@pytest.mark.parametrize(
    "text", ["/warn@rose 3", "/rules@combot_bot！", "/usr/bin/python", "/a@b@c", "/" + "长" * 50]
)
def test_other_bots_commands_and_paths_are_not_ours(text):
    assert route(text) is None


@pytest.mark.parametrize("space", ["\u3000", "\u00a0", "\u2002", "\u2009", "\u202f"])
def test_unicode_spaces_separate_like_a_space(space):
    assert route(f"/q{space}1") == ("q", "1", True)
    assert route(f"/ask{space}怎么选") == ("ask", "怎么选", True)
    assert route(f"/answer{space}2{space}用 lr finder") == ("answer", f"2{space}用 lr finder", True)
    tags, bare = REGISTRY.hashtags, REGISTRY.bare_words
    assert match_tag(f"打卡{space}全角空格打卡", tags, bare) == ("#打卡", "全角空格打卡")
    assert match_tag(f"#打卡{space}学了 CNN", tags, bare) == ("#打卡", "学了 CNN")
    assert match_tag(f"学了 CNN{space}#打卡", tags, bare) == ("#打卡", "学了 CNN")


def test_command_args_keeps_free_text_punctuation():
    assert command_args("：学了 PCA！") == "学了 PCA！"
    assert command_args(" 3。") == "3"
    assert command_args(" all！", options_only=True) == "all"
    assert command_args(" why?") == "why?"


async def test_punctuated_commands_are_answered_and_stored(chat):
    await chat.say("/ask：怎么选择学习率？", user="u1")
    await chat.say("/checkin：今天学了 PCA", user="u1")
    await chat.say("打卡\u3000全角空格打卡", user="u2")
    with chat.app.db.session() as session:
        assert [q.text for q in session.scalars(select(Question))] == ["怎么选择学习率？"]
        notes = {c.text for c in session.scalars(select(CheckIn))}
    assert notes == {"今天学了 PCA", "全角空格打卡"}
    shown = await chat.say("/q 1。")
    assert "怎么选择学习率？" in shown and "用法" not in shown
    assert await chat.say("/me。", user="u1") == await chat.say("/me", user="u1")
    assert await chat.say("/rank！") == await chat.say("/rank")


async def test_unknown_commands_with_punctuation_stay_unanswered_in_groups(chat):
    assert await chat.say("/warn：别刷屏") == ""
    assert await chat.say("/rules。") == ""
    reply = await chat.say("/rules。", chat=PRIVATE)
    assert reply == COMMON.get("unknown_command", "zh", name="rules")
