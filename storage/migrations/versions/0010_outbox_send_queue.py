"""outbox: every reply goes through it (priority, kind, addressing, attachments)

Replies are stored in the message's transaction and sent by a separate stage (bot.sending):
``priority`` orders a platform's sends (answers, digest parts, acknowledgments), ``kind`` marks
acknowledgments (sent as reactions or batched), ``chat_kind``/``mention_user_id``/``extra``
carry what the platform needs to place the reply, ``image``/``file`` its attachments.

Revision ID: 0010_outbox_send_queue
Revises: 0009_outbox_reply_context
Create Date: 2026-12-03 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_outbox_send_queue"
down_revision: str | None = "0009_outbox_reply_context"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="reply")
        )
        batch.add_column(
            sa.Column("chat_kind", sa.String(length=16), nullable=False, server_default="group")
        )
        batch.add_column(sa.Column("mention_user_id", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("extra", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("image", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("file", sa.LargeBinary(), nullable=True))
        batch.create_index("ix_outbox_platform_state", ["platform", "state", "id"])


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_platform_state")
        for column in ("file", "image", "extra", "mention_user_id", "chat_kind", "kind"):
            batch.drop_column(column)
        batch.drop_column("priority")
