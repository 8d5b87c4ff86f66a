"""private chats with several groups: the groups each member was seen using the bot in, and
the one their private chat acts for (``group_members``, chosen with /group)

Revision ID: 0021_dm_groups
Revises: 0020_paper_metadata
Create Date: 2026-12-03 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0021_dm_groups"
down_revision: str | None = "0020_paper_metadata"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "group_members",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("first_seen", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("dm_chosen", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_group_members_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_group_members_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "member_id", name=op.f("pk_group_members")),
    )
    op.create_index(
        op.f("ix_group_members_member_id"), "group_members", ["member_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_group_members_member_id"), table_name="group_members")
    op.drop_table("group_members")
