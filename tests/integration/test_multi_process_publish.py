"""Two real bot processes on one database: one scheduler leader publishes each digest once;
when it is killed (kill -9) the other takes over and publishes the next period once.

Runs on PostgreSQL (advisory lock) and SQLite (flock), via the ``database_url`` fixture.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from digest.schedule import LEADER_RETRY_SECONDS
from storage.db import Database
from storage.models import DigestDelivery, DigestIssue
from tests.conftest import Chatter, FakeClock
from tests.support.digest_world import (
    GROUP_CHAT,
    TARGETS,
    WEEK_END,
    issue_id_for,
    make_app,
    seed_week,
)
from tests.support.file_sender import read_records
from tests.support.publish_worker import WorkerProcess, set_clock, wait_until

pytestmark = pytest.mark.slow


def issue_state(url: str, number: int) -> tuple[str | None, dict[tuple[str, str], list[str]]]:
    """The issue's status and each chat's frozen parts (text, as the FileSender records it)."""
    db = Database(url, migrate=False)
    try:
        with db.session() as s:
            issue = s.scalars(select(DigestIssue).where(DigestIssue.number == number)).first()
            if issue is None:
                return None, {}
            rows = s.scalars(select(DigestDelivery).where(DigestDelivery.issue_id == issue.id))
            parts = {
                (r.platform, r.chat_id): [p["text"] or "" for p in r.parts or []] for r in rows
            }
            return issue.status, parts
    finally:
        db.dispose()


def sent_to_chats(records: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Records per digest chat (admin notices to private chats left out)."""
    chats = {(t["platform"], t["chat_id"]) for t in TARGETS}
    out: dict[tuple[str, str], list[dict[str, Any]]] = {chat: [] for chat in chats}
    for record in records:
        key = (record["platform"], record["chat_id"])
        if key in out:
            out[key].append(record)
    return out


def assert_published_once_by(url: str, number: int, records: Path, pid: int) -> list[dict]:
    """Issue ``number`` is published; every digest chat got each of its parts exactly once,
    in order, all from process ``pid``; returns the records of this issue."""
    status, parts = issue_state(url, number)
    assert status == "published"
    assert set(parts) == {(t["platform"], t["chat_id"]) for t in TARGETS}
    mine = []
    for chat, recorded in sent_to_chats(read_records(records)).items():
        of_issue = [r for r in recorded if r["text"] in parts[chat]]
        assert [r["text"] for r in of_issue] == parts[chat], chat
        assert {r["pid"] for r in of_issue} == {pid}, chat
        mine += of_issue
    return mine


async def seed_second_week(url: str) -> None:
    clock = FakeClock(WEEK_END + timedelta(days=1))
    app = make_app(url, clock)
    try:
        chat = Chatter(app, clock, ids=itertools.count(10_000))
        for i in range(3):
            reply = await chat.say(
                f"/checkin 第二周 {i} 号同学：复习了注意力机制", user=f"w{i}", chat=GROUP_CHAT
            )
            assert reply
    finally:
        app.db.dispose()


async def test_one_leader_publishes_once_and_the_follower_takes_over(
    database_url: str, tmp_path: Path
) -> None:
    assert LEADER_RETRY_SECONDS >= 15  # production followers do not hammer the database
    clock = FakeClock()
    app = make_app(database_url, clock)
    try:
        await seed_week(app, clock)
        issue_id_for(app, clock())
    finally:
        app.db.dispose()
    records, clock_file = tmp_path / "sent.jsonl", tmp_path / "clock.txt"
    set_clock(clock_file, WEEK_END + timedelta(minutes=1))  # issue 1 has just closed

    workers = [WorkerProcess(database_url, records, clock_file) for _ in range(2)]
    try:
        for worker in workers:
            worker.wait_for("ready")
        wait_until(lambda: any(w.count("leader") for w in workers), what="a leader")
        leader, follower = sorted(workers, key=lambda w: -w.count("leader"))
        wait_until(lambda: issue_state(database_url, 1)[0] == "published", what="issue 1")
        leader.wait_for("log digest publish job", n=3)  # later runs are no-ops
        follower_records = [r for r in read_records(records) if r["pid"] == follower.pid]
        assert follower.count("leader") == 0 and follower.count("log digest") == 0
        assert follower.count("log scheduler: another process leads") == 1
        assert follower_records == []
        first = assert_published_once_by(database_url, 1, records, leader.pid)
        assert len(first) > len(TARGETS)  # several Telegram parts

        await seed_second_week(database_url)
        leader.kill()
        follower.wait_for("leader", timeout=10)
        before = len(read_records(records))
        set_clock(clock_file, WEEK_END + timedelta(days=7, minutes=1))  # issue 2 closes
        wait_until(lambda: issue_state(database_url, 2)[0] == "published", what="issue 2")
        follower.wait_for("log digest publish job", n=follower.count("log digest publish") + 2)
        second = assert_published_once_by(database_url, 2, records, follower.pid)
        assert all("第二周" not in r["text"] for r in first)
        assert any("第二周" in r["text"] for r in second)
        # issue 1 was not sent again by the new leader
        assert assert_published_once_by(database_url, 1, records, leader.pid) == first
        new = read_records(records)[before:]
        assert {r["pid"] for r in new} == {follower.pid}
        # and the admins were told once per issue, by whoever published it
        notices = [r for r in read_records(records) if r["chat_id"] == "admin"]
        assert [("第1期已发布" in n["text"], "第2期已发布" in n["text"]) for n in notices] == [
            (True, False),
            (False, True),
        ]
    finally:
        for worker in workers:
            worker.kill()
