"""outbox: keep a queued reply's context (the message it answers, the question it announces)

A reply that could not be sent is resent from the outbox later; with ``reply_to`` it still
appears as a reply to the member's message, and with ``question_id`` replies to the resent
announcement still count as answers.

Revision ID: 0009_outbox_reply_context
Revises: 0008_search_retokenise
Create Date: 2026-11-23 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_outbox_reply_context"
down_revision: str | None = "0008_search_retokenise"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("reply_to", sa.String(length=128), nullable=True))
    op.add_column("outbox", sa.Column("question_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("question_id")
        batch.drop_column("reply_to")
