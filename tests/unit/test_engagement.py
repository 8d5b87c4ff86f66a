"""Weekly streak arithmetic, week boundaries in DST-free and DST zones, away weeks, leaderboard."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot import clubtime
from storage import engagement, engagement_rank
from storage.db import Database
from storage.identity import ensure_group, ensure_member
from storage.models import Answer, CheckIn, Paper, Question, Resource

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
MON = date(2026, 11, 16)  # a Monday


def local(tz: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=tz).astimezone(UTC)  # type: ignore[misc]


# -- week boundaries ----------------------------------------------------------------------
@pytest.mark.parametrize("tz", [SHANGHAI, BERLIN, NEW_YORK])
def test_week_starts_monday_midnight_local(tz):
    assert clubtime.week_start(local(tz, 2026, 11, 22, 23, 59, 59), tz) == MON
    assert clubtime.week_start(local(tz, 2026, 11, 23, 0, 0), tz) == MON + timedelta(weeks=1)
    assert clubtime.week_start(local(tz, 2026, 11, 16, 0, 0), tz) == MON


def test_shanghai_monday_starts_on_sunday_utc():
    # Monday 00:00 in Shanghai is Sunday 16:00 UTC: a UTC-based week would put it a week early
    sunday_utc = datetime(2026, 11, 22, 16, 0, tzinfo=UTC)
    assert clubtime.week_start(sunday_utc, SHANGHAI) == date(2026, 11, 23)
    assert clubtime.week_start(sunday_utc - timedelta(seconds=1), SHANGHAI) == MON


@pytest.mark.parametrize(
    ("tz", "monday", "hours"),
    [
        (BERLIN, date(2026, 3, 23), 167),  # clocks go forward on Sunday 29 March
        (BERLIN, date(2026, 10, 19), 169),  # and back on Sunday 25 October
        (NEW_YORK, date(2026, 3, 2), 167),  # forward on Sunday 8 March
        (NEW_YORK, date(2026, 10, 26), 169),  # back on Sunday 1 November
        (SHANGHAI, date(2026, 3, 23), 168),
    ],
)
def test_week_spanning_dst_change_has_local_bounds(tz, monday, hours):
    start, end = clubtime.week_bounds(monday, tz)
    assert end - start == timedelta(hours=hours)
    assert start.astimezone(tz).replace(tzinfo=None) == datetime(*monday.timetuple()[:3])
    assert clubtime.week_start(end - timedelta(seconds=1), tz) == monday
    assert clubtime.week_start(end, tz) == monday + timedelta(weeks=1)


# -- streak arithmetic ----------------------------------------------------------------------
def weeks(*offsets: int) -> Counter[date]:
    """Check-in counts for the weeks ``offsets`` before MON (0 = this week)."""
    return Counter({MON - timedelta(weeks=o): 1 for o in offsets})


def test_consecutive_weeks_make_a_streak():
    streak = engagement.compute_streak(weeks(0, 1, 2, 3), set(), MON)
    assert (streak.current, streak.longest, streak.checked_in_this_week) == (4, 4, True)


def test_this_week_pending_does_not_break_the_streak():
    streak = engagement.compute_streak(weeks(1, 2, 3), set(), MON)
    assert (streak.current, streak.longest, streak.checked_in_this_week) == (3, 3, False)
    assert streak.history[-1].state == "pending"


def test_a_missed_week_breaks_the_streak_but_not_the_longest():
    streak = engagement.compute_streak(weeks(0, 1, 3, 4, 5, 6, 7), set(), MON)
    assert (streak.current, streak.longest) == (2, 5)
    assert [w.state for w in streak.history] == ["done"] * 5 + ["missed", "done", "done"]


def test_two_weeks_without_checkin_resets_the_current_streak():
    assert engagement.compute_streak(weeks(2, 3), set(), MON).current == 0


def test_away_week_neither_breaks_nor_extends():
    away = {MON - timedelta(weeks=2), MON - timedelta(weeks=3)}
    streak = engagement.compute_streak(weeks(0, 1, 4, 5), away, MON)
    assert (streak.current, streak.longest) == (4, 4)
    states = [w.state for w in streak.history]
    assert states[-6:] == ["done", "done", "away", "away", "done", "done"]


def test_checkin_during_away_week_still_counts():
    streak = engagement.compute_streak(weeks(0, 1), {MON}, MON)
    assert streak.current == 2


def test_weeks_before_joining_are_not_missed():
    streak = engagement.compute_streak(weeks(0), set(), MON, joined=MON - timedelta(weeks=1))
    assert [w.state for w in streak.history][-3:] == ["before", "missed", "done"]


def test_no_checkins_at_all():
    streak = engagement.compute_streak(Counter(), set(), MON)
    assert (streak.current, streak.longest, streak.total_checkins) == (0, 0, 0)


# -- away weeks -------------------------------------------------------------------------------
def test_two_weeks_away_from_wednesday_excuses_two_weeks_not_the_third():
    start = local(SHANGHAI, 2026, 11, 18, 9, 0)  # Wednesday
    away = clubtime.away_weeks([(start, start + timedelta(weeks=2))], SHANGHAI)
    assert away == {MON, MON + timedelta(weeks=1)}


def test_one_day_away_excuses_nothing():
    start = local(SHANGHAI, 2026, 11, 22, 0, 0)
    assert clubtime.away_weeks([(start, start + timedelta(days=1))], SHANGHAI) == set()


def test_away_days_in_dst_week_are_wall_clock_days():
    # Thursday 26 March 00:00 to Sunday 29 March 24:00 Berlin: 4 wall-clock days, 95 real hours
    start, end = local(BERLIN, 2026, 3, 26, 0, 0), local(BERLIN, 2026, 3, 30, 0, 0)
    assert end - start == timedelta(hours=95)
    assert clubtime.away_weeks([(start, end)], BERLIN, min_days=4) == {date(2026, 3, 23)}


# -- database queries -------------------------------------------------------------------------
@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'e.db'}")
    yield database
    database.dispose()


def test_group_streaks_bucket_in_the_group_timezone(db):
    with db.session() as s:
        group = ensure_group(s, "g", "G", "Europe/Berlin")
        alice = ensure_member(s, "console", "alice")
        alice.joined_at = datetime(2026, 1, 1, tzinfo=UTC)
        # Sunday 23:30 and Monday 00:30 local in the week clocks went forward: two weeks
        for moment in (local(BERLIN, 2026, 3, 29, 23, 30), local(BERLIN, 2026, 3, 30, 0, 30)):
            s.add(CheckIn(group_id=group.id, member_id=alice.id, text="x", created_at=moment))
        s.flush()
        now = local(BERLIN, 2026, 4, 1, 12, 0)
        streak = engagement.member_streak(s, group, alice.id, now)
        assert (streak.current, streak.total_checkins) == (2, 2)
        # the same rows bucketed in UTC would be a single week
        group.timezone = "UTC"
        assert engagement.member_streak(s, group, alice.id, now).current == 1


def test_leaderboard_weights_ties_and_window(db):
    now = local(SHANGHAI, 2026, 11, 18, 12, 0)
    last_week = now - timedelta(weeks=1)
    with db.session() as s:
        group = ensure_group(s, "g", "G", "Asia/Shanghai")
        a, b, c = (ensure_member(s, "console", n, n) for n in ("amy", "bob", "cat"))
        q = Question(group_id=group.id, number=1, member_id=c.id, text="?", created_at=now)
        s.add(q)
        s.flush()
        s.add_all(
            [
                CheckIn(group_id=group.id, member_id=a.id, text="x", created_at=now),  # 3
                Answer(question_id=q.id, member_id=b.id, text="y", created_at=now),  # 2
                Resource(group_id=group.id, member_id=b.id, url="u", created_at=now),  # 1
                Paper(group_id=group.id, member_id=c.id, url="p", url_key="p", created_at=now),
                Resource(group_id=group.id, member_id=c.id, url="v", created_at=now),
                CheckIn(group_id=group.id, member_id=b.id, text="old", created_at=last_week),
            ]
        )
        s.flush()
        start, end = clubtime.week_bounds(clubtime.week_start(now, SHANGHAI), SHANGHAI)
        week = engagement_rank.leaderboard(s, group, start, end)
        assert [(e.name, e.points, e.rank) for e in week] == [
            ("amy", 3, 1),  # more check-ins wins the tie-break
            ("bob", 3, 1),
            ("cat", 3, 1),
        ]
        total = engagement_rank.leaderboard(s, group)
        assert [(e.name, e.points, e.rank) for e in total] == [
            ("bob", 6, 1),
            ("amy", 3, 2),
            ("cat", 3, 2),
        ]
        assert total[0].counts == Counter({"checkin": 1, "answer": 1, "resource": 1})
