"""search: re-index every entry for the trimmed jieba dictionary

Tokens now come from jieba's dictionary without its rarest words
(``storage.search.text.MIN_WORD_FREQ``), so existing index rows are re-made: every entry is
queued and the bot's background indexer re-segments them after start (a search meanwhile
still finds entries by their older tokens). Downgrading queues nothing: run
``studybot db reindex`` with the older version instead.

Revision ID: 0008_search_retokenise
Revises: 0007_search_queue
Create Date: 2026-11-23 14:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008_search_retokenise"
down_revision: str | None = "0007_search_queue"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENTRY_TABLES = {
    "checkin": "checkins",
    "question": "questions",
    "answer": "answers",
    "paper": "papers",
    "resource": "resources",
}


def upgrade() -> None:
    for kind, table in ENTRY_TABLES.items():
        op.execute(
            f"INSERT INTO search_queue (kind, ref_id) SELECT '{kind}', id FROM {table} ORDER BY id"
        )


def downgrade() -> None:
    """Nothing to undo in the schema; the older code re-indexes with ``studybot db reindex``."""
