"""Ingest throughput: messages through dispatch + storage (msg/s, p50/p99 latency).

Baseline in the same run: a raw SQLAlchemy insert loop committing one CheckIn per message,
i.e. the least the storage layer can cost. Run: ``python -m bench.ingest_bench [--pg URL]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

from bench.machine import describe, percentiles
from bench.search_bench import pg_database
from bot.app import build_app
from bot.config import parse_config
from bot.model import ChatRef, Incoming, UserRef
from bot.runner import warm_up_process
from storage.db import Database
from storage.identity import ensure_group, ensure_member
from storage.models import CheckIn

CHAT = ChatRef("console", "console-group", "group", "bench")
TEXTS = [
    "本周学习了词向量的三种：word2vec，fasttext，elmo，并做了笔记",
    "复习了概率论：随机变量到底是什么？看了叶丙成老师的课程",
    "读了 YOLO v3 论文，理解了多尺度预测和 anchor 的设计",
    "正则化：L1 与 L2 的区别，以及为什么能防止过拟合",
]


def _config(url: str):  # type: ignore[no-untyped-def]
    return parse_config(
        {
            "database": {"url": url},
            "limits": {"messages_per_minute": 10**9, "burst": 10**9},
            "web": {"enabled": False},
        }
    )


async def _through_dispatch(url: str, count: int) -> tuple[float, list[float], float]:
    """(replies per second, latencies, seconds the search indexer needed afterwards)."""
    app = build_app(_config(url))
    samples: list[float] = []
    start = time.perf_counter()
    for i in range(count):
        incoming = Incoming(
            chat=CHAT,
            sender=UserRef("console", f"u{i % 500}", f"成员{i % 500}"),
            text=f"/checkin {TEXTS[i % len(TEXTS)]} #{i}",
            message_id=f"bench-{i}",
        )
        t0 = time.perf_counter()
        replies = await app.dispatcher.dispatch(incoming)
        samples.append((time.perf_counter() - t0) * 1000)
        assert replies, "check-in produced no reply"
    elapsed = time.perf_counter() - start
    # the index work left the reply path, not the bot: time the worker's catch-up as well
    assert app.indexer is not None
    t0 = time.perf_counter()
    await app.indexer.drain()  # what the worker had not done during the run (it took turns)
    index_s = time.perf_counter() - t0
    assert app.indexer.indexed == count, f"indexed {app.indexer.indexed} of {count}"
    app.db.dispose()
    return count / elapsed, samples, index_s


def _raw_inserts(url: str, count: int) -> tuple[float, list[float]]:
    db = Database(url)
    with db.session() as session:
        group_id = ensure_group(session, "ml-club", "bench", "Asia/Shanghai").id
        member_ids = [ensure_member(session, "console", f"raw{i}").id for i in range(500)]
    samples: list[float] = []
    start = time.perf_counter()
    for i in range(count):
        t0 = time.perf_counter()
        with db.session() as session:
            session.add(
                CheckIn(group_id=group_id, member_id=member_ids[i % 500], text=TEXTS[i % 4])
            )
        samples.append((time.perf_counter() - t0) * 1000)
    elapsed = time.perf_counter() - start
    db.dispose()
    return count / elapsed, samples


def _report(label: str, rate: float, samples: list[float]) -> None:
    p = percentiles(samples)
    print(
        f"  {label:<32} {rate:8.0f} msg/s   p50 {p['p50']:6.2f} ms   "
        f"p99 {p['p99']:6.2f} ms   max {p['max']:7.2f} ms"
    )


def run(count: int, pg_url: str | None) -> None:
    print(f"ingest benchmark, {count} messages, on {describe()}")
    warm_up_process()  # as `studybot run` at start: jieba loaded, start-up objects frozen
    targets: list[tuple[str, str]] = []
    tmp = Path(tempfile.mkdtemp(prefix="studybot-bench-"))
    targets.append(("sqlite", f"sqlite:///{tmp / 'dispatch.db'}"))
    if pg_url:
        targets.append(("postgres", pg_url))
    for name, url in targets:
        print(f"[{name}]")
        if name == "sqlite":
            _measure(f"sqlite:///{tmp / 'raw.db'}", url, count)
            continue
        with pg_database(url) as raw_url, pg_database(url) as dispatch_url:
            _measure(raw_url, dispatch_url, count)


def _measure(raw_url: str, dispatch_url: str, count: int) -> None:
    rate, samples = _raw_inserts(raw_url, count)
    _report("baseline: raw SQLAlchemy insert", rate, samples)
    rate, samples, index_s = asyncio.run(_through_dispatch(dispatch_url, count))
    _report("studybot dispatch + storage", rate, samples)
    total = count / (count / rate + index_s)
    print(f"  search index caught up {index_s:.2f} s after the last reply; "
          f"replies + indexing together {total:.0f} msg/s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--pg", default=os.environ.get("STUDYBOT_TEST_PG_URL"))
    args = parser.parse_args()
    run(args.count, args.pg)


if __name__ == "__main__":
    main()
