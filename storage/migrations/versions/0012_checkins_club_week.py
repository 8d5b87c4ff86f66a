"""checkins: the club week each check-in counts for (streaks follow the digest period)

Streaks counted calendar weeks (Monday 00:00 local); they now count club weeks, the digest
periods. ``week`` holds the Monday that identifies the week a check-in counts for
(:func:`bot.clubtime.week_key`). Existing check-ins get the Monday of the calendar week they
were written in, local to their group: exactly the week their streaks counted them for, so
every streak reads as before.

Revision ID: 0012_checkins_club_week
Revises: 0011_mp_official_account
Create Date: 2026-12-03 14:30:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from alembic import op

revision: str = "0012_checkins_club_week"
down_revision: str | None = "0011_mp_official_account"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _aware(value: datetime | str) -> datetime:
    if isinstance(value, str):  # SQLite hands back text through a raw Core select
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def upgrade() -> None:
    op.add_column("checkins", sa.Column("week", sa.Date(), nullable=True))
    connection = op.get_bind()
    checkins = sa.table(
        "checkins",
        sa.column("id", sa.Integer),
        sa.column("group_id", sa.Integer),
        sa.column("created_at", sa.DateTime),
        sa.column("week", sa.Date),
    )
    groups = sa.table("groups", sa.column("id", sa.Integer), sa.column("timezone", sa.String))
    zones = {
        gid: _zone(tz) for gid, tz in connection.execute(sa.select(groups.c.id, groups.c.timezone))
    }
    last = 0
    while True:
        rows = connection.execute(
            sa.select(checkins.c.id, checkins.c.group_id, checkins.c.created_at)
            .where(checkins.c.id > last)
            .order_by(checkins.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        updates = []
        for checkin_id, group_id, created_at in rows:
            local = _aware(created_at).astimezone(zones.get(group_id, ZoneInfo("UTC"))).date()
            updates.append({"cid": checkin_id, "monday": local - timedelta(days=local.weekday())})
        connection.execute(
            sa.update(checkins)
            .where(checkins.c.id == sa.bindparam("cid"))
            .values(week=sa.bindparam("monday")),
            updates,
        )
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("checkins") as batch:
        batch.drop_column("week")
