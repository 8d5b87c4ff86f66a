"""Search over what members sent. (Placeholder LIKE version; replaced by the FTS5/jieba one.)"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Question


def similar_questions(
    session: Session, group_id: int, text: str, *, limit: int = 3, exclude_id: int | None = None
) -> list[Question]:
    """Up to ``limit`` earlier questions of the group that resemble ``text``, best first."""
    words = [w for w in text.split() if len(w) >= 2][:5]
    if not words:
        return []
    stmt = select(Question).where(Question.group_id == group_id)
    if exclude_id is not None:
        stmt = stmt.where(Question.id != exclude_id)
    stmt = stmt.where(*[Question.text.contains(w) for w in words[:1]])
    return list(session.scalars(stmt.order_by(Question.id.desc()).limit(limit)))
