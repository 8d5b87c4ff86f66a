"""Check-ins (学习心得 / 打卡): add, list per member and week, edit, delete.

A week is a club week (a digest period, see :mod:`bot.clubtime`), given by the caller.
Several check-ins of one member in a week are separate rows; the digest merges them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import cast

from sqlalchemy import Table, bindparam, func, insert, literal_column, select
from sqlalchemy.orm import Session

from storage.models import CheckIn
from storage.search_index import queue_for_search


def add_checkin(
    session: Session,
    group_id: int,
    member_id: int,
    text: str,
    now: datetime,
    week: tuple[datetime, datetime],
    *,
    counts_for: date | None = None,
) -> tuple[int, int]:
    """Store one check-in at ``now``; returns its id and the member's number of check-ins in
    ``week`` ([start, end), a club week) counting this one; ``counts_for`` is that week's
    streak key (:func:`bot.clubtime.week_key`).

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


def group_checkins(
    session: Session, group_id: int, start: datetime, end: datetime
) -> list[CheckIn]:
    """Every check-in of the group in [start, end), oldest first."""
    stmt = (
        select(CheckIn)
        .where(CheckIn.group_id == group_id, CheckIn.created_at >= start, CheckIn.created_at < end)
        .order_by(CheckIn.created_at, CheckIn.id)
    )
    return list(session.scalars(stmt))


def get_checkin(session: Session, group_id: int, checkin_id: int) -> CheckIn | None:
    """The group's check-in with id ``checkin_id``, if any."""
    checkin = session.get(CheckIn, checkin_id)
    return checkin if checkin is not None and checkin.group_id == group_id else None


def edit_checkin(checkin: CheckIn, text: str, now: datetime) -> CheckIn:
    """Replace the text of ``checkin`` (its week stays the week it was first written)."""
    checkin.text = text
    checkin.edited_at = now
    return checkin


def delete_checkin(session: Session, checkin: CheckIn) -> None:
    """Remove ``checkin``."""
    session.delete(checkin)
    session.flush()
