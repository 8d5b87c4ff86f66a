"""The search index: one ``search_docs`` row per check-in, question, answer, paper and resource.

``search_docs(id, kind, ref_id, group_id, member_id, question_id, created_at, tags, tag_list,
body, scope)`` holds the jieba tokens (``tags``/``body``, space-joined), the exact tag names
(``tag_list``) and ``scope``: filter tokens (``g<group> k<kind> t<tag hex>``) that let FTS5
apply group/type/#tag filters inside the MATCH. Full text on top of it:

- SQLite: ``search_index``, an FTS5 table with ``content='search_docs'`` (external content,
  tokenizer ``unicode61`` over the pre-segmented text), kept in step here, ranked by ``bm25()``;
- PostgreSQL: a generated ``tsv`` column (``to_tsvector('simple', ...)``, tags weighted A) with a
  GIN index, ranked by ``ts_rank``.

Rows are built by :mod:`storage.search.docs`. Sync: an ``after_flush`` hook on every Session queues the entries a flush added or changed
(:mod:`storage.search.queue`, same transaction as the message) and removes the index rows of
deleted ones at once. Deleting a question drops its answers' rows; deleting a member or group
drops theirs. Queued entries are segmented and written by :func:`storage.search.drain.index_pending`
after the reply (background worker) or before the next search. Bulk ``insert()/update()/delete()``
statements bypass the ORM: call :func:`rebuild_index` after imports, migrations or a dictionary
change.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    event,
    inspect,
    select,
    text,
)
from sqlalchemy.orm import Session, UOWTransaction
from sqlalchemy.sql.elements import TextClause

from storage.models import (
    Answer,
    CheckIn,
    Group,
    Member,
    Paper,
    Question,
    Resource,
    UTCDateTime,
)
from storage.search import queue as search_queue
from storage.search.docs import Doc, doc_for

SEARCH_TABLES = ("search_docs", "search_index", "search_queue")
QUEUED = "search_queued"  # Session.info key: this transaction queued entries for indexing

MODELS: dict[str, type[Any]] = {
    "checkin": CheckIn,
    "question": Question,
    "answer": Answer,
    "paper": Paper,
    "resource": Resource,
}
KIND_OF = {model: kind for kind, model in MODELS.items()}
WATCHED = {  # attributes whose change means the entry must be re-indexed
    "checkin": ("text", "created_at", "group_id", "member_id"),
    "question": ("text", "number", "created_at", "group_id", "member_id"),
    "answer": ("text", "question_id", "created_at", "member_id"),
    "paper": ("title", "summary", "one_liner", "url", "code_url", "created_at", "member_id"),
    "resource": ("text", "url", "tags", "created_at", "group_id", "member_id"),
}
# Core description of search_docs (kept out of the models' metadata: the migration owns it,
# and on PostgreSQL it also has the generated ``tsv`` column).
search_docs = Table(
    "search_docs",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("ref_id", Integer, nullable=False),
    Column("group_id", Integer, nullable=False),
    Column("member_id", Integer, nullable=False),
    Column("question_id", Integer),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("tags", Text, nullable=False),
    Column("tag_list", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("scope", Text, nullable=False),
)
_INSERT = search_docs.insert()
_FTS_ADD = text(
    "INSERT INTO search_index(rowid, kind, ref_id, group_id, tags, body, scope) "
    "SELECT id, kind, ref_id, group_id, tags, body, scope FROM search_docs "
    "WHERE kind = :kind AND ref_id = :ref_id"
)


def include_in_autogenerate(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic ``include_name`` hook: the search tables are managed by hand, not by models."""
    return not (type_ == "table" and name is not None and name.startswith("search_"))


# -- writing --------------------------------------------------------------------------------
def remove(conn: Connection, where: str, params: Sequence[dict[str, Any]]) -> None:
    """Delete index rows matching ``where`` (SQL over search_docs columns) for each params."""
    if not params:
        return
    fts_delete, docs_delete = _remove_statements(where)
    args = _one_or_many(params)
    if conn.dialect.name == "sqlite":
        conn.execute(fts_delete, args)
    conn.execute(docs_delete, args)


def _one_or_many(params: Sequence[dict[str, Any]]) -> dict[str, Any] | list[dict[str, Any]]:
    """One row's parameters as a plain execute (cheaper than an executemany of one)."""
    return params[0] if len(params) == 1 else list(params)


