"""Contributions and the leaderboard: counts per member and kind, points, ranks.

Points per contribution (:data:`WEIGHTS`): check-in 3 (one a day), answer 2 (once per member and
question, not to one's own question), paper 2, resource 1 (not a re-shared link). Counts come from one UNION query per
call, never one per member; equal scores share a rank.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Case, Select, case, func, literal, select, union_all
from sqlalchemy.orm import Session, aliased

from storage.models import Answer, CheckIn, Group, Member, Paper, Question, Resource

WEIGHTS: dict[str, int] = {"checkin": 3, "answer": 2, "paper": 2, "resource": 1}
"""Leaderboard points per contribution kind."""


def contribution_counts(
    session: Session,
    group: Group,
    since: datetime | None = None,
    until: datetime | None = None,
    member_ids: Sequence[int] | None = None,
) -> dict[int, Counter[str]]:
    """Per member: how many check-ins, questions, answers, papers, resources (one query).

    Contributions that earn no points have kinds of their own (no weight in :data:`WEIGHTS`):
    ``checkin_unscored`` (a day's second and later check-ins), ``answer_own`` (answers to
    one's own question), ``answer_again`` (a member's second and later answers to one
    question), ``resource_reshared`` (a link the group had already)."""

    def window(
        stmt: Select[*tuple[Any, ...]], column: Any, member_column: Any
    ) -> Select[*tuple[Any, ...]]:
        if since is not None:
            stmt = stmt.where(column >= since)
        if until is not None:
            stmt = stmt.where(column < until)
        if member_ids is not None:
            stmt = stmt.where(member_column.in_(member_ids))
        return stmt.group_by(member_column)

    def kind_of(model: Any, scored_kind: str, unscored_kind: str) -> Case[str]:
        return case((model.scored.is_(True), literal(scored_kind)), else_=literal(unscored_kind))

    parts = [
        window(
            select(model.member_id, kind.label("kind"), func.count().label("n")).where(
                model.group_id == group.id
            ),
            model.created_at,
            model.member_id,
        ).group_by(kind)
        for kind, model in (
            (kind_of(CheckIn, "checkin", "checkin_unscored"), CheckIn),
            (literal("question"), Question),
            (literal("paper"), Paper),
            (kind_of(Resource, "resource", "resource_reshared"), Resource),
        )
    ]
    self_answer = Answer.member_id == Question.member_id
    earlier = aliased(Answer)
    answered_before = (
        select(earlier.id)
        .where(
            earlier.question_id == Answer.question_id,
            earlier.member_id == Answer.member_id,
            earlier.id < Answer.id,
        )
        .exists()
    )
    answer_kind = case(
        (self_answer, literal("answer_own")),
        (answered_before, literal("answer_again")),
        else_=literal("answer"),
    )
    parts.append(
        window(
            select(Answer.member_id, answer_kind.label("kind"), func.count().label("n"))
            .join(Question, Question.id == Answer.question_id)
            .where(Question.group_id == group.id),
            Answer.created_at,
            Answer.member_id,
        ).group_by(answer_kind)
    )
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    for member_id, kind, n in session.execute(union_all(*parts)):
        counts[member_id][kind] += n
    return counts


UNSCORED_KINDS: dict[str, str] = {
    "checkin_unscored": "checkin",
    "answer_own": "answer",
    "answer_again": "answer",
    "resource_reshared": "resource",
}
"""Contribution kinds that earn no points, and the kind each one is a case of."""


def all_contributions(counts: Counter[str]) -> Counter[str]:
    """``counts`` with the unscored kinds folded into their kinds (what a member did)."""
    merged: Counter[str] = Counter()
    for kind, n in counts.items():
        merged[UNSCORED_KINDS.get(kind, kind)] += n
    return merged


def score(counts: Counter[str]) -> int:
    """Leaderboard points for one member's contribution counts."""
    return sum(WEIGHTS.get(kind, 0) * n for kind, n in counts.items())


@dataclass(frozen=True)
class RankEntry:
    """One leaderboard line. Equal scores share a rank (1, 2, 2, 4)."""

    rank: int
    member_id: int
    name: str
    points: int
    counts: Counter[str]


def leaderboard(
    session: Session, group: Group, since: datetime | None = None, until: datetime | None = None
) -> list[RankEntry]:
    """Everyone with points in [since, until), best first (two queries in total)."""
    counts = contribution_counts(session, group, since, until)
    scored = {mid: (score(c), c) for mid, c in counts.items() if score(c) > 0}
    if not scored:
        return []
    rows = session.execute(
        select(Member.id, Member.display_name).where(Member.id.in_(list(scored)))
    )
    names: dict[int, str] = {member_id: name for member_id, name in rows}
    order = sorted(
        scored,
        key=lambda mid: (-scored[mid][0], -scored[mid][1]["checkin"], names.get(mid, ""), mid),
    )
    entries: list[RankEntry] = []
    for position, member_id in enumerate(order, start=1):
        points, member_counts = scored[member_id]
        rank = entries[-1].rank if entries and entries[-1].points == points else position
        entries.append(RankEntry(rank, member_id, names.get(member_id, "?"), points, member_counts))
    return entries
