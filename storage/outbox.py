"""The outbox table: replies queued in their message's transaction, claimed, settled, expired.

Every row is sent at most once: :func:`claim` moves it ``pending`` -> ``sending`` (only one
claimer wins), :func:`settle` records the outcome (``sent``, ``failed``, back to ``pending``),
and :func:`recover_interrupted` fails rows a crash left ``sending`` (they may have been
delivered). A long reply goes out in parts: :func:`record_parts` keeps count, so a reply
stopped halfway resumes from its first unsent part. :func:`expire` drops rows older than the configured age instead of sending them
late; :func:`backlog` says how many wait and since when (``/digest status``, the INFO log).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from storage.model_base import utc_now
from storage.models import OutboxMessage

OPEN = "pending"


def add(session: Session, **fields: Any) -> OutboxMessage:
    """Queue one message (in the caller's transaction); ``fields`` are OutboxMessage columns."""
    row = OutboxMessage(**fields)
    session.add(row)
    return row


def waiting(
    session: Session, platform: str, *, after_id: int = 0, limit: int = 1000
) -> Sequence[OutboxMessage]:
    """Pending rows of ``platform`` with an id above ``after_id``, oldest first."""
    return session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.platform == platform,
            OutboxMessage.state == OPEN,
            OutboxMessage.id > after_id,
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()


def claim(session: Session, row_id: int) -> bool:
    """``pending`` -> ``sending`` (one more attempt); False when someone else has it."""
    result: Any = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, OutboxMessage.state == OPEN)
        .values(state="sending", attempts=OutboxMessage.attempts + 1)
    )
    return bool(result.rowcount == 1)


def settle(
    session: Session,
    row_id: int,
    state: str,
    error: str | None = None,
    *,
    parts_sent: int | None = None,
) -> None:
    """Record a send's outcome: ``sent``, ``failed``, ``expired`` or back to ``pending``
    (with ``parts_sent``: that many parts of the reply went out; a retry skips them)."""
    values: dict[str, Any] = {"state": state}
    if parts_sent is not None:
        values["parts_sent"] = parts_sent
    if error is not None:
        values["last_error"] = error[:500]
    if state == "sent":
        values["sent_at"] = utc_now()
    session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id).values(**values))


def record_parts(session: Session, row_id: int, parts_sent: int) -> None:
    """``parts_sent`` parts of the row's reply went out (it is still being sent)."""
    session.execute(
        update(OutboxMessage).where(OutboxMessage.id == row_id).values(parts_sent=parts_sent)
    )


def recover_interrupted(session: Session, platform: str) -> list[tuple[int, str]]:
    """Fail the rows a crash left ``sending`` (they may have been delivered): (id, chat)."""
    rows = session.execute(
        select(OutboxMessage.id, OutboxMessage.chat_id).where(
            OutboxMessage.platform == platform, OutboxMessage.state == "sending"
        )
    ).all()
    if rows:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_([row_id for row_id, _ in rows]))
            .values(state="failed", last_error="interrupted while sending; it may have been sent")
        )
    return [(row_id, chat_id) for row_id, chat_id in rows]


def backlog_by_platform(session: Session) -> list[tuple[str, int, datetime | None]]:
    """For each platform with rows waiting: (platform, how many, when the oldest was queued)."""
    rows = session.execute(
        select(OutboxMessage.platform, func.count(), func.min(OutboxMessage.created_at))
        .where(OutboxMessage.state.in_((OPEN, "sending")))
        .group_by(OutboxMessage.platform)
        .order_by(OutboxMessage.platform)
    ).all()
    return [(platform, int(count), oldest) for platform, count, oldest in rows]


def backlog(session: Session, platform: str | None = None) -> tuple[int, datetime | None]:
    """How many rows wait (of ``platform``, or all) and when the oldest was queued."""
    query = select(func.count(), func.min(OutboxMessage.created_at)).where(
        OutboxMessage.state.in_((OPEN, "sending"))
    )
    if platform is not None:
        query = query.where(OutboxMessage.platform == platform)
    count, oldest = session.execute(query).one()
    return int(count or 0), oldest
