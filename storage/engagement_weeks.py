"""Weeks for engagement: ISO weeks in a group's timezone, and which weeks a member was away.

A week starts on Monday 00:00 local time and is identified by that Monday's date, so weeks
spanning a DST change (167 or 169 hours) still bucket by the local calendar. Pure functions, no
database; :mod:`storage.engagement` (streaks), :mod:`storage.stats` and the reminders use them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from storage.models import Group

AWAY_MIN_DAYS = 3
"""An away period excuses a week when it covers at least this many days of it."""


def week_start(moment: datetime, tz: ZoneInfo) -> date:
    """The Monday (local date) of the ISO week containing ``moment`` in ``tz``."""
    local = moment.astimezone(tz).date()
    return local - timedelta(days=local.weekday())


def week_bounds(monday: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of the week starting ``monday``, as aware UTC datetimes."""
    start = datetime.combine(monday, time(0), tzinfo=tz)
    end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def weeks_back(this_monday: date, count: int) -> list[date]:
    """The ``count`` Mondays ending with ``this_monday``, oldest first."""
    return [this_monday - timedelta(weeks=count - 1 - i) for i in range(count)]


def group_tz(group: Group) -> ZoneInfo:
    """The group's timezone."""
    return ZoneInfo(group.timezone)


def away_weeks(
    periods: Iterable[tuple[datetime, datetime]], tz: ZoneInfo, *, min_days: int = AWAY_MIN_DAYS
) -> set[date]:
    """Mondays of the weeks that ``periods`` cover for at least ``min_days`` days (wall clock)."""
    covered: dict[date, timedelta] = defaultdict(timedelta)
    for start, end in periods:
        if end <= start:
            continue
        local_start = start.astimezone(tz).replace(tzinfo=None)
        local_end = end.astimezone(tz).replace(tzinfo=None)
        monday = week_start(start, tz)
        while True:
            week_from = datetime.combine(monday, time(0))
            week_to = week_from + timedelta(days=7)
            if week_from >= local_end:
                break
            overlap = min(local_end, week_to) - max(local_start, week_from)
            if overlap > timedelta(0):
                covered[monday] += overlap
            monday += timedelta(weeks=1)
    return {monday for monday, total in covered.items() if total >= timedelta(days=min_days)}
