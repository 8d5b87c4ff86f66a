"""Behaving in a shared group: unknown commands, invisible control characters, names that
reverse text, links that disguise their host (issue #19)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.i18n import COMMON
from bot.parsing.errors import InvalidURL
from bot.parsing.links import validate_url
from bot.routing import clean_name, forbidden_char
from storage.models import CheckIn, Paper, Resource


async def test_unknown_command_addressed_to_the_bot_in_a_group_is_answered(chat):
    assert await chat.say("/rules") == ""
    reply = await chat.say("/rules", mentions_bot=True)
    assert reply == COMMON.get("unknown_command", "zh", name="rules")


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\u202e", "\u202d", "\u2066"])
async def test_a_note_with_a_control_character_is_refused_and_not_stored(chat, char):
    reply = await chat.say(f"#打卡 今天学了{char}反向传播", user="u1")
    assert "控制字符" in reply and f"U+{ord(char):04X}" in reply
    with chat.app.db.session() as session:
        assert session.scalars(select(CheckIn)).all() == []


async def test_group_chatter_with_control_characters_gets_no_reply(chat):
    assert await chat.say("大家好\u202e这是闲聊") == ""


def test_forbidden_char_names_the_first_one():
    assert forbidden_char("ok\u202eabc\x00") == "U+202E"
    assert forbidden_char("普通的一行\n第二行\t制表") is None
    assert forbidden_char("零宽\u200b空格") is None  # dropped by clean_text instead


async def test_a_name_with_a_direction_override_does_not_reverse_rank_lines(chat):
    await chat.say("#打卡 读了论文", user="u1", name="\u202eEve")
    rank = await chat.say("/rank", user="u1", name="\u202eEve")
    assert "\u202e" not in rank and "Eve" in rank
    assert clean_name("A\u202eB\u2066C\u200fD") == "ABCD"


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.com@good.com",
        "https://evil.com@good.com/paper.pdf",
        "https://user:pass@good.com/",
        "http://good.com@evil.com",
    ],
)
def test_links_with_a_user_part_before_the_host_are_refused(url):
    with pytest.raises(InvalidURL) as error:
        validate_url(url)
    assert error.value.code == "url_userinfo"


async def test_paper_and_share_refuse_the_disguised_link_and_store_nothing(chat):
    reply = await chat.say("/paper https://evil.com@arxiv.org/abs/1706.03762 注意力", user="u1")
    assert "@" in reply and "另一个" in reply
    reply = await chat.say("/share https://evil.com@good.com #nlp 好资料", user="u1")
    assert "另一个" in reply
    with chat.app.db.session() as session:
        assert session.scalars(select(Paper)).all() == []
        assert session.scalars(select(Resource)).all() == []
