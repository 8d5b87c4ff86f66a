"""private-chat papers, resources and questions: ``private`` on each (kept out of the
digest, archive, feeds, lists and search), as ``checkins.private``

Revision ID: 0023_private_entries
Revises: 0022_private_checkins
Create Date: 2026-12-03 20:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023_private_entries"
down_revision: str | None = "0022_private_checkins"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("papers", "resources", "questions")


def upgrade() -> None:
    # plain ADD COLUMN on every database (no table rebuild, which on SQLite would
    # cascade-delete what refers to these rows)
    for table in TABLES:
        op.add_column(
            table, sa.Column("private", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    for table in TABLES:
        op.drop_column(table, "private")
