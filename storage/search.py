"""Search over what members sent: check-ins, questions, answers, papers and resources.

:func:`search` runs a /search query (see :mod:`storage.search_text` for the syntax) against the
index kept by :mod:`storage.search_index`: SQLite FTS5 ranked by ``bm25()`` or PostgreSQL
full text ranked by ``ts_rank_cd``. Every word must match; when nothing does, the words are
OR-ed instead (``SearchPage.relaxed``). User text only reaches the engine as quoted tokens of
letters and digits, so no input can make a full-text syntax error.

:func:`similar_questions` suggests earlier questions sharing enough of a new question's words.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from storage.models import Member, Question
from storage.search_index import MODELS, rebuild_index, scope_token
from storage.search_text import (
    KINDS,
    ParsedQuery,
    QueryError,
    parse_query,
    tokens,
    warm_up,
    word_groups,
)

__all__ = [
    "KINDS",
    "Hit",
    "ParsedQuery",
    "QueryError",
    "SearchPage",
    "parse_query",
    "rebuild_index",
    "search",
    "similar_questions",
    "warm_up",
]

SNIPPET_CHARS = 80
RELAXED_LIMIT = 100  # candidates re-ordered when not every word matches
PG_WINDOW = 2000  # PostgreSQL ranks (and counts) at most this many newest matches
BM25_WEIGHTS = "0, 0, 0, 2.0, 1.0, 0"  # kind, ref_id, group_id (unindexed), tags, body, scope


@dataclass(frozen=True)
class Hit:
    """One search result. ``number`` is the question number (for answers: their question's)."""

    kind: str
    ref_id: int
    title: str
    snippet: str
    created_at: datetime
    member: str
    score: float
    number: int | None = None
    url: str | None = None


@dataclass
class SearchPage:
    """One page of results; ``relaxed`` when no entry had every word and words were OR-ed."""

    total: int
    page: int
    per_page: int
    items: list[Hit] = field(default_factory=list)
    relaxed: bool = False
    capped: bool = False  # PostgreSQL: more than ``total`` matches exist (total == PG_WINDOW)
    query: ParsedQuery = field(default_factory=ParsedQuery)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def _fts_quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def _pg_quote(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def _expression(groups: Sequence[tuple[str, ...]], *, any_word: bool, pg: bool) -> str:
    """``(w OR (p1 AND p2)) AND ...`` in FTS5 or tsquery syntax; every token quoted."""
    quote, and_, or_ = (_pg_quote, " & ", " | ") if pg else (_fts_quote, " AND ", " OR ")
    if any_word:
        return or_.join(quote(tok) for tok in dict.fromkeys(t for g in groups for t in g))
    parts = []
    for word, *pieces in groups:
        if pieces:
            parts.append(f"({quote(word)}{or_}({and_.join(quote(p) for p in pieces)}))")
        else:
            parts.append(quote(word))
    return and_.join(parts)


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


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


def _fts_match(words: str, where: Filters) -> str:
    """A MATCH expression: words over tags+body, filters as exact ``scope`` tokens."""
    parts = [f"{{tags body}} : ({words})"] if words else []
    parts.append(f"scope : {_fts_quote(scope_token('g', where.group_id))}")
    if where.kinds:
        kinds = " OR ".join(_fts_quote(scope_token("k", k)) for k in where.kinds)
        parts.append(f"scope : ({kinds})")
    parts += [f"scope : {_fts_quote(scope_token('t', t))}" for t in where.tags]
    return " AND ".join(parts)


def _pg_where(words: str, where: Filters, params: dict[str, Any]) -> str:
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
        params["tags"] = " & ".join(_pg_quote(scope_token("t", t)) for t in where.tags)
    return " AND ".join(clauses)


def _pg_find(
    session: Session, words: str, where: Filters, *, limit: int, offset: int, count: bool
) -> tuple[list[Row], int]:
    """PostgreSQL: ts_rank_cd over the newest :data:`PG_WINDOW` matches; count capped there."""
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    clause = _pg_where(words, where, params)
    newest = f"SELECT d.* FROM search_docs d WHERE {clause} ORDER BY d.created_at DESC, d.id DESC"
    score = "ts_rank_cd(m.tsv, to_tsquery('simple', :q))" if words else "0.0"
    order = "score DESC, m.created_at DESC" if words else "m.created_at DESC"
    sql = (
        f"SELECT m.kind, m.ref_id, {score} AS score, m.body FROM ({newest} LIMIT {PG_WINDOW}) m "
        f"ORDER BY {order}, m.id DESC LIMIT :limit OFFSET :offset"
    )
    rows = [Row(*r) for r in session.execute(text(sql), params)]
    if not count:
        return rows, len(rows)
    sql = f"SELECT count(*) FROM (SELECT 1 FROM search_docs d WHERE {clause} LIMIT {PG_WINDOW}) c"
    return rows, int(session.scalar(text(sql), params) or 0)


def _find(
    session: Session, words: str, where: Filters, *, limit: int, offset: int, count: bool = True
) -> tuple[list[Row], int]:
    """One page of rows (best first; newest first without words) and the total count.

    ``words`` is an expression from :func:`_expression` for this session's dialect.
    """
    if session.get_bind().dialect.name == "postgresql":
        return _pg_find(session, words, where, limit=limit, offset=offset, count=count)
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    params["q"] = _fts_match(words, where)
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
    if count:
        sql = "SELECT count(*) FROM search_index WHERE search_index MATCH :q"
        total = int(session.scalar(text(sql), {"q": params["q"]}) or 0)
    return rows, total


def search(
    session: Session,
    group_id: int,
    query: str,
    *,
    kinds: Sequence[str] | None = None,
    tags: Sequence[str] | None = None,
    page: int = 1,
    per_page: int = 5,
) -> SearchPage:
    """One page of the group's entries matching ``query``, best first.

    ``query`` may carry ``#tags``, ``type:`` filters and ``page N`` (they add to ``kinds``,
    ``tags`` and override ``page``); raises :class:`QueryError` for an unknown type.
    """
    parsed = parse_query(query)
    parsed.kinds = list(dict.fromkeys([*(kinds or ()), *parsed.kinds]))
    parsed.tags = list(dict.fromkeys([*(t.lower().lstrip("#") for t in tags or ()), *parsed.tags]))
    unknown = [k for k in parsed.kinds if k not in KINDS]
    if unknown:
        raise QueryError("unknown_type", unknown[0])
    page = max(1, parsed.page or page)
    per_page = max(1, per_page)
    groups = word_groups(parsed.words)
    result = SearchPage(total=0, page=page, per_page=per_page, query=parsed)
    if not groups and parsed.words.strip() and not (parsed.tags or parsed.kinds):
        return result  # only stopwords or punctuation: nothing to look for
    pg = session.get_bind().dialect.name == "postgresql"
    where = Filters(group_id, parsed.kinds, parsed.tags)
    offset = (page - 1) * per_page
    words = _expression(groups, any_word=False, pg=pg) if groups else ""
    rows, total = _find(session, words, where, limit=per_page, offset=offset)
    result.capped = pg and total >= PG_WINDOW
    if total == 0 and len(groups) > 1:
        rows, total = _relaxed(session, groups, where, pg, offset, per_page)
        result.relaxed = total > 0
    result.total = total
    result.items = _hits(session, rows, [t for g in groups for t in g])
    return result


def _relaxed(
    session: Session,
    groups: Sequence[tuple[str, ...]],
    where: Filters,
    pg: bool,
    offset: int,
    per_page: int,
) -> tuple[list[Row], int]:
    """Entries having some of the words: most words matched first, then by rank.

    Only whole words are OR-ed (a compound's pieces would count it several times); the best
    :data:`RELAXED_LIMIT` candidates are ordered by how many query words each contains.
    """
    whole = [(word,) for word, *_ in groups]
    words = _expression(whole, any_word=True, pg=pg)
    rows, total = _find(session, words, where, limit=RELAXED_LIMIT, offset=0)

    def coverage(row: Row) -> int:
        present = set(row.body.split())
        return sum(1 for group in groups if group[0] in present or set(group[1:]) <= present)

    ordered = sorted(rows, key=lambda row: (-coverage(row), -row.score))
    return ordered[offset : offset + per_page], min(total, RELAXED_LIMIT)


def _hits(session: Session, rows: Sequence[Any], words: Sequence[str]) -> list[Hit]:
    """Load the entries behind index rows (skipping any deleted behind the index's back)."""
    wanted: dict[str, list[int]] = {}
    for row in rows:
        wanted.setdefault(row.kind, []).append(row.ref_id)
    loaded: dict[tuple[str, int], Any] = {}
    for kind, ids in wanted.items():
        model = MODELS[kind]
        for obj in session.scalars(select(model).where(model.id.in_(ids))):
            loaded[(kind, obj.id)] = obj
    hits = []
    for row in rows:
        obj = loaded.get((row.kind, row.ref_id))
        if obj is not None:
            hits.append(_hit(session, row.kind, obj, float(row.score), words))
    return hits


def _hit(session: Session, kind: str, obj: Any, score: float, words: Sequence[str]) -> Hit:
    member = session.get(Member, obj.member_id)
    name = member.display_name if member else ""
    number = title = url = None
    if kind == "question":
        number = obj.number
        body = obj.text
    elif kind == "answer":
        number = session.scalar(select(Question.number).where(Question.id == obj.question_id))
        body = obj.text
    elif kind == "paper":
        title, url = obj.title or obj.url, obj.url
        body = obj.one_liner or obj.summary or obj.title
    elif kind == "resource":
        url, body = obj.url, obj.text or obj.url
    else:
        body = obj.text
    return Hit(
        kind=kind,
        ref_id=obj.id,
        title=title or "",
        snippet=snippet(body, words),
        created_at=obj.created_at,
        member=name,
        score=score,
        number=number,
        url=url,
    )


def snippet(body: str, words: Sequence[str], width: int = SNIPPET_CHARS) -> str:
    """About ``width`` characters of ``body`` around the first query word found in it."""
    flat = re.sub(r"\s+", " ", body or "").strip()
    if len(flat) <= width:
        return flat
    lower = flat.lower()
    found = [i for i in (lower.find(w) for w in words if w) if i >= 0]
    start = max(0, min(found) - width // 4) if found else 0
    start = min(start, len(flat) - width)
    piece = flat[start : start + width]
    return ("…" if start > 0 else "") + piece + ("…" if start + width < len(flat) else "")


def similar_questions(
    session: Session, group_id: int, text: str, *, limit: int = 3, exclude_id: int | None = None
) -> list[Question]:
    """Up to ``limit`` earlier questions of the group that resemble ``text``, best first.

    Any shared word makes a candidate (OR, ranked by BM25 / ts_rank_cd); a candidate is kept
    when the shared words are at least half of the shorter question's words.
    """
    wanted = list(dict.fromkeys(tokens(text)))[:32]
    if not wanted or limit < 1:
        return []
    pg = session.get_bind().dialect.name == "postgresql"
    words = _expression([(t,) for t in wanted], any_word=True, pg=pg)
    where = Filters(group_id, ["question"])
    rows, _ = _find(session, words, where, limit=limit * 4 + 1, offset=0, count=False)
    wanted_set = set(wanted)
    ids = [
        r.ref_id
        for r in rows
        if r.ref_id != exclude_id and _overlap(wanted_set, set(r.body.split())) >= 0.5
    ][:limit]
    if not ids:
        return []
    found = {q.id: q for q in session.scalars(select(Question).where(Question.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def _overlap(a: set[str], b: set[str]) -> float:
    """Shared words over the smaller set's size (1.0 when one contains the other)."""
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0
