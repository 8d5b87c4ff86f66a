"""Digest periods: contiguous, numbered, in the group's timezone, DST-safe; on SQLite and
PostgreSQL (``migrated_database_url`` runs each test on both)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.clubtime import CronPeriods, PeriodError
from digest.periods import (
    all_issues,
    ensure_issue,
    issue_ending_at_or_before,
    latest_closed_issue,
    unpublished_closed_issues,
)
from storage.db import Database
from storage.models import DigestIssue, Group

WEEKLY = "0 20 * * sun"
SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def db(migrated_database_url):
    database = Database(migrated_database_url)
    yield database
    database.dispose()


def make_group(session, timezone: str = "Asia/Shanghai", slug: str = "ml") -> Group:
    group = Group(slug=slug, name="ML自学者俱乐部", timezone=timezone)
    session.add(group)
    session.flush()
    return group


def local(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone)


def assert_contiguous(issues: list[DigestIssue]) -> None:
    assert [i.number for i in issues] == list(range(1, len(issues) + 1))
    for before, after in pairwise(issues):
        assert after.period_start == before.period_end
    for issue in issues:
        assert issue.period_start < issue.period_end


def test_first_issue_is_the_cron_week_containing_the_moment(db):
    with db.session() as s:
        group = make_group(s)
        wednesday = local(SHANGHAI, 2026, 11, 18, 10, 0)
        issue = ensure_issue(s, group, wednesday, WEEKLY)
        assert issue.number == 1
        assert issue.period_start == local(SHANGHAI, 2026, 11, 15, 20, 0)
        assert issue.period_end == local(SHANGHAI, 2026, 11, 22, 20, 0)
        assert issue.period_start.tzinfo is not None
        assert ensure_issue(s, group, wednesday + timedelta(days=2), WEEKLY).id == issue.id


def test_a_moment_on_the_publish_time_belongs_to_the_next_period(db):
    with db.session() as s:
        group = make_group(s)
        first = ensure_issue(s, group, local(SHANGHAI, 2026, 11, 18, 10, 0), WEEKLY)
        at_end = ensure_issue(s, group, first.period_end, WEEKLY)
        assert at_end.number == 2
        assert at_end.period_start == first.period_end
        before_end = ensure_issue(s, group, first.period_end - timedelta(microseconds=1), WEEKLY)
        assert before_end.id == first.id


def test_missing_weeks_are_created_without_gaps(db):
    with db.session() as s:
        group = make_group(s)
        ensure_issue(s, group, local(SHANGHAI, 2026, 11, 18, 10, 0), WEEKLY)
        later = ensure_issue(s, group, local(SHANGHAI, 2026, 12, 10, 9, 0), WEEKLY)
        assert later.number == 4
        issues = all_issues(s, group)
        assert_contiguous(issues)
        for issue in issues:
            end = issue.period_end.astimezone(SHANGHAI)
            assert (end.weekday(), end.hour, end.minute) == (6, 20, 0)
    with db.session() as s:  # persisted, and asking again creates nothing
        group = s.scalars(select(Group)).one()
        ensure_issue(s, group, local(SHANGHAI, 2026, 12, 10, 9, 0), WEEKLY)
        assert len(all_issues(s, group)) == 4


def test_issues_are_numbered_per_group(db):
    with db.session() as s:
        a, b = make_group(s, slug="a"), make_group(s, slug="b")
        at = local(SHANGHAI, 2026, 11, 18, 10, 0)
        ensure_issue(s, a, at, WEEKLY)
        ensure_issue(s, a, at + timedelta(days=7), WEEKLY)
        assert ensure_issue(s, b, at + timedelta(days=7), WEEKLY).number == 1


def test_a_moment_before_the_first_issue_is_refused(db):
    with db.session() as s:
        group = make_group(s)
        first = ensure_issue(s, group, local(SHANGHAI, 2026, 11, 18, 10, 0), WEEKLY)
        with pytest.raises(PeriodError):
            ensure_issue(s, group, first.period_start - timedelta(seconds=1), WEEKLY)
        with pytest.raises(ValueError):
            ensure_issue(s, group, datetime(2026, 11, 18, 10, 0), WEEKLY)


def test_berlin_weeks_end_on_sunday_20_local_across_both_dst_changes(db):
    with db.session() as s:
        group = make_group(s, "Europe/Berlin")
        ensure_issue(s, group, local(BERLIN, 2026, 3, 18, 12, 0), WEEKLY)
        ensure_issue(s, group, local(BERLIN, 2026, 11, 4, 12, 0), WEEKLY)
        issues = all_issues(s, group)
        assert_contiguous(issues)
        lengths = set()
        for issue in issues:
            end = issue.period_end.astimezone(BERLIN)
            assert (end.weekday(), end.hour, end.minute) == (6, 20, 0)
            lengths.add(issue.period_end - issue.period_start)
        # spring forward (29 March) and fall back (25 October) make one short and one long week
        week = timedelta(days=7)
        assert lengths == {week, week - timedelta(hours=1), week + timedelta(hours=1)}


def test_new_york_ambiguous_publish_time_fires_once():
    """01:30 happens twice on 1 Nov 2026 in New York: the period ends at the first one."""
    periods = CronPeriods("30 1 * * *", "America/New_York")
    saturday = local(NEW_YORK, 2026, 10, 31, 12, 0)
    first_end = periods.next_end_after(saturday)
    assert first_end == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT
    second_end = periods.next_end_after(first_end)
    assert second_end == datetime(2026, 11, 2, 6, 30, tzinfo=UTC)  # 01:30 EST next day
    assert periods.last_end_at_or_before(second_end - timedelta(seconds=1)) == first_end


def test_spring_forward_gap_moves_the_publish_time_after_the_gap():
    periods = CronPeriods("30 2 * * sun", "Europe/Berlin")
    end = periods.next_end_after(local(BERLIN, 2026, 3, 25, 12, 0))
    assert end.astimezone(BERLIN).replace(tzinfo=None) == datetime(2026, 3, 29, 3, 30)
    following = periods.next_end_after(end)
    assert following.astimezone(BERLIN).replace(tzinfo=None) == datetime(2026, 4, 5, 2, 30)


def test_dst_free_zone_periods_are_exactly_seven_days():
    periods = CronPeriods(WEEKLY, "Asia/Shanghai")
    end = periods.next_end_after(datetime(2026, 1, 1, tzinfo=UTC))
    for _ in range(60):
        following = periods.next_end_after(end)
        assert following - end == timedelta(days=7)
        end = following


def test_monthly_and_minutely_crons():
    monthly = CronPeriods("0 0 1 * *", "Asia/Shanghai")
    start, end = monthly.bounds(local(SHANGHAI, 2026, 2, 14, 9, 0))
    assert (start, end) == (local(SHANGHAI, 2026, 2, 1, 0, 0), local(SHANGHAI, 2026, 3, 1, 0, 0))
    minutely = CronPeriods("* * * * *", "Europe/Berlin")
    start, end = minutely.bounds(local(BERLIN, 2026, 2, 14, 9, 0, 30))
    assert end - start == timedelta(minutes=1)


def test_publish_job_finds_the_week_that_just_closed(db):
    """The very first publish of a group creates the week that just ended and returns it."""
    with db.session() as s:
        group = make_group(s)
        publish_time = local(SHANGHAI, 2026, 11, 22, 20, 0)
        issue = latest_closed_issue(s, group, publish_time, WEEKLY)
        assert issue.period_end == publish_time
        assert issue.period_start == publish_time - timedelta(days=7)
        assert issue_ending_at_or_before(s, group, publish_time, WEEKLY).id == issue.id
        # a misfired job running late still finds the same issue
        late = publish_time + timedelta(hours=5)
        assert issue_ending_at_or_before(s, group, late, WEEKLY).id == issue.id
        issue.status = "published"
        issue.published_at = late
        s.flush()
        assert issue_ending_at_or_before(s, group, late, WEEKLY) is None
        # the current week exists too now (the period containing `late`)
        current = ensure_issue(s, group, late, WEEKLY)
        assert current.number == 2 and current.period_start == publish_time


def test_downtime_leaves_every_missed_week_unpublished_in_order(db):
    with db.session() as s:
        group = make_group(s)
        first = latest_closed_issue(s, group, local(SHANGHAI, 2026, 11, 22, 20, 0), WEEKLY)
        first.status = "published"
        back = local(SHANGHAI, 2026, 12, 14, 8, 0)  # three weeks later
        newest = issue_ending_at_or_before(s, group, back, WEEKLY)
        pending = unpublished_closed_issues(s, group, back)
        assert [i.number for i in pending] == [2, 3, 4]
        assert newest.id == pending[-1].id
        assert_contiguous(all_issues(s, group))


def test_changing_the_cron_keeps_periods_contiguous(db):
    with db.session() as s:
        group = make_group(s)
        first = ensure_issue(s, group, local(SHANGHAI, 2026, 11, 18, 10, 0), WEEKLY)
        later = ensure_issue(s, group, local(SHANGHAI, 2026, 11, 26, 10, 0), "0 9 * * fri")
        assert later.period_start == first.period_end
        assert later.period_end == local(SHANGHAI, 2026, 11, 27, 9, 0)
        assert_contiguous(all_issues(s, group))


ZONES = ["Asia/Shanghai", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"]
CRONS = [WEEKLY, "30 2 * * sun", "30 1 * * *", "0 0 1 * *", "15 */6 * * *"]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    zone=st.sampled_from(ZONES),
    cron=st.sampled_from(CRONS),
    offsets=st.lists(st.integers(min_value=0, max_value=60 * 24 * 90), min_size=1, max_size=6),
)
def test_any_sequence_of_moments_gives_contiguous_periods(tmp_path_factory, zone, cron, offsets):
    path = tmp_path_factory.mktemp("periods") / "p.db"
    database = Database(f"sqlite:///{path}")
    try:
        base = datetime(2026, 2, 20, tzinfo=UTC)
        moments = sorted(base + timedelta(minutes=m) for m in offsets)
        with database.session() as s:
            group = make_group(s, zone)
            for at in moments:
                issue = ensure_issue(s, group, at, cron)
                assert issue.period_start <= at < issue.period_end
            issues = all_issues(s, group)
            assert_contiguous(issues)
            periods = CronPeriods(cron, zone)
            for issue in issues:  # every period ends on a publish time of the cron
                end = issue.period_end
                assert periods.last_end_at_or_before(end) == end
    finally:
        database.dispose()


def test_concurrent_callers_share_one_chain_of_issues(db):
    """Workers asking at the same time (scheduler + an admin's /digest) create each issue once."""
    from concurrent.futures import ThreadPoolExecutor

    with db.session() as s:
        group_id = make_group(s).id
        ensure_issue(s, s.get(Group, group_id), local(SHANGHAI, 2026, 11, 18, 10, 0), WEEKLY)
    later = local(SHANGHAI, 2026, 12, 24, 10, 0)

    def worker(_: int) -> tuple[int, datetime]:
        with db.session() as s:
            issue = ensure_issue(s, s.get(Group, group_id), later, WEEKLY)
            return issue.number, issue.period_start

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = set(pool.map(worker, range(12)))
    assert len(results) == 1
    with db.session() as s:
        issues = all_issues(s, s.get(Group, group_id))
        assert_contiguous(issues)
        assert issues[-1].number == results.pop()[0] == 6


def test_months_after_a_published_issue_only_the_open_week_is_made(db):
    """#16: after an import of 2020 issues the next message made one empty draft per week up
    to now; the gap is skipped (only after a published issue, and beyond LONG_GAP)."""
    with db.session() as s:
        group = make_group(s)
        old = ensure_issue(s, group, local(SHANGHAI, 2020, 1, 8, 12, 0), WEEKLY)
        old.status = "published"
        now = local(SHANGHAI, 2026, 11, 18, 10, 0)
        issue = ensure_issue(s, group, now, WEEKLY)
        assert issue.number == 2 and issue.period_start <= now < issue.period_end
        assert len(all_issues(s, group)) == 2
        # a moment in the skipped weeks belongs to the issue after them, not an error
        assert ensure_issue(s, group, local(SHANGHAI, 2024, 5, 1, 12, 0), WEEKLY).id == issue.id
        with pytest.raises(PeriodError):
            ensure_issue(s, group, local(SHANGHAI, 2019, 5, 1, 12, 0), WEEKLY)
        # a gap of a few weeks (a downtime) is still filled week by week
        issue.status = "published"
        later = ensure_issue(s, group, now + timedelta(weeks=3), WEEKLY)
        assert later.number == 5 and len(all_issues(s, group)) == 5
