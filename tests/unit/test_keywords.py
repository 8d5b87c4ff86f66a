"""Keyword replies: 「自学」 (any chat, zh/en, invite link, WeChat room invite) and /keyword."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app import build_app
from bot.model import ChatRef
from storage.models import KeywordReply
from tests.conftest import Chatter, make_config

DM = ChatRef("console", "dm-alice", "private", "")
WECHAT_DM = ChatRef("wechat", "wxid_alice", "private", "")
WECHAT_ROOM = ChatRef("wechat", "123@chatroom", "group", "")


@pytest.fixture
def make_chat(tmp_path, clock):
    """A Chatter on a bot built with config overrides."""
    apps = []

    def build(**overrides) -> Chatter:
        app = build_app(make_config(tmp_path, **overrides), clock=clock)
        apps.append(app)
        return Chatter(app, clock)

    yield build
    for app in apps:
        app.db.dispose()


def keywords(chat: Chatter) -> dict[str, str]:
    with chat.app.db.session() as session:
        rows = session.scalars(select(KeywordReply)).all()
        return {row.keyword: row.reply for row in rows}


# -- 「自学」 -----------------------------------------------------------------------------------
ALREADY_HERE = (
    "你已经在「ML自学者俱乐部」里啦 👋 想拉朋友一起学？让 TA 私聊我发「自学」；怎么打卡见 /help。"
)


async def test_join_keyword_in_a_dm_replies_with_the_join_text(chat):
    replies = await chat.send("自学", chat=DM)
    assert len(replies) == 1
    assert "加入ML自学者俱乐部" in replies[0].text
    assert replies[0].invite_to_room is None


async def test_join_keyword_in_the_group_tells_members_they_are_here_already(chat):
    """#19: people in the club's own chat are members already: one line (how a friend joins,
    where 打卡 is explained), not the join text meant for outsiders."""
    [reply] = await chat.send("自学")
    assert reply.text == ALREADY_HERE
    assert "\n" not in reply.text and "欢迎加入" not in reply.text
    assert reply.invite_to_room is None


async def test_join_keyword_must_be_the_whole_message(chat):
    assert await chat.say("我在自学机器学习") == ""
    assert "加入" in await chat.say("  自学  ", chat=DM)
    assert await chat.say("  自学  ") == ALREADY_HERE


async def test_join_reply_in_english_with_invite_link(make_chat):
    chat = make_chat(language="en", join={"invite_link": "https://t.me/+club"})
    text = await chat.say("自学", chat=DM)
    assert text.startswith("Welcome to ML自学者俱乐部!")
    assert text.endswith("https://t.me/+club")
    in_group = await chat.say("自学")
    assert in_group == (
        "You're already in “ML自学者俱乐部” 👋 To bring a friend, have them message me 「自学」 "
        "privately; /help shows how to check in."
    )
    assert "https://" not in in_group


async def test_extra_join_keywords_from_config(make_chat):
    chat = make_chat(join={"keywords": ["自学", "join"], "chat_text": "欢迎加入 👋"})
    assert await chat.say("join", chat=DM) == "欢迎加入 👋"
    assert await chat.say("自学", chat=DM) == "欢迎加入 👋"
    assert await chat.say("join") == ALREADY_HERE


async def test_wechat_private_join_invites_to_study_room(make_chat):
    chat = make_chat(
        wechat={"study_room_id": "room-42"},
        groups=[{"chats": [{"platform": "wechat", "chat_id": WECHAT_ROOM.chat_id}]}],
    )
    [reply] = await chat.send("自学", chat=WECHAT_DM, user="wxid_alice")
    assert reply.invite_to_room == "room-42"
    [in_room] = await chat.send("自学", chat=WECHAT_ROOM, user="wxid_alice")
    assert in_room.invite_to_room is None
    assert in_room.text == ALREADY_HERE


TELEGRAM_GROUP = ChatRef("telegram", "-100123", "group", "")
TELEGRAM_DM = ChatRef("telegram", "1", "private", "")


async def test_each_chat_platform_gets_its_own_join_reply(make_chat):
    """#18: in chats 「自学」 is answered for that chat (its text and link), never with the
    公众号's 「公众号内回复「自学」」 sentence that would send the member round in a loop."""
    chat = make_chat(
        join={
            "invite_link": "https://example.org/all",
            "telegram": {"text": "点链接进 Telegram 群", "invite_link": "https://t.me/+club"},
        },
        wechat={"study_room_id": "room-42"},
        # the bot answers only in configured group chats (#16)
        groups=[{"chats": [{"platform": "telegram", "chat_id": TELEGRAM_GROUP.chat_id}]}],
    )
    [telegram] = await chat.send("自学", chat=TELEGRAM_DM, user="1")
    assert telegram.text == "点链接进 Telegram 群\n加入链接：https://t.me/+club"
    # in the group itself members are told they are in already (#19)
    [in_group] = await chat.send("自学", chat=TELEGRAM_GROUP, user="1")
    assert in_group.text == ALREADY_HERE
    [wechat] = await chat.send("自学", chat=WECHAT_DM, user="wxid_alice")
    assert wechat.text.startswith("欢迎加入ML自学者俱乐部！")
    assert wechat.text.endswith("https://example.org/all")
    assert wechat.invite_to_room == "room-42"
    for reply in (telegram, wechat):
        assert "回复" not in reply.text and reply.text != chat.app.config.join.text


