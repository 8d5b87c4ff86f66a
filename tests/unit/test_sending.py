"""The send stage: limits per chat and overall, priorities, once-only sends, age, restart."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import App, build_app
from bot.model import ChatRef, Incoming, Reply, UserRef
from bot.outbox import Queued
from bot.sending import Limits, RateLimiter, SendFailed, SendStage, Stopping, Window
from storage.models import OutboxMessage
from tests.conftest import FakeClock, make_config


def groups_negative(chat: str) -> bool:
    return chat.startswith("-")


async def test_a_group_out_of_allowance_holds_only_itself() -> None:
    limiter = RateLimiter(Limits(group=Window(2, 60.0)), is_group=groups_negative)
    await limiter.acquire("-1")
    await limiter.acquire("-1")
    blocked = asyncio.ensure_future(limiter.acquire("-1"))
    await asyncio.sleep(0)
    started = time.monotonic()
    for chat in ["-2", "-2", "-3", "-4", "-5"]:
        await limiter.acquire(chat)
    assert time.monotonic() - started < 0.1  # other groups were not held
    assert not blocked.done() and limiter.held_back == 1
    limiter.close()
    with pytest.raises(Stopping):
        await blocked


async def test_tokens_go_to_the_best_priority_first() -> None:
    limiter = RateLimiter(Limits(overall=Window(1, 0.05)), is_group=groups_negative)
    await limiter.acquire("-1")
    order: list[str] = []

    async def take(name: str, priority: int) -> None:
        await limiter.acquire(f"-{name}", priority)
        order.append(name)

    await asyncio.gather(take("ack", 2), take("digest", 1), take("answer", 0))
    assert order == ["answer", "digest", "ack"]


async def test_a_429_holds_the_chat_for_retry_after() -> None:
    limiter = RateLimiter(Limits(), is_group=groups_negative)
    limiter.hold("-1", 0.2)
    started = time.monotonic()
    await limiter.acquire("-2")
    assert time.monotonic() - started < 0.05
    await limiter.acquire("-1")
    assert time.monotonic() - started >= 0.19


def queue_replies(app: App, chat_id: str, texts: list[str]) -> None:
    chat = ChatRef("telegram", chat_id, "group")
    for index, text in enumerate(texts):
        incoming = Incoming(chat, UserRef("telegram", "7", "小王"), "#打卡 x", f"m{chat_id}{index}")
        app.dispatcher.queue(incoming, [Reply(text)])


def states(app: App) -> dict[str, str]:
    with app.db.session() as session:
        return dict(session.execute(select(OutboxMessage.text, OutboxMessage.state)).all())


@pytest.fixture
def app(tmp_path: Path, clock: FakeClock) -> App:
    built = build_app(make_config(tmp_path), clock=clock)
    yield built
    built.db.dispose()


async def test_one_lane_per_chat_in_order_and_each_row_sent_once(app: App) -> None:
    sent: list[tuple[str, str]] = []

    async def send(item: Queued) -> None:
        await limiters[-1].acquire(item.chat_id)
        sent.append((item.chat_id, item.text))

    limiters = [RateLimiter(Limits(group=Window(2, 60.0)), is_group=groups_negative)]
    stage = SendStage("telegram", app.db, send, limiters[0])
    queue_replies(app, "-1", ["a1", "a2", "a3", "a4"])  # the busy group: 2 go, 2 wait
    queue_replies(app, "-2", ["b1"])
    stage.notify()
    for _ in range(50):
        await asyncio.sleep(0.01)
        if ("-2", "b1") in sent and len(sent) == 3:
            break
    # each chat's rows in order; the lanes interleave (their bookkeeping awaits the database)
    assert [row for row in sent if row[0] == "-1"] == [("-1", "a1"), ("-1", "a2")]
    assert [row for row in sent if row[0] == "-2"] == [("-2", "b1")]
    assert len(sent) == 3
    await stage.stop(grace=0.5)
    waiting = {"a3": "pending", "a4": "pending"}
    assert states(app) == {"a1": "sent", "a2": "sent", "b1": "sent", **waiting}

    # a restart sends what waited, once
    limiters.append(RateLimiter(Limits(), is_group=groups_negative))
    again = SendStage("telegram", app.db, send, limiters[-1])
    assert await again.flush() == 2
    assert sent[3:] == [("-1", "a3"), ("-1", "a4")]
    assert await again.flush() == 0
    await again.stop()


async def test_replies_queued_after_a_shutdown_wait_for_the_restart(app: App) -> None:
    """A message still being stored while the process stops (WeChat's drain) queues replies
    after the send stage stopped: they wait in the outbox, nothing starts sending again."""
    sent: list[str] = []

    async def send(item: Queued) -> None:
        sent.append(item.text)

    stage = SendStage("telegram", app.db, send, RateLimiter(Limits(), is_group=groups_negative))
    stage.start()
    await stage.stop(grace=0.5)
    queue_replies(app, "-1", ["late"])
    stage.notify()
    await asyncio.sleep(0.1)
    assert sent == [] and states(app) == {"late": "pending"}
    again = SendStage("telegram", app.db, send, RateLimiter(Limits(), is_group=groups_negative))
    assert await again.flush() == 1 and sent == ["late"]
    await again.stop()


async def test_too_old_replies_are_dropped_with_a_log_line(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    sent: list[str] = []

    async def send(item: Queued) -> None:
        sent.append(item.text)

    queue_replies(app, "-1", ["old"])
    later = FakeClock(datetime.now(UTC) + timedelta(hours=2))  # rows are stamped in real time
    limiter = RateLimiter(Limits(), is_group=groups_negative)
    stage = SendStage("telegram", app.db, send, limiter, max_age=900, clock=later)
    await stage.flush()
    assert sent == [] and states(app) == {"old": "expired"}
    assert "dropped" in caplog.text and "max_age_seconds" in caplog.text
    await stage.stop()


async def test_refused_rows_fail_and_passing_errors_are_retried(app: App) -> None:
    calls: list[str] = []

    async def send(item: Queued) -> None:
        calls.append(item.text)
        if item.text == "refused":
            raise SendFailed("Forbidden: bot was blocked by the user")
        if calls.count(item.text) == 1:
            raise ConnectionError("network down")

    queue_replies(app, "-1", ["refused"])
    queue_replies(app, "-2", ["flaky"])
    stage = SendStage("telegram", app.db, send, RateLimiter(Limits(), is_group=groups_negative))
    assert await stage.flush() == 0
    assert states(app) == {"refused": "failed", "flaky": "pending"}
    assert await stage.flush() == 1
    assert states(app) == {"refused": "failed", "flaky": "sent"}
    assert calls.count("refused") == 1
    await stage.stop()


def queue_asker_notice(app: App, dm: str, text: str) -> None:
    """An asker's notice for their DM, with the group notice as its stand-in (#19)."""
    asker = UserRef("telegram", dm, "问者")
    group = ChatRef("telegram", "-1", "group")
    incoming = Incoming(group, UserRef("telegram", "8", "热心"), "/answer 1 x", f"a{dm}")
    in_group = Reply(text, chat=group, reply_to_message_id="77", kind="notice", to_member=asker)
    private = ChatRef("telegram", dm, "private")
    notice = Reply(text, chat=private, kind="notice", to_member=asker, instead=in_group)
    app.dispatcher.queue(incoming, [notice])


def rows(app: App) -> list[tuple[str, str, str, str | None, str | None]]:
    with app.db.session() as session:
        found = session.execute(
            select(
                OutboxMessage.text,
                OutboxMessage.chat_id,
                OutboxMessage.state,
                OutboxMessage.reply_to,
                OutboxMessage.mention_user_id,
            ).order_by(OutboxMessage.id)
        ).all()
    return [tuple(row) for row in found]


async def test_a_refused_notice_goes_to_its_stand_in_once(app: App) -> None:
    """#19: the asker's DM is refused for good (blocked) or gives up after every attempt:
    the notice is queued in the group instead (quote + mention), once; the stand-in has no
    stand-in of its own, and a DM that went through queues nothing."""
    sent: list[tuple[str, str]] = []

    async def send(item: Queued) -> None:
        if item.chat_id == "21":
            raise SendFailed("Forbidden: bot was blocked by the user")
        if item.chat_id == "22":
            raise ConnectionError("network down")
        sent.append((item.chat_id, item.text))

    queue_asker_notice(app, "21", "blocked")
    queue_asker_notice(app, "22", "flaky")
    queue_asker_notice(app, "23", "fine")
    limiter = RateLimiter(Limits(), is_group=groups_negative)
    stage = SendStage("telegram", app.db, send, limiter, max_attempts=2)
    await stage.flush()
    await stage.flush()  # the flaky DM's last attempt: it gives up
    await stage.flush()
    assert sorted(sent) == [("-1", "blocked"), ("-1", "flaky"), ("23", "fine")]
    assert rows(app) == [
        ("blocked", "21", "failed", None, None),
        ("flaky", "22", "failed", None, None),
        ("fine", "23", "sent", None, None),
        ("blocked", "-1", "sent", "77", "21"),
        ("flaky", "-1", "sent", "77", "22"),
    ]
    assert await stage.flush() == 0  # told once
    await stage.stop()


async def test_a_shutdown_ends_a_flood_wait_at_once() -> None:
    """A send waiting out a 429's retry_after stops with the stage: nothing went out, so its
    row stays pending rather than being cut off mid-send."""
    limiter = RateLimiter(Limits(), is_group=groups_negative)
    waiting = asyncio.ensure_future(limiter.pause(asyncio.sleep(30)))
    await asyncio.sleep(0.01)
    started = time.monotonic()
    limiter.close()
    with pytest.raises(Stopping):
        await asyncio.wait_for(waiting, 1.0)
    assert time.monotonic() - started < 0.1
    limiter.reopen()
    await limiter.pause(asyncio.sleep(0.01))  # after a restart it waits as asked


async def test_wechat_pacing_holding_sends_back_is_logged_with_depth_and_oldest_wait(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    """WeChat's pacing (one send per wechat.send_interval_seconds) holds a room's replies back:
    the INFO log says how many wait and for how long, as for Telegram's limits."""
    import logging

    from bot.adapters.wechat_send import wechat_limiter
    from bot.config import WechatConfig

    sent: list[str] = []
    limiter = wechat_limiter(WechatConfig(send_interval_seconds=60))

    async def send(item: Queued) -> None:
        await limiter.acquire(item.chat_id)
        sent.append(item.text)

    chat = ChatRef("wechat", "study@chatroom", "group")
    for index in range(3):
        incoming = Incoming(chat, UserRef("wechat", "alice", "Alice"), "#打卡 x", f"w{index}")
        app.dispatcher.queue(incoming, [Reply(f"r{index}")])
    stage = SendStage("wechat", app.db, send, limiter, report_seconds=0.2)
    with caplog.at_level(logging.INFO, logger="bot.sending"):
        stage.notify()
        for _ in range(40):
            await asyncio.sleep(0.05)
            if "held back" in caplog.text:
                break
        await stage.stop(grace=0.2)
    assert sent == ["r0"]  # the next waits a minute for its token
    line = next(r.getMessage() for r in caplog.records if "held back" in r.getMessage())
    assert line.startswith("wechat sends held back by limits: 2 queued, 1 waiting for a token")
    assert "oldest waiting" in line
