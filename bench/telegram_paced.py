"""Reply latency in a busy group: what the batch window costs, measured through the emulator.

``telegram_bench`` measures throughput (a burst posted as fast as possible). This one measures
latency at a steady rate below capacity: 20 members post ``/checkin`` at ``--rates`` messages
per second while a reader polls the emulator every 5 ms and timestamps each bot message; the
bot answers in order, so the n-th reply answers the n-th message. Latency = reply seen - post
sent (the poll adds 0-5 ms to every bot alike). Bots, each on a fresh emulator per run:

(a) the bare PTB echo bot (reference), (b) ours with the default ``telegram.batch_window_ms``,
(c) ours with the window off. Not a target: figures for the README.

Run: ``python -m bench.telegram_paced [--rates 50 150] [--count 300] [--rounds 3]``
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

import httpx

from bench.machine import describe, percentiles
from bench.search_bench import entry_text, sentences
from bench.telegram_bench import GROUP, Stopper, new_token, start_echo, start_ours
from bot.runner import warm_up_process
from tests.e2e.telegram_emulator import EmulatorServer, TelegramUser, emulator_available


async def paced(api: str, token: str, rate: float, count: int) -> list[float]:
    """Reply latencies (ms) of ``count`` check-ins posted at ``rate`` per second."""
    rng = random.Random(5)
    pool = sentences()
    texts = [f"/checkin {entry_text(rng, pool)[:200]}" for _ in range(count + 5)]
    async with httpx.AsyncClient(base_url=api, timeout=30) as client:
        users = [TelegramUser(client, token, 100 + i, f"同学{i}") for i in range(20)]
        for text in texts[count:]:  # warm-up (jieba, connections, first member rows)
            await users[0].say(text, GROUP)
            await users[0].replies(GROUP, within=30)
        sent: list[float] = []
        seen: list[float] = []

        async def read() -> None:
            while len(seen) < count:
                response = await client.post(
                    "/getUpdates", json={"token": token, "chatId": GROUP["id"]}
                )
                now = time.perf_counter()
                seen.extend(now for _ in response.json()["result"])
                await asyncio.sleep(0.005)

        reader = asyncio.create_task(read())
        start = time.perf_counter()
        for i in range(count):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            sent.append(time.perf_counter())
            await users[i % 20].say(texts[i], GROUP)
        await asyncio.wait_for(reader, timeout=120)
    return [(got - posted) * 1000 for posted, got in zip(sent, seen, strict=True)]


async def run(rates: list[float], count: int, rounds: int) -> None:
    warm_up_process()
    tmp = tempfile.TemporaryDirectory()
    bots: dict[str, Callable[[str, str], Awaitable[Stopper]]] = {
        "(a) bare PTB echo bot": start_echo,
        "(b) studybot, default batch window": partial(start_ours, tmp=Path(tmp.name)),
        "(c) studybot, batch_window_ms: 0": partial(start_ours, tmp=Path(tmp.name), window_ms=0),
    }
    with tmp:
        for rate in rates:
            print(f"[{count} check-ins at {rate:g} msg/s from 20 members; {rounds} rounds]")
            results: dict[str, list[dict[str, float]]] = {name: [] for name in bots}
            names = list(bots)
            for round_ in range(rounds):
                for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                    server = EmulatorServer()
                    server.start()
                    try:
                        token = new_token()
                        stop = await bots[name](server.api, token)
                        try:
                            results[name].append(
                                percentiles(await paced(server.api, token, rate, count))
                            )
                        finally:
                            await stop()
                    finally:
                        server.stop()
            for name, runs in results.items():
                p50 = statistics.median(r["p50"] for r in runs)
                p95 = statistics.median(r["p95"] for r in runs)
                worst = max(r["max"] for r in runs)
                print(f"  {name:<36} reply latency p50 {p50:6.1f} ms, p95 {p95:6.1f} ms, "
                      f"max {worst:6.1f} ms (medians of {rounds})")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[50.0, 150.0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"Telegram reply latency at a steady rate on {describe()}")
    if not emulator_available():
        print("  skipped: node or tests/peers/node_modules missing (run `make peers`)")
        return
    asyncio.run(run(args.rates, args.count, args.rounds))


if __name__ == "__main__":
    main()
