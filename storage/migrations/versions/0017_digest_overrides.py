"""digest overrides: edits of digest entries stored beside the members' originals

``digest_overrides`` holds what admins changed with ``/digest edit`` / ``/digest move`` and
members with ``/paper edit``: one row per entry key, field and issue (0: every issue).

Revision ID: 0017_digest_overrides
Revises: 0016_seen_chats_renames
Create Date: 2026-12-03 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision: str = "0017_digest_overrides"
down_revision: str | None = "0016_seen_chats_renames"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "digest_overrides",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "group_id", sa.Integer(), sa.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("entry_key", sa.String(length=40), nullable=False),
        sa.Column("field", sa.String(length=16), nullable=False),
        sa.Column("issue_number", sa.Integer(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("set_by", sa.String(length=200), nullable=False),
        sa.Column("set_at", UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint(
            "group_id", "entry_key", "field", "issue_number", name="uq_digest_overrides_field"
        ),
    )


def downgrade() -> None:
    op.drop_table("digest_overrides")