@pytest.mark.parametrize(
    "join",
    [
        {"chat_text": "公众号内回复「自学」即可加入"},
        {"telegram": {"text": "回复 自学 加入"}},
        {"wechat": {"text_en": "x", "text": "请回复“自学”"}},
    ],
)
def test_a_chat_join_text_that_loops_is_refused(tmp_path, join):
    from bot.config import ConfigError

    with pytest.raises(ConfigError, match="回复「自学」"):
        make_config(tmp_path, join=join)


# -- /keyword -----------------------------------------------------------------------------------
async def test_admin_adds_keyword_and_anyone_gets_the_reply(chat):
    assert "已添加" in await chat.say("/keyword add 资料 请看置顶的学习路线 <b>&</b>", user="admin")
    assert await chat.say("资料", user="bob") == "请看置顶的学习路线 <b>&</b>"
    assert await chat.say("资料", user="carol", chat=DM) == "请看置顶的学习路线 <b>&</b>"
    assert await chat.say("资料呢", user="bob") == ""


async def test_multiline_reply_is_kept(chat):
    await chat.say("/keyword add 路线 第一步：数学\n第二步：CS229", user="admin")
    assert await chat.say("路线") == "第一步：数学\n第二步：CS229"


async def test_second_add_updates_and_says_so(chat):
    await chat.say("/keyword add 书单 旧的", user="admin")
    text = await chat.say("/关键词 add 书单 新的", user="admin")
    assert "已存在" in text and "更新" in text
    assert keywords(chat) == {"书单": "新的"}
    assert await chat.say("书单") == "新的"


async def test_delete_keyword(chat):
    await chat.say("/keyword add 书单 西瓜书", user="admin")
    assert "已删除" in await chat.say("/keyword del 书单", user="admin")
    assert keywords(chat) == {}
    assert await chat.say("书单") == ""
    assert "没有关键词「书单」" in await chat.say("/keyword del 书单", user="admin")


