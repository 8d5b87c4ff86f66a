"""Digest and web archive over 5 years of a 500-member group (~130k check-ins).

Loads 260 weeks of check-ins, questions, answers, papers and resources (seed sentences from
tests/data, Chinese + English) with bulk Core ``insert()`` batches, plus 260 published
digest issues. Bulk SQL bypasses the search-index hook; this bench does not search, so the
index is left empty unless ``--index`` asks for ``rebuild_index`` (timed).

Measures (targets on the 2-core reference machine):

- build + every render (Markdown, HTML page, Telegram parts, WeChat parts) of the busiest
  week: < 1 s;
- the archive index page listing 260 issues, served over real HTTP by ``bot.web.start_web``
  (port 0): < 2 s; also ``/feed.xml`` and one issue page.

Run: ``python -m bench.digest_bench [--weeks 260] [--members 500] [--pg URL] [--index]``
(``STUDYBOT_TEST_PG_URL`` also enables the PostgreSQL run).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy import func, insert, select, text

from bench.machine import describe, rss_mb
from bench.search_bench import ENGLISH, entry_text, pg_database, sentences
from bot.app import App, build_app
from bot.config import parse_config
from bot.web import start_web
from digest.build import build_digest
from digest.publish_parts import render_parts
from digest.render import render_html, render_markdown, render_telegram, render_wechat
from storage.models import (
    Answer,
    CheckIn,
    DigestIssue,
    Group,
    Member,
    Paper,
    Question,
    Resource,
)
from storage.search.index import rebuild_index

SLUG = "ml-club"
# Sunday 20:00 Asia/Shanghai (the default cron "0 20 * * sun") is 12:00 UTC.
FIRST_END = datetime(2021, 1, 10, 12, 0, tzinfo=UTC)
BATCH = 5000
TARGET_DIGEST_S = 1.0
TARGET_INDEX_S = 2.0


def bench_config(url: str) -> Any:
    return parse_config(
        {
            "database": {"url": url},
            "groups": [{"slug": SLUG, "name": "ML自学者俱乐部", "timezone": "Asia/Shanghai"}],
            "web": {"enabled": True, "host": "127.0.0.1", "port": 0,
                    "base_url": "https://club.example.org"},
        }
    )  # fmt: skip


def _chunks(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [rows[i : i + BATCH] for i in range(0, len(rows), BATCH)]


def weekly_volume(weeks: int, rng: random.Random) -> list[float]:
    """Relative activity per week: growth, holiday dips, and one exam-season peak (3x)."""
    out = []
    for w in range(weeks):
        base = 0.6 + 0.8 * w / max(1, weeks - 1)
        if w % 52 in (4, 5, 30):  # Spring Festival, summer holiday
            base *= 0.4
        out.append(base * rng.uniform(0.85, 1.15))
    peak = (weeks * 3) // 4
    out[peak] *= 3.0
    return out


def populate(app: App, weeks: int, members: int, seed: int = 5) -> dict[str, int]:
    """Bulk-load the group; returns row counts. One transaction, Core inserts in batches."""
    rng, pool = random.Random(seed), sentences()
    volume = weekly_volume(weeks, rng)
    scale = 130_000 * weeks / 260 / sum(volume)
    counts: dict[str, int] = {}
    with app.db.session() as session:
        group = Group(slug=SLUG, name="ML自学者俱乐部", timezone="Asia/Shanghai")
        session.add(group)
        session.flush()
        gid = group.id
        session.execute(
            insert(Member),
            [{"platform": "telegram" if i % 3 else "wechat", "platform_user_id": f"u{i}",
              "display_name": f"{rng.choice('大小阿老')}{rng.choice(ENGLISH)}{i}",
              "joined_at": FIRST_END - timedelta(weeks=1)} for i in range(members)],
        )  # fmt: skip
        mids = list(session.scalars(select(Member.id)))
    start = FIRST_END - timedelta(weeks=1)

    def moment(week: int) -> datetime:
        return start + timedelta(weeks=week, seconds=rng.randrange(7 * 86400 - 60))

    checkins: list[dict[str, Any]] = []
    questions: list[dict[str, Any]] = []
    papers: list[dict[str, Any]] = []
    resources: list[dict[str, Any]] = []
    qweeks: list[int] = []
    for w, v in enumerate(volume):
        for _ in range(round(v * scale)):
            checkins.append({"group_id": gid, "member_id": rng.choice(mids),
                             "text": entry_text(rng, pool), "created_at": moment(w)})  # fmt: skip
        for _ in range(round(v * 15)):
            qweeks.append(w)
            questions.append({"group_id": gid, "number": len(questions) + 1,
                              "member_id": rng.choice(mids), "status": "open",
                              "text": entry_text(rng, pool)[:140] + "？",
                              "created_at": moment(w)})  # fmt: skip
        for _ in range(round(v * 8)):
            n = len(papers)
            papers.append({"group_id": gid, "member_id": rng.choice(mids),
                           "url": f"https://arxiv.org/abs/{2101 + n // 9000}.{n % 9000:05d}",
                           "url_key": f"arxiv:{n}", "arxiv_id": f"{n}",
                           "code_url": f"https://github.com/example/repo{n}" if n % 3 else None,
                           "title": rng.choice(pool)[:90], "summary": entry_text(rng, pool),
                           "one_liner": rng.choice(pool)[:60], "created_at": moment(w)})  # fmt: skip
        for _ in range(round(v * 20)):
            resources.append({"group_id": gid, "member_id": rng.choice(mids),
                              "url": f"https://blog.example.org/{len(resources)}",
                              "text": entry_text(rng, pool), "created_at": moment(w)})  # fmt: skip
    with app.db.engine.begin() as conn:
        for model, rows in ((CheckIn, checkins), (Question, questions), (Paper, papers),
                            (Resource, resources)):  # fmt: skip
            for chunk in _chunks(rows):
                conn.execute(insert(model), chunk)
        qids = [r[0] for r in conn.execute(select(Question.id).order_by(Question.id))]
        answers, best = [], []
        for qid, w in zip(qids, qweeks, strict=True):
            for k in range(rng.choice((0, 1, 2, 2, 3, 4))):
                answers.append({"question_id": qid, "member_id": rng.choice(mids),
                                "text": entry_text(rng, pool),
                                "created_at": moment(min(weeks - 1, w + k // 2))})  # fmt: skip
        for chunk in _chunks(answers):
            conn.execute(insert(Answer), chunk)
        first = dict(
            conn.execute(
                select(Answer.question_id, func.min(Answer.id)).group_by(Answer.question_id)
            ).all()
        )
        best = [{"q": q, "a": a} for q, a in first.items() if q % 2]
        for chunk in _chunks(best):
            conn.execute(
                text("UPDATE questions SET status = 'answered', best_answer_id = :a "
                     "WHERE id = :q"),
                chunk,
            )  # fmt: skip
        conn.execute(
            insert(DigestIssue),
            [{"group_id": gid, "number": n + 1, "period_start": start + timedelta(weeks=n),
              "period_end": start + timedelta(weeks=n + 1), "status": "draft",
              "featured": [], "dropped": []} for n in range(weeks)],
        )  # fmt: skip
    counts.update(checkins=len(checkins), questions=len(questions), answers=len(answers),
                  papers=len(papers), resources=len(resources), issues=weeks)  # fmt: skip
    return counts


def busiest_issue(app: App) -> DigestIssue:
    with app.db.session() as s:
        issues = list(s.scalars(select(DigestIssue).order_by(DigestIssue.number)))
        per_issue = []
        for issue in issues:
            n = s.scalar(
                select(func.count(CheckIn.id)).where(
                    CheckIn.created_at >= issue.period_start, CheckIn.created_at < issue.period_end
                )
            )
            per_issue.append((int(n or 0), issue))
        return max(per_issue, key=lambda pair: pair[0])[1]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def bench_digest(app: App, issue: DigestIssue, repeat: int) -> tuple[list[float], dict[str, Any]]:
    """Seconds per build + all renders of ``issue``; sizes of the last round."""
    rounds: list[float] = []
    info: dict[str, Any] = {}
    for _ in range(repeat):
        t0 = time.perf_counter()
        with app.db.session() as s:
            fresh = s.get(DigestIssue, issue.id)
            assert fresh is not None
            build_s, d = timed(lambda: build_digest(s, fresh, app.config))  # noqa: B023
        parts = {
            "markdown": timed(lambda: render_markdown(d)),  # noqa: B023
            "html": timed(lambda: render_html(d)),  # noqa: B023
            "telegram": timed(lambda: render_telegram(d)),  # noqa: B023
            "wechat": timed(lambda: render_wechat(d)),  # noqa: B023
            "telegram+text": timed(lambda: render_parts(d, "telegram", app.config)),  # noqa: B023
        }
        rounds.append(time.perf_counter() - t0)
        info = {
            "build": build_s,
            "papers": len(d.papers),
            "notes": len(d.notes),
            "questions": len(d.questions),
            "checkins": sum(len(n.texts) for n in d.notes),
            **{f"{k} s": v[0] for k, v in parts.items()},
            "telegram parts": len(parts["telegram"][1]),
            "wechat parts": len(parts["wechat"][1]),
            "html KB": len(parts["html"][1].encode()) / 1024,
            "markdown": parts["markdown"][1],
            "page": parts["html"][1],
        }
    return rounds, info


def publish_all(app: App, heavy: DigestIssue, page: str, markdown: str) -> None:
    """Mark every issue published with a page (the heavy week keeps its own)."""
    with app.db.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE digest_issues SET status = 'published', html = :html, markdown = :md, "
                "published_at = period_end"
            ),
            {"html": page, "md": markdown},
        )


async def bench_web(app: App, heavy_number: int, repeat: int) -> dict[str, list[float]]:
    handle = await start_web(app, port=0)
    samples: dict[str, list[float]] = {"index": [], "feed": [], "issue": []}
    paths = {"index": "/", "feed": "/feed.xml", "issue": f"/issues/{heavy_number}"}
    try:
        async with aiohttp.ClientSession(base_url=handle.url) as http:
            for _ in range(repeat):
                for name, path in paths.items():
                    t0 = time.perf_counter()
                    async with http.get(path) as response:
                        body = await response.text()
                        assert response.status == 200, (path, response.status)
                    samples[name].append(time.perf_counter() - t0)
                    if name == "index":
                        assert body.count('class="num"') >= 260 or heavy_number < 260
    finally:
        await handle()
    return samples


def run(
    label: str, url: str, weeks: int, members: int, repeat: int, index: bool
) -> dict[str, float]:
    app = build_app(bench_config(url))
    print(f"\n[{label}]")
    load_s, counts = timed(lambda: populate(app, weeks, members))
    total = sum(v for k, v in counts.items() if k != "issues")
    print(f"  loaded {total:,} entries in {load_s:.1f} s ({total / load_s:,.0f} rows/s): "
          + ", ".join(f"{k} {v:,}" for k, v in counts.items()))  # fmt: skip
    if index:
        with app.db.session() as s:
            index_s, n = timed(lambda: rebuild_index(s))
        print(f"  rebuild_index: {n:,} entries in {index_s:.1f} s")
    else:
        print("  search index not built (bulk SQL bypasses the hook; not needed here)")
    with app.db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    heavy = busiest_issue(app)
    rounds, info = bench_digest(app, heavy, repeat)
    print(f"  busiest week: issue {heavy.number}, {info['checkins']:,} check-ins by "
          f"{info['notes']} members, {info['papers']} papers, {info['questions']} questions "
          f"-> {info['telegram parts']} Telegram / {info['wechat parts']} WeChat messages, "
          f"HTML {info['html KB']:.0f} KB")  # fmt: skip
    print("  last round: build {build:.3f} s, markdown {markdown s:.3f} s, html {html s:.3f} s, "
          "telegram {telegram s:.3f} s, wechat {wechat s:.3f} s, telegram+text "
          "{telegram+text s:.3f} s".format(**info))  # fmt: skip
    first, median = rounds[0], statistics.median(rounds)
    ok = "OK" if median < TARGET_DIGEST_S else "MISSED"
    print(f"  digest build + all renders: first {first:.3f} s, median {median:.3f} s "
          f"(target < {TARGET_DIGEST_S:.0f} s: {ok})")  # fmt: skip
    publish_all(app, heavy, info["page"], info["markdown"])
    web = asyncio.run(bench_web(app, heavy.number, repeat))
    for name, values in web.items():
        print(f"  GET {name:<6} first {values[0] * 1000:7.1f} ms   median "
              f"{statistics.median(values) * 1000:7.1f} ms")  # fmt: skip
    index_median = statistics.median(web["index"])
    ok = "OK" if max(web["index"]) < TARGET_INDEX_S else "MISSED"
    print(f"  archive index of {weeks} issues: worst {max(web['index']):.3f} s "
          f"(target < {TARGET_INDEX_S:.0f} s: {ok})")  # fmt: skip
    app.db.dispose()
    return {"digest_s": median, "index_s": index_median, "index_worst_s": max(web["index"])}


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=260)
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--index", action="store_true", help="also rebuild the search index")
    parser.add_argument("--pg", default=os.environ.get("STUDYBOT_TEST_PG_URL"))
    args = parser.parse_args(argv)
    print(f"digest benchmark on {describe()}")
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = run("SQLite", f"sqlite:///{tmp}/digest.db", args.weeks,
                                args.members, args.repeat, args.index)  # fmt: skip
    if args.pg:
        with pg_database(args.pg) as url:
            results["postgres"] = run("PostgreSQL", url, args.weeks, args.members,
                                      args.repeat, args.index)  # fmt: skip
    print(f"\nRSS {rss_mb():.0f} MB")
    return results


if __name__ == "__main__":
    main()
