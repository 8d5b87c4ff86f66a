"""The WeChat adapter without a gateway: native -> neutral mapping, splitting, pacing, retries,
dedupe, invitations and reconnect bookkeeping, with small fakes of wechaty's objects."""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from bot.adapters.wechat import WechatAdapter
from bot.adapters.wechat_connect import WechatError, WechatSendError
from bot.adapters.wechat_text import (
    AT_SEPARATOR,
    RecentIds,
    extract_read_more,
    normalise_command,
    parse_quote,
    split_text,
    strip_bot_mention,
)
from bot.config import Config
from bot.dispatch import Outcome
from bot.model import ChatRef, Incoming, Outgoing, Reply, UserRef
from bot.outbox import Queued, row_fields
from bot.sending import SendFailed
from storage.models import OutboxMessage

ROOM = "study@chatroom"
TEXT = SimpleNamespace(name="MESSAGE_TYPE_TEXT")
IMAGE = SimpleNamespace(name="MESSAGE_TYPE_IMAGE")


class FakeContact:
    def __init__(self, contact_id: str, name: str) -> None:
        self.contact_id = contact_id
        self.name = name
        self.payload = SimpleNamespace(name=name)
        self.friend: bool | None = True

    async def ready(self, force_sync: bool = False) -> None:
        return None

    def is_friend(self) -> bool | None:
        return self.friend


class FakePuppet:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, list[str] | None]] = []
        self.cards: list[tuple[str, str]] = []
        self.added: list[tuple[str, str]] = []
        self.members = {ROOM: ["alice", "bob", "bot"]}
        self.fail_text = 0  # how many text sends fail before one succeeds
        self.fail_card = False
        self.fail_add = False
        self.ids = itertools.count(1)
        self.times: list[float] = []

    async def message_send_text(
        self, conversation_id: str, message: str, mention_ids: list[str] | None = None
    ) -> str:
        self.times.append(time.monotonic())
        if self.fail_text:
            self.fail_text -= 1
            raise ConnectionError("gateway hiccup")
        self.sent.append((conversation_id, message, mention_ids))
        return f"m{next(self.ids)}"

    async def message_send_url(self, conversation_id: str, url: str) -> str:
        if self.fail_card:
            raise RuntimeError("unsupported")
        self.cards.append((conversation_id, url))
        return f"m{next(self.ids)}"

    async def room_members(self, room_id: str) -> list[str]:
        return list(self.members[room_id])

    async def room_add(self, room_id: str, contact_id: str) -> None:
        self.added.append((room_id, contact_id))
        if self.fail_add:
            raise RuntimeError("no permission")
        self.members[room_id].append(contact_id)


class FakeRoom:
    def __init__(self, puppet: FakePuppet, room_id: str, topic: str) -> None:
        self.puppet = puppet
        self.room_id = room_id
        self.payload = SimpleNamespace(topic=topic)

    async def ready(self) -> None:
        return None

    async def add(self, contact: FakeContact) -> None:
        await self.puppet.room_add(self.room_id, contact.contact_id)


class FakeMessage:
    def __init__(
        self,
        message_id: str,
        talker: FakeContact,
        text: str,
        room: FakeRoom | None = None,
        *,
        mention_ids: tuple[str, ...] = (),
        kind: Any = TEXT,
        own: bool = False,
    ) -> None:
        self.message_id = message_id
        self._talker, self._room, self._text, self._kind, self._own = talker, room, text, kind, own
        self.payload = SimpleNamespace(
            text=text, timestamp=1_795_427_049_502, mention_ids=list(mention_ids)
        )

    def message_type(self) -> Any:
        return self._kind

    def is_self(self) -> bool:
        return self._own

    def talker(self) -> FakeContact:
        return self._talker

    def room(self) -> FakeRoom | None:
        return self._room

    def text(self) -> str:
        return self._text

    async def ready(self) -> None:
        return None


class FakeBot:
    def __init__(self) -> None:
        self.puppet = FakePuppet()
        people = {"alice": "Alice", "bob": "Bob", "carol": "Carol", "bot": "学习助手"}
        self.contacts = {cid: FakeContact(cid, name) for cid, name in people.items()}
        self.room = FakeRoom(self.puppet, ROOM, "ML自学者俱乐部")
        self.messages: dict[str, FakeMessage] = {}
        self.Contact = SimpleNamespace(load=lambda cid: self.contacts[cid])
        self.Room = SimpleNamespace(load=lambda rid: self.room)
        self.Message = SimpleNamespace(load=lambda mid: self.messages[mid])


