"""Job triggers on absolute time: exact instants across clock changes, never looping (#22)."""

from __future__ import annotations

import itertools
import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.job import Job
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger

from digest.triggers import ClubCronTrigger, LeadTrigger, publish_trigger, replaces_in_place


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def fires(trigger: ClubCronTrigger | LeadTrigger, start: datetime, count: int) -> list[datetime]:
    """The next ``count`` fires the way APScheduler asks for them (previous fire, now)."""
    out: list[datetime] = []
    previous = None
    now = start
    for _ in range(count):
        fire = trigger.get_next_fire_time(previous, now)
        assert fire is not None
        out.append(fire.astimezone(UTC))
        previous, now = fire, fire
    return out


def run_times(trigger: ClubCronTrigger | LeadTrigger, first: datetime, now: datetime) -> list:
    """APScheduler's own catch-up loop (``Job._get_run_times``) from ``first`` up to ``now``."""

    class _Scheduler(BaseScheduler):  # the job only needs a scheduler to exist
        def shutdown(self, wait: bool = True) -> None: ...
        def wakeup(self) -> None: ...

    job = Job(
        _Scheduler(),
        id="j",
        func=print,
        args=(),
        kwargs={},
        trigger=trigger,
        executor="default",
        misfire_grace_time=None,
        coalesce=True,
        max_instances=1,
        next_run_time=first,
        name="j",
    )
    return [t.astimezone(UTC) for t in job._get_run_times(now)]


BERLIN_AUTUMN = [  # clocks go back on Sunday 2027-10-31 at 03:00 CEST -> 02:00 CET
    ("30 2 * * sun", 0, utc(2027, 10, 31, 0, 30)),  # 02:30 happens twice: the first one
    ("30 2 * * sun", 120, utc(2027, 10, 30, 22, 30)),
    ("0 4 * * sun", 180, utc(2027, 10, 31, 0, 0)),  # 04:00 CET = 03:00 UTC, 3 h before
]


@pytest.mark.timeout(10)
@pytest.mark.parametrize(("cron", "lead", "expected"), BERLIN_AUTUMN)
def test_berlin_repeated_hour_fires_once_at_the_exact_instant(
    cron: str, lead: int, expected: datetime
) -> None:
    trigger = (
        LeadTrigger(cron, "Europe/Berlin", lead) if lead else publish_trigger(cron, "Europe/Berlin")
    )
    got = fires(trigger, utc(2027, 10, 24, 12), 3)
    assert got[0] == expected
    assert got == sorted(set(got))  # strictly increasing
    # one fire a week: 7 days apart, give or take the hour the clocks moved
    assert all(
        timedelta(days=7) - timedelta(hours=1) <= b - a <= timedelta(days=7, hours=1)
        for a, b in itertools.pairwise(got)
    )


@pytest.mark.timeout(10)
def test_the_trial_case_no_longer_loops_in_apschedulers_catch_up() -> None:
    """Berlin, 30 2 * * sun, preview 120 min: the first check-in after 00:30 on 2027-10-31 hung
    the bot; APScheduler's catch-up loop now returns the missed preview once."""
    trigger = LeadTrigger("30 2 * * sun", "Europe/Berlin", 120)
    first = trigger.get_next_fire_time(None, utc(2027, 10, 30, 12))
    assert first == utc(2027, 10, 30, 22, 30)  # 00:30 CEST, 2 h before 02:30 CEST
    assert run_times(trigger, first, utc(2027, 10, 31, 1, 0)) == [utc(2027, 10, 30, 22, 30)]
    nxt = trigger.get_next_fire_time(first, utc(2027, 10, 31, 1, 0))
    assert nxt == utc(2027, 11, 6, 23, 30)  # 00:30 CET next Sunday, 2 h before 02:30 CET


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    ("zone", "cron", "start", "expected"),
    [
        # New York: clocks go back on 2027-11-07 02:00 EDT -> 01:00 EST; 01:30 happens twice
        ("America/New_York", "30 1 * * *", utc(2027, 11, 6, 12), utc(2027, 11, 7, 5, 30)),
        # New York: clocks go forward on 2027-03-14 02:00 EST -> 03:00 EDT; 02:30 is skipped
        ("America/New_York", "30 2 * * *", utc(2027, 3, 13, 12), utc(2027, 3, 14, 7, 30)),
        # Berlin: clocks go forward on 2027-03-28 02:00 CET -> 03:00 CEST; 02:30 is skipped
        ("Europe/Berlin", "30 2 * * sun", utc(2027, 3, 27, 12), utc(2027, 3, 28, 1, 30)),
    ],
)
@pytest.mark.parametrize("lead", [0, 120])
def test_new_york_and_berlin_changes_with_and_without_a_lead(
    zone: str, cron: str, start: datetime, expected: datetime, lead: int
) -> None:
    publish = publish_trigger(cron, zone)
    assert publish.get_next_fire_time(None, start) == expected
    if lead:
        preview = LeadTrigger(cron, zone, lead)
        assert preview.get_next_fire_time(None, start) == expected - timedelta(minutes=lead)
        got = fires(preview, start, 4)
    else:
        got = fires(publish, start, 4)
    assert got == sorted(set(got))
    # a catch-up over the change hands back each missed fire once, in order
    missed = fires(publish, start, 4)
    assert run_times(publish, expected, missed[-1]) == missed


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "start",
    [utc(2027, 3, 20, 12), utc(2027, 10, 23, 12), utc(2027, 1, 2, 12)],
    ids=["spring", "autumn", "winter"],
)
def test_preview_is_exactly_the_lead_in_real_time_before_the_publish(start: datetime) -> None:
    """Cron 0 4 * * sun, lead 180 min: was 2 h early in spring, 4 h in autumn."""
    publishes = fires(publish_trigger("0 4 * * sun", "Europe/Berlin"), start, 3)
    previews = fires(LeadTrigger("0 4 * * sun", "Europe/Berlin", 180), start, 3)
    assert [p - v for p, v in zip(publishes, previews, strict=True)] == [timedelta(hours=3)] * 3
    for publish in publishes:
        assert publish.astimezone(ZoneInfo("Europe/Berlin")).hour == 4


