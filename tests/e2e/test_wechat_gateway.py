"""End to end on WeChat: the real adapter over gRPC against a local puppet-service gateway.

tests/peers/wechat_gateway.mjs serves wechaty-puppet-mock with PuppetServer on a free port and a
random token; we inject user messages through its stdin and read what the bot sent (text,
mentions, UrlLink cards, room invitations) from its stdout. The gateway starts first and the
adapter waits for the login before anything is said (messages before the login are dropped).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
import shutil
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import App, build_app
from bot.model import ChatRef, Outgoing, Reply
from storage.models import Answer, CheckIn, SentMessage
from tests.conftest import make_config, require_or_skip

PEERS = Path(__file__).resolve().parents[1] / "peers"
GATEWAY = PEERS / "wechat_gateway.mjs"
ROOM = "study@chatroom"
AT = "\u2005"
Event = dict[str, Any]

pytestmark = pytest.mark.node


def _requirements() -> tuple[bool, str]:
    if shutil.which("node") is None:
        return False, "node is not installed"
    for package in ("wechaty-puppet-service", "wechaty-puppet-mock", "wechaty-puppet"):
        if not (PEERS / "node_modules" / package).is_dir():
            return False, f"tests/peers/node_modules/{package} missing: run make peers"
    from bot.adapters.wechaty_shim import wechaty_available

    if not wechaty_available():
        return False, "python wechaty not importable: pip install 'studybot[wechat]'"
    return True, ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Gateway:
    """The Node gateway process: JSON commands in, JSON events out."""

    def __init__(self, process: asyncio.subprocess.Process, port: int, token: str) -> None:
        self.process = process
        self.endpoint = f"127.0.0.1:{port}"
        self.token = token
        self.events: list[Event] = []
        self._changed = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls) -> Gateway:
        port, token = free_port(), secrets.token_hex(8)
        process = await asyncio.create_subprocess_exec(
            "node", str(GATEWAY), "--port", str(port), "--token", token,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            cwd=PEERS,
        )  # fmt: skip
        gateway = cls(process, port, token)
        await gateway.wait(lambda e: e["event"] == "ready", within=20)
        return gateway

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            with contextlib.suppress(ValueError):
                self.events.append(json.loads(line))
                self._changed.set()

    def mark(self) -> int:
        return len(self.events)

    async def say(self, sender: str, text: str, **extra: Any) -> str:
        """A user message (DM to the bot, or in ``room=``); returns its message id."""
        since = self.mark()
        await self.command(cmd="say", **{"from": sender, "text": text, **extra})
        said = await self.wait(lambda e: e["event"] in ("said", "error"), since=since)
        assert said["event"] == "said", said
        return str(said["id"])

    async def command(self, **command: Any) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command, ensure_ascii=False).encode() + b"\n")
        await self.process.stdin.drain()

    async def wait(
        self, match: Callable[[Event], bool], since: int = 0, within: float = 10
    ) -> Event:
        deadline = time.monotonic() + within
        while True:
            for event in self.events[since:]:
                if match(event):
                    return event
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no matching gateway event; seen: {self.events[since:]}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)

    async def settle(self, since: int, quiet: float = 0.8) -> list[Event]:
        """Every event after ``since`` once nothing new arrived for ``quiet`` seconds."""
        while True:
            count = len(self.events)
            await asyncio.sleep(quiet)
            if len(self.events) == count:
                return self.events[since:]

    async def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 10)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        self._reader.cancel()


async def eventually(check: Callable[[], bool], within: float = 5) -> None:
    """Wait for ``check()`` (e.g. a write the adapter makes right after sending)."""
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def sent_text(to: str) -> Callable[[Event], bool]:
    return lambda e: e["event"] == "text" and e["to"] == to


@pytest.fixture
async def gateway() -> AsyncIterator[Gateway]:
    ok, reason = _requirements()
    require_or_skip(ok, reason)
    gw = await Gateway.start()
    yield gw
    await gw.close()


@pytest.fixture
def wechat_app(tmp_path: Path, gateway: Gateway) -> Iterator[App]:
    config = make_config(
        tmp_path,
        admins=["console:admin", "wechat:alice"],
        groups=[{"slug": "ml-club", "chats": [{"platform": "wechat", "chat_id": ROOM}]}],
        wechat={
            "token": gateway.token,
            "endpoint": gateway.endpoint,
            "study_room_id": ROOM,
            "send_interval_seconds": 0,
            "max_text_chars": 300,
            "login_timeout_seconds": 10,
            "ack": "reply",  # one reply per check-in, as the tests below expect; see the rush
        },
        # short messages to see the digest split in parts; enough of them for the whole week
        digest={"budget": {"wechat_messages": 10}},
    )
    app = build_app(config)
    yield app
    app.db.dispose()


@pytest.fixture
async def adapter(wechat_app: App, gateway: Gateway) -> AsyncIterator[Any]:
    from bot.adapters.wechat import WechatAdapter

    bot = WechatAdapter(wechat_app.dispatcher, wechat_app.config)
    bot.reconnect_delays = (0.2, 0.5, 1, 2)
    bot.outbound.retry_delay = 0.05
    wechat_app.add_sender(bot)
    await bot.start()
    yield bot
    await bot.stop()


async def test_checkin_in_the_room_is_answered_in_the_room(gateway: Gateway, adapter: Any) -> None:
    since = gateway.mark()
    started = time.monotonic()
    await gateway.say("alice", "/checkin 读完了 CS231n 第三讲，理解了反向传播", room=ROOM)
    reply = await gateway.wait(sent_text(ROOM), since)
    round_trip = time.monotonic() - started
    assert "已记录" in reply["text"] and "Alice" in reply["text"]
    assert reply["mentions"] == ["alice"] and reply["text"].startswith(f"@Alice{AT}")
    assert round_trip < 5


async def test_mentioning_the_bot_and_fullwidth_hashtag_still_work(
    gateway: Gateway, adapter: Any
) -> None:
    since = gateway.mark()
    await gateway.say("bob", f"@学习助手{AT}＃打卡 今天复习了 SVM", room=ROOM, mention=["bot"])
    reply = await gateway.wait(sent_text(ROOM), since)
    assert "已记录" in reply["text"] and "Bob" in reply["text"]


async def test_question_announcement_is_recorded_and_a_quote_reply_answers_it(
    gateway: Gateway, adapter: Any, wechat_app: App
) -> None:
    since = gateway.mark()
    await gateway.say("alice", "/ask 为什么 dropout 在测试时要关掉？", room=ROOM)
    announce = await gateway.wait(sent_text(ROOM), since)
    assert "#1" in announce["text"] and "dropout" in announce["text"]

    def recorded() -> list[str]:
        with wechat_app.db.session() as session:
            return list(session.scalars(select(SentMessage.message_id)))

    await eventually(lambda: announce["id"] in recorded())
    quoted = announce["text"].split(AT, 1)[-1][:16]
    since = gateway.mark()
    quote = f"「学习助手：{quoted}…」\n- - - - - - - - - - - - - - -\n测试时要用全部神经元，输出按保留率缩放"
    await gateway.say("bob", quote, room=ROOM)
    reply = await gateway.wait(sent_text(ROOM), since)
    assert "#1" in reply["text"] and "Bob" in reply["text"] and "回答" in reply["text"]


async def test_join_keyword_in_dm_invites_a_friend_but_never_a_member(
    gateway: Gateway, adapter: Any
) -> None:
    since = gateway.mark()
    await gateway.say("carol", "自学")
    added = await gateway.wait(lambda e: e["event"] == "room_add", since)
    assert added == {"event": "room_add", "room": ROOM, "contact": "carol"}
    reply = await gateway.wait(sent_text("carol"), since)
    assert "已邀请" in reply["text"] and "ML自学者俱乐部" in reply["text"]
    await gateway.command(cmd="members", room=ROOM)
    members = await gateway.wait(lambda e: e["event"] == "members", since)
    assert "carol" in members["members"]

    since = gateway.mark()
    await gateway.say("alice", "自学")
    reply = await gateway.wait(sent_text("alice"), since)
    assert "已经在" in reply["text"]
    events = await gateway.settle(since)
    assert not [e for e in events if e["event"] == "room_add"]

    since = gateway.mark()  # carol is a member now: asking again does not re-invite her
    await gateway.say("carol", "自学")
    await gateway.wait(sent_text("carol"), since)
    assert not [e for e in await gateway.settle(since) if e["event"] == "room_add"]


async def test_join_keyword_in_the_room_is_one_line_and_no_invitation(
    gateway: Gateway, adapter: Any
) -> None:
    """#19: people in the study room are members already: one line, never the join text."""
    since = gateway.mark()
    await gateway.say("bob", "自学", room=ROOM)
    reply = await gateway.wait(sent_text(ROOM), since)
    assert "你已经在「ML自学者俱乐部」里啦" in reply["text"] and "私聊我发「自学」" in reply["text"]
    assert "欢迎加入" not in reply["text"] and "\n" not in reply["text"]
    events = await gateway.settle(since)
    assert not [e for e in events if e["event"] == "room_add"]