class FakeDispatcher:
    """Records what the adapter hands over; replies with whatever the test queued. Replies
    are queued in memory (``queued``), as the real one queues them in the outbox."""

    db = None

    def __init__(self, config: Config) -> None:
        self.config = config
        self.incoming: list[Incoming] = []
        self.recorded: list[tuple[ChatRef, str, int]] = []
        self.replies: list[Reply] = []
        self.queued: list[Queued] = []
        self.invitations: dict[tuple[str, str, str], tuple[str, Any]] = {}
        self.asked: dict[tuple[str, str, str], list[str]] = {}  # (room, who, quoted) -> ids

    def use_outbox(self, platform: str) -> None:
        return None

    def queue(self, incoming: Incoming, replies: list[Reply]) -> None:
        for reply in replies:
            self.queued.append(Queued(id=len(self.queued) + 1, **row_fields(incoming, reply)))

    async def dispatch(self, incoming: Incoming) -> list[Reply]:
        self.incoming.append(incoming)
        return list(self.replies)

    async def ingest(self, incomings: Sequence[Incoming]) -> list[Outcome]:
        """Stands in for the stored batch the adapter's ingest line hands over."""
        return [Outcome(incoming, await self.dispatch(incoming)) for incoming in incomings]

    async def complete(self, outcome: Outcome, *, report: bool = False) -> list[Reply]:
        return list(outcome.replies)

    def record_sent(self, chat: ChatRef, message_id: str, question_id: int) -> None:
        self.recorded.append((chat, message_id, question_id))

    def last_invitation(self, platform: str, contact: str, room: str) -> Any:
        return self.invitations.get((platform, contact, room))

    def note_invitation(
        self, platform: str, contact: str, room: str, state: str, when: Any, error: Any = None
    ) -> None:
        self.invitations[(platform, contact, room)] = (state, when)

    def group_for_chat(self, chat: ChatRef) -> Any:
        return self.config.groups[0]

    def language_of(self, chat: ChatRef) -> str:
        return self.group_for_chat(chat).language or self.config.language

    def announcement_of(self, chat: ChatRef, number: int) -> str | None:
        return None

    def quoted_questions(self, chat: ChatRef, who: str, quoted: str) -> list[str]:
        return list(self.asked.get((chat.chat_id, who, quoted), []))


async def drain(adapter: WechatAdapter) -> None:
    """What the send stage does: send each queued row, in order."""
    queued = adapter.dispatcher.queued  # type: ignore[attr-defined]
    while queued:
        await adapter.send_queued(queued.pop(0))


async def deliver(adapter: WechatAdapter, incoming: Incoming, reply: Reply) -> None:
    adapter.dispatcher.queue(incoming, [reply])
    await drain(adapter)


@pytest.fixture
def make(config_factory: Callable[..., Config]) -> Callable[..., tuple[WechatAdapter, FakeBot]]:
    def build(admins: list[str] | None = None, **wechat: Any) -> tuple[WechatAdapter, FakeBot]:
        settings = {"token": "t", "endpoint": "127.0.0.1:1", "send_interval_seconds": 0}
        extra = {"admins": admins} if admins is not None else {}
        config = config_factory(wechat={**settings, **wechat}, **extra)
        fake = FakeDispatcher(config)
        adapter = WechatAdapter(fake, config, sent=fake)  # type: ignore[arg-type]
        adapter.ingest.batcher.dispatch = fake.ingest
        adapter.outbound.retry_delay = 0.01
        bot = FakeBot()
        adapter._bot = bot
        adapter.self_id, adapter.self_name = "bot", "学习助手"
        adapter._ready.set()
        return adapter, bot

    return build


