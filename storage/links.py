"""Joining a member's identities on several platforms into one member (``/link``).

A member asks for a one-time code on one platform (:func:`new_code`) and sends it from the
other (:func:`redeem`). The member who redeems is merged into the one who asked (a 公众号
follower always into the chat identity, whichever side asked): everything
they wrote (check-ins, questions, answers, papers, resources, away periods, search rows) moves
to that member, their own row goes, and their platform identity becomes an alias, so
:func:`storage.identity.ensure_member` resolves it to the joined member from then on.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Table, delete, select, update
from sqlalchemy.orm import Session

from storage.models import Base, GroupMember, LinkCode, Member, MemberAlias

CODE_TTL = timedelta(minutes=15)
CODE_DIGITS = 6


@dataclass(frozen=True)
class Linked:
    """A finished link: the member kept (who asked for the code) and the identity joined."""

    member: Member
    platform: str
    moved_rows: int


class LinkError(Exception):
    """``reason``: ``unknown`` (no such code or expired), ``same`` (same member or platform)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def new_code(session: Session, member: Member, platform: str, now: datetime) -> str:
    """A fresh one-time code for ``member`` (asked on ``platform``); older codes of theirs go."""
    session.execute(delete(LinkCode).where(LinkCode.member_id == member.id))
    session.execute(delete(LinkCode).where(LinkCode.expires_at <= now))
    while True:
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        if session.get(LinkCode, code) is None:
            break
    session.add(
        LinkCode(code=code, member_id=member.id, platform=platform, expires_at=now + CODE_TTL)
    )
    session.flush()
    return code


def redeem(session: Session, code: str, member: Member, platform: str, now: datetime) -> Linked:
    """Merge ``member`` (who sent ``code`` from ``platform``) into the code's member."""
    row = session.get(LinkCode, code.strip())
    if row is None or row.expires_at <= now:
        raise LinkError("unknown")
    if row.member_id == member.id or row.platform == platform:
        raise LinkError("same")
    owner = session.get(Member, row.member_id)
    assert owner is not None  # link_codes.member_id cascades
    session.delete(row)
    source, target = member, owner
    if owner.platform == "mp" and member.platform != "mp":
        source, target = owner, member  # the chat identity (its name, its admin rights) stays
    moved = merge_members(session, source=source, target=target)
    return Linked(member=target, platform=source.platform, moved_rows=moved)


def merge_members(session: Session, *, source: Member, target: Member) -> int:
    """Move every row of ``source`` to ``target``, alias ``source``'s identities, drop it."""
    session.flush()
    # group memberships: one row per group and member; the target's choice for private chats
    # (/group) stays, the source's goes
    held = select(GroupMember.group_id).where(GroupMember.member_id == target.id)
    session.execute(
        delete(GroupMember).where(
            GroupMember.member_id == source.id, GroupMember.group_id.in_(held)
        )
    )
    session.execute(
        update(GroupMember).where(GroupMember.member_id == source.id).values(dm_chosen=False)
    )
    moved = 0
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if any(fk.column.table.name == "members" for fk in column.foreign_keys):
                result = session.execute(
                    update(table).where(column == source.id).values({column.name: target.id})
                )
                moved += result.rowcount or 0  # type: ignore[attr-defined]
    moved += _move_search_rows(session, source.id, target.id)
    session.add(
        MemberAlias(
            platform=source.platform, platform_user_id=source.platform_user_id, member_id=target.id
        )
    )
    if target.role != "admin" and source.role == "admin":
        target.role = "admin"
    session.delete(source)
    session.flush()
    return moved


def _move_search_rows(session: Session, source_id: int, target_id: int) -> int:
    from storage.search.index import search_docs

    docs: Table = search_docs
    result = session.execute(
        update(docs).where(docs.c.member_id == source_id).values(member_id=target_id)
    )
    return result.rowcount or 0  # type: ignore[attr-defined]
