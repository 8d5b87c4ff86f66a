"""Group statistics for admins (/stats) and the web archive: totals and weekly activity.

A member is *active* in a week when they posted anything in the group that week (check-in,
question, answer, paper or resource). Weeks are the group's local ISO weeks
(see :mod:`storage.engagement`). Everything comes from a few aggregate queries.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, literal, select, union_all
from sqlalchemy.orm import Session

from bot import clubtime
from storage import engagement, engagement_rank
from storage.models import Answer, CheckIn, Group, Member, Paper, Question, Resource

DEFAULT_WEEKS = 12


@dataclass(frozen=True)
class WeekActivity:
    """One week: how many members were active and how many check-ins were made."""

    monday: date
    active_members: int
    checkins: int


@dataclass(frozen=True)
class GroupStats:
    """What /stats shows."""

    members: int
    contributors: int
    active_this_week: int
    checkins_this_week: int
    checkins_last_week: int
    totals: Counter[str]
    questions: Counter[str]
    weeks: list[WeekActivity] = field(default_factory=list)


def _activity_rows(session: Session, group: Group, since: datetime):  # type: ignore[no-untyped-def]
    """(member_id, created_at, is_checkin) of every contribution since ``since``."""
    parts = [
        select(
            model.member_id, model.created_at, literal(model is CheckIn).label("is_checkin")
        ).where(model.group_id == group.id, model.created_at >= since)
        for model in (CheckIn, Question, Paper, Resource)
    ]
    parts.append(
        select(Answer.member_id, Answer.created_at, literal(False).label("is_checkin"))
        .join(Question, Question.id == Answer.question_id)
        .where(Question.group_id == group.id, Answer.created_at >= since)
    )
    return session.execute(union_all(*parts))


def weekly_activity(
    session: Session, group: Group, now: datetime, weeks: int = DEFAULT_WEEKS
) -> list[WeekActivity]:
    """The last ``weeks`` weeks (oldest first, this week last) of activity."""
    tz = engagement.group_tz(group)
    mondays = clubtime.weeks_back(clubtime.week_start(now, tz), weeks)
    since, _ = clubtime.week_bounds(mondays[0], tz)
    active: dict[date, set[int]] = defaultdict(set)
    checkins: Counter[date] = Counter()
    for member_id, created_at, is_checkin in _activity_rows(session, group, since):
        monday = clubtime.week_start(created_at, tz)
        active[monday].add(member_id)
        if is_checkin:
            checkins[monday] += 1
    return [WeekActivity(m, len(active[m]), checkins[m]) for m in mondays]


def group_stats(
    session: Session, group: Group, now: datetime, weeks: int = DEFAULT_WEEKS
) -> GroupStats:
    """Totals, this week versus last, question states and ``weeks`` weeks of activity."""
    history = weekly_activity(session, group, now, max(weeks, 2))
    per_member = engagement_rank.contribution_counts(session, group)
    totals: Counter[str] = Counter()
    for counts in per_member.values():
        totals.update(engagement_rank.all_contributions(counts))
    questions = Counter(
        {
            status: n
            for status, n in session.execute(
                select(Question.status, func.count())
                .where(Question.group_id == group.id)
                .group_by(Question.status)
            )
        }
    )
    members = session.scalar(select(func.count()).select_from(Member)) or 0
    return GroupStats(
        members=members,
        contributors=len(per_member),
        active_this_week=history[-1].active_members,
        checkins_this_week=history[-1].checkins,
        checkins_last_week=history[-2].checkins,
        totals=totals,
        questions=questions,
        weeks=history[-weeks:],
    )


def week_label(monday: date) -> str:
    """``11-16`` (the Monday), with the year when the week starts in January's first week."""
    return monday.strftime("%m-%d") if monday.month > 1 or monday.day > 7 else f"{monday:%Y-%m-%d}"
