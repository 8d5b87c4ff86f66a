"""The bot's question announcements (``sent_messages``): which of its messages announced which
question, so a member's reply to one counts as an answer."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Member, Question, SentMessage
from storage.sources import source_key


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


def question_of_message(
    session: Session, platform: str, chat_id: str, message_id: str
) -> int | None:
    """The question that the member's own message ``message_id`` asked (``#提问 …``), if any:
    a reply to it answers that question as a reply to the bot's announcement does."""
    return session.scalars(
        select(Question.id)
        .where(Question.source == source_key(platform, chat_id, message_id))
        .limit(1)
    ).first()


def quoted_questions(
    session: Session, platform: str, chat_id: str, who: str, quoted: str
) -> list[tuple[str, str]]:
    """``(message id, text)`` of the questions asked in the chat by a member shown as ``who``
    whose text the quote ``quoted`` contains (WeChat quotes show the name and the text)."""
    prefix = source_key(platform, chat_id, "")
    rows = session.execute(
        select(Question.source, Question.text)
        .join(Member, Member.id == Question.member_id)
        .where(Question.source.startswith(prefix, autoescape=True), Member.display_name == who)
    ).all()
    return [
        (source[len(prefix) :], text)
        for source, text in rows
        if source and text.strip() and _quotes(quoted, text.strip())
    ]


def _quotes(quoted: str, text: str) -> bool:
    """Whether ``quoted`` (the asker's message as a quote shows it, maybe cut short with
    「…」) is the message that asked ``text``: it contains the text, or it ends with the start
    of it (at least 4 characters: 「#提问 怎么选择学…」)."""
    if text in quoted:
        return True
    core = quoted.strip().rstrip("…").rstrip(".").rstrip()
    tails = (core[at:].lstrip() for at in range(len(core)))
    return any(len(tail) >= 4 and text.startswith(tail) for tail in tails)


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
