"""points for learning: which check-ins and resources earn leaderboard points

``checkins.scored`` is False for a member's second and later check-ins of a local day;
``resources.scored`` is False for a link the group had already (``resources.url_key``, the
normalised URL, finds it). Existing rows keep their points.

Revision ID: 0013_points_for_learning
Revises: 0012_checkins_club_week
Create Date: 2026-12-03 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_points_for_learning"
down_revision: str | None = "0012_checkins_club_week"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "checkins", sa.Column("scored", sa.Boolean(), nullable=False, server_default=sa.true())
    )
    op.add_column(
        "resources", sa.Column("scored", sa.Boolean(), nullable=False, server_default=sa.true())
    )
    op.add_column("resources", sa.Column("url_key", sa.String(length=512), nullable=True))
    op.create_index("ix_resources_group_url_key", "resources", ["group_id", "url_key"])


def downgrade() -> None:
    op.drop_index("ix_resources_group_url_key", table_name="resources")
    with op.batch_alter_table("resources") as batch:
        batch.drop_column("url_key")
        batch.drop_column("scored")
    with op.batch_alter_table("checkins") as batch:
        batch.drop_column("scored")
