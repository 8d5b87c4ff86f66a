"""search_queue: entries waiting to be indexed (indexing moved off the reply path)

A message's transaction now records ``(kind, ref_id)`` here instead of segmenting the text and
writing the index itself; ``storage.search.queue.index_pending`` indexes queued rows just after
the reply or before the next search. Downgrading drops rows still queued: run
``studybot db reindex`` afterwards if any were pending.

Revision ID: 0007_search_queue
Revises: 0006_checkins_member_week
Create Date: 2026-11-23 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_search_queue"
down_revision: str | None = "0006_checkins_member_week"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "search_queue",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_search_queue"),
    )


def downgrade() -> None:
    op.drop_table("search_queue")
