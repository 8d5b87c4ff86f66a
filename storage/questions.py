"""Questions (疑问) and answers: per-group numbers, answering, best answers, open questions.

``Question.status`` is ``open`` until the first answer arrives, then ``answered``; open
questions carry over from week to week.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import Answer, Question

NUMBER_RETRIES = 8


def next_question_number(session: Session, group_id: int) -> int:
    """The number the group's next question would get (max + 1, starting at 1)."""
    current = session.scalar(select(func.max(Question.number)).where(Question.group_id == group_id))
    return int(current or 0) + 1


def add_question(
    session: Session,
    group_id: int,
    member_id: int,
    text: str,
    now: datetime,
    source: str | None = None,
    private: bool = False,
) -> Question:
    """Store a question with the next free number of the group (``source``: the message it
    came from, see :mod:`storage.sources`; ``private``: see ``Question.private``).

    Safe under concurrency: the number is max()+1 inside this transaction and the unique
    constraint (group_id, number) refuses a number taken meanwhile; then we retry.
    """
    for _ in range(NUMBER_RETRIES):
        question = Question(
            group_id=group_id,
            member_id=member_id,
            number=next_question_number(session, group_id),
            text=text,
            status="open",
            created_at=now,
            source=source,
            private=private,
        )
        try:
            with session.begin_nested():
                session.add(question)
                session.flush()
        except IntegrityError:
            continue
        return question
    raise RuntimeError(f"could not allocate a question number in group {group_id}")


def question_by_number(session: Session, group_id: int, number: int) -> Question | None:
    """The group's question #``number``."""
    stmt = select(Question).where(Question.group_id == group_id, Question.number == number)
    return session.scalars(stmt).one_or_none()


def question_by_id(session: Session, group_id: int, question_id: int) -> Question | None:
    """The group's question with database id ``question_id``."""
    question = session.get(Question, question_id)
    return question if question is not None and question.group_id == group_id else None


def answers_of(session: Session, question_id: int) -> list[Answer]:
    """The answers to a question in the order they came (answer #1, #2, ...)."""
    stmt = select(Answer).where(Answer.question_id == question_id).order_by(Answer.id)
    return list(session.scalars(stmt))


def has_answered(session: Session, question_id: int, member_id: int) -> bool:
    """Whether the member has an answer to this question already (points: once per question)."""
    stmt = select(Answer.id).where(Answer.question_id == question_id, Answer.member_id == member_id)
    return session.scalars(stmt.limit(1)).first() is not None


def add_answer(
    session: Session,
    question: Question,
    member_id: int,
    text: str,
    now: datetime,
    source: str | None = None,
) -> tuple[Answer, int]:
    """Store an answer; the question becomes ``answered`` unless the asker answered it
    (it then stays open for others, as the reply says). Returns (answer, its position)."""
    answer = Answer(
        question_id=question.id, member_id=member_id, text=text, created_at=now, source=source
    )
    session.add(answer)
    if question.status == "open" and member_id != question.member_id:
        question.status = "answered"
    session.flush()
    position = int(
        session.scalar(
            select(func.count(Answer.id)).where(
                Answer.question_id == question.id, Answer.id <= answer.id
            )
        )
        or 0
    )
    return answer, position


def mark_best(session: Session, question: Question, position: int) -> Answer | None:
    """Make answer #``position`` (1-based) the best answer; None if there is no such answer."""
    answers = answers_of(session, question.id)
    if not 1 <= position <= len(answers):
        return None
    best = answers[position - 1]
    question.best_answer_id = best.id
    question.status = "answered"
    session.flush()
    return best


def seen_by(member_id: int | None) -> Any:
    """The questions ``member_id`` may see: public ones and their own private ones (None:
    public ones only)."""
    if member_id is None:
        return Question.private.is_(False)
    return or_(Question.private.is_(False), Question.member_id == member_id)


def open_questions(
    session: Session, group_id: int, limit: int = 20, member_id: int | None = None
) -> tuple[list[Question], int]:
    """Up to ``limit`` unanswered questions of the group that ``member_id`` may see (None:
    the public ones), oldest first, and how many there are."""
    where = (Question.group_id == group_id, Question.status == "open", seen_by(member_id))
    total = int(session.scalar(select(func.count(Question.id)).where(*where)) or 0)
    stmt = select(Question).where(*where).order_by(Question.number).limit(limit)
    return list(session.scalars(stmt)), total
