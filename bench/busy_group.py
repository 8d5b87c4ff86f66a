"""Member reply latency in a busy group: 20 members posting at a steady rate, p50/p99/max.

Each message goes the way a Telegram update does (:class:`bot.ingest.Ingest`: stored in
arrival order, replies queued in the outbox); its latency is from arrival until its replies
are queued. Scenarios: alone; while members ask for /stats (its chart is drawn as background
work); while the web archive serves 50 requests/s (index page and feed over real HTTP); while
a 16-part digest is published (an admin's ``/digest publish now`` one second in, over a week
of long notes, into a Telegram chat whose sender takes ``PART_SECONDS`` per part).
Target: p99 within 1.5x of alone, no reply later than 250 ms.
Run: ``python -m bench.busy_group [--pg URL] [--seconds 8]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

import aiohttp

from bench.ingest_bench import TEXTS
from bench.machine import describe, percentiles
from bench.search_bench import pg_database
from bot.app import build_app
from bot.config import parse_config
from bot.ingest import Ingest
from bot.model import ChatRef, Incoming, Outgoing, UserRef
from bot.runner import warm_up_process
from bot.web import start_web

CHAT = ChatRef("console", "console-group", "group", "bench")
MEMBERS = 20
RATE = 10.0  # messages per second from the whole group (each member every 2 s)
DIGEST_CHAT = "-100"  # the Telegram chat the digest goes to (a stand-in sender)
DIGEST_PARTS = 16
PART_SECONDS = 0.05  # the stand-in sender's time per part (a Bot API round trip)
LONG_NOTES = 100  # long notes in the week: enough for DIGEST_PARTS Telegram messages


def _config(url: str, data_dir: str, worker: bool = False):  # type: ignore[no-untyped-def]
    return parse_config(
        {
            "data_dir": data_dir,
            "admins": ["console:admin"],  # /stats is for admins
            "database": {"url": url, "worker_thread": worker},
            "limits": {"messages_per_minute": 10**9, "burst": 10**9},
            "web": {"enabled": True, "requests_per_minute": 10**9, "burst": 10**9},
            "groups": [
                {
                    "chats": [
                        {"platform": "console", "chat_id": CHAT.chat_id, "digest": False},
                        {"platform": "telegram", "chat_id": DIGEST_CHAT},
                    ]
                }
            ],
            "digest": {"budget": {"telegram_messages": DIGEST_PARTS}},
        }
    )


class PartSender:
    """Stands in for the Telegram adapter: each digest part takes ``PART_SECONDS``."""

    platform = "telegram"

    def __init__(self) -> None:
        self.parts = 0

    async def send(self, outgoing: Outgoing) -> list[str]:
        await asyncio.sleep(PART_SECONDS)
        self.parts += 1
        return [str(self.parts)]


async def _scenario(
    url: str,
    data_dir: str,
    seconds: float,
    name: str,
    *,
    stats: bool = False,
    web: bool = False,
    digest: bool = False,
    worker: bool = False,
) -> list[float]:
    app = build_app(_config(url, data_dir, worker))
    app.dispatcher.use_outbox("console")
    sender = PartSender()
    app.add_sender(sender)
    ingest = Ingest(app.dispatcher)
    samples: list[float] = []
    side: list[asyncio.Task[None]] = []
    handle = None
    if web:
        handle = await start_web(app, port=0)
        side.append(asyncio.create_task(_serve_load(handle.url, seconds)))

    async def one(i: int, text: str | None = None, *, record: bool = True) -> None:
        member = i % MEMBERS if i < 2 * 10**6 else i  # the week's long notes: many writers
        if text is None:
            text = "/stats" if stats and i % 20 == 0 and i < 10**6 else f"/checkin {TEXTS[i % len(TEXTS)]} #{i}"
        admin = text.startswith(("/stats", "/digest"))
        incoming = Incoming(
            chat=CHAT,
            sender=UserRef("console", "admin", "管理员")
            if admin
            else UserRef("console", f"m{member}", f"成员{member}"),
            text=text,
            message_id=f"{name}-{i}",
        )
        t0 = time.perf_counter()
        slot = ingest.reserve()
        ingest.fill(slot, incoming)
        await ingest.queue(slot, lambda: None)
        if record:
            samples.append((time.perf_counter() - t0) * 1000)

    for i in range(MEMBERS):  # warm up: every member known, caches filled
        await one(10**6 + i)
    if digest:  # a week of long notes: the digest fills DIGEST_PARTS Telegram messages
        body = "今天读了《深度学习》第六章，推导了反向传播并用 numpy 实现了一个两层网络。" * 12
        for i in range(LONG_NOTES):
            await one(2 * 10**6 + i, f"/checkin 第{i}篇长心得：{body}")
    samples.clear()
    tasks = []
    start = time.perf_counter()
    for i in range(int(seconds * RATE)):
        delay = start + i / RATE - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if digest and i == int(RATE):  # one second in: the admin publishes
            side.append(asyncio.create_task(one(3 * 10**6, "/digest publish now", record=False)))
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    for task in side:
        await task
    await app.dispatcher.tasks.idle()  # the charts drawn, the digest sent in the background
    if digest:
        print(f"    (digest: {sender.parts} parts sent)")
    if handle is not None:
        await handle()
    app.db.dispose()
    return samples


async def _serve_load(base: str, seconds: float, rate: float = 50.0) -> None:
    """``rate`` archive requests per second (index page and RSS feed, alternately)."""
    paths = ["/", "/feed.xml"]
    async with aiohttp.ClientSession(base_url=base) as session:
        requests: list[asyncio.Task[None]] = []

        async def get(path: str) -> None:
            async with session.get(path) as response:
                await response.read()

        start = time.perf_counter()
        for i in range(int(seconds * rate)):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            requests.append(asyncio.create_task(get(paths[i % 2])))
        await asyncio.gather(*requests, return_exceptions=True)


def _line(label: str, samples: list[float], alone_p99: float | None) -> str:
    p = percentiles(samples)
    ratio = f", p99 {p['p99'] / alone_p99:.2f}x alone" if alone_p99 else ""
    return (
        f"  {label:<28} p50 {p['p50']:6.1f} ms  p99 {p['p99']:6.1f} ms  "
        f"max {max(samples):6.1f} ms{ratio}"
    )


SCENARIOS: dict[str, tuple[str, dict[str, bool]]] = {
    "alone": ("alone", {}),
    "stats": ("while /stats draws charts", {"stats": True}),
    "web": ("while the archive serves 50/s", {"web": True}),
    "digest": ("while a 16-part digest publishes", {"digest": True}),
}


def _run(pg_url: str | None, seconds: float, only: list[str], worker: bool) -> None:
    db_label = "PostgreSQL" if pg_url else "SQLite"
    where = "a worker thread" if worker else "the event loop"
    print(
        f"{db_label} (transactions on {where}): {MEMBERS} members, {RATE:.0f} messages/s, "
        f"{seconds:.0f} s per scenario"
    )
    alone_p99 = None
    for n, key in enumerate(["alone", *[k for k in only if k != "alone"]]):
        label, kwargs = SCENARIOS[key]
        with tempfile.TemporaryDirectory() as tmp:
            url = pg_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
            samples = asyncio.run(_scenario(url, tmp, seconds, f"s{n}", worker=worker, **kwargs))
        print(_line(label, samples, alone_p99))
        if alone_p99 is None:
            alone_p99 = percentiles(samples)["p99"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=os.environ.get("STUDYBOT_TEST_PG_URL"))
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument(
        "--only", default=",".join(SCENARIOS), help="scenarios, e.g. digest,web (alone always)"
    )
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument(
        "--worker",
        choices=["on", "off", "both"],
        default="off",
        help="database.worker_thread (both: off, then on, for each database)",
    )
    args = parser.parse_args()
    workers = {"on": [True], "off": [False], "both": [False, True]}[args.worker]
    only = [key.strip() for key in args.only.split(",") if key.strip()]
    print(f"busy group bench on {describe()}")
    warm_up_process()
    for worker in workers:
        if not args.no_sqlite:
            _run(None, args.seconds, only, worker)
        if args.pg:
            with pg_database(args.pg) as url:
                _run(url, args.seconds, only, worker)


if __name__ == "__main__":
    main()
