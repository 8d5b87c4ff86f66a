"""A group with chats on three platforms, a week of content, and recording senders.

Used by the publish-once, scheduler and web archive tests.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.app import App, build_app
from bot.config import Config, parse_config
from bot.model import ChatRef, Outgoing
from digest.periods import ensure_issue
from storage.identity import ensure_group
from tests.conftest import Chatter, FakeClock

SLUG = "ml-club"
GROUP_CHAT = ChatRef("console", "console-group", "group", "ML自学者俱乐部")
TARGETS = [
    {"platform": "telegram", "chat_id": "-1001"},
    {"platform": "wechat", "chat_id": "room@chatroom"},
    {"platform": "console", "chat_id": "console-group"},
]
# Monday 2026-11-16 17:00 in Shanghai; the week ends Sunday 2026-11-22 20:00 (12:00 UTC).
WEEK_END = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
XSS = "<script>alert(1)</script>"


class Crash(BaseException):
    """Stands in for the process dying (kill -9) in the middle of a send."""


@dataclass
class RecordingSender:
    """Records every message; can fail (Exception) or crash (BaseException) on a call.

    ``fail_on`` / ``crash_on`` are 1-based call numbers. With ``crash_after_delivery`` the
    crashing call first records the message (it reached the chat, the bot died before it
    could note that).
    """

    platform: str
    fail_on: set[int] = field(default_factory=set)
    crash_on: set[int] = field(default_factory=set)
    crash_after_delivery: bool = False
    delay: float = 0.0
    calls: int = 0
    sent: list[Outgoing] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def send(self, outgoing: Outgoing) -> list[str]:
        with self.lock:
            self.calls += 1
            call = self.calls
        if self.delay:
            await asyncio.sleep(self.delay)
        if call in self.fail_on:
            raise ConnectionError(f"{self.platform} is down (call {call})")
        if call in self.crash_on:
            if self.crash_after_delivery:
                self.sent.append(outgoing)
            raise Crash(f"process died during call {call}")
        with self.lock:
            self.sent.append(outgoing)
        return [f"{self.platform}-{call}"]

    @property
    def bodies(self) -> list[str]:
        return [o.reply.html or o.reply.text for o in self.sent]


def world_config(db_url: str, **overrides: Any) -> Config:
    data: dict[str, Any] = {
        "database": {"url": db_url},
        "admins": ["console:admin", "telegram:42"],
        "groups": [{"slug": SLUG, "name": "ML自学者俱乐部", "chats": TARGETS}],
        "web": {"enabled": False, "base_url": "https://club.example.org"},
        # these worlds test delivering many parts exactly once: no length budget collapses them
        "digest": {"budget": {"telegram_messages": 50, "wechat_messages": 50}},
    }
    data["digest"].update(overrides.pop("digest", {}))
    data.update(overrides)
    return parse_config(data)


def make_senders() -> dict[str, RecordingSender]:
    return {p: RecordingSender(p) for p in ("telegram", "wechat", "console")}


def make_app(
    db_url: str,
    clock: FakeClock,
    senders: dict[str, RecordingSender] | None = None,
    **overrides: Any,
) -> App:
    app = build_app(world_config(db_url, **overrides), clock=clock)
    for sender in (senders or {}).values():
        app.add_sender(sender)
    return app


async def seed_week(app: App, clock: FakeClock, *, members: int = 7, long: bool = True) -> None:
    """Papers, notes (long enough for several Telegram messages) and a question."""
    chat = Chatter(app, clock)

    async def say(text: str, user: str, name: str) -> None:
        reply = await chat.say(text, user=user, name=name, chat=GROUP_CHAT)
        assert reply, text

    await say(
        "/paper https://arxiv.org/abs/1903.10258 基于元学习和AutoML的模型压缩新方法"
        " | 提出 PruningNet，自动为剪枝后的模型生成权重 | 元学习做剪枝",
        "u0",
        "大煌",
    )
    body = "今天读了《深度学习》第六章，推导了反向传播并用 numpy 实现了一个两层网络。" * (
        40 if long else 1
    )
    for i in range(members):
        await say(f"/checkin 第{i}位同学的心得：{body}", f"u{i}", f"同学{i}")
    await say(f"/checkin 测试转义 {XSS} & <b>粗体</b>", "u1", "同学1")
    await say("/ask lstm激活函数为什么sigmoid和tanh同时存在？", "u2", "同学2")


def issue_id_for(app: App, at: datetime) -> int:
    """The id of the issue containing ``at`` (created if missing)."""
    gconf = app.config.groups[0]
    with app.db.session() as s:
        group = ensure_group(s, gconf.slug, gconf.name, gconf.timezone)
        return ensure_issue(s, group, at, app.config.digest.cron).id
