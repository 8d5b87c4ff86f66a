"""The bot's question announcements (``sent_messages``): which of its messages announced which
question, so a member's reply to one counts as an answer."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Question, SentMessage


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
