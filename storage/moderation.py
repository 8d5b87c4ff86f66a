"""Moderation: admins' soft deletes (the trash) and the audit log of admin actions.

:func:`trash` moves an entry out of the group's content into ``trash`` as a JSON snapshot
(what, who, when): lists, the digest, search and points no longer see it, and /digest status
shows it. :func:`restore` puts a trashed entry back from its snapshot (same id; a question
whose number was taken meanwhile gets the next free one), with its digest edits. :func:`record_action` logs an admin
command; :func:`recent_actions` reads the log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from storage import digest_overrides, questions
from storage.models import (
    Answer,
    AuditEntry,
    Paper,
    Question,
    Resource,
    Tag,
    TrashItem,
    UTCDateTime,
)

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
            # which question it answered, even once that question is deleted and restored
            # under another id (restore finds it by these)
            snapshot["question"] = {
                "created_at": question.created_at.isoformat(),
                "text": question.text,
            }
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
    key = _entry_key(entry)
    if key is not None:  # its digest edits go with it (and come back on restore)
        snapshot["digest_edits"] = digest_overrides.take(session, group_id, key)
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


MODELS: dict[str, type[Paper | Resource | Question | Answer]] = {
    "paper": Paper,
    "resource": Resource,
    "question": Question,
    "answer": Answer,
}


WITHDRAWN = "withdrawn_by_author"
"""Snapshot key marking an entry its own author withdrew (WeChat 撤回): not an admin's
deletion, and admins cannot bring it back (the author took it back; privacy first)."""


def withdrawn(item: TrashItem) -> bool:
    """Whether the entry's author withdrew it (see :data:`WITHDRAWN`)."""
    return bool(item.snapshot.get(WITHDRAWN))


class RestoreRefused(Exception):
    """The entry cannot come back as it was; ``reason`` names why (a key of the handler's
    messages) and ``values`` fill it in."""

    def __init__(self, reason: str, **values: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.values = values


def _revive(model: type[Any], snapshot: dict[str, Any]) -> Any:
    """A new ``model`` row holding the snapshot's column values (ISO text back to datetimes)."""
    values: dict[str, Any] = {}
    for column in inspect(model).column_attrs:
        if column.key not in snapshot:
            continue
        value = snapshot[column.key]
        if isinstance(value, str) and isinstance(column.expression.type, UTCDateTime):
            value = datetime.fromisoformat(value)
        values[column.key] = value
    return model(**values)


def trash_items(session: Session, group_id: int, limit: int) -> list[TrashItem]:
    """The group's trash, newest first."""
    stmt = (
        select(TrashItem)
        .where(TrashItem.group_id == group_id)
        .order_by(TrashItem.deleted_at.desc(), TrashItem.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def find_trashed(session: Session, group_id: int, kind: str, label: str) -> TrashItem | None:
    """The latest trashed ``kind`` entry the users knew as ``label`` ("#3", "#3-2")."""
    stmt = (
        select(TrashItem)
        .where(TrashItem.group_id == group_id, TrashItem.kind == kind, TrashItem.label == label)
        .order_by(TrashItem.deleted_at.desc(), TrashItem.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def _free_id(session: Session, entry: Any) -> Any:
    """``entry`` keeps its old id unless another row took it meanwhile (SQLite hands out the
    highest id again once that row is gone): then the database gives it a new one."""
    if entry.id is not None and session.get(type(entry), entry.id) is not None:
        entry.id = None
    return entry


def _answered_question(
    session: Session, group_id: int, snapshot: dict[str, Any]
) -> Question | None:
    """The question a trashed answer belongs to: the one it named (its creation time and
    text) if still there, under whatever id it has now."""
    known = snapshot.get("question")
    if not isinstance(known, dict):
        question = session.get(Question, snapshot["question_id"])
        return question if question is not None and question.group_id == group_id else None
    created_at = datetime.fromisoformat(str(known["created_at"]))
    stmt = select(Question).where(
        Question.group_id == group_id,
        Question.created_at == created_at,
        Question.text == known["text"],
    )
    return session.scalars(stmt.order_by(Question.id)).first()


def restore(session: Session, item: TrashItem) -> Paper | Resource | Question | Answer:
    """Put ``item``'s entry back as it was (a question with its answers and best answer) and
    empty the trash row. Its id (a paper's or resource's number) and a question's number are
    kept unless taken meanwhile. Raises :class:`RestoreRefused` when the group moved on: the
    same paper shared again, or an answer whose question is gone."""
    snapshot = dict(item.snapshot)
    entry: Paper | Resource | Question | Answer = _free_id(
        session, _revive(MODELS[item.kind], snapshot)
    )
    if isinstance(entry, Paper):
        again = session.scalars(
            select(Paper).where(Paper.group_id == item.group_id, Paper.url_key == entry.url_key)
        ).first()
        if again is not None:
            raise RestoreRefused("shared_again", number=again.id)
    if isinstance(entry, Resource):
        names = [str(name) for name in snapshot.get("tags", [])]
        found = {t.name: t for t in session.scalars(select(Tag).where(Tag.name.in_(names)))}
        entry.tags = [found.get(name) or Tag(name=name) for name in names]
    best_answer_id = None
    if isinstance(entry, Question):
        best_answer_id = entry.best_answer_id
        entry.best_answer_id = None
        if questions.question_by_number(session, item.group_id, entry.number) is not None:
            entry.number = questions.next_question_number(session, item.group_id)
    if isinstance(entry, Answer):
        question = _answered_question(session, item.group_id, snapshot)
        if question is None:
            raise RestoreRefused("question_gone")
        entry.question_id = question.id
        if question.status == "open" and entry.member_id != question.member_id:
            question.status = "answered"
    session.add(entry)
    session.flush()
    if isinstance(entry, Question):
        best = None
        for values in snapshot.get("answers", []):
            answer = _free_id(session, _revive(Answer, {**values, "question_id": entry.id}))
            session.add(answer)
            if values.get("id") == best_answer_id:
                best = answer
        session.flush()
        entry.best_answer_id = best.id if best is not None else None
    key = _entry_key(entry)
    if key is not None:
        digest_overrides.put_back(session, item.group_id, key, snapshot.get("digest_edits"))
    session.delete(item)
    session.flush()
    return entry


def _entry_key(entry: Paper | Resource | Question | Answer) -> str | None:
    """The digest entry key of ``entry`` (what its overrides are stored under), if any."""
    if isinstance(entry, Paper):
        return f"paper:{entry.id}"
    if isinstance(entry, Resource):
        return f"resource:{entry.id}"
    if isinstance(entry, Question):
        return f"question:{entry.number}"
    return None


def current_label(session: Session, entry: Paper | Resource | Question | Answer) -> str:
    """How users refer to ``entry`` now: ``#id``, a question's ``#number``, an answer's
    ``#number-position``."""
    if isinstance(entry, Question):
        return f"#{entry.number}"
    if isinstance(entry, Answer):
        question = session.get(Question, entry.question_id)
        ids = [answer.id for answer in questions.answers_of(session, entry.question_id)]
        number = question.number if question is not None else 0
        return f"#{number}-{ids.index(entry.id) + 1}"
    return f"#{entry.id}"


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
