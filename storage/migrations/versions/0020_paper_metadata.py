"""paper metadata: what the arXiv API says of a shared paper (title, authors, abstract, date)
and the GitHub API of its code (description, stars), with a fetch status per source

Papers already stored with an arXiv id or a code link are marked ``pending``: the running bot
fetches their metadata once (bot.paper_metadata).

Revision ID: 0020_paper_metadata
Revises: 0019_sources_invitations
Create Date: 2026-12-03 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_paper_metadata"
down_revision: str | None = "0019_sources_invitations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXTS = ("arxiv_title", "arxiv_authors", "arxiv_abstract", "code_description")


def upgrade() -> None:
    with op.batch_alter_table("papers") as batch:
        batch.add_column(sa.Column("arxiv_status", sa.String(length=16), nullable=True))
        for name in _TEXTS:
            batch.add_column(sa.Column(name, sa.Text(), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("arxiv_published", sa.String(length=32), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("code_status", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("code_stars", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("metadata_attempts", sa.Integer(), nullable=False, server_default="0")
        )
    op.execute("UPDATE papers SET arxiv_status = 'pending' WHERE arxiv_id IS NOT NULL")
    op.execute(
        "UPDATE papers SET code_status = 'pending' WHERE code_url IS NOT NULL AND code_url <> ''"
    )


def downgrade() -> None:
    with op.batch_alter_table("papers") as batch:
        for name in (
            "metadata_attempts",
            "code_stars",
            "code_status",
            "arxiv_published",
            *_TEXTS,
            "arxiv_status",
        ):
            batch.drop_column(name)
