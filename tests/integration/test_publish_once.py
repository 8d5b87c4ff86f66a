"""Publishing is exactly once per (issue, chat): repeats, failures, crashes, races, misfires."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import App
from digest.publish import Publisher
from digest.publish_claims import LEASE
from storage.db import Database
from storage.models import DigestDelivery, DigestIssue
from tests.conftest import FakeClock
from tests.support.digest_world import (
    SLUG,
    WEEK_END,
    Crash,
    RecordingSender,
    issue_id_for,
    make_app,
    make_senders,
    seed_week,
)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'bot.db'}"


@pytest.fixture
async def world(db_url: str, clock: FakeClock) -> Any:
    senders = make_senders()
    app = make_app(db_url, clock, senders)
    await seed_week(app, clock)
    issue_id = issue_id_for(app, clock())
    clock.set(WEEK_END + timedelta(minutes=1))
    yield app, senders, issue_id
    app.db.dispose()


def stored_parts(app: App, issue_id: int, platform: str) -> list[str]:
    with app.db.session() as s:
        row = s.scalars(
            select(DigestDelivery).where(
                DigestDelivery.issue_id == issue_id, DigestDelivery.platform == platform
            )
        ).one()
        return [p["html"] or p["text"] or "" for p in row.parts or []]


def delivery(app: App, issue_id: int, platform: str) -> DigestDelivery:
    with app.db.session() as s:
        return s.scalars(
            select(DigestDelivery).where(
                DigestDelivery.issue_id == issue_id, DigestDelivery.platform == platform
            )
        ).one()


def issue_status(app: App, issue_id: int) -> str:
    with app.db.session() as s:
        issue = s.get(DigestIssue, issue_id)
        assert issue is not None
        return issue.status


def publisher(app: App, senders: dict[str, RecordingSender], clock: FakeClock) -> Publisher:
    return Publisher(app.db, app.config, senders, clock)


async def test_publish_twice_sends_once_per_chat(world: Any, clock: FakeClock) -> None:
    app, senders, issue_id = world
    first = await publisher(app, senders, clock).publish(SLUG, issue_id)
    assert first.published and first.parts_sent_now > 3
    telegram_parts = stored_parts(app, issue_id, "telegram")
    assert len(telegram_parts) > 1, "the seeded week should need several Telegram messages"
    assert senders["telegram"].bodies == telegram_parts
    assert senders["wechat"].bodies == stored_parts(app, issue_id, "wechat")
    # trial item 21: the console gets the chat version its preview shows, not the article
    console_parts = stored_parts(app, issue_id, "console")
    assert senders["console"].bodies == console_parts and len(console_parts) > 1
    assert "同学3" in "\n".join(console_parts)
    assert "https://club.example.org/issues/1" in senders["wechat"].bodies[-1]  # 阅读原文
    assert first.summary().startswith("第1期已发布 ✅")
    second = await publisher(app, senders, clock).publish(SLUG, issue_id)
    assert second.published and second.parts_sent_now == 0
    # #16: the second run says the issue was published by another run, not that it did it
    assert second.summary().startswith("第1期已由另一次发布发出"), second.summary()
    assert "没有重复发送" in second.summary() and "尚未发完" not in second.summary()
    assert second.summary("en").startswith("Issue 1 was already published by another run")
    assert senders["telegram"].bodies == telegram_parts
    assert senders["console"].bodies == console_parts
    with app.db.session() as s:
        issue = s.get(DigestIssue, issue_id)
        assert issue is not None and issue.published_at == clock()
        assert issue.markdown and "同学3" in issue.markdown
        assert issue.html and "&lt;script&gt;" in issue.html and "<script>alert" not in issue.html


async def test_a_run_meeting_another_runs_sending_says_so(world: Any, clock: FakeClock) -> None:
    """#16: the losing side of a publish race saw 「第1期尚未发完，失败的会自动重试」, as if its
    own sending had failed; it is told another run is publishing the issue."""
    app, senders, issue_id = world
    first = await publisher(app, senders, clock).publish(SLUG, issue_id)
    assert first.published
    with app.db.session() as s:  # another run holds the Telegram delivery, mid-way
        row = s.scalars(
            select(DigestDelivery).where(
                DigestDelivery.issue_id == issue_id, DigestDelivery.platform == "telegram"
            )
        ).one()
        row.state, row.owner, row.parts_sent, row.updated_at = "sending", "other-run", 1, clock()
        issue = s.get(DigestIssue, issue_id)
        assert issue is not None
        issue.status = "publishing"
    sent_before = len(senders["telegram"].bodies)
    loser = await publisher(app, senders, clock).publish(SLUG, issue_id)
    assert loser.parts_sent_now == 0 and len(senders["telegram"].bodies) == sent_before
    summary = loser.summary()
    assert summary.startswith("第1期正由另一次发布发送中") and "没有重复发送" in summary, summary
    assert "尚未发完" not in summary and "telegram:" in summary  # where it stands, chat by chat
    assert loser.summary("en").startswith("Issue 1 is being published by another run")


async def test_failed_send_is_retried_and_every_part_arrives_once(
    world: Any, clock: FakeClock
) -> None:
    app, senders, issue_id = world
    senders["telegram"].fail_on = {2}
    first = await publisher(app, senders, clock).publish(SLUG, issue_id)
    assert not first.published
    row = delivery(app, issue_id, "telegram")
    assert row.state == "pending" and row.parts_sent == 1
    assert row.last_error and "ConnectionError" in row.last_error
    assert issue_status(app, issue_id) == "publishing"
    assert "待重试" in first.summary("zh") and "ConnectionError" in first.summary("zh")
    # the other chats were not held up
    assert delivery(app, issue_id, "wechat").state == "sent"
    clock.advance(minutes=15)
    retry = await publisher(app, senders, clock).publish(SLUG, issue_id)
    assert retry.published
    assert senders["telegram"].bodies == stored_parts(app, issue_id, "telegram")
    row = delivery(app, issue_id, "telegram")
    assert row.state == "sent" and row.attempts == 2 and row.doubtful_part is None


async def test_parts_are_frozen_at_the_first_attempt(world: Any, clock: FakeClock) -> None:
    """A retry sends what the first attempt rendered, even if content changed meanwhile."""
    app, senders, issue_id = world
    senders["console"].fail_on = {1}
    await publisher(app, senders, clock).publish(SLUG, issue_id)
    frozen = stored_parts(app, issue_id, "console")
    with app.db.session() as s:
        issue = s.get(DigestIssue, issue_id)
        assert issue is not None
        issue.preface = "发布开始后才改的刊首语"
    await publisher(app, senders, clock).publish(SLUG, issue_id)
    assert senders["console"].bodies == frozen
    assert "发布开始后才改的刊首语" not in frozen[0]


@pytest.mark.parametrize("delivered", [False, True], ids=["lost-in-flight", "arrived"])
async def test_crash_mid_publish_never_resends_confirmed_parts(
    world: Any, clock: FakeClock, db_url: str, delivered: bool
) -> None:
    app, senders, issue_id = world
    senders["telegram"].crash_on = {2}
    senders["telegram"].crash_after_delivery = delivered
    with pytest.raises(Crash):
        await publisher(app, senders, clock).publish(SLUG, issue_id)
    parts = stored_parts(app, issue_id, "telegram")
    assert len(parts) >= 3
    row = delivery(app, issue_id, "telegram")
    assert (row.state, row.parts_sent) == ("sending", 1)

    # "restart": a new process opens the same database file
    restarted = Database(db_url)
    fresh = {p: RecordingSender(p) for p in senders}
    again = Publisher(restarted, app.config, fresh, clock)
    early = await again.publish(SLUG, issue_id)  # the dead owner's lease has not expired
    assert fresh["telegram"].sent == [] and not early.published
    clock.advance(seconds=LEASE.total_seconds() + 1)
    report = await again.publish(SLUG, issue_id)
    restarted.dispose()

    assert report.published
    telegram = senders["telegram"].bodies + fresh["telegram"].bodies
    assert telegram.count(parts[0]) == 1  # confirmed before the crash: not resent
    assert parts[1] not in fresh["telegram"].bodies  # in doubt: never resent blindly
    assert fresh["telegram"].bodies == parts[2:]  # the rest goes out, late
    if delivered:
        assert telegram == parts  # every part exactly once
    row = delivery(app, issue_id, "telegram")
    assert row.state == "uncertain" and row.doubtful_part == 1
    assert "第2条" in report.summary("zh") and "part 2" in report.summary("en")
    # chats the crash never reached were served exactly once by the restarted publisher
    assert senders["wechat"].sent == [] and fresh["wechat"].bodies == stored_parts(
        app, issue_id, "wechat"
    )


@pytest.fixture(params=["sqlite", "postgres"])
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    from tests.conftest import require_or_skip
    from tests.support.databases import pg_available, temporary_database

    if request.param == "postgres":
        require_or_skip(pg_available(), "PostgreSQL not reachable: set STUDYBOT_TEST_PG_URL")
    with temporary_database(request.param, tmp_path) as url:
        yield url


async def test_two_concurrent_publishers_send_once(shared_url: str, clock: FakeClock) -> None:
    """Two publishers in two threads (own engines, own event loops) race on one database."""
    senders = make_senders()
    for sender in senders.values():
        sender.delay = 0.02
    app = make_app(shared_url, clock)
    try:
        await seed_week(app, clock)
        issue_id = issue_id_for(app, clock())
        clock.set(WEEK_END + timedelta(minutes=1))
        start = threading.Barrier(2)
        errors: list[BaseException] = []

        def run() -> None:
            db = Database(shared_url, migrate=False)
            try:
                start.wait()
                asyncio.run(Publisher(db, app.config, senders, clock).publish(SLUG, issue_id))
            except BaseException as error:  # surfaced below
                errors.append(error)
            finally:
                db.dispose()

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []
        for platform, sender in senders.items():
            assert sender.bodies == stored_parts(app, issue_id, platform), platform
        final = await publisher(app, senders, clock).publish(SLUG, issue_id)
        assert final.published and final.parts_sent_now == 0
    finally:
        app.db.dispose()


async def test_misfired_job_after_downtime_publishes_once(db_url: str, clock: FakeClock) -> None:
    """The publish job missed while the bot was down runs late at start-up, exactly once."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    from digest.jobs import JobContext
    from digest.schedule import JOBS_TABLE, publish_job, start_scheduler
    from tests.support.digest_world import world_config

    senders = make_senders()
    app = make_app(db_url, clock, senders)
    await seed_week(app, clock, long=False)
    issue_id_for(app, clock())
    stop = await start_scheduler(app)  # the bot runs, then goes down before Sunday 20:00
    await stop()
    app.db.dispose()

    # while it was down the cron fire time passed: make the stored job overdue by 3 hours
    store = SQLAlchemyJobStore(engine=Database(db_url).engine, tablename=JOBS_TABLE)
    store.start(None, "default")  # type: ignore[arg-type]
    job = store.lookup_job(f"digest-publish:{SLUG}")
    assert job is not None
    from datetime import UTC, datetime

    job.next_run_time = datetime.now(UTC) - timedelta(hours=3)
    store.update_job(job)
    store.engine.dispose()

    clock.set(WEEK_END + timedelta(hours=3))
    app = make_app(db_url, clock, senders)
    assert app.config == world_config(db_url)
    stop = await start_scheduler(app)  # restart: the overdue job runs once, late
    try:

        def to_group() -> list[Any]:
            return [o for o in senders["console"].sent if o.chat.chat_id == "console-group"]

        for _ in range(100):
            if to_group():
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        assert len(to_group()) == 1
        # the admins were told, privately
        assert any(
            o.chat.chat_id == "admin" and "第1期已发布" in o.reply.text
            for o in senders["console"].sent
        )
        await publish_job(SLUG, jobs=JobContext.of(app))  # another misfire: a no-op
        assert len(to_group()) == 1
        to_telegram_group = [o for o in senders["telegram"].sent if o.chat.chat_id == "-1001"]
        assert len(to_telegram_group) == len(stored_parts(app, 1, "telegram"))
        with app.db.session() as s:
            statuses = s.scalars(select(DigestIssue.status).order_by(DigestIssue.number)).all()
        assert statuses[0] == "published"
    finally:
        await stop()
        app.db.dispose()


