"""SIGTERM under load, through the real ``studybot run --platform telegram`` process.

The Bot API emulator enforces Telegram's limits (``--limits``: 20 messages a minute into a
group), so a busy group's answers queue in the outbox; more members post while SIGTERM comes,
so updates are fetched but not yet stored. The process must exit within a few seconds; after a
restart every message the members posted is stored exactly once, and every reply was sent once
or dropped by the age rule (``sending.max_age_seconds``) with a log line.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import require_or_skip
from tests.e2e.telegram_emulator import EmulatorServer, TelegramUser, emulator_available

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "424242:sigterm-under-load"
BUSY = {"id": -100777, "type": "supergroup", "title": "忙碌的群"}
QUIET = [{"id": -100780 - i, "type": "supergroup", "title": f"安静的群 {i}"} for i in range(5)]


@pytest.fixture
def limited() -> Iterator[EmulatorServer]:
    require_or_skip(emulator_available(), "node or tests/peers/node_modules missing")
    server = EmulatorServer()
    server.start(limits=True)
    yield server
    server.stop()


def write_config(tmp_path: Path, api: str) -> Path:
    chats = ", ".join(f'{{platform: telegram, chat_id: "{c["id"]}"}}' for c in [BUSY, *QUIET])
    path = tmp_path / "config.yaml"
    path.write_text(
        f"""database: {{url: 'sqlite:///{tmp_path / "bot.db"}'}}
web: {{enabled: false}}
limits: {{messages_per_minute: 1000, burst: 1000}}
sending: {{max_age_seconds: 8, shutdown_seconds: 3}}
telegram: {{token: "{TOKEN}", base_url: "{api}/bot"}}
groups:
  - slug: ml-club
    chats: [{chats}]
""",
        "utf-8",
    )
    return path


# ``studybot`` itself (bot.cli.main), with PTB's HTTP client papering over the emulator's few
# differences from the Bot API, as the in-process emulator tests do (EmulatorRequest)
LAUNCH = """
import sys
import telegram.ext._applicationbuilder as builder
from tests.e2e.telegram_emulator import EmulatorRequest
builder.HTTPXRequest = EmulatorRequest
from bot.cli import main
sys.exit(main(sys.argv[1:]))
"""


async def start(config: Path, tmp_path: Path, log: Path) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STUDYBOT_", "TELEGRAM_"))}
    env["PYTHONPATH"] = str(ROOT)
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", LAUNCH,
        "-v", "-c", str(config), "run", "--platform", "telegram", "--no-web",
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


async def until(check: Any, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, f"{what}: not within {within} s"
        await asyncio.sleep(0.1)


async def sends(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    return (await client.post("/getSends", json={"token": TOKEN})).json()["result"]


async def test_sigterm_with_a_backlog_exits_quickly_and_a_restart_loses_nothing(
    limited: EmulatorServer, tmp_path: Path
) -> None:
    config, log = write_config(tmp_path, limited.api), tmp_path / "bot.log"
    client = httpx.AsyncClient(base_url=limited.api, timeout=10)
    askers = [TelegramUser(client, TOKEN, 500 + i, f"提问者{i}") for i in range(6)]
    late = [TelegramUser(client, TOKEN, 600 + i, f"路过{i}") for i in range(20)]
    first = await start(config, tmp_path, log)
    try:
        await until(lambda: "polling" in log.read_text("utf-8"), 120, "the bot started")
        for i in range(30):  # 20 answers a minute into the group: 10 wait in the outbox
            await askers[i % 6].say(f"/ask 第 {i} 个问题：批大小怎么选？", BUSY)
        await until(
            lambda: count(tmp_path, "select count(*) from outbox where state = 'sent'") >= 20,
            30,
            "20 answers sent",
        )
        posting = asyncio.gather(  # still arriving when SIGTERM comes
            *(member.say("/help", QUIET[i % 5]) for i, member in enumerate(late))
        )
        await asyncio.sleep(0.05)
        stopped_at = time.monotonic()
        first.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(first.wait(), 20)
        took = time.monotonic() - stopped_at
        await posting
    finally:
        if first.returncode is None:
            first.kill()
            await first.wait()
    assert code == 0, log.read_text("utf-8")[-3000:]
    assert took < 5.0, f"SIGTERM took {took:.1f} s"
    waiting = count(tmp_path, "select count(*) from outbox where state in ('pending', 'sending')")
    assert waiting >= 10  # the busy group's answers stayed queued
    assert count(tmp_path, "select count(*) from outbox where state = 'failed'") == 0

    await asyncio.sleep(8.5)  # past sending.max_age_seconds: what waited is too old to send
    second = await start(config, tmp_path, log)
    try:
        await until(
            lambda: count(tmp_path, "select count(*) from processed_messages") == 50,
            120,
            "every message stored",
        )
        await until(
            lambda: (
                count(tmp_path, "select count(*) from outbox where state in ('pending', 'sending')")
                == 0
            ),
            30,
            "the outbox drained",
        )
        second.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(second.wait(), 20) == 0
    finally:
        if second.returncode is None:
            second.kill()
            await second.wait()

    # every message stored exactly once
    assert count(tmp_path, "select count(*) from questions") == 30
    assert count(tmp_path, "select count(distinct text) from questions") == 30
    # every reply sent once or dropped by age, with a log line
    states = Counter(state for (state,) in query(tmp_path, "select state from outbox"))
    assert set(states) <= {"sent", "expired"}, states
    assert states["expired"] >= 10 and "dropped" in log.read_text("utf-8")
    accepted = [s for s in await sends(client) if s["method"] == "sendMessage"]
    answered = Counter((s["chat_id"], s["reply_to"]) for s in accepted)
    assert max(answered.values()) == 1  # nothing sent twice
    assert len(accepted) == states["sent"]  # and nothing sent that the outbox did not record
    assert sum(1 for s in accepted if s["chat_id"] == str(BUSY["id"])) == 20
    quiet = ", ".join(f"'{chat['id']}'" for chat in QUIET)
    assert count(tmp_path, f"select count(*) from outbox where chat_id in ({quiet})") == 20
    await client.aclose()
