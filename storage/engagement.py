"""Engagement: weekly check-in streaks, away (vacation) periods and the leaderboard.

Weeks are club weeks (digest periods, see :mod:`bot.clubtime`), each identified by a Monday
(:func:`bot.clubtime.week_key`) stored on the check-in; check-ins written before club weeks
(or imported without one) count for the calendar week (Monday 00:00 local) they were written
in, which is the same key space, so streaks run on across the change.

Streak rules:

* a week *counts* when the member checked in at least once in it;
* the *current* streak is the run of counted weeks ending this week, or last week when this
  week has no check-in yet (this week is still "pending", it does not break the streak);
* an *away* week without a check-in neither breaks nor extends a streak: it is skipped. A week
  is away when the member's away periods cover at least :data:`AWAY_MIN_DAYS` days of it
  (wall-clock time in the group's timezone), so a one-day trip does not excuse a whole week;
* the *longest* streak is the longest such run ever.

Leaderboard points (see :data:`WEIGHTS`): check-in 3, answer 2, paper 2, resource 1.
Everything is computed with a handful of aggregate queries per call, never one per member.

Week arithmetic and away weeks live in :mod:`bot.clubtime` (the one module for club time), away periods in the
database in :mod:`storage.engagement_away`, contributions and the leaderboard in
:mod:`storage.engagement_rank`; this module computes streaks, and every public name of the
four is importable from here.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clubtime import away_weeks, week_start, weeks_back, zone
from storage.engagement_away import away_periods_by_member
from storage.models import CheckIn, Group, Member

HISTORY_WEEKS = 8


# -- streaks -----------------------------------------------------------------------------
@dataclass(frozen=True)
class WeekStatus:
    """One week of a member's history."""

    monday: date
    checkins: int
    away: bool
    current: bool
    before: bool = False

    @property
    def state(self) -> str:
        """``done`` | ``away`` | ``pending`` (this week, nothing yet) | ``missed`` | ``before``
        (the member had not joined yet)."""
        if self.checkins:
            return "done"
        if self.before:
            return "before"
        if self.away:
            return "away"
        return "pending" if self.current else "missed"


def group_tz(group: Group) -> ZoneInfo:
    """The group's timezone (UTC if unknown, like every timezone the bot reads)."""
    return zone(group.timezone)


@dataclass(frozen=True)
class Streak:
    """A member's weekly check-in record."""

    current: int
    longest: int
    total_checkins: int
    checked_in_this_week: bool
    history: list[WeekStatus] = field(default_factory=list)


def compute_streak(
    week_counts: Counter[date],
    away: set[date],
    this_monday: date,
    *,
    history_weeks: int = HISTORY_WEEKS,
    joined: date | None = None,
) -> Streak:
    """Pure streak arithmetic over per-week check-in counts (keys are Mondays).

    ``joined`` (a Monday) marks earlier history weeks as ``before`` rather than ``missed``.
    """
    counted = [m for m, n in week_counts.items() if n > 0]
    start = min([joined, *counted]) if joined is not None and counted else joined
    history = [
        WeekStatus(
            m,
            week_counts.get(m, 0),
            m in away,
            m == this_monday,
            start is not None and m < start and m != this_monday,
        )
        for m in weeks_back(this_monday, history_weeks)
    ]
    total = sum(week_counts.values())
    active = {m for m, n in week_counts.items() if n > 0 and m <= this_monday}
    if not active:
        return Streak(0, 0, total, False, history)
    longest = run = 0
    monday = min(active)
    while monday <= this_monday:
        if monday in active:
            run += 1
            longest = max(longest, run)
        elif monday not in away and monday != this_monday:
            run = 0
        monday += timedelta(weeks=1)
    current = 0
    monday = this_monday
    first = min(active)
    while monday >= first:
        if monday in active:
            current += 1
        elif monday not in away and monday != this_monday:
            break
        monday -= timedelta(weeks=1)
    return Streak(current, longest, total, this_monday in active, history)


def checkin_weeks(
    session: Session, group: Group, member_ids: Sequence[int] | None = None
) -> dict[int, Counter[date]]:
    """Per member: check-ins per club week (its Monday key -> count); a check-in without a
    stored week counts for the calendar week it was written in (group's timezone)."""
    tz = group_tz(group)
    stmt = select(CheckIn.member_id, CheckIn.created_at, CheckIn.week).where(
        CheckIn.group_id == group.id
    )
    if member_ids is not None:
        stmt = stmt.where(CheckIn.member_id.in_(member_ids))
    result: dict[int, Counter[date]] = defaultdict(Counter)
    for member_id, created_at, week in session.execute(stmt.execution_options(yield_per=2000)):
        result[member_id][week or week_start(created_at, tz)] += 1
    return result


def streaks_for_group(
    session: Session,
    group: Group,
    now: datetime,
    member_ids: Sequence[int] | None = None,
    *,
    history_weeks: int = HISTORY_WEEKS,
    this_week: date | None = None,
) -> dict[int, Streak]:
    """Streaks of every member who ever checked in (or of ``member_ids``): three queries.

    ``this_week`` is the key of the club week the streak is for (``now``'s digest period, see
    :func:`digest.periods.club_week`); by default the calendar week of ``now``."""
    tz = group_tz(group)
    this_monday = this_week or week_start(now, tz)
    weeks = checkin_weeks(session, group, member_ids)
    ids = list(member_ids) if member_ids is not None else list(weeks)
    periods = away_periods_by_member(session, ids)
    joined = {
        member_id: week_start(joined_at, tz)
        for member_id, joined_at in session.execute(
            select(Member.id, Member.joined_at).where(Member.id.in_(ids))
        )
    }
    return {
        member_id: compute_streak(
            weeks.get(member_id, Counter()),
            away_weeks(periods.get(member_id, []), tz),
            this_monday,
            history_weeks=history_weeks,
            joined=joined.get(member_id),
        )
        for member_id in ids
    }


def member_streak(
    session: Session,
    group: Group,
    member_id: int,
    now: datetime,
    *,
    history_weeks: int = 8,
    this_week: date | None = None,
) -> Streak:
    """One member's streak and the last ``history_weeks`` weeks (``this_week``: see
    :func:`streaks_for_group`)."""
    return streaks_for_group(
        session, group, now, [member_id], history_weeks=history_weeks, this_week=this_week
    )[member_id]
