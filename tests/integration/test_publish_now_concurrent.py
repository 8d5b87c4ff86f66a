"""``studybot digest publish --now`` run several times at once (#16): the trial's three
concurrent runs on PostgreSQL published extra issues holding only carried-over questions.
Exactly one issue is published; the runs that lose say so and publish nothing."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot.app import build_app
from storage.db import Database
from storage.models import DigestDelivery, DigestIssue
from tests.conftest import Chatter, FakeClock, make_config

ROOT = Path(__file__).resolve().parents[2]


def publish_now(config: Path, runs: int) -> list[subprocess.CompletedProcess[str]]:
    """``runs`` processes started together, each ``studybot digest publish --now``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STUDYBOT_", "TELEGRAM_"))}
    env["PYTHONPATH"] = str(ROOT)
    command = [sys.executable, "-m", "bot.cli", "--config", str(config), "digest", "publish"]
    procs = [
        subprocess.Popen(
            [*command, "--now"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
        )
        for _ in range(runs)
    ]
    done = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return done


@pytest.mark.slow
async def test_concurrent_publish_now_publishes_one_issue(tmp_path: Path, database_url: str):
    runs = 3 if database_url.startswith("postgresql") else 2
    # a week with a check-in and an open question (which a later issue would carry over)
    clock = FakeClock(datetime.now(UTC) - timedelta(minutes=1))
    app = build_app(make_config(tmp_path, database={"url": database_url}), clock=clock)
    try:
        chat = Chatter(app, clock)
        assert "已记录" in await chat.say("#打卡 读完了 Attention Is All You Need", user="u1")
        assert await chat.say("/ask 为什么 Transformer 要除以 根号 d？", user="u2")
    finally:
        app.db.dispose()
    config = tmp_path / "studybot.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "database": {"url": database_url},
                "web": {"enabled": False},
                "charts": {"separate_process": False},
            }
        ),
        encoding="utf-8",
    )
    results = publish_now(config, runs)
    for result in results:
        assert result.returncode == 0, result.stderr[-2000:]
    printed = "\n".join(result.stdout for result in results)
    assert printed.count("读完了 Attention Is All You Need") == 1, printed  # one digest sent
    # the others say the issue was published (or is being published) by another run
    losers = [r.stdout for r in results if "第1期已发布 ✅" not in r.stdout]
    assert len(losers) == runs - 1, printed
    assert all("另一次发布" in out and "尚未发完" not in out for out in losers), printed
    again = publish_now(config, 1)[0]  # and once more afterwards: nothing new, nothing sent
    assert again.returncode == 0 and "读完了" not in again.stdout
    db = Database(database_url, migrate=False)
    try:
        with db.session() as session:
            issues = session.execute(
                select(DigestIssue.number, DigestIssue.status).order_by(DigestIssue.period_start)
            ).all()
            deliveries = session.scalars(select(DigestDelivery.issue_id)).all()
            periods = session.execute(
                select(DigestIssue.period_start, DigestIssue.period_end).order_by(
                    DigestIssue.period_start
                )
            ).all()
    finally:
        db.dispose()
    published = [(n, s) for n, s in issues if s in ("published", "publishing")]
    assert published == [(1, "published")], issues
    assert len(deliveries) == 1  # the one console chat, once
    # the runs that closed the period together left no overlap with the next issue
    assert all(end <= after for (_, end), (after, _) in itertools.pairwise(periods)), periods
