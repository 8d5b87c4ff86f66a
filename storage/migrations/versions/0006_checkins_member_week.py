"""checkins: index (group_id, member_id, created_at) for a member's weekly count

The check-in reply ("本周第 N 条") counts the member's check-ins this week; with only
``ix_checkins_group_created`` that scanned every check-in of the group's week.

Revision ID: 0006_checkins_member_week
Revises: 0005_search_scope
Create Date: 2026-11-23 13:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006_checkins_member_week"
down_revision: str | None = "0005_search_scope"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_checkins_group_member_created",
        "checkins",
        ["group_id", "member_id", "created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_checkins_group_member_created", table_name="checkins")
