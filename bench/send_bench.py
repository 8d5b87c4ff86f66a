"""Sending at scale (issue #24): the real adapter against the emulator with Telegram's limits.

``python -m bench.send_bench`` runs three scenarios through ``tests/peers/telegram_server.mjs
--limits`` (a 429 with retry_after past 30 sends/s per bot and 20 messages/min per group), with
the product's send stage on (``telegram.rate_limiter: true``):

1. **rush**: 40 members each post one ``#打卡`` within ``--rush-seconds`` into one group, for
   each acknowledgment mode (react, batch): bot messages in the group and the time until each
   member sees that their check-in counted (a reaction, or their name in the batch message).
2. **flood**: one group gets ``--flood-rate`` questions a second for ``--flood-seconds`` while
   ``--groups`` other groups each get one ``/help`` a second: those groups' reply latency,
   first without the flood (their idle latency), then with it.
3. **publish**: 100 groups' digests (3 parts each) sent at once, as at one cron fire, while
   members of 20 groups post ``/help``: reply latency of the members.

Latencies come from the emulator's own clock: a post's arrival to the accepted send that
answers it (``reply_parameters``), reacts to it, or names its member.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from bench.machine import describe, percentiles
from bot.adapters.telegram import TelegramAdapter
from bot.app import build_app
from bot.config import parse_config
from bot.model import ChatRef, Outgoing, Reply
from bot.runner import warm_up_process
from tests.e2e.telegram_emulator import EmulatorRequest, EmulatorServer, TelegramUser

GROUP = {"id": -100500, "type": "supergroup", "title": "ML自学者俱乐部"}


def group(index: int) -> dict[str, Any]:
    return {"id": -100600 - index, "type": "supergroup", "title": f"学习群 {index}"}


async def start_bot(api: str, tmp: Path, name: str, ack: str) -> tuple[TelegramAdapter, Any]:
    token = f"{abs(hash(name)) % 10**9}:bench-{name}-{time.time_ns()}"
    config = parse_config(
        {
            "database": {"url": f"sqlite:///{tmp / f'{name}.db'}"},
            "telegram": {"token": token, "ack": ack},
            "limits": {"messages_per_minute": 10**9, "burst": 10**9},
            "web": {"enabled": False},
            "groups": [{"slug": "ml-club", "chats": [
                {"platform": "telegram", "chat_id": chat}
                for chat in [GROUP["id"], *(group(i)["id"] for i in range(100))]]}],
        }
    )  # fmt: skip
    app = build_app(config)
    warm_up_process()
    adapter = TelegramAdapter(
        app.dispatcher,
        config,
        request=EmulatorRequest(connection_pool_size=64),  # PTB's default for a bot is 256
        get_updates_request=EmulatorRequest(),
        base_url=f"{api}/bot",
        poll_interval=0.005,
    )
    app.add_sender(adapter)
    await adapter.start()
    return adapter, app


async def stop_bot(adapter: TelegramAdapter, app: Any) -> None:
    await adapter.stop()
    if app.indexer is not None:
        await app.indexer.close()
    app.db.dispose()


async def emulator_log(client: httpx.AsyncClient, token: str) -> tuple[list[Any], list[Any]]:
    """(the users' posts, the bot's accepted sends/edits/reactions), emulator timestamps."""
    history = (await client.post("/getUpdatesHistory", json={"token": token})).json()["result"]
    posts = [h for h in history if "chat_id" not in h["message"]]
    sends = (await client.post("/getSends", json={"token": token})).json()["result"]
    return posts, sends


async def paced(count: int, seconds: float, post: Callable[[int], Awaitable[None]]) -> None:
    started = time.monotonic()
    for index in range(count):
        await asyncio.sleep(max(0.0, started + index * seconds / count - time.monotonic()))
        await post(index)


def summary(label: str, samples_ms: list[float], expected: int) -> str:
    p = percentiles(samples_ms)
    within5 = sum(1 for s in samples_ms if s <= 5000)
    return (
        f"{label}: {len(samples_ms)}/{expected} answered; p50 {p['p50']:.0f} ms, p90 "
        f"{sorted(samples_ms)[int(0.9 * (len(samples_ms) - 1))] if samples_ms else 0:.0f} ms, "
        f"p99 {p['p99']:.0f} ms, max {p['max']:.0f} ms; within 5 s: {within5}/{expected}"
    )


async def rush(api: str, tmp: Path, ack: str, seconds: float, settle: float) -> None:
    adapter, app = await start_bot(api, tmp, f"rush-{ack}", ack)
    client = httpx.AsyncClient(base_url=api, timeout=10)
    token = adapter.config.telegram.token
    assert token is not None
    members = [TelegramUser(client, token, 7000 + i, f"成员{i:02d}") for i in range(40)]
    try:
        await paced(40, seconds, lambda i: members[i].say(f"#打卡 第 {i} 周的笔记", GROUP))
        await asyncio.sleep(settle)
        posts, sends = await emulator_log(client, token)
    finally:
        await stop_bot(adapter, app)
        await client.aclose()
    messages = [
        s for s in sends if s["method"] == "sendMessage" and s["chat_id"] == str(GROUP["id"])
    ]
    edits = [s for s in sends if s["method"] == "editMessageText"]
    reactions = {s["message_id"]: s["time"] for s in sends if s["method"] == "setMessageReaction"}
    waits = []
    shown = sorted(messages + edits, key=lambda s: s["time"])
    for position, post in enumerate(sorted(posts, key=lambda p: p["time"]), start=1):
        name = post["message"]["from"]["first_name"]
        if ack == "react":
            seen = reactions.get(post["messageId"])
        else:  # named, or counted in 「等 N 人」 (N covers everyone who posted up to them)
            seen = next(
                (
                    s["time"]
                    for s in shown
                    if s["time"] >= post["time"]
                    and s["text"]
                    and (name in s["text"] or covers(s["text"], position))
                ),
                None,
            )
        if seen is not None:
            waits.append(float(seen - post["time"]))
    print(
        f"rush ({ack}): 40 check-ins in {seconds:.0f} s -> {len(messages)} bot messages in the "
        f"group, {len(edits)} edits, {len(reactions)} reactions"
    )
    print("  " + summary("acknowledged", waits, 40))


def covers(text: str, position: int) -> bool:
    """Whether a batch message 「… 等 N 人的打卡」 counts at least ``position`` members."""
    found = re.search(r"等 (\d+) 人", text)
    return found is not None and int(found[1]) >= position


def answered(posts: list[Any], sends: list[Any], chats: set[str]) -> list[float]:
    """Per post into ``chats``: ms until the send answering it (reply_parameters)."""
    first: dict[tuple[str, int], int] = {}
    for send in sends:
        if send["method"] == "sendMessage" and send["reply_to"] is not None:
            first.setdefault((send["chat_id"], send["reply_to"]), send["time"])
    waits = []
    for post in posts:
        chat = str(post["message"]["chat"]["id"])
        if chat in chats and (chat, post["messageId"]) in first:
            waits.append(float(first[(chat, post["messageId"])] - post["time"]))
    return waits


async def flood(api: str, tmp: Path, rate: float, seconds: float, groups: int) -> None:
    adapter, app = await start_bot(api, tmp, "flood", "react")
    client = httpx.AsyncClient(base_url=api, timeout=10)
    token = adapter.config.telegram.token
    assert token is not None
    flooders = [TelegramUser(client, token, 8000 + i, f"刷屏{i}") for i in range(10)]
    others = [TelegramUser(client, token, 8100 + i, f"成员{i}") for i in range(groups)]
    total = int(rate * seconds)

    async def flood_post(i: int) -> None:
        await flooders[i % 10].say(f"/ask 第 {i} 个问题", GROUP)

    async def other_post(i: int) -> None:
        await others[i % groups].say("/help", group(i % groups))

    try:
        await asyncio.gather(
            paced(total, seconds, flood_post), paced(groups * int(seconds), seconds, other_post)
        )
        await asyncio.sleep(2)
        posts, sends = await emulator_log(client, token)
    finally:
        await stop_bot(adapter, app)
        await client.aclose()
    chats = {str(group(i)["id"]) for i in range(groups)}
    waits = answered(posts, sends, chats)
    busy = [s for s in sends if s["chat_id"] == str(GROUP["id"]) and s["method"] == "sendMessage"]
    print(
        f"flood: {total} questions in {seconds:.0f} s into one group ({len(busy)} answered there "
        f"within its 20/min), {groups} other groups posting 1 msg/s"
    )
    print("  " + summary("other groups' replies", waits, groups * int(seconds)))


async def publish(api: str, tmp: Path, groups: int, members: int, seconds: float) -> None:
    adapter, app = await start_bot(api, tmp, "publish", "react")
    client = httpx.AsyncClient(base_url=api, timeout=10)
    token = adapter.config.telegram.token
    assert token is not None
    people = [TelegramUser(client, token, 9000 + i, f"成员{i}") for i in range(members)]
    part = "本周学习心得 " + "很有收获。" * 300

    async def digest(index: int) -> None:
        chat = ChatRef("telegram", str(group(index)["id"]), "group")
        for number in range(3):  # parts in order, like the publisher
            await adapter.send(Outgoing(chat, Reply(f"第 {number + 1} 部分\n{part}")))

    async def member_post(i: int) -> None:
        await people[i % members].say("/help", group(i % members))

    try:
        started = time.monotonic()
        publishing = asyncio.gather(*(digest(i) for i in range(groups)))
        await paced(members * int(seconds), seconds, member_post)
        await publishing
        took = time.monotonic() - started
        await asyncio.sleep(1)
        posts, sends = await emulator_log(client, token)
    finally:
        await stop_bot(adapter, app)
        await client.aclose()
    chats = {str(group(i)["id"]) for i in range(members)}
    waits = answered(posts, sends, chats)
    print(
        f"publish: {groups} groups x 3 digest parts at once ({took:.1f} s to send all), "
        f"members of {members} groups posting /help"
    )
    print("  " + summary("members' replies", waits, members * int(seconds)))


async def run(args: argparse.Namespace) -> None:
    server = EmulatorServer()
    server.start(limits=True)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            if "rush" in args.only:
                for ack in ("react", "batch"):
                    await rush(server.api, Path(tmp), ack, args.rush_seconds, 8)
            if "flood" in args.only:  # the same traffic without the flood first: idle latency
                await flood(server.api, Path(tmp), 0, args.flood_seconds, args.groups)
                await flood(server.api, Path(tmp), args.flood_rate, args.flood_seconds, args.groups)
            if "publish" in args.only:
                await publish(server.api, Path(tmp), 100, 20, args.publish_seconds)
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rush-seconds", type=float, default=40)
    parser.add_argument("--flood-rate", type=float, default=10)
    parser.add_argument("--flood-seconds", type=float, default=15)
    parser.add_argument("--groups", type=int, default=10)
    parser.add_argument("--publish-seconds", type=float, default=10)
    parser.add_argument("--only", default="rush,flood,publish")
    args = parser.parse_args(argv)
    print(f"send bench on {describe()}")
    asyncio.run(run(args))
    print(json.dumps({"done": True}))


if __name__ == "__main__":
    main()
