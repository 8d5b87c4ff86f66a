"""Telegram path vs a bare python-telegram-bot echo bot, both through the npm emulator.

Both bots long-poll the same ``telegram-test-api`` emulator (tests/peers/telegram_server.mjs)
with the test-only :class:`tests.e2e.telegram_emulator.EmulatorRequest` and the same poll
interval. Simulated users post ``/checkin ...`` messages through the emulator's client API:

- one at a time (send, wait for the reply): median / p95 latency and messages/s;
- a burst (post all, then wait for every reply): messages/s.

(a) the baseline: a bare PTB ``Application`` whose only handler sends the text back;
(b) ours: :class:`bot.adapters.telegram.TelegramAdapter` with the real dispatcher and SQLite
storage handling /checkin, default config. Target: ours >= 80 % of the echo bot's throughput;
(c) ours with ``telegram.batch_window_ms: 0`` (no group commit during bursts), for comparison:
what the batch window buys in the same run (``--no-compare`` leaves it out).

Run: ``python -m bench.telegram_bench [--count 100] [--burst 200] [--no-compare] [--profile]``
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

from bench.machine import describe, percentiles
from bench.search_bench import entry_text, sentences
from bot.adapters.telegram import TelegramAdapter
from bot.app import build_app
from bot.config import parse_config
from bot.runner import warm_up_process
from tests.e2e.telegram_emulator import (
    EmulatorRequest,
    EmulatorServer,
    TelegramUser,
    emulator_available,
)

GROUP = {"id": -100888, "type": "supergroup", "title": "ML自学者俱乐部"}
POLL = 0.005
TARGET_RATIO = 0.8
Stopper = Callable[[], Awaitable[None]]


def new_token() -> str:
    return f"{uuid.uuid4().int % 10**9}:bench-{uuid.uuid4().hex}"


async def start_echo(api: str, token: str) -> Stopper:
    """The baseline: PTB polling the emulator, echoing every text message."""

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is not None and message.text:
            await context.bot.send_message(message.chat_id, message.text)

    application: Application[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{api}/bot")
        .request(EmulatorRequest())
        .get_updates_request(EmulatorRequest())
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo))
    await application.initialize()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=POLL)
    await application.start()

    async def stop() -> None:
        assert application.updater is not None
        await application.updater.stop()
        await application.stop()
        await application.shutdown()

    return stop


async def start_ours(api: str, token: str, tmp: Path, window_ms: int | None = None) -> Stopper:
    """The product: TelegramAdapter + dispatcher + SQLite storage (``window_ms``: override
    ``telegram.batch_window_ms``; None keeps the default)."""
    # a reply per /checkin, like the echo bot (a group's default is a reaction, see #24)
    telegram: dict[str, Any] = {"token": token, "rate_limiter": False, "ack": "reply"}
    if window_ms is not None:
        telegram["batch_window_ms"] = window_ms
    config = parse_config(
        {
            "database": {"url": f"sqlite:///{tmp / f'tg-{token[:6]}.db'}"},
            # like the echo bot, no flood limiter: in a group Telegram's 20 msg/min would be
            # the only thing measured
            "telegram": telegram,
            "limits": {"messages_per_minute": 10**9, "burst": 10**9},
            "web": {"enabled": False},
            "groups": [{"slug": "ml-club", "chats": [{"platform": "telegram",
                                                      "chat_id": GROUP["id"]}]}],
        }
    )  # fmt: skip
    app = build_app(config)
    warm_up_process()  # as `studybot run` does at start (jieba loaded, start-up objects frozen)
    adapter = TelegramAdapter(
        app.dispatcher,
        config,
        request=EmulatorRequest(),
        get_updates_request=EmulatorRequest(),
        base_url=f"{api}/bot",
        poll_interval=POLL,
        retry_delays=(0.05, 0.1),
    )
    app.add_sender(adapter)
    await adapter.start()

    async def stop() -> None:
        await adapter.stop()
        if app.indexer is not None:
            await app.indexer.close()
        app.db.dispose()

    return stop


async def measure(api: str, token: str, count: int, burst: int) -> dict[str, Any]:
    pool = sentences()
    import random

    rng = random.Random(9)
    texts = [f"/checkin {entry_text(rng, pool)[:200]}" for _ in range(count + burst + 5)]
    async with httpx.AsyncClient(base_url=api, timeout=30) as client:
        users = [TelegramUser(client, token, 100 + i, f"同学{i}") for i in range(20)]
        for text in texts[:5]:  # warm-up (jieba, connections, first member rows)
            await users[0].say(text, GROUP)
            await users[0].replies(GROUP, within=30)
        latencies: list[float] = []
        t0 = time.perf_counter()
        for i in range(count):
            began = time.perf_counter()
            await users[i % 20].say(texts[5 + i], GROUP)
            await users[i % 20].replies(GROUP, within=30)
            latencies.append((time.perf_counter() - began) * 1000)
        sequential = count / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        for i in range(burst):
            await users[i % 20].say(texts[5 + count + i], GROUP)
        posted = time.perf_counter() - t0
        await users[0].replies(GROUP, count=burst, within=120)
        burst_rate = burst / (time.perf_counter() - t0)
    return {"sequential": sequential, "latency": latencies, "burst": burst_rate,
            "post_s": posted}  # fmt: skip


async def bench(label: str, start: Callable[[str], Awaitable[Stopper]], api: str, count: int,
                burst: int, profile: bool) -> dict[str, Any]:  # fmt: skip
    token = new_token()
    stop = await start(token)
    profiler = cProfile.Profile() if profile else None
    try:
        if profiler:
            profiler.enable()
        result = await measure(api, token, count, burst)
    finally:
        if profiler:
            profiler.disable()
        await stop()
    p = percentiles(result["latency"])
    print(f"  {label:<36} one at a time {result['sequential']:6.1f} msg/s "
          f"(latency p50 {p['p50']:5.1f} ms, p95 {p['p95']:5.1f} ms)   "
          f"burst {result['burst']:6.1f} msg/s")  # fmt: skip
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
        print(out.getvalue())
    return result


async def run(count: int, burst: int, profile: bool, rounds: int = 9,
              compare: bool = True) -> dict[str, float]:  # fmt: skip
    """``rounds`` runs of each bot, rotating which goes first, each on a fresh emulator
    (the emulator slows down as it stores messages, so a shared one favours the first bot)."""
    tmp = tempfile.TemporaryDirectory()  # our bots' databases
    variants: dict[str, tuple[str, Callable[[str, str], Awaitable[Stopper]]]] = {
        "echo": ("(a) bare PTB echo bot", start_echo),
        "ours": ("(b) studybot /checkin (SQLite)", partial(start_ours, tmp=Path(tmp.name))),
    }
    if compare:
        variants["no_window"] = ("(c) studybot, batch_window_ms: 0",
                                 partial(start_ours, tmp=Path(tmp.name), window_ms=0))  # fmt: skip
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    warm_up_process()  # freeze start-up objects for both bots alike (they share this process)
    print(f"[{count} one at a time, then a burst of {burst}; poll interval {POLL} s; "
          f"{rounds} rounds, a fresh emulator per run]")  # fmt: skip
    names = list(variants)
    with tmp:
        for round_ in range(rounds):
            for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                label, start = variants[name]
                server = EmulatorServer()
                server.start()
                try:
                    result = await bench(label, partial(start, server.api), server.api, count, burst,
                                         profile and name == "ours" and round_ == 0)  # fmt: skip
                finally:
                    server.stop()
                runs[name].append(result)

    def median(name: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[name])

    echo_seq, ours_seq = median("echo", "sequential"), median("ours", "sequential")
    echo_burst, ours_burst = median("echo", "burst"), median("ours", "burst")
    seq_ratio, burst_ratio = ours_seq / echo_seq, ours_burst / echo_burst
    print(f"  medians: echo {echo_seq:.1f} / {echo_burst:.1f} msg/s, "
          f"ours {ours_seq:.1f} / {ours_burst:.1f} msg/s (one at a time / burst)")  # fmt: skip
    if compare:
        off_seq, off_burst = median("no_window", "sequential"), median("no_window", "burst")
        print(f"  without the batch window: {off_seq:.1f} / {off_burst:.1f} msg/s, burst "
              f"{off_burst / echo_burst:.0%} of the echo bot (not a target)")  # fmt: skip
    for name, ratio in (("one at a time", seq_ratio), ("burst", burst_ratio)):
        ok = "OK" if ratio >= TARGET_RATIO else "MISSED"
        print(f"  ours / echo, {name}: {ratio:.0%} (target >= {TARGET_RATIO:.0%}: {ok})")
    return {
        "echo_seq": echo_seq,
        "ours_seq": ours_seq,
        "echo_burst": echo_burst,
        "ours_burst": ours_burst,
        "ratio_seq": seq_ratio,
        "ratio_burst": burst_ratio,
        "ours_p50_ms": statistics.median(x for r in runs["ours"] for x in r["latency"]),
        "echo_p50_ms": statistics.median(x for r in runs["echo"] for x in r["latency"]),
    }


def main(argv: list[str] | None = None) -> dict[str, float] | None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=9, help="runs of each bot (medians)")
    parser.add_argument("--profile", action="store_true", help="cProfile our bot's first run")
    parser.add_argument("--no-compare", action="store_true",
                        help="leave out (c), our bot without the batch window")  # fmt: skip
    args = parser.parse_args(argv)
    print(f"Telegram benchmark on {describe()}")
    if not emulator_available():
        print("  skipped: node or tests/peers/node_modules missing (run `make peers`)")
        return None
    compare = not args.no_compare
    return asyncio.run(run(args.count, args.burst, args.profile, args.rounds, compare))


if __name__ == "__main__":
    main()
