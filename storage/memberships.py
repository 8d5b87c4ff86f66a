"""Which groups a member belongs to (seen using the bot in a group's configured chat) and the
group their private chat acts for (``/group``, ``group_members.dm_chosen``)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import Group, GroupMember


def note_membership(session: Session, group_id: int, member_id: int) -> None:
    """Record that the member wrote in one of the group's chats (once; a concurrent writer
    recording it first is fine)."""
    if session.get(GroupMember, (group_id, member_id)) is not None:
        return
    try:
        with session.begin_nested():
            session.add(GroupMember(group_id=group_id, member_id=member_id))
    except IntegrityError:
        pass  # another process recorded it between the read and the insert


def member_group_slugs(session: Session, member_id: int) -> set[str]:
    """The slugs of the groups the member was seen in."""
    stmt = (
        select(Group.slug)
        .join(GroupMember, GroupMember.group_id == Group.id)
        .where(GroupMember.member_id == member_id)
    )
    return set(session.scalars(stmt))


def chosen_slug(session: Session, member_id: int) -> str | None:
    """The slug of the group the member chose for private chats, if any."""
    stmt = (
        select(Group.slug)
        .join(GroupMember, GroupMember.group_id == Group.id)
        .where(GroupMember.member_id == member_id, GroupMember.dm_chosen)
    )
    return session.scalars(stmt).first()


def choose(session: Session, member_id: int, group_id: int) -> None:
    """Remember the group the member's private chats act for (one of their groups)."""
    session.execute(
        update(GroupMember)
        .where(GroupMember.member_id == member_id)
        .values(dm_chosen=GroupMember.group_id == group_id),
        execution_options={"synchronize_session": False},
    )