async def test_room_message_maps_to_group_chat_with_mention_stripped(make: Any) -> None:
    adapter, bot = make()
    text = f"@学习助手{AT_SEPARATOR}/checkin 读完了 CS231n"
    msg = FakeMessage("w1", bot.contacts["alice"], text, bot.room, mention_ids=("bot",))
    incoming = await adapter.to_incoming(msg)
    assert incoming is not None
    assert incoming.chat == ChatRef("wechat", ROOM, "group", "ML自学者俱乐部")
    assert incoming.sender.qualified_id == "wechat:alice"
    assert incoming.sender.display_name == "Alice"
    assert incoming.text == "/checkin 读完了 CS231n" and incoming.mentions_bot
    assert incoming.message_id == "w1"
    assert incoming.sent_at == datetime(2026, 11, 23, 9, 44, 9, 502000, tzinfo=UTC)


async def test_direct_message_maps_to_private_chat_with_the_contact(make: Any) -> None:
    adapter, bot = make()
    incoming = await adapter.to_incoming(FakeMessage("w2", bot.contacts["carol"], "自学"))
    assert incoming is not None
    assert incoming.chat == ChatRef("wechat", "carol", "private", "Carol")
    assert incoming.text == "自学" and not incoming.mentions_bot


async def test_own_and_non_text_messages_are_ignored(make: Any) -> None:
    adapter, bot = make()
    own = FakeMessage("w3", bot.contacts["bot"], "/checkin echo", bot.room, own=True)
    image = FakeMessage("w4", bot.contacts["alice"], "", bot.room, kind=IMAGE)
    assert await adapter.to_incoming(own) is None
    assert await adapter.to_incoming(image) is None


async def test_fullwidth_hashtag_becomes_a_command(make: Any) -> None:
    adapter, bot = make()
    incoming = await adapter.to_incoming(
        FakeMessage("w5", bot.contacts["bob"], "＃打卡 复习", bot.room)
    )
    assert incoming is not None and incoming.text == "#打卡 复习"


async def test_quote_reply_to_a_question_announcement_points_at_it(make: Any) -> None:
    adapter, bot = make()
    announcement = Reply(
        "❓ 已登记问题 #3（Alice）：什么是 dropout？\n回答方式：直接回复", question_id=3
    )
    ids = await adapter.send(Outgoing(ChatRef("wechat", ROOM), announcement))
    assert adapter.dispatcher.recorded == [(ChatRef("wechat", ROOM), ids[0], 3)]  # type: ignore[attr-defined]
    quote = "「学习助手：❓ 已登记问题 #3（Alice）：什么是…」\n- - - - - - - - - - - - - - -\n随机丢弃神经元"
    incoming = await adapter.to_incoming(FakeMessage("w6", bot.contacts["bob"], quote, bot.room))
    assert incoming is not None
    assert incoming.reply_to_message_id == ids[0] and incoming.text == "随机丢弃神经元"


async def test_room_owner_and_admins_are_admins_of_that_room(make: Any) -> None:
    """Issue #19: only config ids were admins; WeChat's own room owner/admins were not."""
    adapter, bot = make()
    bot.room.payload.owner_id, bot.room.payload.admin_ids = "alice", ["carol"]
    for who, admin in (("alice", True), ("carol", True), ("bob", False)):
        said = FakeMessage(f"a-{who}", bot.contacts[who], "/digest status", bot.room)
        incoming = await adapter.to_incoming(said)
        assert incoming is not None and incoming.platform_admin is admin, who
    private = await adapter.to_incoming(FakeMessage("a-dm", bot.contacts["alice"], "/stats"))
    assert private is not None and not private.platform_admin  # a DM is no room


async def test_quoting_a_members_message_is_no_answer(make: Any) -> None:
    """Issue #19: a quote of a member's message (not the bot's) answered whichever question
    the quoted text resembled."""
    adapter, bot = make()
    announcement = Reply("❓ 已登记问题 #3（Alice）：什么是 dropout？", question_id=3)
    await adapter.send(Outgoing(ChatRef("wechat", ROOM), announcement))
    quote = "「Alice：❓ 已登记问题 #3（Alice）：什么是…」\n- - - - - - - - - - - - - - -\n同意"
    incoming = await adapter.to_incoming(FakeMessage("w7", bot.contacts["bob"], quote, bot.room))
    assert incoming is not None
    assert incoming.reply_to_message_id is None and incoming.text == "同意"
    about = "「Alice：问题 #3 我也想知道」\n- - - - - - - - - - - - - - -\n我也是"
    incoming = await adapter.to_incoming(FakeMessage("w8", bot.contacts["bob"], about, bot.room))
    assert incoming is not None and incoming.reply_to_message_id is None


