"""Handled incoming messages (``processed_messages``): each is claimed once, so a platform's
re-delivery is refused instead of stored twice (message dedupe)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table, delete, insert
from sqlalchemy.orm import Session

from storage.models import ProcessedMessage


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
