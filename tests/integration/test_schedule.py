"""The scheduler: jobs persist in the database across restarts; cron runs in the group's zone."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from digest.jobs import JobContext
from digest.schedule import JOBS_TABLE, preview_job, scheduler_for, start_scheduler
from tests.conftest import FakeClock
from tests.support.digest_world import SLUG, TARGETS, make_app, make_senders, seed_week


def next_local(weekday: int, at: time, zone: str, after: datetime) -> datetime:
    """The first ``weekday`` ``at`` (wall time in ``zone``) strictly after ``after``, in UTC."""
    tz = ZoneInfo(zone)
    day = after.astimezone(tz).date()
    for offset in range(8):
        candidate = datetime.combine(day + timedelta(days=offset), at, tzinfo=tz)
        if candidate.weekday() == weekday and candidate > after:
            return candidate.astimezone(UTC)
    raise AssertionError("no candidate")


def stored_job_ids(app: Any) -> list[str]:
    with app.db.engine.connect() as connection:
        rows = connection.execute(text(f"SELECT id FROM {JOBS_TABLE} ORDER BY id"))
        return [row[0] for row in rows]


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'bot.db'}"


async def test_jobs_persist_across_a_restart_without_duplicates(
    db_url: str, clock: FakeClock
) -> None:
    app = make_app(db_url, clock)
    stop = await start_scheduler(app)
    scheduler = scheduler_for(app)
    assert scheduler is not None
    before = {job.id: job.next_run_time for job in scheduler.get_jobs()}
    await stop()
    assert scheduler_for(app) is None
    app.db.dispose()
    expected = {f"digest-{kind}:{SLUG}" for kind in ("publish", "preview", "retry")}
    assert expected <= set(before)

    restarted = make_app(db_url, clock)
    # the jobs are in the database before the new scheduler starts
    assert expected <= set(stored_job_ids(restarted))
    stop = await start_scheduler(restarted)
    try:
        scheduler = scheduler_for(restarted)
        assert scheduler is not None
        after = {job.id: job.next_run_time for job in scheduler.get_jobs()}
        assert after[f"digest-publish:{SLUG}"] == before[f"digest-publish:{SLUG}"]
        assert after[f"digest-preview:{SLUG}"] == before[f"digest-preview:{SLUG}"]
        ids = stored_job_ids(restarted)
        assert len(ids) == len(set(ids))
    finally:
        await stop()
        restarted.db.dispose()


@pytest.mark.parametrize(
    ("zone", "cron", "weekday", "at"),
    [
        ("Asia/Shanghai", "0 20 * * sun", 6, time(20, 0)),
        ("America/New_York", "30 9 * * mon", 0, time(9, 30)),
        ("Europe/Berlin", "0 7 * * fri", 4, time(7, 0)),
    ],
)
async def test_cron_fires_at_the_right_utc_instant_in_the_group_timezone(
    db_url: str, clock: FakeClock, zone: str, cron: str, weekday: int, at: time
) -> None:
    groups = [{"slug": SLUG, "name": "ML自学者俱乐部", "timezone": zone, "chats": TARGETS}]
    app = make_app(db_url, clock, groups=groups, digest={"cron": cron, "preview_lead_minutes": 90})
    now = datetime.now(UTC)
    stop = await start_scheduler(app)
    try:
        scheduler = scheduler_for(app)
        assert scheduler is not None
        publish = scheduler.get_job(f"digest-publish:{SLUG}")
        preview = scheduler.get_job(f"digest-preview:{SLUG}")
        expected = next_local(weekday, at, zone, now)
        assert publish.next_run_time.astimezone(UTC) == expected
        lead = expected - timedelta(minutes=90)
        if lead <= now:  # inside the lead window right now: the preview is for next week
            lead += timedelta(days=7)
        assert preview.next_run_time.astimezone(UTC) == lead
    finally:
        await stop()
        app.db.dispose()


async def test_changed_cron_replaces_the_stored_job(db_url: str, clock: FakeClock) -> None:
    app = make_app(db_url, clock)
    stop = await start_scheduler(app)
    await stop()
    app.db.dispose()
    changed = make_app(db_url, clock, digest={"cron": "0 9 * * sat"})
    stop = await start_scheduler(changed)
    try:
        scheduler = scheduler_for(changed)
        assert scheduler is not None
        job = scheduler.get_job(f"digest-publish:{SLUG}")
        expected = next_local(5, time(9, 0), "Asia/Shanghai", datetime.now(UTC))
        assert job.next_run_time.astimezone(UTC) == expected
    finally:
        await stop()
        changed.db.dispose()


async def test_preview_job_reaches_admins_privately(db_url: str, clock: FakeClock) -> None:
    senders = make_senders()
    app = make_app(db_url, clock, senders)
    await seed_week(app, clock, long=False)
    stop = await start_scheduler(app)
    try:
        await preview_job(SLUG, jobs=JobContext.of(app))
    finally:
        await stop()
        app.db.dispose()
    console = [o for o in senders["console"].sent if o.chat.is_private]
    telegram = [o for o in senders["telegram"].sent if o.chat.is_private]
    assert console and console[0].chat.chat_id == "admin"
    assert telegram and telegram[0].chat.chat_id == "42"
    assert "周报预览" in console[0].reply.text and "第1期" in console[0].reply.text
    assert any("1. 基于元学习" in (o.reply.html or "") for o in telegram)
    # nothing went to the group chats: a preview is not a publication
    assert all(o.chat.is_private for s in senders.values() for o in s.sent)


def test_a_preview_trigger_stored_under_its_old_module_path_still_loads() -> None:
    """Job stores written when LeadTrigger lived in digest.schedule keep working."""
    import pickle

    from digest.triggers import LeadTrigger

    trigger = LeadTrigger("0 21 * * sun", "Asia/Shanghai", 30)
    stored = pickle.dumps(trigger).replace(b"digest.triggers", b"digest.schedule")
    assert b"digest.schedule" in stored
    loaded = pickle.loads(stored)
    now = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # a Monday
    fire = loaded.get_next_fire_time(None, now)
    assert fire == datetime(2026, 11, 22, 20, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert repr(loaded) == repr(trigger)
