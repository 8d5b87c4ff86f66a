"""outbox parts: how many parts of a long reply already went out, so a reply stopped halfway
(a shutdown, a passing failure) resumes from its first unsent part

Revision ID: 0018_outbox_parts_sent
Revises: 0017_digest_overrides
Create Date: 2026-12-03 16:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_outbox_parts_sent"
down_revision: str | None = "0017_digest_overrides"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("parts_sent", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("parts_sent")
