"""The Telegram outbox: replies that could not be sent are stored, then resent exactly once.

:func:`save` stores each unsent part as an ``outbox`` row (state ``pending``); :func:`flush`
(run periodically by the adapter) resends pending rows in order, claiming each row
(``pending`` -> ``sending``) before sending and marking it ``sent`` after, so a row is never
sent twice. Rows left ``sending`` by a crash may already have been delivered:
:func:`recover_interrupted` marks them ``failed`` and logs them instead of risking a duplicate.
Rows other modules queue for Telegram (platform ``telegram``) are sent the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError

from bot.adapters.telegram_text import escape, split_html, strip_tags
from bot.model import ChatRef, utcnow
from storage.db import Database
from storage.models import OutboxMessage

if TYPE_CHECKING:
    from bot.adapters.telegram_send import TelegramOutbound

log = logging.getLogger(__name__)

PLATFORM = "telegram"
MAX_ATTEMPTS = 20
RETRYABLE = (NetworkError, RetryAfter)


def is_final(error: BaseException) -> bool:
    """Errors that retrying cannot fix (bad request, blocked by the user, ...)."""
    return isinstance(error, TelegramError) and (
        isinstance(error, BadRequest) or not isinstance(error, RETRYABLE)
    )


def chat_key(chat_id: str | int) -> int | str:
    """Telegram chat ids are integers, or ``@channelusername`` strings."""
    text = str(chat_id).strip()
    try:
        return int(text)
    except ValueError:
        return text


def save(
    db: Database | None,
    chat_id: int | str,
    parts: Sequence[str],
    error: Exception,
    *,
    reply_to: int | None = None,
    question_id: int | None = None,
) -> None:
    """Persist unsent parts so the background task resends them later (the first part as a
    reply to ``reply_to``; each one recorded as announcing ``question_id``)."""
    if db is None:
        log.error("could not send %d part(s) to %s (%s); no database", len(parts), chat_id, error)
        return
    with db.session() as session:
        for index, part in enumerate(parts):
            session.add(
                OutboxMessage(
                    platform=PLATFORM,
                    chat_id=str(chat_id),
                    text=strip_tags(part),
                    html=part,
                    reply_to=str(reply_to) if reply_to is not None and index == 0 else None,
                    question_id=question_id,
                    attempts=1,
                    last_error=str(error)[:500],
                )
            )
    log.error(
        "could not send %d part(s) to %s (%s); queued in the outbox", len(parts), chat_id, error
    )


def recover_interrupted(db: Database | None) -> None:
    """Rows left 'sending' by a crash may have been delivered: fail them, loudly."""
    if db is None:
        return
    with db.session() as session:
        rows = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.platform == PLATFORM, OutboxMessage.state == "sending"
            )
        ).all()
        for row in rows:
            row.state = "failed"
            row.last_error = "interrupted while sending; it may have been delivered"
            log.warning(
                "outbox row %s to %s was interrupted mid-send; not resent", row.id, row.chat_id
            )


Announced = Callable[[ChatRef, str, int], None]


async def flush(
    db: Database | None,
    outbound: TelegramOutbound,
    limit: int = 50,
    *,
    announced: Announced | None = None,
) -> int:
    """Resend pending outbox rows in order; returns how many were sent. ``announced(chat,
    message_id, question_id)`` is told about each resent question announcement (the
    dispatcher's ``record_sent``), so replies to it still count as answers."""
    if db is None:
        return 0
    with db.session() as session:
        ids = session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.platform == PLATFORM, OutboxMessage.state == "pending")
            .order_by(OutboxMessage.id)
            .limit(limit)
        ).all()
    sent = 0
    for row_id in ids:
        with db.session() as session:
            claimed = session.execute(  # type: ignore[attr-defined]
                update(OutboxMessage)
                .where(OutboxMessage.id == row_id, OutboxMessage.state == "pending")
                .values(state="sending", attempts=OutboxMessage.attempts + 1)
            ).rowcount
            row = session.get(OutboxMessage, row_id)
            assert row is not None
            chat_id, attempts, question_id = row.chat_id, row.attempts, row.question_id
            reply_to = int(row.reply_to) if row.reply_to and row.reply_to.isdigit() else None
            html = row.html if row.html is not None else escape(row.text)
        if claimed != 1:
            continue
        try:
            messages = await outbound.send_parts(
                chat_key(chat_id), split_html(html), reply_to=reply_to
            )
        except TelegramError as error:
            final = is_final(error) or attempts >= MAX_ATTEMPTS
            _settle(db, row_id, "failed" if final else "pending", str(error))
            log.error("outbox row %s to %s failed again (%s)", row_id, chat_id, error)
            if not final:
                break  # Telegram is unreachable: keep the order, try again later
            continue
        _settle(db, row_id, "sent", None)
        if question_id is not None and announced is not None:
            _record_announcements(announced, messages, question_id)
        sent += 1
        log.info("outbox row %s sent to %s", row_id, chat_id)
    return sent


def _record_announcements(announced: Announced, messages: Sequence[Any], question_id: int) -> None:
    """Replies to a resent question announcement count as answers, as for a direct send."""
    try:
        for message in messages:
            chat = ChatRef(PLATFORM, str(message.chat_id), "group")
            announced(chat, str(message.message_id), question_id)
    except SQLAlchemyError as error:  # e.g. the question was deleted meanwhile
        log.warning("question %s announcement not recorded (%s)", question_id, error)


def _settle(db: Database, row_id: int, state: str, error: str | None) -> None:
    assert db is not None
    with db.session() as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        row.state = state
        if error is not None:
            row.last_error = error[:500]
        if state == "sent":
            row.sent_at = utcnow()
