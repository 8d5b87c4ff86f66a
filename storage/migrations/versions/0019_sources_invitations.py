"""entry sources, private chats' members, room invitations

- ``questions``/``answers``/``papers``/``resources.source``: ``platform:chat_id:message_id`` of
  the message an entry came from, so an edited message (Telegram) updates the entry and a
  recalled one (WeChat 撤回) withdraws it, as check-ins already do;
- ``seen_chats.user_id``: the person a private chat is with, so the bot knows whom it can
  message privately (an asker told of a new answer);
- ``room_invitations``: WeChat 「自学」 invitations, remembered across restarts (one per person
  per cooldown; a failure is reported to the admins once).

Revision ID: 0019_sources_invitations
Revises: 0018_outbox_parts_sent
Create Date: 2026-12-03 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0019_sources_invitations"
down_revision: str | None = "0018_outbox_parts_sent"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("questions", "answers", "papers", "resources")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("source", sa.String(length=300), nullable=True))
        op.create_index(f"ix_{table}_source", table, ["source"])
    op.add_column("seen_chats", sa.Column("user_id", sa.String(length=128), nullable=True))
    op.create_index("ix_seen_chats_user", "seen_chats", ["platform", "user_id"])
    op.create_table(
        "room_invitations",
        sa.Column("platform", sa.String(length=16), primary_key=True),
        sa.Column("contact_id", sa.String(length=128), primary_key=True),
        sa.Column("room_id", sa.String(length=128), primary_key=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("invited_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("room_invitations")
    # plain DROP COLUMN (SQLite >= 3.35): a batch copy would drop and recreate the tables,
    # and dropping ``questions`` with foreign keys on deletes every answer (ON DELETE CASCADE)
    op.drop_index("ix_seen_chats_user", table_name="seen_chats")
    op.drop_column("seen_chats", "user_id")
    for table in TABLES:
        op.drop_index(f"ix_{table}_source", table_name=table)
        op.drop_column(table, "source")
