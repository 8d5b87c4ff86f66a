"""Private chats with several groups: ``/group`` lists and switches the group a member's
private chat acts for (remembered); admin commands there need a config admin or an
administrator of that group's configured chat (issue #16)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import App, build_app
from bot.model import ChatRef
from storage.models import CheckIn, Group
from tests.conftest import Chatter, FakeClock, make_config

ML = ChatRef("console", "console-group", "group", "ML自学者俱乐部")
CV = ChatRef("console", "cv-group", "group", "CV reading club")
DM = ChatRef("console", "dm-alice", "private", "alice")
GROUPS = [
    {"slug": "ml-club", "name": "ML自学者俱乐部", "chats": [{"platform": "console", "chat_id": ML.chat_id}]},
    {"slug": "cv-club", "name": "CV读书会", "chats": [{"platform": "console", "chat_id": CV.chat_id}]},
]


@pytest.fixture
def two_groups(tmp_path: Path, clock: FakeClock) -> Chatter:
    app = build_app(make_config(tmp_path, groups=GROUPS), clock=clock)
    yield Chatter(app, clock)
    app.db.dispose()


def checkins_by_group(app: App) -> dict[str, list[str]]:
    with app.db.session() as session:
        rows = session.execute(
            select(Group.slug, CheckIn.text).join(Group, Group.id == CheckIn.group_id)
        ).all()
    found: dict[str, list[str]] = {}
    for slug, text in rows:
        found.setdefault(slug, []).append(text)
    return found


async def test_a_member_of_one_group_needs_no_choice(two_groups: Chatter) -> None:
    chat = two_groups
    await chat.say("#打卡 在 CV 群里读了 ViT 论文", chat=CV, user="alice")
    assert "已记录" in await chat.say("/checkin 私聊里补一条：复习了注意力机制", chat=DM, user="alice")
    assert checkins_by_group(chat.app) == {
        "cv-club": ["在 CV 群里读了 ViT 论文", "私聊里补一条：复习了注意力机制"]
    }
    listing = await chat.say("/group", chat=DM, user="alice")
    assert "CV读书会" in listing and "ML自学者俱乐部" not in listing


async def test_a_member_of_several_groups_chooses_and_the_choice_is_remembered(
    two_groups: Chatter, tmp_path: Path, clock: FakeClock
) -> None:
    chat = two_groups
    await chat.say("#打卡 ML 群：读完 Attention Is All You Need", chat=ML, user="alice")
    await chat.say("#打卡 CV 群：读完 ViT", chat=CV, user="alice")
    asked = await chat.say("/checkin 私聊：复习了反向传播", chat=DM, user="alice")
    assert "请先选择" in asked and "1. ML自学者俱乐部" in asked and "2. CV读书会" in asked
    assert len(checkins_by_group(chat.app)["ml-club"]) == 1  # nothing stored half-way
    listing = await chat.say("/group", chat=DM, user="alice")
    assert "还没有选择" in listing and "1. ML自学者俱乐部" in listing
    assert "CV读书会" in await chat.say("/group 2", chat=DM, user="alice")
    assert "已记录" in await chat.say("/checkin 私聊：复习了反向传播", chat=DM, user="alice")
    assert "私聊：复习了反向传播" in checkins_by_group(chat.app)["cv-club"]
    assert "✅" in (await chat.say("/group", chat=DM, user="alice")).split("2. CV读书会")[1]
    # remembered across restarts: a new process reads the choice from the database
    again = build_app(chat.app.config, clock=clock)
    try:
        listing = await Chatter(again, clock).say("/checkin", chat=DM, user="alice")
        assert "ViT" in listing and "Attention" not in listing
        assert "ML自学者俱乐部" in await Chatter(again, clock).say(
            "/group ml-club", chat=DM, user="alice", message_id="switch-back"
        )
        listing = await Chatter(again, clock).say(
            "/checkin", chat=DM, user="alice", message_id="list-ml"
        )
        assert "Attention" in listing and "ViT" not in listing
    finally:
        again.db.dispose()


async def test_bad_choices_get_a_clear_reply(two_groups: Chatter) -> None:
    chat = two_groups
    await chat.say("#打卡 ML 群：读完 Attention", chat=ML, user="alice")
    await chat.say("#打卡 CV 群：读完 ViT", chat=CV, user="alice")
    for bad in ("/group 3", "/group 0", "/group no-such-club"):
        said = await chat.say(bad, chat=DM, user="alice")
        assert "没有「" in said and "1. ML自学者俱乐部" in said, bad
    assert "还没有选择" in await chat.say("/group", chat=DM, user="alice")
    # a group the member never used the bot in cannot be chosen
    await chat.say("#打卡 只在 ML 群", chat=ML, user="bob")
    assert "没有「" in await chat.say("/group cv-club", chat=DM.__class__("console", "dm-bob", "private", "bob"), user="bob")
    # in a group chat /group only names the chat's group
    assert "这个群聊属于「CV读书会」" in await chat.say("/group 1", chat=CV, user="alice")


async def test_a_newcomer_without_a_group_gets_the_first_group(two_groups: Chatter) -> None:
    said = await two_groups.say("/group", chat=DM, user="carol")
    assert "还没有在任何学习群" in said and "ML自学者俱乐部" in said


async def test_admin_commands_in_a_dm_count_only_for_the_group_administered(
    two_groups: Chatter,
) -> None:
    chat = two_groups
    await chat.say("#打卡 ML 群", chat=ML, user="dave")
    await chat.say("#打卡 CV 群", chat=CV, user="dave")
    await chat.say("/group 1", chat=DM, user="dave")  # the DM acts for ml-club
    # dave administers the CV group's chat, not the ML one's
    refused = await chat.send("/keyword add 入群 http://phish.example", chat=DM, user="dave")
    assert "仅限管理员" in refused[0].text
    incoming_admin = dict(admin_groups=("cv-club",))
    said = await chat.say("/keyword add 入群 加我", chat=DM, user="dave", **incoming_admin)
    assert "仅限管理员" in said  # still acting for ml-club
    await chat.say("/group 2", chat=DM, user="dave")
    said = await chat.say("/keyword add 入群 加我", chat=DM, user="dave", **incoming_admin)
    assert "仅限管理员" not in said
    # a config admin may act for whichever group the DM is for
    await chat.say("#打卡 admin 在 ML 群", chat=ML, user="admin")
    assert "仅限管理员" not in await chat.say(
        "/keyword add 入群 欢迎", chat=ChatRef("console", "dm-admin", "private", "admin"), user="admin"
    )


async def test_a_keyword_of_the_dm_s_group_is_answered_in_the_dm(two_groups: Chatter) -> None:
    chat = two_groups
    await chat.say("/keyword add 书单 CV 书单：《计算机视觉：算法与应用》", chat=CV, user="admin")
    await chat.say("#打卡 CV 群：读完 ViT", chat=CV, user="erin")
    assert "计算机视觉" in await chat.say("书单", chat=DM, user="erin")
    # a member whose private chat acts for the ML group does not get the CV group's reply
    await chat.say("#打卡 ML 群：读完 BERT", chat=ML, user="frank")
    frank = ChatRef("console", "dm-frank", "private", "frank")
    assert "计算机视觉" not in await chat.say("书单", chat=frank, user="frank")


async def test_in_english(tmp_path: Path, clock: FakeClock) -> None:
    app = build_app(make_config(tmp_path, groups=GROUPS, language="en"), clock=clock)
    chat = Chatter(app, clock)
    try:
        await chat.say("#打卡 read the ViT paper", chat=CV, user="alice")
        await chat.say("#打卡 read the BERT paper", chat=ML, user="alice")
        asked = await chat.say("/checkin reviewed attention", chat=DM, user="alice")
        assert "first choose which one this private chat is for" in asked
        assert "2. CV读书会" in asked and "/group <number or short name>" in asked
        assert "There is no option “9”" in await chat.say("/group 9", chat=DM, user="alice")
        assert "this private chat is now for “CV读书会”" in await chat.say(
            "/group cv-club", chat=DM, user="alice"
        )
        assert "This private chat is for: CV读书会" in await chat.say("/group", chat=DM, user="alice")
    finally:
        app.db.dispose()


async def test_a_private_chat_for_an_english_group_answers_everything_in_english(
    tmp_path: Path, clock: FakeClock
) -> None:
    """After /group picks the English group, the private chat's hints and the unknown-command
    reply are English too, like /help and the check-in replies there."""
    groups = [GROUPS[0], {**GROUPS[1], "language": "en"}]
    app = build_app(make_config(tmp_path, groups=groups), clock=clock)
    chat = Chatter(app, clock)
    try:
        await chat.say("#打卡 ML 群：读完 Attention Is All You Need", chat=ML, user="kai")
        await chat.say("#checkin CV: read the ViT paper", chat=CV, user="kai")
        assert "未知命令" in await chat.say("/foo", chat=DM, user="kai")  # not chosen yet
        await chat.say("/group 2", chat=DM, user="kai")
        unknown = await chat.say("/foo", chat=DM, user="kai")
        assert "Unknown command" in unknown and "未知命令" not in unknown
        hint = await chat.say("hello there", chat=DM, user="kai")
        assert hint and not any("\u4e00" <= c <= "\u9fff" for c in hint.replace("自学", ""))
        await chat.say("/group 1", chat=DM, user="kai")
        assert "未知命令" in await chat.say("/foo", chat=DM, user="kai")
    finally:
        app.db.dispose()