@functools.cache
def _remove_statements(where: str) -> tuple[TextClause, TextClause]:
    """The two statements of :func:`remove`, built once per ``where`` (a handful in use)."""
    fts_delete = text(
        "INSERT INTO search_index(search_index, rowid, kind, ref_id, group_id, tags, body, "
        "scope) SELECT 'delete', id, kind, ref_id, group_id, tags, body, scope "
        "FROM search_docs "
        f"WHERE {where}"
    )
    return fts_delete, text(f"DELETE FROM search_docs WHERE {where}")


def write(conn: Connection, docs: Sequence[Doc]) -> None:
    """Replace the index rows of ``docs`` (same kind + ref_id) with their new contents."""
    if not docs:
        return
    keys = [{"kind": d.kind, "ref_id": d.ref_id} for d in docs]
    remove(conn, "kind = :kind AND ref_id = :ref_id", keys)
    conn.execute(_INSERT, _one_or_many([d.params() for d in docs]))
    if conn.dialect.name == "sqlite":
        conn.execute(_FTS_ADD, _one_or_many(keys))


def _changed(obj: Any, kind: str) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in WATCHED[kind])


def _after_flush(session: Session, _flush_context: UOWTransaction) -> None:
    """Queue what this flush added or changed; drop the index rows of what it deleted."""
    changed = [o for o in session.new if type(o) in KIND_OF]
    changed += [o for o in session.dirty if type(o) in KIND_OF and _changed(o, KIND_OF[type(o)])]
    gone = [o for o in session.deleted if type(o) in KIND_OF or type(o) in (Member, Group)]
    if not changed and not gone:
        return
    conn = session.connection()
    for obj in gone:
        if isinstance(obj, Group):
            remove(conn, "group_id = :id", [{"id": obj.id}])
        elif isinstance(obj, Member):
            remove(conn, "member_id = :id", [{"id": obj.id}])
        elif isinstance(obj, Question):  # its answers go with it (ON DELETE CASCADE)
            remove(conn, "question_id = :id", [{"id": obj.id}])
        else:
            remove(
                conn,
                "kind = :kind AND ref_id = :ref_id",
                [{"kind": KIND_OF[type(obj)], "ref_id": obj.id}],
            )
    if changed:
        # segmenting and index writes happen after the reply (storage.search.queue)
        search_queue.enqueue(conn, [(KIND_OF[type(obj)], obj.id) for obj in changed])
        session.info[QUEUED] = True


event.listen(Session, "after_flush", _after_flush)


def queue_for_search(session: Session, kind: str, ref_id: int) -> None:
    """Queue an entry written with a Core statement (no flush hook) for the search index
    (written with the transaction's other such entries at commit)."""
    search_queue.defer(session, kind, ref_id)
    session.info[QUEUED] = True


# -- rebuilding -----------------------------------------------------------------------------
def _all_docs(session: Session, batch: int) -> Iterator[Doc]:
    conn = session.connection()
    question_groups = {
        qid: gid
        for qid, gid in session.execute(
            select(Question.id, Question.group_id).where(Question.private.is_(False))
        )
    }
    for model in MODELS.values():
        stmt = select(model).order_by(model.id).execution_options(yield_per=batch)
        for obj in session.scalars(stmt):
            names = [t.name for t in obj.tags] if isinstance(obj, Resource) else None
            doc = doc_for(obj, conn, tags=names, question_groups=question_groups)
            if doc is not None:
                yield doc


def rebuild_index(
    session: Session, *, batch: int = 1000, progress: Callable[[int], None] | None = None
) -> int:
    """Re-create every index row from the tables (after imports, migrations, bulk SQL).

    On PostgreSQL it then refreshes the planner's statistics of ``search_docs``. Runs in the
    session's transaction; returns the number of entries indexed. ``progress`` is
    called with the running count after each batch.
    """
    session.flush()
    conn = session.connection()
    sqlite = conn.dialect.name == "sqlite"
    conn.execute(text("DELETE FROM search_docs"))
    search_queue.clear(conn)  # everything is indexed below
    if sqlite:
        conn.execute(text("INSERT INTO search_index(search_index) VALUES ('delete-all')"))
    count = 0
    pending: list[dict[str, Any]] = []
    for doc in _all_docs(session, batch):
        pending.append(doc.params())
        if len(pending) >= batch:
            conn.execute(_INSERT, pending)
            count += len(pending)
            pending = []
            if progress:
                progress(count)
    if pending:
        conn.execute(_INSERT, pending)
        count += len(pending)
        if progress:
            progress(count)
    if sqlite:
        conn.execute(text("INSERT INTO search_index(search_index) VALUES ('rebuild')"))
    else:  # fresh statistics at once (autovacuum would take a while): good plans from the start
        conn.execute(text("ANALYZE search_docs"))
    return count