def test_a_trigger_that_fails_to_advance_is_logged_and_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Stuck(ClubCronTrigger):
        def _next(self, start: datetime) -> datetime | None:
            if start < utc(2027, 1, 2):
                return utc(2027, 1, 1)  # always the same instant, like the old preview bug
            return super()._next(start)

    trigger = Stuck("0 20 * * *", "UTC")
    with caplog.at_level(logging.ERROR, logger="digest.triggers"):
        fire = trigger.get_next_fire_time(utc(2027, 1, 1), utc(2027, 1, 1))
    assert fire is not None and fire > utc(2027, 1, 1)
    assert "did not advance" in caplog.text


def test_a_stored_cron_trigger_of_the_same_schedule_is_swapped_in_place() -> None:
    new = publish_trigger("0 20 * * sun", "Asia/Shanghai")
    assert replaces_in_place(
        CronTrigger.from_crontab("0 20 * * sun", timezone="Asia/Shanghai"), new
    )
    assert not replaces_in_place(
        CronTrigger.from_crontab("0 21 * * sun", timezone="Asia/Shanghai"), new
    )
    assert not replaces_in_place(CronTrigger.from_crontab("0 20 * * sun", timezone="UTC"), new)


def test_triggers_survive_pickling() -> None:
    import pickle

    for trigger in (
        publish_trigger("0 20 * * sun", "Asia/Shanghai"),
        LeadTrigger("0 20 * * sun", "UTC", 30),
    ):
        loaded = pickle.loads(pickle.dumps(trigger))
        assert str(loaded) == str(trigger)
        now = utc(2026, 11, 16)
        assert loaded.get_next_fire_time(None, now) == trigger.get_next_fire_time(None, now)


def test_config_warns_when_a_cron_falls_in_a_skipped_or_repeated_hour(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from bot.config import parse_config

    with caplog.at_level(logging.WARNING, logger="bot.config"):
        config = parse_config(
            {
                "groups": [
                    {"slug": "b", "timezone": "Europe/Berlin"},
                    {"slug": "n", "timezone": "America/New_York"},
                ],
                "digest": {"cron": "30 2 * * *"},
                "reminders": {"enabled": True, "cron": "0 20 * * fri"},
            }
        )
    lines = config.clock_change_warnings()
    berlin = [line for line in lines if "Europe/Berlin" in line]
    assert any("does not exist" in line and "03:30 instead" in line for line in berlin)
    assert any("happens twice" in line and "first 02:30 (UTC+0200)" in line for line in berlin)
    # New York repeats 01:00-02:00, not 02:30: only the skipped hour is warned about
    assert [line for line in lines if "New_York" in line and "happens twice" in line] == []
    assert any("New_York" in line and "does not exist" in line for line in lines)
    assert not any("reminders.cron" in line for line in lines)  # Friday 20:00 is always fine
    assert "digest.cron '30 2 * * *' in Europe/Berlin" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="bot.config"):
        assert parse_config({}).clock_change_warnings() == []  # Asia/Shanghai has no DST
    assert caplog.text == ""
