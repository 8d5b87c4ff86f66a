"""Indexing what is queued: :func:`index_pending` turns ``search_queue`` rows into index rows.

It runs in one transaction: it loads the queued entries' *current* state, segments them as a
batch, rewrites their ``search_docs`` rows (and FTS5 on SQLite) and deletes the queue rows it
handled (:mod:`storage.search.queue` holds the queue, :mod:`storage.search.index` the index).

Why nothing is lost or stale:
- the queue row commits or rolls back with the entry, so a crash leaves it queued and the next
  drain (background worker, start-up, or the next search) indexes it;
- a drain indexes whatever the entry holds when it runs, so several queue rows for one entry
  (created, then edited) give one correct row, and an entry deleted meanwhile just loses its
  queue row;
- searches call :func:`index_pending` first (bounded by ``limit``), so a member finds what they
  sent a moment ago;
- PostgreSQL, several bot processes: a drain holds a transaction-scoped advisory lock, so one
  process at a time indexes (a search that finds the lock taken does not wait for it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session, selectinload

from storage.models import Question, Resource
from storage.search.docs import doc_for
from storage.search.index import MODELS, remove, write
from storage.search.queue import has_pending, search_queue, write_deferred

LOCK_KEY = 0x5EA2C4  # pg advisory lock id shared by every drainer of one database
DEFAULT_BATCH = 500


def _lock(conn: Connection, wait: bool) -> bool:
    """PostgreSQL: one drainer at a time (held until the transaction ends)."""
    if conn.dialect.name != "postgresql":
        return True  # SQLite: writers are serialised by the database itself
    if wait:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        return True
    return bool(conn.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": LOCK_KEY}))


def index_pending(session: Session, *, limit: int | None = DEFAULT_BATCH, wait: bool = True) -> int:
    """Index up to ``limit`` queued rows (all when None) in the session's transaction.

    Returns how many queue rows were handled. With ``wait=False`` on PostgreSQL, returns 0
    at once if another transaction is draining.
    """
    write_deferred(session)  # what this transaction queued counts too
    if not has_pending(session):
        return 0
    conn = session.connection()
    if not _lock(conn, wait):
        return 0
    stmt = select(search_queue.c.id, search_queue.c.kind, search_queue.c.ref_id)
    stmt = stmt.order_by(search_queue.c.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = conn.execute(stmt).all()
    if not rows:
        return 0
    wanted: dict[str, set[int]] = defaultdict(set)
    for _id, kind, ref_id in rows:
        if kind in MODELS:
            wanted[kind].add(ref_id)
    docs = []
    missing: list[dict[str, Any]] = []
    for kind, ids in wanted.items():
        objects = _load(session, kind, ids)
        question_groups = _question_groups(session, objects) if kind == "answer" else None
        for obj in objects:
            tags = [t.name for t in obj.tags] if kind == "resource" else None
            doc = doc_for(obj, conn, tags=tags, question_groups=question_groups)
            if doc is not None:
                docs.append(doc)
        found = {obj.id for obj in objects}
        missing += [{"kind": kind, "ref_id": ref_id} for ref_id in sorted(ids - found)]
    write(conn, docs)
    remove(conn, "kind = :kind AND ref_id = :ref_id", missing)
    conn.execute(search_queue.delete().where(search_queue.c.id.in_([r[0] for r in rows])))
    return len(rows)


def _load(session: Session, kind: str, ids: Iterable[int]) -> list[Any]:
    model = MODELS[kind]
    stmt = select(model).where(model.id.in_(sorted(ids)))
    if model is Resource:
        stmt = stmt.options(selectinload(Resource.tags))
    return list(session.scalars(stmt))


def _question_groups(session: Session, answers: Sequence[Any]) -> dict[int, int]:
    question_ids = {a.question_id for a in answers}
    if not question_ids:
        return {}
    rows = session.execute(
        select(Question.id, Question.group_id).where(
            Question.id.in_(sorted(question_ids)), Question.private.is_(False)
        )
    )
    return {qid: gid for qid, gid in rows}


def index_all_pending(session_factory: Any, *, batch: int = DEFAULT_BATCH) -> int:
    """Drain the whole queue in transactions of ``batch`` rows (CLI, start-up, tests)."""
    total = 0
    while True:
        with session_factory() as session:
            done = index_pending(session, limit=batch)
        total += done
        if done == 0:
            return total
