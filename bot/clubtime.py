"""Club time: when things happen for a club, in one place.

Every date and week the bot shows or counts is computed here, from a crontab read in a
group's timezone as wall-clock time:

* **Cron fires as instants** (:class:`CronPeriods`): fires are found by matching the crontab
  against local wall time (an APScheduler trigger in UTC used as a pure calendar matcher) and
  then mapping wall time to an instant with :mod:`zoneinfo`. A wall time repeated when clocks
  go back fires once, at its first occurrence (``fold=0``); a wall time skipped when clocks go
  forward fires right after the gap (02:30 -> 03:30). APScheduler's own timezone handling
  repeats fires at ambiguous times, so it is not used for the arithmetic. The digest periods,
  the scheduler's triggers (:mod:`digest.triggers`) and the reminders all use these fires.
* **Club weeks** (:func:`week_key`, :func:`local_label`): the digest period is the club's
  week everywhere members see one; :func:`digest.periods.club_week` finds a moment's period
  in the database, this module names it (a Monday key for streaks, a deadline for replies).
* **Calendar weeks** (:func:`week_start`, :func:`week_bounds`, :func:`away_weeks`): Monday
  00:00 local weeks, the key space of club weeks and of ``/away``.
* **Quiet hours** (:func:`next_allowed_time`): when a reminder may go out, in local time.
* **A message's time** (:func:`message_time`): when the member sent it, as the platform says,
  clamped to ``[now - the platform's retention, now]`` (a platform keeps messages for a bot
  that is down only so long, and a clock ahead of ours must not date a note in the future).
* **Clock-change warnings** (:func:`clock_change_warnings`): a crontab that falls in an hour
  its timezone skips or repeats, and what the bot will do then (config validation).

A leaf module (the standard library and APScheduler's crontab parser only), so the storage,
digest and handler layers all use it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

#: Largest difference between wall-clock order and instant order (UTC offset changes).
_SLACK = timedelta(hours=6)
_LOOKBACK = (
    timedelta(hours=3),
    timedelta(days=1),
    timedelta(days=8),
    timedelta(days=32),
    timedelta(days=367),
    timedelta(days=4 * 366),
)


class PeriodError(ValueError):
    """A moment that no period can hold (before the group's first issue, or a cron that
    never fires)."""


class CronPeriods:
    """Period ends of one cron in one timezone."""

    def __init__(self, cron: str, timezone: str) -> None:
        self.cron = cron
        self.zone = ZoneInfo(timezone)
        # Used only as a calendar matcher over naive wall time represented as UTC.
        self._wall = CronTrigger.from_crontab(cron, timezone=UTC)

    def _wall_fires(self, start_wall: datetime) -> Iterator[datetime]:
        fire = self._wall.get_next_fire_time(None, start_wall)
        while fire is not None:
            yield fire
            fire = self._wall.get_next_fire_time(None, fire + timedelta(microseconds=1))

    def _instant(self, wall: datetime) -> datetime:
        local = wall.replace(tzinfo=self.zone, fold=0)
        return local.astimezone(UTC)

    def _to_wall(self, t: datetime) -> datetime:
        if t.tzinfo is None:
            raise ValueError("naive datetime; use timezone-aware values")
        return t.astimezone(self.zone).replace(tzinfo=UTC, fold=0)

    def next_end_after(self, t: datetime) -> datetime:
        """The first cron fire strictly after ``t`` (aware UTC)."""
        wall = self._to_wall(t)
        best: tuple[datetime, datetime] | None = None
        for fire in self._wall_fires(wall - _SLACK):
            instant = self._instant(fire)
            if instant > t and (best is None or instant < best[0]):
                best = (instant, fire)
            if best is not None and fire > best[1] + _SLACK:
                break
        if best is None:
            raise PeriodError(f"cron {self.cron!r} never fires after {t.isoformat()}")
        return best[0]

    def last_end_at_or_before(self, t: datetime) -> datetime:
        """The latest cron fire at or before ``t`` (aware UTC)."""
        wall = self._to_wall(t)
        for window in _LOOKBACK:
            found: tuple[datetime, datetime] | None = None
            for fire in self._wall_fires(wall - window - _SLACK):
                if fire > wall + _SLACK:
                    break
                instant = self._instant(fire)
                if instant <= t and (found is None or instant > found[0]):
                    found = (instant, fire)
            if found is not None and found[1] >= wall - window:
                return found[0]
        raise PeriodError(f"cron {self.cron!r} did not fire in the 4 years before {t}")

    def bounds(self, at: datetime) -> tuple[datetime, datetime]:
        """The cron period ``[start, end)`` that contains ``at``."""
        return self.last_end_at_or_before(at), self.next_end_after(at)


@lru_cache(maxsize=64)
def cron_periods(cron: str, timezone: str) -> CronPeriods:
    """A cached :class:`CronPeriods` (building a trigger parses the crontab)."""
    return CronPeriods(cron, timezone)


# -- calendar weeks (Monday 00:00 local) --------------------------------------------------
# The keys of club weeks (see week_key), the weeks /away excuses, and the calendar weeks
# check-ins written before club weeks counted for. A week spanning a DST change (167 or 169
# hours) still buckets by the local calendar.
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


# -- club weeks -----------------------------------------------------------------------------
def zone(name: str) -> ZoneInfo:
    """The time zone ``name`` (UTC if unknown)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def week_key(period_end: datetime, timezone: str) -> date:
    """The key of the club week (digest period) ending at ``period_end``: the Monday of the
    calendar week its last moment falls in. A weekly period (Sunday 20:00 -> Sunday 20:00)
    gets the Monday of the week it mostly covers, so consecutive periods get consecutive
    Mondays, the same keys streaks counted calendar weeks by before there were club weeks."""
    return week_start(period_end - timedelta(microseconds=1), zone(timezone))


