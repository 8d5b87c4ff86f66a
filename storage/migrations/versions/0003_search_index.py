"""search index: search_docs + FTS5 (SQLite) or tsvector + GIN (PostgreSQL)

The rows are filled by storage.search.index (ORM flush hook); this migration also indexes
whatever the database already holds.

Revision ID: 0003_search_index
Revises: 0002_away_periods
Create Date: 2026-11-23 11:00:00
"""
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0003_search_index"
down_revision: str | None = "0002_away_periods"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        "search_docs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("tag_list", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_search_docs"),
        sa.UniqueConstraint("kind", "ref_id", name="uq_search_docs_ref"),
    )
    op.create_index("ix_search_docs_group_created", "search_docs", ["group_id", "created_at"])
    op.create_index("ix_search_docs_question", "search_docs", ["question_id"])
    op.create_index("ix_search_docs_member", "search_docs", ["member_id"])
    if bind.dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE search_index USING fts5("
            "kind UNINDEXED, ref_id UNINDEXED, group_id UNINDEXED, tags, body, "
            "content='search_docs', content_rowid='id', tokenize='unicode61')"
        )
    elif bind.dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE search_docs ADD COLUMN tsv tsvector GENERATED ALWAYS AS ("
            "setweight(to_tsvector('simple', tags), 'A') || "
            "setweight(to_tsvector('simple', body), 'B')) STORED"
        )
        op.execute("CREATE INDEX ix_search_docs_tsv ON search_docs USING gin (tsv)")
    _index_existing_rows(bind)


def _table(name: str, *columns: str) -> sa.TableClause:
    created = sa.column("created_at", storage.models.UTCDateTime())
    return sa.table(name, sa.column("id"), created, *(sa.column(c) for c in columns))


def _index_existing_rows(bind: sa.Connection) -> None:
    """Index entries stored before this migration, reading only columns that exist at 0003."""
    from storage.search.docs import make_doc

    questions = _table("questions", "group_id", "member_id", "text")
    groups = {qid: gid for qid, gid in bind.execute(sa.select(questions.c.id, questions.c.group_id))}
    tags: dict[int, list[str]] = {}
    for resource_id, name in bind.execute(
        sa.text(
            "SELECT rt.resource_id, t.name FROM resource_tags rt JOIN tags t ON t.id = rt.tag_id "
            "ORDER BY t.name"
        )
    ):
        tags.setdefault(resource_id, []).append(name)
    sources = {
        "checkin": _table("checkins", "group_id", "member_id", "text"),
        "question": questions,
        "answer": _table("answers", "question_id", "member_id", "text"),
        "paper": _table(
            "papers", "group_id", "member_id", "title", "one_liner", "summary", "url", "code_url"
        ),
        "resource": _table("resources", "group_id", "member_id", "text", "url"),
    }
    docs = []
    for kind, table in sources.items():
        for row in bind.execute(sa.select(table)).mappings():
            if kind == "answer":
                group_id, question_id = groups.get(row["question_id"]), row["question_id"]
            else:
                group_id, question_id = row["group_id"], row["id"] if kind == "question" else None
            if group_id is None:
                continue
            texts = [
                row[c] or ""
                for c in ("title", "one_liner", "summary", "text", "url", "code_url")
                if c in row
            ]
            docs.append(
                make_doc(
                    kind, row["id"], group_id, row["member_id"], row["created_at"], texts,
                    tags.get(row["id"], []) if kind == "resource" else (), question_id,
                )
            )
    _write(bind, docs)


COLUMNS_0003 = "kind, ref_id, group_id, member_id, question_id, created_at, tags, tag_list, body"


def _write(bind: sa.Connection, docs: list[Any]) -> None:
    """Insert index rows with the columns search_docs has at this revision."""
    if not docs:
        return
    table = sa.table(
        "search_docs",
        *(sa.column(c) for c in COLUMNS_0003.split(", ") if c != "created_at"),
        sa.column("created_at", storage.models.UTCDateTime()),
    )
    names = COLUMNS_0003.split(", ")
    bind.execute(sa.insert(table), [{n: getattr(d, n) for n in names} for d in docs])
    if bind.dialect.name == "sqlite":
        bind.execute(
            sa.text(
                "INSERT INTO search_index(rowid, kind, ref_id, group_id, tags, body) "
                "SELECT id, kind, ref_id, group_id, tags, body FROM search_docs"
            )
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS search_index")
    elif bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_search_docs_tsv")
    op.drop_index("ix_search_docs_member", table_name="search_docs")
    op.drop_index("ix_search_docs_question", table_name="search_docs")
    op.drop_index("ix_search_docs_group_created", table_name="search_docs")
    op.drop_table("search_docs")
