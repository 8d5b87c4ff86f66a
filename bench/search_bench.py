"""Search latency over 100k entries (target: p95 < 50 ms on the 2-core reference machine).

Builds a group of mixed Chinese/English ML entries (check-ins, questions, answers, papers,
resources) from the seed sentences in tests/data with random variations, indexes them with
``rebuild_index`` (index build rate), measures the per-message cost of an ORM insert (the
flush hook queues it) and of the worker's catch-up (segmenting + index rows), then times ~500 /search queries (words, compounds, English terms,
#tags, type filters, later pages, misses) and ``similar_questions``.

Run: ``python -m bench.search_bench [--entries 100000] [--queries 500] [--pg URL]``
(``STUDYBOT_TEST_PG_URL`` also enables the PostgreSQL run).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import tempfile
import time
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

from bench.machine import describe, percentiles, rss_mb
from storage.db import Database
from storage.models import Answer, CheckIn, Group, Member, Paper, Question, Resource, Tag
from storage.models import resource_tags as resource_tags_table
from storage.search.drain import index_all_pending
from storage.search.find import search, similar_questions
from storage.search.index import rebuild_index
from storage.search.text import ML_WORDS, warm_up
from tests.support.databases import temporary_pg_database

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
ENGLISH = (
    "YOLO BERT word2vec Transformer ResNet GAN LSTM dropout PyTorch TensorFlow CUDA ViT CLIP "
    "GPT LoRA Adam SGD XGBoost sklearn pandas numpy Keras JAX ONNX TensorRT FPN U-Net DDPM VAE "
    "RLHF PPO DQN AlphaGo NeRF SAM DETR Faster-RCNN MaskRCNN EfficientNet MobileNet GNN GCN"
).split()
OPENINGS = [
    "本周学习了",
    "今天复习",
    "读论文时遇到",
    "整理了笔记：",
    "做实验发现",
    "请教大家：",
    "看了视频讲",
]
TAGS = ["nlp", "cv", "rl", "math", "python", "paper", "tools", "目标检测", "深度学习", "入门"]
START = datetime(2021, 1, 4, tzinfo=UTC)


def sentences() -> list[str]:
    """Sentences of the seed lists (split on Chinese/English full stops)."""
    pool: list[str] = []
    for path in sorted(DATA.glob("resources-*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            for part in re.split(r"[。！？!?]\s*|\.\s+", line):
                part = part.strip(" -*")
                if 12 <= len(part) <= 300:
                    pool.append(part)
    return pool


def entry_text(rng: random.Random, pool: list[str]) -> str:
    words = [*rng.sample(ML_WORDS, 2), rng.choice(ENGLISH)]
    body = "。".join(rng.sample(pool, rng.randint(1, 3)))
    return f"{rng.choice(OPENINGS)}{words[0]}和{words[1]}，顺便看了 {words[2]}：{body}"


def populate(db: Database, entries: int, seed: int = 7) -> None:
    """Bulk-insert ``entries`` rows (no index sync: Core inserts bypass the ORM)."""
    rng, pool = random.Random(seed), sentences()
    with db.session() as session:
        group = Group(slug="bench", name="bench")
        session.add(group)
        session.flush()
        members = [
            Member(platform="console", platform_user_id=f"u{i}", display_name=f"成员{i}")
            for i in range(500)
        ]
        session.add_all(members)
        tags = [Tag(name=name) for name in TAGS]
        session.add_all(tags)
        session.flush()
        gid, mids, tids = group.id, [m.id for m in members], [t.id for t in tags]
    counts = {
        "checkin": int(entries * 0.6),
        "question": int(entries * 0.15),
        "answer": int(entries * 0.1),
        "paper": int(entries * 0.07),
    }
    counts["resource"] = entries - sum(counts.values())

    def when(i: int) -> datetime:
        return START + timedelta(minutes=25 * i)

    with db.engine.begin() as conn:
        rows: list[dict[str, Any]] = [
            {"group_id": gid, "member_id": rng.choice(mids), "text": entry_text(rng, pool),
             "created_at": when(i)}
            for i in range(counts["checkin"])
        ]  # fmt: skip
        conn.execute(insert(CheckIn), rows)
        rows = [
            {"group_id": gid, "number": n + 1, "member_id": rng.choice(mids),
             "text": entry_text(rng, pool)[:120] + "？", "created_at": when(n)}
            for n in range(counts["question"])
        ]  # fmt: skip
        conn.execute(insert(Question), rows)
        qids = [r[0] for r in conn.execute(text("SELECT id FROM questions"))]
        rows = [
            {"question_id": rng.choice(qids), "member_id": rng.choice(mids),
             "text": entry_text(rng, pool), "created_at": when(i)}
            for i in range(counts["answer"])
        ]  # fmt: skip
        conn.execute(insert(Answer), rows)
        rows = [
            {"group_id": gid, "member_id": rng.choice(mids), "url": f"https://arxiv.org/abs/{i}",
             "url_key": f"arxiv:{i}", "arxiv_id": str(i), "title": rng.choice(pool)[:80],
             "summary": entry_text(rng, pool), "one_liner": rng.choice(pool)[:60],
             "created_at": when(i)}
            for i in range(counts["paper"])
        ]  # fmt: skip
        conn.execute(insert(Paper), rows)
        rows = [
            {"group_id": gid, "member_id": rng.choice(mids), "url": f"https://blog.example.org/{i}",
             "text": entry_text(rng, pool), "created_at": when(i)}
            for i in range(counts["resource"])
        ]  # fmt: skip
        conn.execute(insert(Resource), rows)
        rids = [r[0] for r in conn.execute(text("SELECT id FROM resources"))]
        links = {(rid, tid) for rid in rids for tid in rng.sample(tids, rng.randint(1, 3))}
        conn.execute(
            insert(resource_tags_table), [{"resource_id": r, "tag_id": t} for r, t in links]
        )


def queries(count: int, seed: int = 11) -> list[str]:
    """A mix like members type: words, compounds, English, #tags, type filters, pages, misses."""
    rng = random.Random(seed)
    out: list[str] = []
    makers = [
        lambda: rng.choice(ML_WORDS),
        lambda: f"{rng.choice(ML_WORDS)} {rng.choice(ENGLISH)}",
        lambda: rng.choice(ENGLISH).lower(),
        lambda: f"{rng.choice(ML_WORDS)} #{rng.choice(TAGS)}",
        lambda: f"{rng.choice(ML_WORDS)} type:{rng.choice(['论文', '问题', '资源', '心得'])}",
        lambda: f"{rng.choice(ML_WORDS)} page {rng.randint(2, 20)}",
        lambda: f"#{rng.choice(TAGS)}",
        lambda: f"{rng.choice(ML_WORDS)} {rng.choice(ML_WORDS)} {rng.choice(ENGLISH)}",
        lambda: "火锅底料 配方",
        lambda: f'"{rng.choice(ENGLISH)}" AND (NEAR -x*)',
    ]
    while len(out) < count:
        out.append(rng.choice(makers)())
    return out


