"""Search indexing after the reply: the queue, catch-up on search, the background worker.

A check-in's reply does not wait for jieba: the entry is queued in the message's transaction
and indexed just after (worker) or before the next search. What members see must not change:
a search finds what was sent a moment ago, nothing is lost across a restart, edits and deletes
made before indexing leave the right rows. Runs on SQLite and (STUDYBOT_TEST_PG_URL) PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from bot.app import App, build_app
from bot.batching import dispatch_many
from bot.model import Incoming, UserRef
from storage.models import CheckIn, Group, Member
from storage.search.drain import index_pending
from storage.search.find import search
from storage.search.queue import pending_count
from tests.conftest import GROUP_CHAT, Chatter, FakeClock, make_config, pg_url, require_or_skip
from tests.support.databases import temporary_database

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "postgres":
        require_or_skip(pg_url() is not None, "PostgreSQL tests need STUDYBOT_TEST_PG_URL")
    with temporary_database(request.param, tmp_path, migrated=True) as url:
        yield url


def new_app(url: str, tmp: Path) -> App:
    return build_app(make_config(tmp, database={"url": url}), clock=FakeClock())


def counts(app: App) -> tuple[int, int]:
    """(queued, indexed) rows right now."""
    with app.db.session() as session:
        docs = int(session.scalar(text("SELECT count(*) FROM search_docs")) or 0)
        return pending_count(session), docs


def found(app: App, query: str) -> int:
    with app.db.session() as session:
        group = session.scalars(select(Group.id).order_by(Group.id)).first()
        assert group is not None
        return search(session, group, query).total


def test_a_reply_does_not_wait_for_indexing_but_a_search_finds_the_entry(db_url, tmp_path):
    app = new_app(db_url, tmp_path)
    chat = Chatter(app, FakeClock())
    reply = asyncio.run(chat.say("/checkin 学习了 变分自编码器 vaeword", user="u1"))
    assert "✅" in reply
    assert counts(app) == (1, 0)  # no event loop ran the worker: still queued
    assert "vaeword" in asyncio.run(chat.say("/search vaeword", user="u2"))
    assert counts(app) == (0, 1)
    app.db.dispose()


def test_a_batch_queues_its_entries_at_commit_and_a_search_in_it_sees_them(db_url, tmp_path):
    """A burst's check-ins share one transaction and one queue INSERT; a /search later in the
    same batch still finds them, and a batch that fails queues nothing twice."""
    app = new_app(db_url, tmp_path)
    clock = FakeClock()

    def incoming(i: int, text: str, message_id: str | None = None) -> Incoming:
        sender = UserRef("console", f"u{i}", f"成员{i}")
        return Incoming(chat=GROUP_CHAT, sender=sender, text=text,
                        message_id=message_id or f"m{i}", sent_at=clock())  # fmt: skip

    burst = [incoming(1, "/checkin 学习了 batchword 一"), incoming(2, "/checkin batchword 二"),
             incoming(3, "/search batchword")]  # fmt: skip
    replies = asyncio.run(dispatch_many(app.dispatcher, burst))
    assert "✅" in replies[0][0].text and "✅" in replies[1][0].text
    assert "共 2 条结果" in replies[2][0].text
    assert counts(app) == (0, 2)
    # a re-delivered message fails the batch: it is re-run one by one, each stored once
    again = [incoming(4, "/checkin batchword 三"), incoming(1, "/checkin 重复", message_id="m1")]
    replies = asyncio.run(dispatch_many(app.dispatcher, again))
    assert "✅" in replies[0][0].text and replies[1] == []
    assert counts(app) == (1, 2)
    assert found(app, "batchword") == 3 and counts(app) == (0, 3)
    app.db.dispose()


async def test_the_worker_indexes_once_messages_go_quiet(db_url, tmp_path):
    app = new_app(db_url, tmp_path)
    assert app.indexer is not None
    app.indexer.idle, app.indexer.max_delay = 0.05, 5.0
    chat = Chatter(app, FakeClock())
    for i in range(5):
        assert "✅" in await chat.say(f"/checkin 第{i}条 quietword{i}", user=f"u{i}")
    assert counts(app)[0] == 5  # the replies went out first
    await asyncio.sleep(0.5)
    assert counts(app) == (0, 5)
    assert app.indexer.indexed == 5
    app.db.dispose()


async def test_a_long_burst_is_indexed_within_max_delay(db_url, tmp_path):
    app = new_app(db_url, tmp_path)
    assert app.indexer is not None
    app.indexer.idle, app.indexer.max_delay = 10.0, 0.2  # never quiet: max_delay must kick in
    chat = Chatter(app, FakeClock())
    for i in range(30):
        await chat.say(f"/checkin 连续 burstword{i}", user=f"u{i}")  # own notes differ (#19)
        await asyncio.sleep(0.03)
    assert app.indexer.indexed > 0  # indexed during the burst, not only after it
    await app.indexer.close()  # a stopping bot indexes the rest
    assert counts(app) == (0, 30)
    app.db.dispose()


def test_queued_entries_survive_a_restart(db_url, tmp_path):
    app = new_app(db_url, tmp_path)
    asyncio.run(Chatter(app, FakeClock()).say("/checkin 重启前 restartword", user="u1"))
    assert counts(app) == (1, 0)
    app.db.dispose()  # the process dies before indexing

    restarted = new_app(db_url, tmp_path)
    assert restarted.indexer is not None

    async def start() -> None:
        restarted.indexer.notify()  # what the runner does at start
        await asyncio.sleep(restarted.indexer.idle + 0.3)

    asyncio.run(start())
    assert counts(restarted) == (0, 1)
    assert found(restarted, "restartword") == 1
    restarted.db.dispose()


def test_edits_and_deletes_before_indexing_leave_the_right_rows(db_url, tmp_path):
    app = new_app(db_url, tmp_path)
    with app.db.session() as session:
        member = Member(platform="console", platform_user_id="m", display_name="m")
        group = Group(slug="g", name="g")
        session.add_all([member, group])
        session.flush()
        kept = CheckIn(group_id=group.id, member_id=member.id, text="初稿 draftword")
        dropped = CheckIn(group_id=group.id, member_id=member.id, text="删掉 goneword")
        session.add_all([kept, dropped])
    with app.db.session() as session:
        entry = session.get(CheckIn, kept.id)
        assert entry is not None
        entry.text = "定稿 finalword"
        session.delete(session.get(CheckIn, dropped.id))
    with app.db.session() as session:
        assert pending_count(session) == 3  # two adds and an edit
        assert index_pending(session) == 3
    assert counts(app) == (0, 1)
    assert (found(app, "finalword"), found(app, "draftword"), found(app, "goneword")) == (1, 0, 0)
    app.db.dispose()


async def test_a_failed_drain_is_retried(db_url, tmp_path, monkeypatch):
    import storage.search.worker as worker_module

    app = new_app(db_url, tmp_path)
    assert app.indexer is not None
    app.indexer.idle, app.indexer.max_delay = 0.02, 0.1
    real = worker_module.index_pending
    failures = iter([RuntimeError("database is locked")])

    def flaky(session: Any, **kwargs: Any) -> int:
        for error in failures:
            raise error
        return real(session, **kwargs)

    monkeypatch.setattr(worker_module, "index_pending", flaky)
    await Chatter(app, FakeClock()).say("/checkin 重试 retryword", user="u1")
    await asyncio.sleep(0.8)
    assert counts(app) == (0, 1)
    app.db.dispose()


def test_a_search_does_not_wait_while_another_process_indexes(tmp_path):
    require_or_skip(pg_url() is not None, "PostgreSQL tests need STUDYBOT_TEST_PG_URL")
    with temporary_database("postgres", tmp_path, migrated=True) as url:
        app = new_app(url, tmp_path)
        asyncio.run(Chatter(app, FakeClock()).say("/checkin 并发 lockword", user="u1"))
        other = app.db.engine.connect()  # another process, in the middle of a drain
        other.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": 0x5EA2C4})
        try:
            with app.db.session() as session:
                assert index_pending(session, wait=False) == 0  # does not block
            assert counts(app) == (1, 0)
        finally:
            other.rollback()
            other.close()
        assert found(app, "lockword") == 1  # lock released: the search indexes it first
        app.db.dispose()
