"""English replies read as English: counts of one in the singular, no full-width punctuation
(：，（）。) in any English form of the project's message tables, /trash and /audit lines."""

from __future__ import annotations

import gc
import importlib
import pkgutil
import re

import pytest

import bot
import digest
import handlers
from bot.i18n import Messages, english_counts

FULL_WIDTH = re.compile(r"[：，（）。；！？、]")


def all_tables() -> list[Messages]:
    for package in (bot, digest, handlers):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            importlib.import_module(module.name)
    return [obj for obj in gc.get_objects() if isinstance(obj, Messages)]


def test_no_english_form_has_full_width_punctuation() -> None:
    tables = all_tables()
    assert len(tables) > 20  # every module's table was found
    offending = [
        (key, en) for table in tables for key, (_, en) in table._table.items() if FULL_WIDTH.search(en)
    ]
    assert offending == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 papers · notes from 1 members", "1 paper · notes from 1 member"),
        ("2 papers · 1 resources · 1 questions", "2 papers · 1 resource · 1 question"),
        ("11 papers, 21 notes, 1 entries", "11 papers, 21 notes, 1 entry"),
        ("version 2.1 notes", "version 2.1 notes"),  # not a count of one
    ],
)
def test_a_count_of_one_is_singular(text: str, expected: str) -> None:
    assert english_counts(text) == expected


async def test_trash_and_audit_lines_in_an_english_group(tmp_path, clock) -> None:
    from bot.app import build_app
    from tests.conftest import Chatter, make_config

    app = build_app(make_config(tmp_path, language="en"), clock=clock)
    chat = Chatter(app, clock)
    try:
        await chat.say("/ask What does weight decay do?", user="u1", name="Ann")
        await chat.say("/delete question 1", user="admin", name="Admin")
        trash = await chat.say("/trash", user="admin", name="Admin")
        audit = await chat.say("/audit", user="admin", name="Admin")
        assert "/restore question 1" in trash and "/delete question 1" in audit
        assert not FULL_WIDTH.search(trash) and not FULL_WIDTH.search(audit)
        assert "「" not in trash
    finally:
        app.db.dispose()