def time_queries(db: Database, qs: list[str]) -> tuple[list[float], list[float]]:
    with db.session() as session:
        gid = session.scalar(text("SELECT id FROM groups WHERE slug = 'bench'"))
    samples, similar = [], []
    for q in qs:
        t0 = time.perf_counter()
        with db.session() as session:
            search(session, gid, q)
        samples.append((time.perf_counter() - t0) * 1000)
    rng = random.Random(3)
    for _ in range(max(50, len(qs) // 5)):
        question = (
            f"{rng.choice(ML_WORDS)}和{rng.choice(ML_WORDS)}有什么区别？{rng.choice(ENGLISH)}"
        )
        t0 = time.perf_counter()
        with db.session() as session:
            similar_questions(session, gid, question)
        similar.append((time.perf_counter() - t0) * 1000)
    return samples, similar


def sync_cost(db: Database, count: int = 1000) -> list[float]:
    """Per-message cost of one ORM check-in insert + commit, flush hook (queueing) included."""
    rng, pool = random.Random(5), sentences()
    with db.session() as session:
        gid = session.scalar(text("SELECT id FROM groups WHERE slug = 'bench'"))
        mid = session.scalar(text("SELECT min(id) FROM members"))
    samples = []
    for _ in range(count):
        t0 = time.perf_counter()
        with db.session() as session:
            session.add(CheckIn(group_id=gid, member_id=mid, text=entry_text(rng, pool)))
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


def fmt(name: str, samples: list[float]) -> str:
    p = percentiles(samples)
    return (
        f"  {name:<26} n={len(samples):<5} p50 {p['p50']:6.1f} ms  p95 {p['p95']:6.1f} ms  "
        f"p99 {p['p99']:6.1f} ms  max {p['max']:6.1f} ms"
    )


def run(label: str, url: str, entries: int, nqueries: int) -> None:
    db = Database(url)
    t0 = time.perf_counter()
    populate(db, entries)
    inserted = time.perf_counter() - t0
    t0 = time.perf_counter()
    with db.session() as session:
        indexed = rebuild_index(session)
    build = time.perf_counter() - t0
    with db.engine.begin() as conn:  # what autovacuum / PRAGMA optimize do in production
        conn.execute(text("ANALYZE"))
    print(f"\n[{label}] {entries} entries inserted in {inserted:.1f} s")
    print(f"  index build (rebuild_index): {indexed} entries in {build:.1f} s = "
          f"{indexed / build:,.0f} entries/s")  # fmt: skip
    print(fmt("insert + queue for index", sync_cost(db)))
    t0 = time.perf_counter()
    caught_up = index_all_pending(db.session)  # what the bot's worker does after the messages
    took = time.perf_counter() - t0
    print(f"  index catch-up (worker): {caught_up} queued entries in {took * 1000:.0f} ms = "
          f"{took * 1000 / max(caught_up, 1):.2f} ms each")  # fmt: skip
    samples, similar = time_queries(db, queries(nqueries))
    print(fmt("search()", samples))
    print(fmt("similar_questions()", similar))
    p95 = percentiles(samples)["p95"]
    print(f"  target p95 < 50 ms: {'OK' if p95 < 50 else 'MISSED'} ({p95:.1f} ms)")
    db.dispose()


def pg_database(server: str) -> AbstractContextManager[str]:
    """A temporary PostgreSQL database for a bench run (dropped afterwards)."""
    return temporary_pg_database(server, prefix="studybot_bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--pg", default=os.environ.get("STUDYBOT_TEST_PG_URL"))
    args = parser.parse_args()
    print(f"search bench on {describe()}")
    t0 = time.perf_counter()
    warm_up()
    print(f"jieba warm-up: {time.perf_counter() - t0:.2f} s")
    with tempfile.TemporaryDirectory() as tmp:
        run("SQLite FTS5", f"sqlite:///{tmp}/bench.db", args.entries, args.queries)
    if args.pg:
        with pg_database(args.pg) as url:
            run("PostgreSQL tsvector", url, args.entries, args.queries)
    print(f"\nRSS {rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
