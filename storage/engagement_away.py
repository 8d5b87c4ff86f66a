"""Away (vacation) periods in the database: who is away now, setting and ending a period.

``/away`` writes here; streaks (:mod:`storage.engagement`) and reminders read the periods to
skip the weeks a member was away (see :func:`bot.clubtime.away_weeks`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import AwayPeriod, Member


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
