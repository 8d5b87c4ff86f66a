"""Scheduled backups (``backup.cron`` + ``backup.keep``): the scheduler leader backs up the
database into ``<data_dir>/backups`` and keeps the newest N; no cron, no job."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.backups import JOB_ID, run_backup
from digest.schedule import scheduler_for, start_scheduler
from tests.conftest import FakeClock
from tests.support.digest_world import make_app


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'bot.db'}"


def old_backups(folder: Path) -> list[Path]:
    folder.mkdir(parents=True)
    files = [folder / f"studybot-2026010{n}-033000.db" for n in (1, 2, 3)]
    for path in files:
        path.write_bytes(b"an old backup")
    return files


async def test_the_leader_backs_up_at_backup_cron_and_keeps_the_newest(
    db_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    data = tmp_path / "data"
    older, old, newest_old = old_backups(data / "backups")
    app = make_app(db_url, clock, data_dir=str(data), backup={"cron": "30 3 * * *", "keep": 2})
    stop = await start_scheduler(app)
    try:
        scheduler = scheduler_for(app)
        assert scheduler is not None
        job = scheduler.get_job(JOB_ID)
        assert job is not None
        local = job.next_run_time.astimezone(ZoneInfo("Asia/Shanghai"))
        assert (local.hour, local.minute) == (3, 30)  # in the (first) group's timezone
        job.modify(next_run_time=datetime.now(UTC))  # the night has come
        for _ in range(200):
            made = [
                p
                for p in (data / "backups").glob("studybot-*.db")
                if p not in (older, old, newest_old)
            ]
            if made and not older.exists():
                break
            await asyncio.sleep(0.05)
    finally:
        await stop()
        app.db.dispose()
    (backup,) = made
    assert sorted((data / "backups").iterdir()) == sorted([newest_old, backup])
    with sqlite3.connect(backup) as copy:  # a usable studybot database
        assert copy.execute("SELECT slug FROM groups").fetchall() == [("ml-club",)]


async def test_without_backup_cron_there_is_no_backup_job(
    db_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    app = make_app(db_url, clock, data_dir=str(tmp_path), backup={"cron": "30 3 * * *"})
    stop = await start_scheduler(app)
    await stop()
    app.db.dispose()
    app = make_app(db_url, clock, data_dir=str(tmp_path))  # the operator turned it off
    stop = await start_scheduler(app)
    try:
        scheduler = scheduler_for(app)
        assert scheduler is not None and scheduler.get_job(JOB_ID) is None
    finally:
        await stop()
        app.db.dispose()
    assert not (tmp_path / "backups").exists()


def test_a_failed_backup_is_one_error_line_with_the_fix_and_deletes_no_old_backup(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "data"
    kept = old_backups(data / "backups")
    gone = f"sqlite:///{tmp_path / 'moved-away.db'}"  # the database file is not there
    caplog.set_level(logging.INFO, logger="bot.backups")
    assert run_backup(gone, data, 1, datetime.now(UTC)) is None
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith("scheduled backup failed") and "does not exist" in line
    assert "fix:" in line
    assert sorted((data / "backups").iterdir()) == kept


def test_backup_keep_must_be_at_least_one_and_the_cron_valid() -> None:
    from bot.config import ConfigError, parse_config

    with pytest.raises(ConfigError, match=r"backup\.keep"):
        parse_config({"backup": {"keep": 0}})
    with pytest.raises(ConfigError, match=r"backup\.cron"):
        parse_config({"backup": {"cron": "every night"}})