async def test_quote_reply_finds_its_question_after_a_restart(tmp_path: Path) -> None:
    """The in-memory list of announcements is gone after a restart: the database answers."""
    from bot.app import build_app
    from tests.conftest import make_config

    wechat = {"token": "t", "endpoint": "127.0.0.1:1", "send_interval_seconds": 0}
    groups = [{"slug": "ml-club", "chats": [{"platform": "wechat", "chat_id": ROOM}]}]
    config = make_config(tmp_path, wechat=wechat, groups=groups)
    app = build_app(config)
    room = ChatRef("wechat", ROOM, "group")
    asked = Incoming(room, UserRef("wechat", "alice", "Alice"), "/ask 什么是 dropout？", "m1")
    [announcement] = await app.dispatcher.dispatch(asked)
    assert announcement.question_id is not None
    app.sent.record_sent(room, "sent-42", announcement.question_id)  # sent before the restart

    adapter = WechatAdapter(app.dispatcher, config)  # a new process: nothing in memory
    bot = FakeBot()
    adapter._bot, adapter.self_id, adapter.self_name = bot, "bot", "学习助手"
    quoted = announcement.text[:16]
    quote = f"「学习助手：{quoted}…」\n- - - - - - - - - - - - - - -\n测试时要关掉随机丢弃"
    incoming = await adapter.to_incoming(FakeMessage("w9", bot.contacts["bob"], quote, bot.room))
    assert incoming is not None and incoming.reply_to_message_id == "sent-42"
    assert await app.dispatcher.dispatch(incoming) == []  # the adapter's replies: outbox
    with app.db.session() as session:
        saved, notice = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()[-2:]
        assert saved.mention_user_id == "bob" and "#1" in saved.text
        assert notice.mention_user_id == "alice" and notice.reply_to == "sent-42"  # the asker
    unrelated = "「学习助手：📄 已收录论文 #1 Attention」\n- - - - - - - - - - - - - - -\n好的"
    plain = await adapter.to_incoming(FakeMessage("w10", bot.contacts["bob"], unrelated, bot.room))
    assert plain is not None and plain.reply_to_message_id is None
    app.db.dispose()


async def test_group_reply_mentions_the_sender_and_private_reply_goes_to_the_contact(
    make: Any,
) -> None:
    adapter, bot = make()
    adapter.dispatcher.replies = [Reply("已记录"), Reply("只给你看", private=True)]  # type: ignore[attr-defined]
    bot.messages["w7"] = FakeMessage("w7", bot.contacts["alice"], "/checkin x", bot.room)
    await adapter._handle("w7")
    await drain(adapter)
    assert bot.puppet.sent == [
        (ROOM, f"@Alice{AT_SEPARATOR}已记录", ["alice"]),
        ("alice", "只给你看", None),
    ]


async def test_redelivered_message_id_is_dispatched_once(make: Any) -> None:
    adapter, bot = make()
    bot.messages["w8"] = FakeMessage("w8", bot.contacts["alice"], "/checkin x", bot.room)
    for _ in range(3):
        await adapter._handle("w8")
    assert [i.message_id for i in adapter.dispatcher.incoming] == ["w8"]  # type: ignore[attr-defined]


async def test_unconfigured_room_is_reported_once_with_the_config_line(
    make: Any, caplog: pytest.LogCaptureFixture
) -> None:
    adapter, bot = make()
    for message_id in ("w20", "w21"):
        bot.messages[message_id] = FakeMessage(message_id, bot.contacts["bob"], "hi", bot.room)
        await adapter._handle(message_id)
    hints = [r.getMessage() for r in caplog.records if "not in groups[].chats" in r.getMessage()]
    assert hints == [
        "WeChat: room 「ML自学者俱乐部」 (study@chatroom) is not in groups[].chats; add "
        '{platform: wechat, chat_id: "study@chatroom"} to post digests and reminders there'
    ]


