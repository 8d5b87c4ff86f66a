"""Scheduler leadership in one process, and what the runner starts."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.runner import _start_extras
from digest.schedule import scheduler_for, start_scheduler
from tests.conftest import FakeClock
from tests.support.digest_world import SLUG, make_app


async def test_follower_starts_the_jobs_when_the_leader_stops(
    tmp_path: Path, clock: FakeClock
) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    first, second = make_app(url, clock), make_app(url, clock)
    became: list[str] = []
    stop_first = await start_scheduler(first, on_leader=lambda: became.append("first"))
    stop_second = await start_scheduler(
        second, leader_retry=0.05, on_leader=lambda: became.append("second")
    )
    try:
        await asyncio.sleep(0.3)  # several retries: the lock is taken
        assert became == ["first"] and scheduler_for(second) is None
        await stop_first()  # steps down and releases the lock
        for _ in range(100):
            if scheduler_for(second) is not None:
                break
            await asyncio.sleep(0.02)
        scheduler = scheduler_for(second)
        assert became == ["first", "second"] and scheduler is not None
        assert scheduler.get_job(f"digest-publish:{SLUG}") is not None
    finally:
        await stop_first()
        await stop_second()
        first.db.dispose()
        second.db.dispose()
    assert scheduler_for(second) is None


async def test_reminders_alone_start_the_scheduler_without_digest_jobs(
    tmp_path: Path, clock: FakeClock
) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    app = make_app(url, clock)
    stop = await start_scheduler(app)  # the digest jobs are persisted...
    await stop()
    app.db.dispose()
    app = make_app(url, clock, digest={"enabled": False})
    stoppers = await _start_extras(app, web=False)
    try:
        assert len(stoppers) == 2  # housekeeping (pruning handled-message ids) + the scheduler
        scheduler = scheduler_for(app)
        assert scheduler is not None
        ids = {job.id for job in scheduler.get_jobs()}
        assert ids == {f"studybot-reminders:{SLUG}"}  # ...and dropped once digest is disabled
    finally:
        for stop in stoppers:
            await stop()
        app.db.dispose()

    app = make_app(url, clock, digest={"enabled": False}, reminders={"enabled": False})
    stoppers = await _start_extras(app, web=False)
    try:
        assert len(stoppers) == 1  # housekeeping only
        assert scheduler_for(app) is None
    finally:
        for stop in stoppers:
            await stop()
        app.db.dispose()


async def test_leader_whose_database_session_dies_stops_its_jobs(
    tmp_path: Path, clock: FakeClock
) -> None:
    """PostgreSQL: the advisory lock dies with its session; the old leader must notice."""
    from sqlalchemy import text

    from tests.conftest import require_or_skip
    from tests.support.databases import pg_available, temporary_database

    require_or_skip(pg_available(), "PostgreSQL not reachable: set STUDYBOT_TEST_PG_URL")
    with temporary_database("postgres", tmp_path) as url:
        first, second = make_app(url, clock), make_app(url, clock)
        stop_first = await start_scheduler(first, leader_retry=0.05)
        stop_second = await start_scheduler(second, leader_retry=0.05)
        try:
            old = scheduler_for(first)
            assert old is not None and old.running and scheduler_for(second) is None
            with first.db.engine.connect() as connection:  # kill the leader's lock session
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_locks "
                        "WHERE locktype = 'advisory' AND pid <> pg_backend_pid()"
                    )
                )
            for _ in range(200):
                if not old.running and scheduler_for(second) is not None:
                    break
                await asyncio.sleep(0.02)
            assert not old.running, "old leader kept running jobs"
            assert scheduler_for(second) is not None, "follower did not take over"
        finally:
            await stop_first()
            await stop_second()
            first.db.dispose()
            second.db.dispose()
