"""Engagement: weekly check-in streaks, away (vacation) periods and the leaderboard.

Weeks are ISO weeks in the group's timezone: a week starts on Monday 00:00 local time and is
identified by that Monday's date, so weeks spanning a DST change (167 or 169 hours) still
bucket by the local calendar.

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
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, literal, select, union_all
from sqlalchemy.orm import Session

from storage.models import Answer, AwayPeriod, CheckIn, Group, Member, Paper, Question, Resource

AWAY_MIN_DAYS = 3
"""An away period excuses a week when it covers at least this many days of it."""

WEIGHTS: dict[str, int] = {"checkin": 3, "answer": 2, "paper": 2, "resource": 1}
"""Leaderboard points per contribution kind."""

HISTORY_WEEKS = 8


# -- weeks -------------------------------------------------------------------------------
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


def away_periods_by_member(
    session: Session, member_ids: Sequence[int] | None = None
) -> dict[int, list[tuple[datetime, datetime]]]:
    """All away periods, grouped by member (one query)."""
    stmt = select(AwayPeriod.member_id, AwayPeriod.starts_at, AwayPeriod.ends_at)
    if member_ids is not None:
        stmt = stmt.where(AwayPeriod.member_id.in_(member_ids))
    result: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for member_id, start, end in session.execute(stmt):
        result[member_id].append((start, end))
    return result


def checkin_weeks(
    session: Session, group: Group, member_ids: Sequence[int] | None = None
) -> dict[int, Counter[date]]:
    """Per member: check-ins per week (Monday -> count), bucketed in the group's timezone."""
    tz = group_tz(group)
    stmt = select(CheckIn.member_id, CheckIn.created_at).where(CheckIn.group_id == group.id)
    if member_ids is not None:
        stmt = stmt.where(CheckIn.member_id.in_(member_ids))
    result: dict[int, Counter[date]] = defaultdict(Counter)
    for member_id, created_at in session.execute(stmt.execution_options(yield_per=2000)):
        result[member_id][week_start(created_at, tz)] += 1
    return result


def streaks_for_group(
    session: Session,
    group: Group,
    now: datetime,
    member_ids: Sequence[int] | None = None,
    *,
    history_weeks: int = HISTORY_WEEKS,
) -> dict[int, Streak]:
    """Streaks of every member who ever checked in (or of ``member_ids``): three queries."""
    tz = group_tz(group)
    this_monday = week_start(now, tz)
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
    session: Session, group: Group, member_id: int, now: datetime, *, history_weeks: int = 8
) -> Streak:
    """One member's streak and the last ``history_weeks`` weeks."""
    return streaks_for_group(session, group, now, [member_id], history_weeks=history_weeks)[
        member_id
    ]


# -- away periods -------------------------------------------------------------------------
def current_away(session: Session, member_id: int, now: datetime) -> AwayPeriod | None:
    """The away period covering ``now``, if any (the latest-ending one)."""
    return session.scalars(
        select(AwayPeriod)
        .where(
            AwayPeriod.member_id == member_id,
            AwayPeriod.starts_at <= now,
            AwayPeriod.ends_at > now,
        )
        .order_by(AwayPeriod.ends_at.desc())
        .limit(1)
    ).first()


def set_away(session: Session, member: Member, now: datetime, until: datetime) -> AwayPeriod:
    """Mark ``member`` away from ``now`` until ``until`` (replacing a running period's end)."""
    period = current_away(session, member.id, now)
    if period is None:
        period = AwayPeriod(member_id=member.id, starts_at=now, ends_at=until)
        session.add(period)
    else:
        period.ends_at = until
    member.away_until = until
    session.flush()
    return period


def end_away(session: Session, member: Member, now: datetime) -> bool:
    """End a running away period now; False when the member was not away."""
    period = current_away(session, member.id, now)
    member.away_until = None
    if period is None:
        return False
    period.ends_at = now
    session.flush()
    return True


def away_member_ids(session: Session, member_ids: Sequence[int], now: datetime) -> set[int]:
    """Which of ``member_ids`` are away at ``now`` (one query)."""
    if not member_ids:
        return set()
    return set(
        session.scalars(
            select(AwayPeriod.member_id).where(
                AwayPeriod.member_id.in_(member_ids),
                AwayPeriod.starts_at <= now,
                AwayPeriod.ends_at > now,
            )
        )
    )


# -- contributions and leaderboard ---------------------------------------------------------
def contribution_counts(
    session: Session,
    group: Group,
    since: datetime | None = None,
    until: datetime | None = None,
    member_ids: Sequence[int] | None = None,
) -> dict[int, Counter[str]]:
    """Per member: how many check-ins, questions, answers, papers, resources (one query)."""

    def window(stmt, column, member_column):  # type: ignore[no-untyped-def]
        if since is not None:
            stmt = stmt.where(column >= since)
        if until is not None:
            stmt = stmt.where(column < until)
        if member_ids is not None:
            stmt = stmt.where(member_column.in_(member_ids))
        return stmt.group_by(member_column)

    parts = [
        window(
            select(model.member_id, literal(kind).label("kind"), func.count().label("n")).where(
                model.group_id == group.id
            ),
            model.created_at,
            model.member_id,
        )
        for kind, model in (
            ("checkin", CheckIn),
            ("question", Question),
            ("paper", Paper),
            ("resource", Resource),
        )
    ]
    parts.append(
        window(
            select(Answer.member_id, literal("answer").label("kind"), func.count().label("n"))
            .join(Question, Question.id == Answer.question_id)
            .where(Question.group_id == group.id),
            Answer.created_at,
            Answer.member_id,
        )
    )
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    for member_id, kind, n in session.execute(union_all(*parts)):
        counts[member_id][kind] += n
    return counts


def score(counts: Counter[str]) -> int:
    """Leaderboard points for one member's contribution counts."""
    return sum(WEIGHTS.get(kind, 0) * n for kind, n in counts.items())


@dataclass(frozen=True)
class RankEntry:
    """One leaderboard line. Equal scores share a rank (1, 2, 2, 4)."""

    rank: int
    member_id: int
    name: str
    points: int
    counts: Counter[str]


def leaderboard(
    session: Session, group: Group, since: datetime | None = None, until: datetime | None = None
) -> list[RankEntry]:
    """Everyone with points in [since, until), best first (two queries in total)."""
    counts = contribution_counts(session, group, since, until)
    scored = {mid: (score(c), c) for mid, c in counts.items() if score(c) > 0}
    if not scored:
        return []
    rows = session.execute(
        select(Member.id, Member.display_name).where(Member.id.in_(list(scored)))
    )
    names: dict[int, str] = {member_id: name for member_id, name in rows}
    order = sorted(
        scored,
        key=lambda mid: (-scored[mid][0], -scored[mid][1]["checkin"], names.get(mid, ""), mid),
    )
    entries: list[RankEntry] = []
    for position, member_id in enumerate(order, start=1):
        points, member_counts = scored[member_id]
        rank = entries[-1].rank if entries and entries[-1].points == points else position
        entries.append(RankEntry(rank, member_id, names.get(member_id, "?"), points, member_counts))
    return entries


def active_member_ids(session: Session, group: Group, since: datetime) -> set[int]:
    """Members who checked in since ``since``."""
    return set(
        session.scalars(
            select(CheckIn.member_id)
            .where(CheckIn.group_id == group.id, CheckIn.created_at >= since)
            .distinct()
        )
    )