async def test_list_shows_join_word_and_custom_keywords(chat):
    assert "还没有" in await chat.say("/keyword list", user="admin")
    await chat.say("/keyword add 书单 西瓜书", user="admin")
    listing = await chat.say("/keyword list", user="admin")
    assert "自学" in listing and "书单" in listing and "西瓜书" in listing


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/keyword add 自学 别的回复", "入群关键词"),
        ("/keyword add /help 回复", "不能以 / 或 # 开头"),
        ("/keyword add #打卡 回复", "不能以 / 或 # 开头"),
        ("/keyword add 书单", "缺少回复内容"),
        ("/keyword add 书单    ", "缺少回复内容"),
        ("/keyword add " + "词" * 101 + " 回复", "关键词太长了（101 字，上限 100 字）"),
        ("/keyword add", "用法"),
        ("/keyword", "用法"),
        ("/keyword frobnicate 书单", "用法"),
        ("/keyword del", "用法"),
    ],
)
async def test_bad_keyword_commands_are_refused_and_store_nothing(chat, command, expected):
    assert expected in await chat.say(command, user="admin")
    assert keywords(chat) == {}


async def test_keyword_of_exactly_100_chars_is_accepted(chat):
    word = "词" * 100
    assert "已添加" in await chat.say(f"/keyword add {word} 回复", user="admin")
    assert await chat.say(word) == "回复"


async def test_non_admin_cannot_manage_keywords(chat):
    for command in ("/keyword add 书单 西瓜书", "/keyword list", "/关键词 del 书单"):
        assert "仅限管理员" in await chat.say(command, user="bob")
    assert keywords(chat) == {}


async def test_keyword_messages_in_english(make_chat):
    chat = make_chat(language="en")
    assert "added" in await chat.say("/keyword add books CS229 notes", user="admin")
    assert "updated" in await chat.say("/keyword add books d2l.ai", user="admin")
    assert "join keyword" in await chat.say("/keyword add 自学 x", user="admin")
    assert "Usage" in await chat.say("/keyword", user="admin")
    assert "admins only" in await chat.say("/keyword list", user="bob")


async def test_keywords_are_per_group(make_chat):
    chat = make_chat(
        groups=[
            {"slug": "club-a", "chats": [{"platform": "console", "chat_id": "console-group"}]},
            {"slug": "club-b", "chats": [{"platform": "console", "chat_id": "other"}]},
        ]
    )
    other = ChatRef("console", "other", "group", "")
    await chat.say("/keyword add 书单 A 的书单", user="admin")
    assert await chat.say("书单") == "A 的书单"
    assert await chat.say("书单", chat=other) == ""


# -- 「自学」 with the punctuation, spaces and emoji people type around it (#19) ---------------
DECORATED = [
    "自学。",
    "自学!",
    "自学！",
    " 自学 ",
    "自学～",
    "自学~",
    "自学\u3000",
    "自学🙏",
    "自学❤️",
    "「自学」",
    "自学…",
]


@pytest.mark.parametrize("text", DECORATED)
async def test_join_keyword_with_punctuation_or_emoji_around_it(chat, text):
    assert "加入ML自学者俱乐部" in await chat.say(text, chat=DM)
    assert await chat.say(text) == ALREADY_HERE


@pytest.mark.parametrize(
    "text", ["我想自学。", "自学了一周！", "自学 机器学习", "自学？难吗", "🙏"]
)
async def test_join_keyword_inside_a_sentence_is_still_chat(chat, text):
    assert await chat.say(text) == ""


async def test_wechat_join_keyword_with_a_full_stop_invites_to_the_room(make_chat):
    chat = make_chat(wechat={"study_room_id": "123@chatroom"})
    [reply] = await chat.send("自学。", chat=WECHAT_DM)
    assert reply.invite_to_room == "123@chatroom"


async def test_custom_keyword_with_trailing_punctuation(chat):
    await chat.say("/keyword add 书单 西瓜书", user="admin")
    await chat.say("/keyword add +1 不用加一哦", user="admin")
    assert await chat.say("书单！") == "西瓜书"
    assert await chat.say("书单? ") == "西瓜书"
    assert await chat.say("+1") == "不用加一哦"  # a keyword made of punctuation still matches
    assert await chat.say("想要书单") == ""
