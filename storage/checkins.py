"""Check-ins (学习心得 / 打卡): add, list per member and week, edit, delete.

A week is a club week (a digest period, see :mod:`bot.clubtime`), given by the caller.
Several check-ins of one member in a week are separate rows; the digest merges them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Table, bindparam, func, insert, literal_column, select
from sqlalchemy.orm import Session

from storage import digest_overrides
from storage.models import CheckIn
from storage.search.index import queue_for_search


def day_bounds(now: datetime, timezone: str) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the local day containing ``now`` (UTC if the zone is unknown)."""
    try:
        tz = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    day = now.astimezone(tz).date()
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def scored_in(
    session: Session, group_id: int, member_id: int, bounds: tuple[datetime, datetime]
) -> bool:
    """Whether the member has a check-in earning points in [start, end) (one indexed read)."""
    stmt = (
        select(CheckIn.id)
        .where(
            CheckIn.group_id == group_id,
            CheckIn.member_id == member_id,
            CheckIn.created_at >= bounds[0],
            CheckIn.created_at < bounds[1],
            CheckIn.scored.is_(True),
        )
        .limit(1)
    )
    return session.scalars(stmt).first() is not None


def add_checkin(
    session: Session,
    group_id: int,
    member_id: int,
    text: str,
    now: datetime,
    week: tuple[datetime, datetime],
    *,
    counts_for: date | None = None,
    scored: bool = True,
    source: str | None = None,
    private: bool = False,
) -> tuple[int, int]:
    """Store one check-in at ``now``; returns its id and the member's number of check-ins in
    ``week`` ([start, end), a club week) counting this one; ``counts_for`` is that week's
    streak key (:func:`bot.clubtime.week_key`); ``scored``: it earns points (one a day);
    ``source``: the platform message it came from (see :func:`storage.sources.source_key`);
    ``private``: kept out of everything public (see ``CheckIn.private``).

    The busiest write of the bot, so one Core INSERT rather than a unit-of-work flush, whose
    RETURNING also counts the member's *other* check-ins of the week (PostgreSQL's subquery
    does not see the new row, SQLite's does: excluding it by id reads the same on both). The
    entry is queued for the search index explicitly (the flush hook does that for ORM writes).
    """
    values = {
        "group_id": group_id,
        "member_id": member_id,
        "text": text,
        "created_at": now,
        "week": counts_for,
        "scored": scored,
        "source": source,
        "private": private,
    }
    values |= {
        "of_group": group_id,
        "of_member": member_id,
        "week_start": week[0],
        "week_end": week[1],
    }
    checkin_id, others = session.connection().execute(_INSERT_CHECKIN, values).one()
    queue_for_search(session, "checkin", checkin_id)
    return int(checkin_id), int(others) + 1


_CHECKINS = cast(Table, CheckIn.__table__)
_OTHER = _CHECKINS.alias("other")
_OTHERS_THAT_WEEK = (
    select(func.count())
    .select_from(_OTHER)
    .where(
        _OTHER.c.group_id == bindparam("of_group"),
        _OTHER.c.member_id == bindparam("of_member"),
        _OTHER.c.created_at >= bindparam("week_start"),
        _OTHER.c.created_at < bindparam("week_end"),
        # the row being inserted, by name: SQLAlchemy does not correlate inside RETURNING
        _OTHER.c.id != literal_column("checkins.id"),
    )
    .scalar_subquery()
)
_INSERT_CHECKIN = insert(_CHECKINS).returning(_CHECKINS.c.id, _OTHERS_THAT_WEEK)


def member_checkins(
    session: Session, group_id: int, member_id: int, start: datetime, end: datetime
) -> list[CheckIn]:
    """The member's check-ins created in [start, end), oldest first."""
    stmt = (
        select(CheckIn)
        .where(
            CheckIn.group_id == group_id,
            CheckIn.member_id == member_id,
            CheckIn.created_at >= start,
            CheckIn.created_at < end,
        )
        .order_by(CheckIn.created_at, CheckIn.id)
    )
    return list(session.scalars(stmt))


def edit_checkin(checkin: CheckIn, text: str, now: datetime) -> CheckIn:
    """Replace the text of ``checkin`` (its week stays the week it was first written)."""
    checkin.text = text
    checkin.edited_at = now
    return checkin


def delete_checkin(session: Session, checkin: CheckIn) -> None:
    """Remove ``checkin`` and its digest edits (a later note given its id starts clean)."""
    digest_overrides.take(session, checkin.group_id, f"checkin:{checkin.id}")
    session.delete(checkin)
    session.flush()


def by_source(session: Session, source: str) -> CheckIn | None:
    """The check-in created by the message ``source`` (see :func:`storage.sources.source_key`), if any."""
    return session.scalars(select(CheckIn).where(CheckIn.source == source).limit(1)).first()
