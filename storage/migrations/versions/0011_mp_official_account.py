"""mp: the 公众号 (WeChat Official Account): shared API state, the draft ledger, /link

``mp_state`` holds the access token and upload media ids shared by every process;
``mp_drafts`` is one draft per digest issue; ``member_aliases`` and ``link_codes`` join a
follower's openid to their chat identity.

Revision ID: 0011_mp_official_account
Revises: 0010_outbox_send_queue
Create Date: 2026-12-03 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0011_mp_official_account"
down_revision: str | None = "0010_outbox_send_queue"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    when = storage.models.UTCDateTime()
    op.create_table(
        "mp_state",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("expires_at", when, nullable=True),
        sa.Column("updated_at", when, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_mp_state")),
    )
    op.create_table(
        "mp_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("issue_number", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("media_id", sa.String(length=128), nullable=True),
        sa.Column("thumb_media_id", sa.String(length=128), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("publish_id", sa.String(length=128), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", when, nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_mp_drafts_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mp_drafts")),
        sa.UniqueConstraint("group_id", "issue_number", name="uq_mp_drafts_issue"),
    )
    op.create_table(
        "member_aliases",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("platform_user_id", sa.String(length=128), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_member_aliases_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("platform", "platform_user_id", name=op.f("pk_member_aliases")),
    )
    op.create_index(
        op.f("ix_member_aliases_member_id"), "member_aliases", ["member_id"], unique=False
    )
    op.create_table(
        "link_codes",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("expires_at", when, nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_link_codes_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_link_codes")),
    )


def downgrade() -> None:
    op.drop_table("link_codes")
    op.drop_index(op.f("ix_member_aliases_member_id"), table_name="member_aliases")
    op.drop_table("member_aliases")
    op.drop_table("mp_drafts")
    op.drop_table("mp_state")
