"""Stored edits of digest entries (``digest_overrides``): read, set and clear them.

An override replaces one field of one entry when the digest is built (:mod:`digest.overrides`);
the member's own row is never changed. Text edits hold for every issue (``issue_number`` 0);
positions (``/digest move``) for one issue. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from storage.models import DigestOverride

EVERY_ISSUE = 0


def for_issue(session: Session, group_id: int, issue_number: int) -> list[DigestOverride]:
    """The overrides that apply to issue ``issue_number`` of the group (text edits and its
    positions), oldest first."""
    stmt = (
        select(DigestOverride)
        .where(
            DigestOverride.group_id == group_id,
            or_(
                DigestOverride.issue_number == EVERY_ISSUE,
                DigestOverride.issue_number == issue_number,
            ),
        )
        .order_by(DigestOverride.id)
    )
    return list(session.scalars(stmt))


def for_entries(session: Session, group_id: int, keys: Iterable[str]) -> list[DigestOverride]:
    """Every override of the entries ``keys`` in the group (all issues), oldest first."""
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return []
    stmt = (
        select(DigestOverride)
        .where(DigestOverride.group_id == group_id, DigestOverride.entry_key.in_(wanted))
        .order_by(DigestOverride.id)
    )
    return list(session.scalars(stmt))


def set_value(
    session: Session,
    group_id: int,
    key: str,
    field: str,
    value: str,
    *,
    by: str,
    now: datetime,
    issue_number: int = EVERY_ISSUE,
) -> DigestOverride:
    """Set (or replace) the override of ``field`` of entry ``key``."""
    row = session.scalars(
        select(DigestOverride).where(
            DigestOverride.group_id == group_id,
            DigestOverride.entry_key == key,
            DigestOverride.field == field,
            DigestOverride.issue_number == issue_number,
        )
    ).one_or_none()
    if row is None:
        row = DigestOverride(
            group_id=group_id, entry_key=key, field=field, issue_number=issue_number
        )
        session.add(row)
    row.value = value
    row.set_by = by[:200]
    row.set_at = now
    session.flush()
    return row


def clear(
    session: Session,
    group_id: int,
    key: str,
    field: str | None = None,
    *,
    issue_number: int = EVERY_ISSUE,
) -> int:
    """Remove the override of ``field`` (every text field when None) of entry ``key``;
    returns how many were removed."""
    stmt = delete(DigestOverride).where(
        DigestOverride.group_id == group_id,
        DigestOverride.entry_key == key,
        DigestOverride.issue_number == issue_number,
    )
    if field is not None:
        stmt = stmt.where(DigestOverride.field == field)
    removed = session.execute(stmt).rowcount  # type: ignore[attr-defined]
    session.flush()
    return int(removed or 0)


def set_positions(
    session: Session,
    group_id: int,
    issue_number: int,
    keys: list[str],
    *,
    by: str,
    now: datetime,
) -> None:
    """Pin the order of ``keys`` (one section of one issue): position 1, 2, … in list order."""
    for position, key in enumerate(keys, start=1):
        set_value(
            session,
            group_id,
            key,
            "position",
            str(position),
            by=by,
            now=now,
            issue_number=issue_number,
        )


def take(session: Session, group_id: int, key: str) -> list[dict[str, object]]:
    """Remove every override of entry ``key`` (the entry is being deleted: a later entry
    given the same id must not inherit them) and return them as JSON-safe dicts."""
    rows = for_entries(session, group_id, [key])
    saved: list[dict[str, object]] = [
        {
            "field": row.field,
            "value": row.value,
            "issue_number": row.issue_number,
            "set_by": row.set_by,
            "set_at": row.set_at.isoformat(),
        }
        for row in rows
    ]
    for row in rows:
        session.delete(row)
    session.flush()
    return saved


def put_back(session: Session, group_id: int, key: str, saved: object) -> None:
    """Restore overrides :func:`take` returned onto entry ``key`` (its id may be new); an
    override set meanwhile wins."""
    if not isinstance(saved, list):
        return
    for item in saved:
        if not isinstance(item, dict):
            continue
        number = int(item.get("issue_number") or 0)
        there = session.scalars(
            select(DigestOverride.id).where(
                DigestOverride.group_id == group_id,
                DigestOverride.entry_key == key,
                DigestOverride.field == str(item.get("field")),
                DigestOverride.issue_number == number,
            )
        ).first()
        if there is not None:
            continue
        session.add(
            DigestOverride(
                group_id=group_id,
                entry_key=key,
                field=str(item.get("field")),
                issue_number=number,
                value=str(item.get("value")),
                set_by=str(item.get("set_by") or ""),
                set_at=datetime.fromisoformat(str(item.get("set_at"))),
            )
        )
    session.flush()