async def test_scheduler_retry_finishes_and_admins_hear_once(
    world: Any, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import digest.service

    # notices within NOTICE_WINDOW of each other are summarised; the retry is 15 minutes later
    monkeypatch.setattr(digest.service, "NOTICE_WINDOW", 0.05)
    app, senders, issue_id = world
    service = app.digest
    senders["telegram"].fail_on = {1}

    def admin_notes() -> list[str]:
        return [o.reply.text for o in senders["console"].sent if o.chat.chat_id == "admin"]

    reports = await service.publish_due(SLUG)  # the cron job: issue 1 just closed
    assert [r.status for r in reports] == ["publishing"]
    assert len(admin_notes()) == 1 and "待重试" in admin_notes()[0]
    await asyncio.sleep(0.1)  # (the notice window of the first publish has closed)
    retried = await service.retry(SLUG)  # the retry job, 15 minutes later: telegram is back
    assert retried[0].published
    assert len(admin_notes()) == 2 and "第1期已发布" in admin_notes()[1]
    to_group = [o.reply.html for o in senders["telegram"].sent if o.chat.chat_id == "-1001"]
    assert to_group == stored_parts(app, issue_id, "telegram")
    assert await service.retry(SLUG) == []  # nothing left to do, nothing said
    assert len(admin_notes()) == 2
