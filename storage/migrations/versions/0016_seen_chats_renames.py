"""seen chats and group renames: chats the bot has received messages in (``studybot chats``),
and old group slugs that redirect to the renamed group (``studybot db rename-group``)

Revision ID: 0016_seen_chats_renames
Revises: 0015_trash_and_audit
Create Date: 2026-12-03 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0016_seen_chats_renames"
down_revision: str | None = "0015_trash_and_audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "seen_chats",
        sa.Column("platform", sa.String(length=16), primary_key=True),
        sa.Column("chat_id", sa.String(length=128), primary_key=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=256), nullable=False, server_default=""),
        sa.Column("first_seen", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen", storage.models.UTCDateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "slug_redirects",
        sa.Column("old_slug", sa.String(length=64), primary_key=True),
        sa.Column(
            "group_id",
            sa.Integer(),
            sa.ForeignKey("groups.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("renamed_at", storage.models.UTCDateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("slug_redirects")
    op.drop_table("seen_chats")