async def test_join_invites_a_friend_and_not_a_member(make: Any) -> None:
    adapter, bot = make()
    join = Reply("加入我们的说明", invite_to_room=ROOM)
    carol = Incoming(ChatRef("wechat", "carol", "private"), _user("carol"), "自学", "w9")
    alice = Incoming(ChatRef("wechat", "alice", "private"), _user("alice"), "自学", "w10")
    await deliver(adapter, carol, join)
    await deliver(adapter, alice, join)
    assert bot.puppet.added == [(ROOM, "carol")]
    (to_carol, text_carol, _), (to_alice, text_alice, _) = bot.puppet.sent
    assert (to_carol, to_alice) == ("carol", "alice")
    assert "已邀请" in text_carol and "ML自学者俱乐部" in text_carol
    assert "已经在" in text_alice


async def test_a_failed_invitation_is_reported_to_admins_not_looped(make: Any) -> None:
    """Issue #19: a failed invitation sent the join text (「reply 自学 again」) and told no one."""
    adapter, bot = make(admins=["wechat:dave", "console:admin"])
    bot.puppet.fail_add = True
    carol = Incoming(ChatRef("wechat", "carol", "private"), _user("carol"), "自学", "w11")
    await deliver(adapter, carol, Reply("加入我们的说明", invite_to_room=ROOM))
    (to_carol, told, _), (to_admin, alert, _) = bot.puppet.sent
    assert to_carol == "carol" and "已经通知管理员" in told and "「自学」" not in told
    assert to_admin == "dave" and "carol" in alert and "失败" in alert


async def test_one_invitation_per_person_per_cooldown(make: Any) -> None:
    """Three 「自学」 in a burst sent three invitations; a pending one was re-sent every time."""
    adapter, bot = make(invite_cooldown_seconds=3600)
    join = Reply("加入我们的说明", invite_to_room=ROOM)
    said = [
        Incoming(ChatRef("wechat", "carol", "private"), _user("carol"), "自学", f"b{i}")
        for i in range(3)
    ]
    await asyncio.gather(*(deliver(adapter, incoming, join) for incoming in said))
    assert bot.puppet.added == [(ROOM, "carol")]
    texts = [text for _, text, _ in bot.puppet.sent]
    assert sum("已邀请" in t for t in texts) == 1
    assert sum("已经发给你" in t or "已经在" in t for t in texts) == 2  # pending, or joined
    if "carol" in bot.puppet.members[ROOM]:
        bot.puppet.members[ROOM].remove("carol")  # she has not accepted yet
    await deliver(adapter, said[1], join)  # the pending invitation is remembered: not re-sent
    assert bot.puppet.added == [(ROOM, "carol")]
    assert "已经发给你" in bot.puppet.sent[-1][1]
    later = adapter.rooms.now() + timedelta(seconds=3601)
    adapter.rooms.now = lambda: later  # the cooldown is over: one more invitation
    await deliver(adapter, said[0], join)
    assert bot.puppet.added == [(ROOM, "carol"), (ROOM, "carol")]


async def test_digest_parts_are_split_paced_and_link_sent_as_card(make: Any) -> None:
    adapter, bot = make(send_interval_seconds=0.15, max_text_chars=100)
    body = "\n\n".join(f"第{i}段 " + "学习心得" * 20 for i in range(3))
    text = f"{body}\n👉 阅读原文（文中链接都在这里）：https://club.example.org/d/1"
    ids = await adapter.send(Outgoing(ChatRef("wechat", ROOM), Reply(text)))
    parts = [message for _, message, _ in bot.puppet.sent]
    assert len(parts) >= 3 and all(len(p) <= 100 for p in parts)
    assert "阅读原文" not in "".join(parts)
    assert (
        len(bot.puppet.cards) == 1
        and '"url": "https://club.example.org/d/1"' in bot.puppet.cards[0][1]
    )
    assert len(ids) == len(parts) + 1
    gaps = [b - a for a, b in itertools.pairwise(bot.puppet.times)]
    assert min(gaps) >= 0.14


async def test_link_falls_back_to_text_when_cards_are_unsupported(make: Any) -> None:
    adapter, bot = make()
    bot.puppet.fail_card = True
    await adapter.send(Outgoing(ChatRef("wechat", ROOM), Reply("周报\n阅读原文：https://x.org/1")))
    assert [m for _, m, _ in bot.puppet.sent] == ["周报", "阅读原文：https://x.org/1"]


