"""private-chat check-ins: ``checkins.private`` (kept out of the digest, archive, feeds and
search) and each member's choice ``members.dm_public`` (``/public on|off``)

Revision ID: 0022_private_checkins
Revises: 0021_dm_groups
Create Date: 2026-12-03 17:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_private_checkins"
down_revision: str | None = "0021_dm_groups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ADD COLUMN on every database (no table rebuild: on SQLite rebuilding ``members``
    # would cascade-delete what refers to it)
    op.add_column(
        "checkins",
        sa.Column("private", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column("members", sa.Column("dm_public", sa.Boolean(), nullable=True))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+ too): no table rebuild
    op.drop_column("members", "dm_public")
    op.drop_column("checkins", "private")
