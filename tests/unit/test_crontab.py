"""Crontab weekdays mean what crontab(5) says (0/7 = Sunday), not APScheduler 3's Monday-first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger

from bot.clubtime import cron_periods
from bot.config import ConfigError, load_config
from bot.crontab import standard_crontab

MONDAY = datetime(2026, 11, 16, 0, 0, tzinfo=UTC)


def fire_days(crontab: str) -> list[str]:
    """Weekday names of the fires in the week from MONDAY (as APScheduler will run them)."""
    trigger = CronTrigger.from_crontab(standard_crontab(crontab), timezone=UTC)
    days, previous, now = [], None, MONDAY
    while True:
        fire = trigger.get_next_fire_time(previous, now)
        if fire is None or fire >= MONDAY + timedelta(days=7):
            return days
        days.append(fire.strftime("%a"))
        previous, now = fire, fire + timedelta(seconds=1)


@pytest.mark.parametrize(
    ("weekday", "days"),
    [
        ("0", ["Sun"]),
        ("7", ["Sun"]),
        ("sun", ["Sun"]),
        ("1-5", ["Mon", "Tue", "Wed", "Thu", "Fri"]),
        ("mon-fri", ["Mon", "Tue", "Wed", "Thu", "Fri"]),
        ("5-7", ["Fri", "Sat", "Sun"]),
        ("fri-sun", ["Fri", "Sat", "Sun"]),
        ("0-2", ["Mon", "Tue", "Sun"]),
        ("*/2", ["Tue", "Thu", "Sat", "Sun"]),
        ("1,3,5", ["Mon", "Wed", "Fri"]),
        ("5/1", ["Fri", "Sat", "Sun"]),
        ("*", ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]),
        ("SAT,Sun", ["Sat", "Sun"]),
    ],
)
def test_weekdays_fire_on_the_crontab5_days(weekday: str, days: list[str]) -> None:
    assert fire_days(f"0 20 * * {weekday}") == days


def test_config_stores_the_crontab_with_day_names(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("digest: {cron: '0 20 * * 0'}\nreminders: {cron: '30 9 * * 1-5'}\n")
    config = load_config(path, env={})
    assert config.digest.cron == "0 20 * * sun"
    assert config.reminders.cron == "30 9 * * mon,tue,wed,thu,fri"
    # the digest week of a numeric Sunday cron ends on Sunday 20:00 in the group timezone
    start, end = cron_periods(config.digest.cron, "Asia/Shanghai").bounds(MONDAY)
    assert (start.weekday(), end.weekday()) == (6, 6)
    assert end - start == timedelta(days=7)


@pytest.mark.parametrize(
    ("weekday", "reason"),
    [
        ("8", "out of range"),
        ("xyz", "unknown day name"),
        ("5-2", "runs backwards"),
        ("1/0", "invalid step"),
        ("1-", "invalid day of week"),
    ],
)
def test_bad_weekdays_are_refused_with_the_reason(
    tmp_path: Path, weekday: str, reason: str
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(f"digest: {{cron: '0 20 * * {weekday}'}}\n")
    with pytest.raises(ConfigError) as error:
        load_config(path, env={})
    assert "digest.cron" in str(error.value) and reason in str(error.value)
