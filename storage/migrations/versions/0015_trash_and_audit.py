"""trash and audit log: admins' soft deletes and every admin action

``trash`` keeps what an admin deleted (a paper, resource, question or answer) as a JSON
snapshot with who and when, so it can be shown in /digest status and put back by hand;
``audit_log`` records every admin command (who, what, when) for /audit.

Revision ID: 0015_trash_and_audit
Revises: 0014_checkin_source
Create Date: 2026-12-03 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision: str = "0015_trash_and_audit"
down_revision: str | None = "0014_checkin_source"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "trash",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "group_id", sa.Integer(), sa.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=32), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("deleted_by", sa.String(length=200), nullable=False),
        sa.Column("deleted_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_trash_group_deleted", "trash", ["group_id", "deleted_at"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "group_id", sa.Integer(), sa.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("actor_id", sa.String(length=200), nullable=False),
        sa.Column("command", sa.String(length=40), nullable=False),
        sa.Column("args", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_audit_log_group_created", "audit_log", ["group_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_group_created", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index("ix_trash_group_deleted", table_name="trash")
    op.drop_table("trash")