async def test_send_retries_then_raises(make: Any) -> None:
    adapter, bot = make()
    bot.puppet.fail_text = 2
    assert await adapter.send(Outgoing(ChatRef("wechat", ROOM), Reply("hi"))) == ["m1"]
    bot.puppet.fail_text = 10
    with pytest.raises(WechatSendError, match="after 3 attempt"):
        await adapter.send(Outgoing(ChatRef("wechat", ROOM), Reply("hi")))


async def test_reconnect_never_gives_up_after_the_backoff(make: Any) -> None:
    """Issue #19: the bot exited after ~5 minutes without its gateway; it keeps trying."""
    adapter, _ = make()
    adapter.logins = 1  # it had logged in once: drops are retried
    adapter.reconnect_delays = (0, 0, 0)
    attempts = []

    async def dropping() -> None:
        attempts.append(1)
        if len(attempts) == 12:  # far past the backoff's three steps
            adapter._stopping = True
        raise ConnectionResetError("gateway gone")

    adapter._connect_once = dropping  # type: ignore[method-assign]
    await adapter._run_connection()
    assert len(attempts) == 12 and not adapter.finished.is_set()


async def test_revoked_token_after_login_stops_without_retrying(make: Any) -> None:
    adapter, _ = make()
    adapter.logins = 1
    attempts = []

    async def refused() -> None:
        attempts.append(1)
        error = RuntimeError("refused")
        error.status = SimpleNamespace(name="UNAUTHENTICATED")  # type: ignore[attr-defined]
        raise error

    adapter._connect_once = refused  # type: ignore[method-assign]
    await adapter._run_connection()
    assert attempts == [1] and adapter.finished.is_set()


async def test_start_without_a_token_names_the_setting(config_factory: Any) -> None:
    config = config_factory(wechat={"endpoint": "127.0.0.1:1"})
    with pytest.raises(WechatError, match=r"wechat\.token"):
        fake = FakeDispatcher(config)
        await WechatAdapter(fake, config, sent=fake).start()  # type: ignore[arg-type]


def test_missing_extra_gives_the_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.adapters import wechaty_shim

    monkeypatch.setitem(sys.modules, "wechaty_puppet.schemas", None)
    with pytest.raises(wechaty_shim.WechatyMissingError, match=r"pip install 'studybot\[wechat\]'"):
        wechaty_shim.load_wechaty()


def test_importing_the_adapter_does_not_import_wechaty() -> None:
    code = "import sys, bot.adapters.wechat; print('wechaty' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- pure text helpers ------------------------------------------------------------------


@given(st.text(alphabet=st.sampled_from("学习 ab\n\u2005x。"), max_size=600), st.integers(5, 80))
def test_split_text_keeps_every_character_under_the_limit(text: str, limit: int) -> None:
    parts = split_text(text, limit)
    assert all(0 < len(part) <= limit for part in parts)
    assert "".join("".join(parts).split()) == "".join(text.split())


def test_split_prefers_paragraphs() -> None:
    assert split_text("一" * 30 + "\n\n" + "二" * 30, 50) == ["一" * 30, "二" * 30]


@pytest.mark.parametrize(
    ("text", "mentioned", "expected"),
    [
        (f"@学习助手{AT_SEPARATOR}/ask 为什么", False, ("/ask 为什么", True)),
        ("@学习助手 /me", False, ("/me", True)),
        (f"@小助手{AT_SEPARATOR}/me", True, ("/me", True)),  # mentioned under its 群昵称
        ("email me@example.com /me", False, ("email me@example.com /me", False)),
    ],
)
def test_strip_bot_mention(text: str, mentioned: bool, expected: tuple[str, bool]) -> None:
    assert strip_bot_mention(text, ["学习助手"], mentioned) == expected


def test_parse_quote_and_read_more() -> None:
    quote = parse_quote("「学习助手：问题 #1」\n- - - - - - - - - - - - - - -\n我的回答")
    assert quote is not None and (quote.who, quote.quoted, quote.body) == (
        "学习助手",
        "问题 #1",
        "我的回答",
    )
    assert parse_quote("普通消息") is None
    rest, link = extract_read_more("标题\n正文\n👉 阅读原文（文中链接都在这里）：https://a.org/x")
    assert rest == "标题\n正文" and link is not None and link.url == "https://a.org/x"
    assert extract_read_more("没有链接") == ("没有链接", None)
    assert normalise_command("／checkin hi") == "/checkin hi"


