"""Moderation: admins' soft deletes (the trash) and the audit log of admin actions.

:func:`trash` moves an entry out of the group's content into ``trash`` as a JSON snapshot
(what, who, when): lists, the digest, search and points no longer see it, and /digest status
shows it. :func:`record_action` logs an admin command; :func:`recent_actions` reads the log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from storage.models import Answer, AuditEntry, Paper, Question, Resource, TrashItem

MAX_ARGS = 500


def _snapshot(entry: Any) -> dict[str, Any]:
    """The entry's column values, JSON-safe (datetimes as ISO text)."""
    values: dict[str, Any] = {}
    for column in inspect(entry).mapper.column_attrs:
        value = getattr(entry, column.key)
        values[column.key] = value.isoformat() if isinstance(value, datetime) else value
    return values


def trash(
    session: Session,
    group_id: int,
    entry: Paper | Resource | Question | Answer,
    label: str,
    actor: str,
    now: datetime,
) -> TrashItem:
    """Move ``entry`` (and a question's answers) into the trash; returns the trash row."""
    kind = {Paper: "paper", Resource: "resource", Question: "question", Answer: "answer"}[
        type(entry)
    ]
    snapshot = _snapshot(entry)
    if isinstance(entry, Resource):
        snapshot["tags"] = [tag.name for tag in entry.tags]
    if isinstance(entry, Question):
        entry.best_answer_id = None
        session.flush()
        answers = list(session.scalars(select(Answer).where(Answer.question_id == entry.id)))
        snapshot["answers"] = [_snapshot(answer) for answer in answers]
        for answer in answers:
            session.delete(answer)
        session.flush()
    if isinstance(entry, Answer):
        question = session.get(Question, entry.question_id)
        if question is not None:
            if question.best_answer_id == entry.id:
                question.best_answer_id = None
            others = session.scalars(
                select(Answer.id)
                .where(Answer.question_id == question.id, Answer.id != entry.id)
                .limit(1)
            ).first()
            if others is None and question.status == "answered":
                question.status = "open"  # its only answer is gone: open (/questions) again
            session.flush()
    item = TrashItem(
        group_id=group_id,
        kind=kind,
        label=label,
        snapshot=snapshot,
        deleted_by=actor[:200],
        deleted_at=now,
    )
    session.add(item)
    session.delete(entry)
    session.flush()
    return item


def trashed_between(
    session: Session, group_id: int, start: datetime, end: datetime
) -> list[TrashItem]:
    """What admins deleted in [start, end), oldest first."""
    stmt = (
        select(TrashItem)
        .where(
            TrashItem.group_id == group_id,
            TrashItem.deleted_at >= start,
            TrashItem.deleted_at < end,
        )
        .order_by(TrashItem.deleted_at, TrashItem.id)
    )
    return list(session.scalars(stmt))


def record_action(
    session: Session,
    group_id: int,
    actor: str,
    actor_id: str,
    command: str,
    args: str,
    now: datetime,
) -> None:
    """Log one admin command in the message's own transaction."""
    session.add(
        AuditEntry(
            group_id=group_id,
            actor=actor[:200],
            actor_id=actor_id[:200],
            command=command[:40],
            args=args[:MAX_ARGS],
            created_at=now,
        )
    )


def recent_actions(session: Session, group_id: int, limit: int) -> list[AuditEntry]:
    """The group's latest admin actions, newest first."""
    stmt = (
        select(AuditEntry)
        .where(AuditEntry.group_id == group_id)
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))
