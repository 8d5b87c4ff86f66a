"""The full-text engines behind :mod:`storage.search.find`: FTS5 MATCH / bm25 and tsquery / ts_rank.

Word expressions come from :func:`expression` (every token quoted, so no user text is ever
FTS5 or tsquery syntax). Filters: on SQLite the group, kinds and tags are exact ``scope``
tokens inside the MATCH (no join, so bm25 ranks inside FTS5); on PostgreSQL plain columns plus
the ``scope_tsv`` GIN index for tags, ranking the newest :data:`PG_WINDOW` matches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from storage.search.docs import scope_token

PG_WINDOW = 2000  # PostgreSQL ranks (and counts) at most this many newest matches
BM25_WEIGHTS = "0, 0, 0, 2.0, 1.0, 0"  # kind, ref_id, group_id (unindexed), tags, body, scope


def fts_quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def pg_quote(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def expression(groups: Sequence[tuple[str, ...]], *, any_word: bool, pg: bool) -> str:
    """``(w OR (p1 AND p2)) AND ...`` in FTS5 or tsquery syntax; every token quoted."""
    quote, and_, or_ = (pg_quote, " & ", " | ") if pg else (fts_quote, " AND ", " OR ")
    if any_word:
        return or_.join(quote(tok) for tok in dict.fromkeys(t for g in groups for t in g))
    parts = []
    for word, *pieces in groups:
        if pieces:
            parts.append(f"({quote(word)}{or_}({and_.join(quote(p) for p in pieces)}))")
        else:
            parts.append(quote(word))
    return and_.join(parts)


@dataclass(frozen=True)
class Filters:
    """Where to look: one group, optionally some kinds, every one of some tags."""

    group_id: int
    kinds: Sequence[str] = ()
    tags: Sequence[str] = ()


@dataclass(frozen=True)
class Row:
    """An index row found: what it points at, its rank and its tokens."""

    kind: str
    ref_id: int
    score: float
    body: str


def fts_match(words: str, where: Filters) -> str:
    """A MATCH expression: words over tags+body, filters as exact ``scope`` tokens."""
    parts = [f"{{tags body}} : ({words})"] if words else []
    parts.append(f"scope : {fts_quote(scope_token('g', where.group_id))}")
    if where.kinds:
        kinds = " OR ".join(fts_quote(scope_token("k", k)) for k in where.kinds)
        parts.append(f"scope : ({kinds})")
    parts += [f"scope : {fts_quote(scope_token('t', t))}" for t in where.tags]
    return " AND ".join(parts)


def pg_where(words: str, where: Filters, params: dict[str, Any]) -> str:
    clauses = ["d.group_id = :group_id"]
    params["group_id"] = where.group_id
    if words:
        clauses.append("d.tsv @@ to_tsquery('simple', :q)")
        params["q"] = words
    if where.kinds:
        clauses.append(f"d.kind IN ({', '.join(f':kind{i}' for i in range(len(where.kinds)))})")
        params.update({f"kind{i}": kind for i, kind in enumerate(where.kinds)})
    if where.tags:
        clauses.append("d.scope_tsv @@ to_tsquery('simple', :tags)")
        params["tags"] = " & ".join(pg_quote(scope_token("t", t)) for t in where.tags)
    return " AND ".join(clauses)


def pg_find(
    session: Session, words: str, where: Filters, *, limit: int, offset: int, count: bool
) -> tuple[list[Row], int]:
    """PostgreSQL: ``ts_rank`` over the newest :data:`PG_WINDOW` matches; count capped there.

    One statement. The window is a MATERIALIZED CTE of narrow rows (id, date, tsvector), so
    the planner costs it for all its rows: a tag or word found only in old entries then takes
    the GIN bitmap instead of walking the whole group newest-first, and a common word walks
    the date index and stops at the window. The window's size is the (capped) total, counted
    in the same pass; only the page's rows are read in full.
    """
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    clause = pg_where(words, where, params)
    columns = "d.id, d.created_at, d.tsv" if words else "d.id, d.created_at"
    score = "ts_rank(w.tsv, to_tsquery('simple', :q))" if words else "0.0"
    order = "score DESC, w.created_at DESC, w.id DESC"
    sql = (
        f"WITH w AS MATERIALIZED (SELECT {columns} FROM search_docs d WHERE {clause} "
        f"ORDER BY d.created_at DESC, d.id DESC LIMIT {PG_WINDOW}) "
        "SELECT m.kind, m.ref_id, r.score, m.body, r.total FROM ("
        f"SELECT w.id, w.created_at, {score} AS score, count(*) OVER () AS total FROM w "
        f"ORDER BY {order} LIMIT :limit OFFSET :offset) r "
        "JOIN search_docs m ON m.id = r.id ORDER BY r.score DESC, r.created_at DESC, r.id DESC"
    )
    found = list(session.execute(text(sql), params))
    rows = [Row(r.kind, r.ref_id, float(r.score), r.body) for r in found]
    if not count or _all_on_page(offset, len(rows), limit):
        return rows, len(rows)
    if found:
        return rows, int(found[0].total)
    # a page past the end: no row carried the window's size
    sql = f"SELECT count(*) FROM (SELECT 1 FROM search_docs d WHERE {clause} LIMIT {PG_WINDOW}) c"
    return rows, int(session.scalar(text(sql), params) or 0)


def _all_on_page(offset: int, found: int, limit: int) -> bool:
    """A first page with room to spare holds every match: its size is the total."""
    return offset == 0 and found < limit


def find(
    session: Session, words: str, where: Filters, *, limit: int, offset: int, count: bool = True
) -> tuple[list[Row], int]:
    """One page of rows (best first; newest first without words) and the total count.

    ``words`` is an expression from :func:`_expression` for this session's dialect.
    """
    if session.get_bind().dialect.name == "postgresql":
        return pg_find(session, words, where, limit=limit, offset=offset, count=count)
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    params["q"] = fts_match(words, where)
    if words:  # rank inside FTS5 (bm25 needs the FTS cursor), then fetch the page's rows
        sql = (
            f"SELECT rowid, -bm25(search_index, {BM25_WEIGHTS}) AS score FROM search_index "
            "WHERE search_index MATCH :q ORDER BY score DESC, rowid DESC "
            "LIMIT :limit OFFSET :offset"
        )
    else:
        sql = (
            "SELECT d.id, 0.0 AS score FROM search_docs d WHERE d.group_id = :group_id AND d.id IN "
            "(SELECT rowid FROM search_index WHERE search_index MATCH :q) "
            "ORDER BY d.created_at DESC, d.id DESC LIMIT :limit OFFSET :offset"
        )
        params["group_id"] = where.group_id
    ranked = list(session.execute(text(sql), params))
    rows = []
    if ranked:
        ids = ", ".join(str(int(r[0])) for r in ranked)
        found = {
            r.id: r
            for r in session.execute(
                text(f"SELECT id, kind, ref_id, body FROM search_docs WHERE id IN ({ids})")
            )
        }
        rows = [
            Row(found[i].kind, found[i].ref_id, float(sc), found[i].body)
            for i, sc in ranked
            if i in found
        ]
    total = len(rows)
    if count and not _all_on_page(offset, len(ranked), limit):
        sql = "SELECT count(*) FROM search_index WHERE search_index MATCH :q"
        total = int(session.scalar(text(sql), {"q": params["q"]}) or 0)
    return rows, total