async def test_a_failed_invitation_tells_the_person_the_admins_know(
    gateway: Gateway, adapter: Any, wechat_app: App
) -> None:
    """Issue #19: no more join text telling them to reply 「自学」 again."""
    await gateway.command(cmd="fail", what="roomAdd")
    await gateway.wait(lambda e: e["event"] == "failing")
    since = gateway.mark()
    await gateway.say("carol", "自学")
    await gateway.wait(lambda e: e["event"] == "room_add", since)
    reply = await gateway.wait(sent_text("carol"), since)
    assert "已经通知管理员" in reply["text"]


async def test_private_command_is_answered_privately(gateway: Gateway, adapter: Any) -> None:
    since = gateway.mark()
    await gateway.say("bob", "/help")
    reply = await gateway.wait(lambda e: e["event"] == "text", since)
    assert reply["to"] == "bob" and not reply["room"] and "/checkin" in reply["text"]


async def test_redelivered_message_is_processed_once(
    gateway: Gateway, adapter: Any, wechat_app: App
) -> None:
    since = gateway.mark()
    message_id = await gateway.say("bob", "/checkin 复现了 ResNet", room=ROOM, id="dup-1")
    await gateway.wait(sent_text(ROOM), since)
    await gateway.command(cmd="redeliver", id=message_id)
    await gateway.command(cmd="redeliver", id=message_id)
    events = await gateway.settle(since)
    assert len([e for e in events if e["event"] == "text"]) == 1
    with wechat_app.db.session() as session:
        assert session.scalar(select(func.count()).select_from(CheckIn)) == 1


