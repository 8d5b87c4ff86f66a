"""kill -9 the bot in the middle of publishing a digest, restart it on the same database
(SQLite and PostgreSQL): the digest is completed and nothing is ever sent twice.

The rule under test (:mod:`digest.publish`): a part confirmed before the crash is not resent;
the one part that was in flight is never resent either (it is recorded as ``doubtful_part``
and the chat's delivery ends ``uncertain``, reported to the admins); the dead publisher's
delivery is taken over only after its lease expired; the issue ends ``published``.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from digest.publish_claims import LEASE
from storage.db import Database
from storage.models import DigestDelivery, DigestIssue
from tests.conftest import FakeClock
from tests.support.digest_world import TARGETS, WEEK_END, issue_id_for, make_app, seed_week
from tests.support.file_sender import read_records
from tests.support.publish_worker import WorkerProcess, set_clock, wait_until

pytestmark = pytest.mark.slow

TELEGRAM = ("telegram", "-1001")
KILL_AFTER = 2  # Telegram parts recorded as sent when the process is killed


def load(url: str, issue_id: int) -> tuple[str, dict[tuple[str, str], DigestDelivery]]:
    db = Database(url, migrate=False)
    try:
        with db.session() as s:
            issue = s.get(DigestIssue, issue_id)
            assert issue is not None
            rows = s.scalars(select(DigestDelivery).where(DigestDelivery.issue_id == issue_id))
            return issue.status, {(r.platform, r.chat_id): r for r in rows}
    finally:
        db.dispose()


def texts(records: list[dict], chat: tuple[str, str], pid: int | None = None) -> list[str]:
    return [
        r["text"]
        for r in records
        if (r["platform"], r["chat_id"]) == chat and (pid is None or r["pid"] == pid)
    ]


@pytest.mark.parametrize(
    "settle",
    [0.0, 0.07],
    ids=["killed-right-after-a-part-arrived", "killed-while-the-next-part-is-in-flight"],
)
async def test_kill_9_mid_publish_then_restart_sends_nothing_twice(
    database_url: str, tmp_path: Path, settle: float
) -> None:
    """``settle``: how long after part KILL_AFTER was recorded the kill comes (each send
    takes 0.15 s): at once (that part is most likely still unconfirmed in the database), or
    while the next part is being sent (it never arrives)."""
    clock = FakeClock()
    app = make_app(database_url, clock)
    try:
        await seed_week(app, clock)
        issue_id = issue_id_for(app, clock())
    finally:
        app.db.dispose()
    records, clock_file = tmp_path / "sent.jsonl", tmp_path / "clock.txt"
    crash_time = WEEK_END + timedelta(minutes=1)
    set_clock(clock_file, crash_time)

    first = WorkerProcess(database_url, records, clock_file, delay=0.15)
    restarted: WorkerProcess | None = None
    try:
        first.wait_for(f"sent {TELEGRAM[0]} {TELEGRAM[1]}", n=KILL_AFTER)
        await asyncio.sleep(settle)
        first.kill()
        status, deliveries = load(database_url, issue_id)
        parts = [p["text"] or "" for p in deliveries[TELEGRAM].parts or []]
        assert len(parts) > KILL_AFTER + 1, "the seeded week must need several Telegram parts"
        before = read_records(records)
        sent_before = texts(before, TELEGRAM)
        assert sent_before == parts[:KILL_AFTER]  # in order, each once
        assert status == "publishing"
        assert deliveries[TELEGRAM].state in ("claimed", "sending")
        assert deliveries[TELEGRAM].parts_sent in (KILL_AFTER - 1, KILL_AFTER)

        # restart at once: the dead publisher's lease still holds, so Telegram waits
        restarted = WorkerProcess(database_url, records, clock_file, delay=0.01)
        restarted.wait_for("leader")
        restarted.wait_for("log digest publish job", n=2)
        assert texts(read_records(records), TELEGRAM, restarted.pid) == []

        # the lease expires: the restarted bot finishes the digest
        set_clock(clock_file, crash_time + LEASE + timedelta(minutes=1))
        wait_until(lambda: load(database_url, issue_id)[0] == "published", what="published")
        seen = restarted.count("log digest publish job")
        restarted.wait_for("log digest publish job", n=seen + 2)  # later runs send nothing
    finally:
        first.kill()
        if restarted is not None:
            restarted.kill()

    status, deliveries = load(database_url, issue_id)
    final = read_records(records)
    assert status == "published"
    telegram = texts(final, TELEGRAM)
    assert max(Counter(telegram).values()) == 1, "a part was sent twice"
    row = deliveries[TELEGRAM]
    after = texts(final, TELEGRAM, restarted.pid)
    if row.state == "uncertain":  # killed with a part in flight: never resent
        doubtful = row.doubtful_part
        assert doubtful is not None and doubtful in (KILL_AFTER - 1, KILL_AFTER)
        assert sent_before in (parts[:doubtful], parts[: doubtful + 1])
        assert after == parts[doubtful + 1 :]
        notices = [r["text"] for r in final if r["chat_id"] == "admin"]
        assert any(f"第{doubtful + 1}条" in n and "第1期已发布" in n for n in notices)
    else:  # killed between two parts: the rest went out, late
        assert (row.state, row.doubtful_part) == ("sent", None)
        assert sent_before + after == parts
    assert row.parts_sent == len(parts)
    for target in TARGETS:  # the chats the crash never reached: exactly once each
        chat = (target["platform"], target["chat_id"])
        if chat != TELEGRAM:
            frozen = [p["text"] or "" for p in deliveries[chat].parts or []]
            assert texts(final, chat) == frozen and deliveries[chat].state == "sent"
