"""checkin source: the platform message a check-in came from

``checkins.source`` is ``platform:chat_id:message_id``: an edited message (Telegram) updates
the note it created, a recalled one (WeChat 撤回) removes it.

Revision ID: 0014_checkin_source
Revises: 0013_points_for_learning
Create Date: 2026-12-03 14:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_checkin_source"
down_revision: str | None = "0013_points_for_learning"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("checkins", sa.Column("source", sa.String(length=300), nullable=True))
    op.create_index("ix_checkins_source", "checkins", ["source"])


def downgrade() -> None:
    op.drop_index("ix_checkins_source", table_name="checkins")
    with op.batch_alter_table("checkins") as batch:
        batch.drop_column("source")