def test_recent_ids_forget_the_oldest() -> None:
    recent = RecentIds(maxsize=2)
    assert [recent.seen(i) for i in ("a", "b", "a", "c", "b")] == [False, False, True, False, False]
    assert len(recent) == 2


def _user(user_id: str) -> Any:
    from bot.model import UserRef

    return UserRef("wechat", user_id, user_id.title())


async def test_a_notice_to_someone_no_longer_a_friend_is_refused_for_its_stand_in(
    make: Any,
) -> None:
    """#19: WeChat drops a DM to a contact who deleted the bot; the asker's notice is refused
    (SendFailed) so the send stage queues its group stand-in instead. A friend, or a contact
    whose friendship is unknown, gets it privately."""
    adapter, bot = make()
    room = ChatRef("wechat", ROOM, "group")
    answer = Incoming(room, _user("bob"), "/answer 1 x", "w40")

    def notice(contact: str) -> Queued:
        asker = UserRef("wechat", contact, contact.title())
        in_group = Reply("📬 你的问题 #1 有了新回答", chat=room, kind="notice", to_member=asker)
        dm = ChatRef("wechat", contact, "private")
        reply = Reply(
            "📬 你的问题 #1 有了新回答", chat=dm, kind="notice", to_member=asker, instead=in_group
        )
        return Queued(id=1, **row_fields(answer, reply))

    bot.contacts["carol"].friend = False
    with pytest.raises(SendFailed, match="friend"):
        await adapter.send_queued(notice("carol"))
    assert bot.puppet.sent == []
    stand_in = notice("carol").extra["instead"]
    assert stand_in["chat_id"] == ROOM and stand_in["mention_user_id"] == "carol"

    await adapter.send_queued(notice("alice"))
    bot.contacts["bob"].friend = None  # the puppet does not say
    await adapter.send_queued(notice("bob"))
    assert [(to, text) for to, text, _ in bot.puppet.sent] == [
        ("alice", "📬 你的问题 #1 有了新回答"),
        ("bob", "📬 你的问题 #1 有了新回答"),
    ]


async def test_quoting_the_askers_own_question_message_answers_that_question(make: Any) -> None:
    """#19: a quote of 大卫's 「#提问 …」 message answers that question when it is exactly one
    of his; several candidates or none: no answer, and the dispatcher is told to hint."""
    adapter, bot = make()
    fake = adapter.dispatcher
    quoted = "#提问 怎么选择学习率？"
    fake.asked[(ROOM, "大卫", quoted)] = ["m-ask-1"]  # type: ignore[attr-defined]
    quote = f"「大卫：{quoted}」\n- - - - - - - - - - - - - - -\n用 lr finder"
    incoming = await adapter.to_incoming(FakeMessage("w10", bot.contacts["bob"], quote, bot.room))
    assert incoming is not None and incoming.text == "用 lr finder"
    assert incoming.reply_to_message_id == "m-ask-1" and not incoming.quotes_a_question

    fake.asked[(ROOM, "大卫", quoted)] = ["m-ask-1", "m-ask-2"]  # type: ignore[attr-defined]
    incoming = await adapter.to_incoming(FakeMessage("w11", bot.contacts["bob"], quote, bot.room))
    assert incoming is not None and incoming.reply_to_message_id is None
    assert incoming.quotes_a_question

    unknown = "「大卫：这个怎么调参？」\n- - - - - - - - - - - - - - -\n看文档"
    incoming = await adapter.to_incoming(FakeMessage("w12", bot.contacts["bob"], unknown, bot.room))
    assert incoming is not None and incoming.reply_to_message_id is None
    assert incoming.quotes_a_question

    chatter = "「大卫：今天天气不错」\n- - - - - - - - - - - - - - -\n是啊"
    incoming = await adapter.to_incoming(FakeMessage("w13", bot.contacts["bob"], chatter, bot.room))
    assert incoming is not None and not incoming.quotes_a_question
