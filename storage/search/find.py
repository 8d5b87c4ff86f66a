"""Search over what members sent: check-ins, questions, answers, papers and resources.

:func:`search` runs a /search query (see :mod:`storage.search.text` for the syntax) against the
index kept by :mod:`storage.search.index` (entries still queued for indexing are indexed first): SQLite FTS5 ranked by ``bm25()`` or PostgreSQL
full text ranked by ``ts_rank``. Every word must match; when nothing does, the words are
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

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Member, Question
from storage.search import engine
from storage.search.drain import index_pending
from storage.search.engine import Filters, Row
from storage.search.index import MODELS
from storage.search.text import (
    KINDS,
    ParsedQuery,
    QueryError,
    parse_query,
    tokens,
    word_groups,
)

SNIPPET_CHARS = 80
CATCH_UP_LIMIT = 1000  # queued entries a search indexes first, at most
RELAXED_LIMIT = 100  # candidates re-ordered when not every word matches


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
    capped: bool = False  # PostgreSQL: ``total`` is the ranking window, more matches exist
    query: ParsedQuery = field(default_factory=ParsedQuery)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def catch_up(session: Session) -> int:
    """Index what was queued a moment ago, so a search finds it (bounded: a backlog after a
    restart or a dictionary change is left to the background worker)."""
    return index_pending(session, limit=CATCH_UP_LIMIT, wait=False)


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
    catch_up(session)
    pg = session.get_bind().dialect.name == "postgresql"
    where = Filters(group_id, parsed.kinds, parsed.tags)
    offset = (page - 1) * per_page
    words = engine.expression(groups, any_word=False, pg=pg) if groups else ""
    rows, total = engine.find(session, words, where, limit=per_page, offset=offset)
    result.capped = pg and total >= engine.PG_WINDOW
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
    words = engine.expression(whole, any_word=True, pg=pg)
    # the candidates are capped at RELAXED_LIMIT: their number is the total shown
    rows, total = engine.find(session, words, where, limit=RELAXED_LIMIT, offset=0, count=False)

    def coverage(row: Row) -> int:
        present = set(row.body.split())
        return sum(1 for group in groups if group[0] in present or set(group[1:]) <= present)

    ordered = sorted(rows, key=lambda row: (-coverage(row), -row.score))
    return ordered[offset : offset + per_page], total


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
        title, url = obj.label, obj.link
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

    Any shared word makes a candidate (OR, ranked by BM25 / ts_rank); a candidate is kept
    when the shared words are at least half of the shorter question's words.
    """
    wanted = list(dict.fromkeys(tokens(text)))[:32]
    if not wanted or limit < 1:
        return []
    catch_up(session)
    pg = session.get_bind().dialect.name == "postgresql"
    words = engine.expression([(t,) for t in wanted], any_word=True, pg=pg)
    where = Filters(group_id, ["question"])
    rows, _ = engine.find(session, words, where, limit=limit * 4 + 1, offset=0, count=False)
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
