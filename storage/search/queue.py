"""The search-index queue: what a message wrote is indexed just after the reply, not before.

The flush hook in :mod:`storage.search.index` records ``(kind, ref_id)`` of every entry a
flush added or changed in ``search_queue``, in the message's own transaction: one cheap INSERT
on the reply path instead of jieba segmentation plus index writes; :mod:`storage.search.drain`
turns queued rows into index rows. Deletions are not queued: the hook removes index rows at
once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, event, select, text
from sqlalchemy.orm import Session

# Core description (the migration owns the table; kept out of the models' metadata).
search_queue = Table(
    "search_queue",
    MetaData(),
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("ref_id", Integer, nullable=False),
)
_ENQUEUE = search_queue.insert()
_ANY = select(search_queue.c.id).limit(1)


def enqueue(conn: Connection, entries: Sequence[tuple[str, int]]) -> None:
    """Queue ``(kind, ref_id)`` pairs for indexing, on the caller's connection/transaction."""
    if not entries:
        return
    rows = [{"kind": kind, "ref_id": ref_id} for kind, ref_id in dict.fromkeys(entries)]
    conn.execute(_ENQUEUE, rows[0] if len(rows) == 1 else rows)


def defer(session: Session, kind: str, ref_id: int) -> None:
    """Queue ``(kind, ref_id)`` when the session commits: the entries of one transaction (a
    burst's batch) go in one INSERT, just before the COMMIT."""
    session.info.setdefault(_DEFERRED, []).append((kind, ref_id))


def write_deferred(session: Session) -> None:
    """Write the deferred queue rows now (before a commit, or before the queue is read)."""
    entries = session.info.pop(_DEFERRED, None)
    if entries:
        enqueue(session.connection(), entries)


def _drop_deferred(session: Session, _previous: Any) -> None:
    if not session.in_transaction():  # the whole transaction rolled back, not a savepoint
        session.info.pop(_DEFERRED, None)


_DEFERRED = "search_queue.deferred"
event.listen(Session, "before_commit", write_deferred)
event.listen(Session, "after_soft_rollback", _drop_deferred)


def has_pending(session: Session) -> bool:
    """Whether anything waits to be indexed (one indexed probe)."""
    return session.connection().execute(_ANY).first() is not None


def pending_count(session: Session) -> int:
    return int(session.connection().scalar(text("SELECT count(*) FROM search_queue")) or 0)


def clear(conn: Connection) -> None:
    """Forget every queued row (after :func:`storage.search.index.rebuild_index`)."""
    conn.execute(search_queue.delete())
