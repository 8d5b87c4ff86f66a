"""/link: a 公众号 follower and their chat identity become one member (one streak, one record)."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import func, select

from bot.model import ChatRef
from storage.models import CheckIn, GroupMember, Member, MemberAlias
from tests.conftest import GROUP_CHAT, Chatter

FOLLOWER = ChatRef("mp", "o-follower-1234", "private", "")
TELEGRAM_GROUP = ChatRef("telegram", "-1001", "group", "")
# the bot acts only in configured group chats (#16): the club lives in the console and Telegram
CHATS = {
    "chats": [
        {"platform": "console", "chat_id": "console-group"},
        {"platform": "telegram", "chat_id": TELEGRAM_GROUP.chat_id},
    ]
}


@pytest.fixture
def bot_app(tmp_path, clock):
    from bot.app import build_app
    from tests.conftest import make_config

    app = build_app(make_config(tmp_path, groups=[CHATS]), clock=clock)
    yield app
    app.db.dispose()


@pytest.fixture
def chat(bot_app, clock):
    return Chatter(bot_app, clock, ids=itertools.count(100))


async def checkins_of(app) -> dict[str, int]:
    with app.db.session() as session:
        rows = session.execute(
            select(Member.platform, Member.display_name, func.count(CheckIn.id))
            .join(CheckIn, CheckIn.member_id == Member.id)
            .group_by(Member.id)
        ).all()
        return {f"{platform}:{name}": count for platform, name, count in rows}


async def code_from(replies) -> str:
    [reply] = replies
    return (
        reply.text.split("：", 1)[1][:6] if "：" in reply.text else reply.text.split(": ", 1)[1][:6]
    )


async def test_follower_joined_to_the_chat_identity(chat, bot_app):
    await chat.send("/checkin 公众号里写的心得一", user="o-follower-1234", chat=FOLLOWER)
    await chat.send("/checkin 公众号里写的心得二", user="o-follower-1234", chat=FOLLOWER)
    await chat.send("/checkin 群里写的心得", user="42", name="大煌", chat=TELEGRAM_GROUP)
    asked = await chat.send("/link", user="42", name="大煌", chat=TELEGRAM_GROUP)
    assert asked[0].private is True  # the code is sent privately, not to the group
    code = await code_from(asked)
    [done] = await chat.send(f"/link {code}", user="o-follower-1234", chat=FOLLOWER)
    assert "绑定成功" in done.text and "大煌" in done.text
    assert await checkins_of(bot_app) == {"telegram:大煌": 3}
    # from now on the follower's messages are the chat member's
    await chat.send("/checkin 绑定之后在公众号写的", user="o-follower-1234", chat=FOLLOWER)
    assert await checkins_of(bot_app) == {"telegram:大煌": 4}
    me = await chat.say("/me", user="o-follower-1234", chat=FOLLOWER)
    assert "大煌" in me or "4" in me
    with bot_app.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Member)) == 1
        alias = session.scalars(select(MemberAlias)).one()
        assert (alias.platform, alias.platform_user_id) == ("mp", "o-follower-1234")


async def test_the_follower_may_ask_and_the_chat_identity_redeem(chat, bot_app):
    await chat.send("/checkin 公众号心得", user="o-follower-1234", chat=FOLLOWER)
    await chat.send("/checkin 群里心得", user="42", name="大煌", chat=TELEGRAM_GROUP)
    code = await code_from(await chat.send("/link", user="o-follower-1234", chat=FOLLOWER))
    [done] = await chat.send(f"/link {code}", user="42", name="大煌", chat=TELEGRAM_GROUP)
    assert "绑定成功" in done.text
    assert await checkins_of(bot_app) == {"telegram:大煌": 2}  # the chat identity is kept


async def test_two_identities_both_seen_in_the_group_join(chat, bot_app):
    """Both identities used the bot in the group's chats (one group membership each): the
    joined member keeps one, and /group in a private chat still works."""
    await chat.send("/checkin 控制台群里的心得", user="u7", chat=GROUP_CHAT)
    await chat.send("/checkin 电报群里的心得", user="42", name="大煌", chat=TELEGRAM_GROUP)
    code = await code_from(await chat.send("/link", user="42", name="大煌", chat=TELEGRAM_GROUP))
    assert "绑定成功" in await chat.say(f"/link {code}", user="u7", chat=GROUP_CHAT)
    assert await checkins_of(bot_app) == {"telegram:大煌": 2}
    with bot_app.db.session() as session:
        assert session.scalar(select(func.count()).select_from(GroupMember)) == 1
    dm = ChatRef("telegram", "42", "private", "")
    assert "ML自学者俱乐部" in await chat.say("/group", user="42", chat=dm)


async def test_bad_codes_store_nothing(chat, bot_app, clock):
    await chat.send("/checkin 公众号心得", user="o-follower-1234", chat=FOLLOWER)
    assert "用法" in await chat.say("/link abc", user="o-follower-1234", chat=FOLLOWER)
    assert "无效或已过期" in await chat.say("/link 123456", user="o-follower-1234", chat=FOLLOWER)
    code = await code_from(await chat.send("/link", user="o-other", chat=ChatRef("mp", "o-other", "private")))
    reply = await chat.say(f"/link {code}", user="o-follower-1234", chat=FOLLOWER)
    assert "同一个平台" in reply  # two 公众号 identities are not joined
    code = await code_from(await chat.send("/link", user="42", chat=TELEGRAM_GROUP))
    clock.advance(minutes=16)
    assert "已过期" in await chat.say(f"/link {code}", user="o-follower-1234", chat=FOLLOWER)
    code = await code_from(await chat.send("/link", user="42", chat=TELEGRAM_GROUP))
    assert "绑定成功" in await chat.say(f"/link {code}", user="o-follower-1234", chat=FOLLOWER)
    again = await chat.say(f"/link {code}", user="o-follower-1234", chat=FOLLOWER)
    assert "无效" in again  # one time only
    assert await checkins_of(bot_app) == {"telegram:42": 1}


async def test_link_on_both_databases(tmp_path, clock, database_url):
    from bot.app import build_app
    from tests.conftest import make_config

    app = build_app(make_config(tmp_path, database={"url": database_url}, groups=[CHATS]), clock=clock)
    chat = Chatter(app, clock)
    try:
        await chat.send("/checkin 公众号心得", user="o-follower-1234", chat=FOLLOWER)
        # a follower's question is private unless they make theirs public (#16): searchable
        await chat.send("/public on", user="o-follower-1234", chat=FOLLOWER)
        await chat.send("/ask 公众号里问的问题是什么？", user="o-follower-1234", chat=FOLLOWER)
        await chat.send("/checkin 群里心得", user="42", name="大煌", chat=TELEGRAM_GROUP)
        code = await code_from(
            await chat.send("/link", user="42", name="大煌", chat=TELEGRAM_GROUP)
        )
        [done] = await chat.send(f"/link {code}", user="o-follower-1234", chat=FOLLOWER)
        assert "绑定成功" in done.text
        assert await checkins_of(app) == {"telegram:大煌": 2}
        found = await chat.say("/search 公众号", user="42", name="大煌", chat=TELEGRAM_GROUP)
        assert "大煌" in found  # search rows moved to the joined member too
    finally:
        app.db.dispose()
