"""search scope: filter tokens (group, type, #tag) inside the FTS5 index

``search_docs.scope`` holds ``g<group> k<kind> t<tag hex>`` tokens; on SQLite the FTS5 table
gains a ``scope`` column so filters run inside MATCH instead of a join; PostgreSQL gets a
generated ``scope_tsv`` with a GIN index for #tag filters (see storage.search.index).

Revision ID: 0005_search_scope
Revises: 0004_digest_delivery_claims
Create Date: 2026-11-23 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_search_scope"
down_revision: str | None = "0004_digest_delivery_claims"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FTS = (
    "CREATE VIRTUAL TABLE search_index USING fts5("
    "kind UNINDEXED, ref_id UNINDEXED, group_id UNINDEXED, tags, body{extra}, "
    "content='search_docs', content_rowid='id', tokenize='unicode61')"
)


def _scope(group_id: int, kind: str, tag_list: str) -> str:
    tags = ["t" + tag.encode("utf-8").hex() for tag in (tag_list or "").split()]
    return " ".join([f"g{group_id}", f"k{kind}", *tags])


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        op.execute("DROP TABLE IF EXISTS search_index")
    op.add_column("search_docs", sa.Column("scope", sa.Text(), nullable=False, server_default=""))
    rows = bind.execute(sa.text("SELECT id, group_id, kind, tag_list FROM search_docs")).all()
    if rows:
        bind.execute(
            sa.text("UPDATE search_docs SET scope = :scope WHERE id = :id"),
            [{"id": r.id, "scope": _scope(r.group_id, r.kind, r.tag_list)} for r in rows],
        )
    if sqlite:
        op.execute(FTS.format(extra=", scope"))
        op.execute("INSERT INTO search_index(search_index) VALUES ('rebuild')")
    elif bind.dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE search_docs ADD COLUMN scope_tsv tsvector "
            "GENERATED ALWAYS AS (to_tsvector('simple', scope)) STORED"
        )
        op.execute("CREATE INDEX ix_search_docs_scope_tsv ON search_docs USING gin (scope_tsv)")


def downgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        op.execute("DROP TABLE IF EXISTS search_index")
    elif bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_search_docs_scope_tsv")
        op.execute("ALTER TABLE search_docs DROP COLUMN IF EXISTS scope_tsv")
    with op.batch_alter_table("search_docs") as batch:
        batch.drop_column("scope")
    if sqlite:
        op.execute(FTS.format(extra=""))
        op.execute("INSERT INTO search_index(search_index) VALUES ('rebuild')")
