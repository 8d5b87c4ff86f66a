"""SIGTERM under a backlog, through the real ``studybot run --platform wechat`` process and the
mock puppet-service gateway (tests/peers/wechat_gateway.mjs), the WeChat counterpart of
test_sigterm_under_load.py.

WeChat paces the bot's sends (``wechat.send_interval_seconds``), so 30 questions asked in the
room leave most answers queued in the outbox; 20 members then post their 打卡 and SIGTERM comes
right after the last of them reached the bot. WeChat never delivers a message twice, so what
the bot received must be stored before it exits. The process must exit within a few seconds;
after a restart every message is stored exactly once, and every reply was sent once or dropped
by the age rule (``sending.max_age_seconds``) with a log line.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_or_skip
from tests.e2e.test_wechat_gateway import ROOM, Gateway, _requirements

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.node


@pytest.fixture
async def gateway() -> AsyncIterator[Gateway]:
    ok, reason = _requirements()
    require_or_skip(ok, reason)
    gw = await Gateway.start()
    yield gw
    await gw.close()


def write_config(tmp_path: Path, gateway: Gateway) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"""database: {{url: 'sqlite:///{tmp_path / "bot.db"}'}}
web: {{enabled: false}}
limits: {{messages_per_minute: 1000, burst: 1000}}
sending: {{max_age_seconds: 8, shutdown_seconds: 3}}
wechat:
  token: "{gateway.token}"
  endpoint: "{gateway.endpoint}"
  send_interval_seconds: 0.5
  login_timeout_seconds: 20
  ack: reply
groups:
  - slug: ml-club
    chats: [{{platform: wechat, chat_id: "{ROOM}"}}]
""",
        "utf-8",
    )
    return path


async def start(config: Path, tmp_path: Path, log: Path) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STUDYBOT_", "WECHAT"))}
    env["PYTHONPATH"] = str(ROOT)
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "-v", "-c", str(config), "run", "--platform", "wechat",
        "--no-web",
        cwd=tmp_path,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=log.open("ab"),
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip


def query(tmp_path: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(tmp_path / "bot.db") as db:
        return db.execute(sql).fetchall()


def count(tmp_path: Path, sql: str) -> int:
    try:
        return int(query(tmp_path, sql)[0][0])
    except sqlite3.OperationalError:  # not migrated yet
        return -1


async def until(check: Callable[[], bool], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, f"{what}: not within {within} s"
        await asyncio.sleep(0.1)


def logins(log: Path) -> int:
    return log.read_text("utf-8").count("WeChat: logged in as")


async def test_sigterm_with_a_backlog_exits_quickly_and_a_restart_loses_nothing(
    gateway: Gateway, tmp_path: Path
) -> None:
    config, log = write_config(tmp_path, gateway), tmp_path / "bot.log"
    members = [f"m{i:02d}" for i in range(20)]
    for member in members:
        await gateway.command(cmd="newmember", id=member, name=f"成员{member}", room=ROOM)
    first = await start(config, tmp_path, log)
    try:
        await until(lambda: logins(log) == 1, 60, "the bot logged in")
        since = gateway.mark()
        for i in range(30):  # answers go out one per 0.5 s: most wait in the outbox
            await gateway.say(members[i % 6], f"/ask 第 {i} 个问题：批大小怎么选？", room=ROOM)
        await gateway.wait(lambda e: e["event"] == "text", since, within=30)
        for i, member in enumerate(members):  # the last ones are still being stored at SIGTERM
            await gateway.command(
                cmd="say", **{"from": member, "room": ROOM, "text": f"#打卡 第 {i} 天：复习了反向传播"}
            )
        await gateway.wait(
            lambda e: e["event"] == "said" and len([x for x in gateway.events[since:]
                                                    if x["event"] == "said"]) == 50,
            since,
        )  # fmt: skip
        stopped_at = time.monotonic()
        first.send_signal(signal.SIGTERM)
        for k in range(5):  # while the bot still finishes what it received: received too
            await gateway.say(members[10 + k], f"/ask 关机时的第 {k} 个问题？", room=ROOM)
        code = await asyncio.wait_for(first.wait(), 30)
        took = time.monotonic() - stopped_at
    finally:
        if first.returncode is None:
            first.kill()
            await first.wait()
    assert code == 0, log.read_text("utf-8")[-3000:]
    assert took < 5.0, f"SIGTERM took {took:.1f} s"
    # WeChat delivers a message once: everything the bot received was stored before it exited
    assert count(tmp_path, "select count(*) from processed_messages") == 55
    waiting = count(tmp_path, "select count(*) from outbox where state in ('pending', 'sending')")
    assert waiting >= 10, log.read_text("utf-8")[-3000:]  # answers stayed queued
    assert count(tmp_path, "select count(*) from outbox where state = 'failed'") == 0

    await asyncio.sleep(8.5)  # past sending.max_age_seconds: what waited is too old to send
    second = await start(config, tmp_path, log)
    try:
        await until(lambda: logins(log) == 2, 60, "the bot logged in again")
        await until(
            lambda: (
                count(tmp_path, "select count(*) from outbox where state in ('pending', 'sending')")
                == 0
            ),
            30,
            "the outbox drained",
        )
        await gateway.settle(gateway.mark(), quiet=1.5)
        second.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(second.wait(), 20) == 0
    finally:
        if second.returncode is None:
            second.kill()
            await second.wait()

    # every message stored exactly once
    assert count(tmp_path, "select count(*) from processed_messages") == 55
    assert count(tmp_path, "select count(*) from questions") == 35
    assert count(tmp_path, "select count(distinct text) from questions") == 35
    assert count(tmp_path, "select count(*) from checkins") == 20
    # every reply sent once or dropped by age, with a log line
    states = Counter(state for (state,) in query(tmp_path, "select state from outbox"))
    assert set(states) <= {"sent", "expired"}, states
    assert states["expired"] >= 10 and "dropped" in log.read_text("utf-8")
    texts = [e["text"] for e in gateway.events[since:] if e["event"] == "text" and e["to"] == ROOM]
    assert max(Counter(texts).values()) == 1, Counter(texts).most_common(3)  # nothing twice
    assert len(texts) == states["sent"]  # and nothing sent that the outbox did not record