async def test_digest_is_posted_in_parts_with_a_read_more_card(
    gateway: Gateway, adapter: Any
) -> None:
    paragraphs = [f"第{i}段：本周学习心得与论文速递，内容较长需要分段发送。" * 3 for i in range(12)]
    body = "ML自学者周刊 · 第1期\n\n" + "\n\n".join(paragraphs)
    link = "https://club.example.org/digest/1"
    text = f"{body}\n\n👉 阅读原文（文中链接都在这里）：{link}"
    since = gateway.mark()
    ids = await adapter.send(Outgoing(ChatRef("wechat", ROOM), Reply(text)))
    events = await gateway.settle(since)
    texts = [e for e in events if e["event"] == "text"]
    cards = [e for e in events if e["event"] == "url"]
    assert len(texts) >= 3 and all(len(e["text"]) <= 300 for e in texts)
    assert all(e["to"] == ROOM for e in texts + cards)
    assert re.sub(r"\s", "", "".join(e["text"] for e in texts)) == re.sub(r"\s", "", body)
    assert [c["url"] for c in cards] == [link] and "阅读原文" in cards[0]["title"]
    assert ids == [e["id"] for e in texts] + [cards[0]["id"]]


async def test_read_more_falls_back_to_text_without_link_cards(
    gateway: Gateway, adapter: Any
) -> None:
    await gateway.command(cmd="fail", what="messageSendUrl")
    await gateway.wait(lambda e: e["event"] == "failing")
    since = gateway.mark()
    await adapter.send(Outgoing(ChatRef("wechat", ROOM), Reply("周报\n阅读原文：https://x.org/1")))
    texts = [e["text"] for e in await gateway.settle(since) if e["event"] == "text"]
    assert texts == ["周报", "阅读原文：https://x.org/1"]


async def test_send_raises_after_retries_when_the_puppet_keeps_failing(
    gateway: Gateway, adapter: Any
) -> None:
    from bot.adapters.wechat_connect import WechatSendError

    await gateway.command(cmd="fail", what="messageSendText")
    await gateway.wait(lambda e: e["event"] == "failing")
    with pytest.raises(WechatSendError, match="3 attempt"):
        await adapter.send(Outgoing(ChatRef("wechat", ROOM), Reply("hello")))


