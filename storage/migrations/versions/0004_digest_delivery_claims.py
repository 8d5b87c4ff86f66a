"""digest deliveries: frozen parts, claim owner, part in doubt (publish exactly once)

Revision ID: 0004_digest_delivery_claims
Revises: 0003_search_index
Create Date: 2026-11-23 12:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_digest_delivery_claims"
down_revision: str | None = "0003_search_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("digest_deliveries") as batch:
        batch.add_column(sa.Column("parts", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("owner", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("doubtful_part", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("digest_deliveries") as batch:
        batch.drop_column("doubtful_part")
        batch.drop_column("owner")
        batch.drop_column("parts")
