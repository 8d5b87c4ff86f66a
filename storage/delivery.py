"""Message bookkeeping: processed incoming ids (dedupe) and sent question announcements."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.orm import Session

from storage.models import ProcessedMessage, Question, SentMessage


def mark_processed(session: Session, platform: str, chat_id: str, message_id: str) -> None:
    """Record the message as handled; the primary key refuses a second record."""
    session.add(ProcessedMessage(platform=platform, chat_id=chat_id, message_id=message_id))


def claim(session: Session, platform: str, chat_id: str, message_id: str) -> None:
    """Record the message as handled *before* handling it, in the handler's transaction.

    Raises ``IntegrityError`` (primary key) if it was already handled, so a re-delivered
    message is refused with one INSERT instead of a SELECT plus an INSERT; a failing handler
    rolls the record back with its own writes.
    """
    claim_all(session, [(platform, chat_id, message_id)])


def claim_all(session: Session, keys: Sequence[tuple[str, str, str]]) -> None:
    """:func:`claim` for several messages (platform, chat id, message id) in one statement:
    ``IntegrityError`` if any of them was handled already (or appears twice)."""
    session.flush()  # anything pending goes first
    session.connection().execute(
        _CLAIM, [{"platform": p, "chat_id": c, "message_id": m} for p, c, m in keys]
    )


def prune_processed(session: Session, before: datetime) -> int:
    """Forget the ids of messages handled before ``before`` (no platform re-delivers a
    message that old); how many went."""
    result = session.execute(
        delete(ProcessedMessage).where(ProcessedMessage.processed_at < before),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0) or 0)


# A Core INSERT (same row, same primary-key refusal) without a unit-of-work flush per message.
_CLAIM = insert(cast(Table, ProcessedMessage.__table__))


def record_sent_question(
    session: Session, platform: str, chat_id: str, message_id: str, question_id: int
) -> None:
    """Remember that ``message_id`` announced ``question_id`` (replies to it are answers)."""
    session.merge(
        SentMessage(
            platform=platform, chat_id=chat_id, message_id=message_id, question_id=question_id
        )
    )


def question_for_reply(
    session: Session, platform: str, chat_id: str, message_id: str
) -> int | None:
    """The question announced by the bot's message ``message_id``, if any."""
    return session.scalars(
        select(SentMessage.question_id).where(
            SentMessage.platform == platform,
            SentMessage.chat_id == chat_id,
            SentMessage.message_id == message_id,
        )
    ).one_or_none()


def announcement_of(session: Session, platform: str, chat_id: str, number: int) -> str | None:
    """The id of the bot's latest message in the chat announcing question ``number``."""
    return session.scalars(
        select(SentMessage.message_id)
        .join(Question, Question.id == SentMessage.question_id)
        .where(
            SentMessage.platform == platform,
            SentMessage.chat_id == chat_id,
            Question.number == number,
        )
        .order_by(SentMessage.sent_at.desc())
        .limit(1)
    ).first()