async def test_admin_publishes_the_digest_and_the_room_receives_it(
    gateway: Gateway, adapter: Any, wechat_app: App
) -> None:
    require_or_skip(
        wechat_app.dispatcher.registry.find_command("digest") is not None,
        "the /digest command (handlers/digest_admin.py) is not there yet",
    )
    notes = {
        "alice": "本周读完了《深度学习》第五章，" + "整理了机器学习基础的笔记；" * 8,
        "bob": "复现了 ResNet-18 在 CIFAR-10 上的训练，" + "记录了学习率调度的对比实验；" * 8,
        "carol": "读了 Attention Is All You Need，" + "推导了多头注意力的复杂度；" * 8,
    }
    for who, note in notes.items():
        since = gateway.mark()
        await gateway.say(who, f"/checkin {note}", room=ROOM)
        await gateway.wait(sent_text(ROOM), since)
    since = gateway.mark()
    await gateway.say("bob", "/digest publish now", room=ROOM)
    refused = await gateway.wait(sent_text(ROOM), since)
    assert "管理员" in refused["text"]

    since = gateway.mark()
    await gateway.say("alice", "/digest publish now", room=ROOM)
    await gateway.wait(lambda e: e["event"] == "url", since, within=20)
    events = await gateway.settle(since, quiet=1.5)
    parts = [e for e in events if e["event"] == "text" and not e["mentions"]]
    cards = [e for e in events if e["event"] == "url"]
    assert len(parts) >= 3 and all(e["to"] == ROOM and len(e["text"]) <= 300 for e in parts)
    assert parts[0]["text"].startswith("【ML自学者俱乐部周报 · 第1期】")
    digest = re.sub(r"\s", "", "".join(e["text"] for e in parts))
    assert all(re.sub(r"\s", "", note) in digest for note in notes.values())
    assert [c["url"] for c in cards] == ["http://127.0.0.1:8080/issues/1"]
    assert events.index(cards[0]) > events.index(parts[-1])  # the 阅读原文 card comes last


async def test_reconnects_after_the_gateway_drops(gateway: Gateway, adapter: Any) -> None:
    logins = adapter.logins
    since = gateway.mark()
    await gateway.command(cmd="restart")
    await gateway.wait(lambda e: e["event"] == "restarted", since)
    await gateway.wait(lambda e: e["event"] == "login", since, within=15)
    await eventually(lambda: adapter.logins == logins + 1, within=10)
    since = gateway.mark()
    await gateway.say("alice", "/checkin 断线重连之后也能打卡", room=ROOM)
    reply = await gateway.wait(sent_text(ROOM), since)
    assert "已记录" in reply["text"]


async def test_wrong_token_fails_fast_with_a_clear_error(gateway: Gateway, wechat_app: App) -> None:
    from bot.adapters.wechat import WechatAdapter
    from bot.adapters.wechat_connect import WechatError

    bot = WechatAdapter(wechat_app.dispatcher, wechat_app.config, token="not-the-token")
    started = time.monotonic()
    with pytest.raises(
        WechatError, match=r"rejected the token \(UNAUTHENTICATED\).*wechat.token"
    ) as info:
        await bot.start()
    assert time.monotonic() - started < 5
    assert "not-the-token" not in str(info.value)


async def test_unreachable_endpoint_fails_fast_with_a_clear_error(wechat_app: App) -> None:
    from bot.adapters.wechat import WechatAdapter
    from bot.adapters.wechat_connect import WechatError

    endpoint = f"127.0.0.1:{free_port()}"
    bot = WechatAdapter(wechat_app.dispatcher, wechat_app.config, endpoint=endpoint)
    started = time.monotonic()
    with pytest.raises(WechatError, match=f"cannot reach the WeChat puppet service at {endpoint}"):
        await bot.start()
    assert time.monotonic() - started < 5