def local_label(moment: datetime, timezone: str, lang: str) -> str:
    """A moment as members read it in replies, e.g. a deadline: ``12月6日 20:00`` /
    ``Dec 6, 20:00`` (local to ``timezone``)."""
    local = moment.astimezone(zone(timezone))
    if lang == "en":
        return f"{local:%b} {local.day}, {local:%H:%M}"
    return f"{local.month}月{local.day}日 {local:%H:%M}"


# -- quiet hours (local) --------------------------------------------------------------------------
def parse_quiet_hours(spec: str) -> tuple[time, time] | None:
    """``"23:00-08:00"`` -> (23:00, 08:00); None when empty or start == end (no quiet hours)."""
    if not spec:
        return None
    start_text, end_text = spec.split("-", 1)
    start, end = time.fromisoformat(start_text.strip()), time.fromisoformat(end_text.strip())
    return None if start == end else (start, end)


def next_allowed_time(now: datetime, quiet_hours: str, tz: str | ZoneInfo) -> datetime:
    """``now`` if it is outside the quiet hours (local to ``tz``), else the end of them (UTC)."""
    window = parse_quiet_hours(quiet_hours)
    if window is None:
        return now
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    start, end = window
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if start < end:
        quiet = start <= clock < end
        end_day = local.date()
    else:  # the window wraps around midnight
        quiet = clock >= start or clock < end
        end_day = local.date() + timedelta(days=1) if clock >= start else local.date()
    if not quiet:
        return now
    return datetime.combine(end_day, end, tzinfo=zone).astimezone(UTC)


# -- a message's time -----------------------------------------------------------------------
#: How long a platform keeps a message for a bot that is not running: a message delivered
#: later than that after it was sent is not believed to be older (Telegram's getUpdates keeps
#: updates for 24 hours; the wechaty puppet re-delivers what arrived while it was offline).
PLATFORM_RETENTION: dict[str, timedelta] = {
    "telegram": timedelta(hours=24),
    "wechat": timedelta(hours=24),
}


def message_time(platform: str, sent_at: datetime | None, now: datetime) -> datetime:
    """When a message counts as written: the platform's ``sent_at`` clamped to
    ``[now - PLATFORM_RETENTION[platform], now]``; ``now`` for a platform without a backlog
    (the console) or without a timestamp."""
    retention = PLATFORM_RETENTION.get(platform)
    if sent_at is None or retention is None:
        return now
    if sent_at.tzinfo is None:
        sent_at = sent_at.replace(tzinfo=UTC)
    return min(max(sent_at.astimezone(UTC), now - retention), now)


# -- clock changes --------------------------------------------------------------------------
def _wall_kind(wall: datetime, zone: ZoneInfo) -> str | None:
    """``"skipped"``/``"repeated"`` when the naive local ``wall`` does not exist/exists twice."""
    first, second = wall.replace(tzinfo=zone, fold=0), wall.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return None
    back = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    return "skipped" if back != wall else "repeated"


def clock_change_warnings(
    crontab: str, timezone: str, *, what: str = "cron", start: datetime | None = None
) -> list[str]:
    """Warnings for the fires of ``crontab`` in the next two years that fall in an hour
    ``timezone`` skips or repeats, each saying what will happen (one line per kind)."""
    day = (start or datetime.now(UTC)).date()
    return list(_clock_change_warnings(crontab, timezone, what, day))


@lru_cache(maxsize=64)
def _clock_change_warnings(crontab: str, timezone: str, what: str, day: date) -> tuple[str, ...]:
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time(0), tzinfo=UTC)
    matcher = CronTrigger.from_crontab(crontab, timezone=UTC)
    begin = start.astimezone(zone).replace(tzinfo=UTC, fold=0)
    found: dict[str, datetime] = {}
    for transition in _transitions(zone, begin, begin + timedelta(days=731)):
        wall = matcher.get_next_fire_time(None, transition - timedelta(hours=3))
        while wall is not None and wall < transition + timedelta(hours=3):
            kind = _wall_kind(wall.replace(tzinfo=None), zone)
            if kind is not None:
                found.setdefault(kind, wall)
            wall = matcher.get_next_fire_time(None, wall + timedelta(seconds=1))
    lines = []
    for kind, wall in sorted(found.items(), key=lambda item: item[1]):
        fire = wall.replace(tzinfo=zone, fold=0).astimezone(UTC).astimezone(zone)
        if kind == "skipped":
            what_happens = (
                f"does not exist that night (clocks go forward): it fires at {fire:%H:%M} instead"
            )
        else:
            what_happens = (
                "happens twice that night (clocks go back): it fires once, at the first "
                f"{fire:%H:%M} (UTC{fire:%z})"
            )
        lines.append(f"{what} {crontab!r} in {timezone}: {wall:%Y-%m-%d %H:%M} {what_happens}")
    return tuple(lines)


def _transitions(zone: ZoneInfo, start_wall: datetime, end_wall: datetime) -> Iterator[datetime]:
    """Naive-as-UTC local wall times around which ``zone``'s UTC offset changes."""
    hour = timedelta(hours=1)
    moment = start_wall.replace(tzinfo=zone).astimezone(UTC)
    end = end_wall.replace(tzinfo=zone).astimezone(UTC)
    offset = moment.astimezone(zone).utcoffset()
    while moment < end:
        moment += hour
        now_offset = moment.astimezone(zone).utcoffset()
        if now_offset != offset:
            offset = now_offset
            yield moment.astimezone(zone).replace(tzinfo=UTC, fold=0)
