"""What an operator reads at INFO (``-v``) after the bot did something: the digest published
where, and the reminders sent."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from pathlib import Path

import pytest

from digest.jobs import JobContext
from digest.publish import Publisher
from digest.reminders import run_reminders
from tests.conftest import FakeClock
from tests.support.digest_world import (
    SLUG,
    WEEK_END,
    issue_id_for,
    make_app,
    make_senders,
    seed_week,
)


async def test_publishing_logs_where_the_digest_went(
    tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(f"sqlite:///{tmp_path / 'bot.db'}", clock, make_senders())
    try:
        await seed_week(app, clock, long=False)
        issue_id = issue_id_for(app, clock())
        clock.set(WEEK_END + timedelta(minutes=5))
        with caplog.at_level(logging.INFO, logger="digest.publish"):
            report = await Publisher(app.db, app.config, app.senders, clock).publish(SLUG, issue_id)
        assert report.published
        [line] = [r.getMessage() for r in caplog.records if r.name == "digest.publish"]
        assert line.startswith(f"digest {SLUG} issue 1: ")
        assert "published" in line
        for delivery in report.deliveries:
            assert f"{delivery.platform}:{delivery.chat_id} sent 1/1" in line
    finally:
        app.db.dispose()


async def test_reminder_job_logs_how_many_were_sent(
    tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(f"sqlite:///{tmp_path / 'bot.db'}", clock, make_senders())
    try:
        await seed_week(app, clock, long=False)
        with caplog.at_level(logging.INFO, logger="digest.reminders"):
            await run_reminders(SLUG, jobs=JobContext.of(app))
        lines = [r.getMessage() for r in caplog.records if r.name == "digest.reminders"]
        sent = [line for line in lines if re.match(rf"reminders for {SLUG}: \d+ of \d+ sent", line)]
        assert len(sent) == 1, lines
    finally:
        app.db.dispose()