async def test_a_week_in_the_room_welcome_loose_checkin_recall_and_foreign_quote(
    gateway: Gateway, adapter: Any, wechat_app: App
) -> None:
    """Issue #19 through the real gateway: a newcomer is welcomed, a loose 「#打卡：」 is
    stored, a recalled check-in leaves storage, quoting a member's message answers nothing."""
    since = gateway.mark()
    await gateway.command(cmd="join", who="carol", room=ROOM)
    welcome = await gateway.wait(sent_text(ROOM), since)
    assert "Carol" in welcome["text"] and "#打卡" in welcome["text"]
    assert welcome["mentions"] == ["carol"]

    def notes() -> list[str]:
        with wechat_app.db.session() as session:
            return list(session.scalars(select(CheckIn.text).order_by(CheckIn.id)))

    since = gateway.mark()
    first = await gateway.say("carol", "#打卡：读了 ResNet 论文", room=ROOM)
    assert "已记录" in (await gateway.wait(sent_text(ROOM), since))["text"]
    since = gateway.mark()
    await gateway.say("carol", "【打卡】复现了残差块", room=ROOM)
    await gateway.wait(sent_text(ROOM), since)
    assert notes() == ["读了 ResNet 论文", "复现了残差块"]
    await gateway.command(cmd="recall", **{"from": "carol"}, room=ROOM, id=first)
    await eventually(lambda: notes() == ["复现了残差块"])

    since = gateway.mark()
    quote = "「Carol：复现了残差块」\n- - - - - - - - - - - - - - -\n同问"
    await gateway.say("bob", quote, room=ROOM)
    assert not [e for e in await gateway.settle(since) if e["event"] == "text"]
    with wechat_app.db.session() as session:
        assert session.scalars(select(Answer)).all() == []


async def test_debug_logs_never_show_the_puppet_token(
    gateway: Gateway, wechat_app: App, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.adapters.wechat import WechatAdapter

    with caplog.at_level(logging.DEBUG):
        bot = WechatAdapter(wechat_app.dispatcher, wechat_app.config)
        wechat_app.add_sender(bot)
        await bot.start()
        try:
            since = gateway.mark()
            await gateway.say("alice", "/checkin 读完了 CS231n 第三讲", room=ROOM)
            await gateway.wait(sent_text(ROOM), since)
        finally:
            await bot.stop()
    assert len(caplog.records) > 10  # wechaty and the adapter did log at debug level
    assert gateway.token not in caplog.text


async def test_a_rush_of_checkins_in_a_room_gets_a_few_batched_messages(
    gateway: Gateway, tmp_path: Path
) -> None:
    """40 members post their 打卡 within seconds: the room gets a handful of messages naming
    them (wechat.ack: batch, the default), not 40 bursts from the bot's account."""
    from bot.adapters.wechat import WechatAdapter

    config = make_config(
        tmp_path,
        groups=[{"slug": "ml-club", "chats": [{"platform": "wechat", "chat_id": ROOM}]}],
        wechat={
            "token": gateway.token,
            "endpoint": gateway.endpoint,
            "send_interval_seconds": 0.2,
            "login_timeout_seconds": 10,
            "ack_batch_seconds": 2,
        },
    )
    app = build_app(config)
    members = [(f"rush{i:02d}", f"成员{i:02d}") for i in range(40)]
    for contact_id, name in members:
        await gateway.command(cmd="newmember", id=contact_id, name=name, room=ROOM)
    bot = WechatAdapter(app.dispatcher, app.config)
    await bot.start()
    try:
        since = gateway.mark()
        for contact_id, _name in members:
            await gateway.say(contact_id, "#打卡 复习了反向传播", room=ROOM)
        await eventually(lambda: count_checkins(app) == 40, within=20)
        events = await gateway.settle(since, quiet=3.0)
    finally:
        await bot.stop()
        app.db.dispose()
    sent = [e["text"] for e in events if sent_text(ROOM)(e)]
    assert 1 <= len(sent) <= 8, sent  # a handful, not 40
    assert all(text.startswith("✅ 已记录：") for text in sent)
    counted = 0
    for text in sent:
        many = re.search(r"等 (\d+) 人", text)
        counted += int(many[1]) if many else text.count("成员")
    assert counted == 40


async def test_an_asker_who_deleted_the_bot_is_told_in_the_room_once(
    gateway: Gateway, adapter: Any
) -> None:
    """#19: alice wrote to the bot, then deleted it: WeChat would drop the contact message, so
    the notice goes to the room instead, mentioning her, once."""
    since = gateway.mark()
    await gateway.say("alice", "/me")
    await gateway.wait(sent_text("alice"), since)
    await gateway.say("alice", "/ask 梯度爆炸怎么办？", room=ROOM)
    await gateway.wait(lambda e: e["event"] == "text" and "#1" in e["text"], since)
    await gateway.command(cmd="unfriend", who="alice")
    await gateway.wait(lambda e: e["event"] == "unfriended", since)
    since = gateway.mark()
    await gateway.say("carol", "/answer 1 梯度裁剪", room=ROOM)
    told = await gateway.wait(lambda e: e["event"] == "text" and "有了新回答" in e["text"], since)
    assert told["to"] == ROOM and told["mentions"] == ["alice"]
    assert told["text"].startswith(f"@Alice{AT}") and "你的问题 #1" in told["text"]
    events = await gateway.settle(since)
    notices = [e for e in events if e["event"] == "text" and "有了新回答" in e.get("text", "")]
    assert len(notices) == 1  # not to alice, not twice


def count_checkins(app: App) -> int:
    with app.db.session() as session:
        return session.scalar(select(func.count()).select_from(CheckIn)) or 0


async def test_an_asker_hears_of_answers_as_a_contact_message_or_in_the_room(
    gateway: Gateway, adapter: Any
) -> None:
    since = gateway.mark()
    await gateway.say("alice", "/me")  # alice writes to the bot: it may message her
    await gateway.wait(sent_text("alice"), since)
    await gateway.say("alice", "/ask 为什么要做 batch norm？", room=ROOM)
    await gateway.wait(lambda e: e["event"] == "text" and "#1" in e["text"], since)
    await gateway.say("bob", "/ask 学习率怎么选？", room=ROOM)
    await gateway.wait(lambda e: e["event"] == "text" and "#2" in e["text"], since)
    since = gateway.mark()
    await gateway.say("carol", "/answer 1 稳定每层输入的分布", room=ROOM)
    told = await gateway.wait(lambda e: e["event"] == "text" and "有了新回答" in e["text"], since)
    assert told["to"] == "alice" and "你的问题 #1 有了新回答" in told["text"]
    since = gateway.mark()
    await gateway.say("carol", "/answer 2 先用 lr finder 扫一遍", room=ROOM)
    told = await gateway.wait(lambda e: e["event"] == "text" and "有了新回答" in e["text"], since)
    assert told["to"] == ROOM and told["mentions"] == ["bob"]
    assert told["text"].startswith(f"@Bob{AT}") and "你的问题 #2" in told["text"]
    since = gateway.mark()
    await gateway.say("bob", "/answer 2 我自己试出来了", room=ROOM)  # a self-answer
    events = await gateway.settle(since)
    assert any("不计分" in e.get("text", "") for e in events)
    assert not any("有了新回答" in e.get("text", "") for e in events)


async def test_a_friend_request_saying_the_keyword_is_accepted_invited_and_welcomed(
    gateway: Gateway, adapter: Any
) -> None:
    """FriendshipAccepter + RoomInviter through the real gateway: a stranger's request with
    hello 「自学」 is accepted, they are invited into the study room and told so privately, and
    joining the room gets them the welcome; a request without the keyword is left alone."""
    since = gateway.mark()
    await gateway.command(cmd="friend", **{"from": "erin", "name": "Erin", "hello": "卖课的"})
    await gateway.wait(lambda e: e["event"] == "friend_request", since)
    await gateway.command(cmd="friend", **{"from": "dave", "name": "Dave", "hello": "你好，自学"})
    accepted = await gateway.wait(lambda e: e["event"] == "accepted", since)
    assert accepted["contact"] == "dave"
    added = await gateway.wait(lambda e: e["event"] == "room_add", since)
    assert added == {"event": "room_add", "room": ROOM, "contact": "dave"}
    told = await gateway.wait(sent_text("dave"), since)
    assert "已邀请" in told["text"] and "ML自学者俱乐部" in told["text"]
    welcome = await gateway.wait(sent_text(ROOM), since)
    assert welcome["mentions"] == ["dave"] and "Dave" in welcome["text"]
    assert "#打卡" in welcome["text"] and "自学" in welcome["text"]
    events = await gateway.settle(since)
    assert [e["contact"] for e in events if e["event"] == "accepted"] == ["dave"]
    assert not [e for e in events if e.get("to") == "erin" or e.get("contact") == "erin"]
