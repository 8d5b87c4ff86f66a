"""Groups and members: resolve a chat to its group and a sender to a member row."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import Group, Member


def ensure_group(session: Session, slug: str, name: str, timezone: str) -> Group:
    """Return the group with ``slug``, creating it (or updating name/timezone) from config."""
    group = session.scalars(select(Group).where(Group.slug == slug)).one_or_none()
    if group is None:
        group = Group(slug=slug, name=name, timezone=timezone)
        session.add(group)
        session.flush()
    elif (group.name, group.timezone) != (name, timezone):
        group.name, group.timezone = name, timezone
    return group


def get_group(session: Session, slug: str) -> Group | None:
    return session.scalars(select(Group).where(Group.slug == slug)).one_or_none()


def ensure_member(
    session: Session, platform: str, user_id: str, display_name: str = ""
) -> Member:
    """Return the member for ``platform:user_id``; create it or refresh its display name."""
    stmt = select(Member).where(Member.platform == platform, Member.platform_user_id == user_id)
    member = session.scalars(stmt).one_or_none()
    if member is None:
        member = Member(
            platform=platform, platform_user_id=user_id, display_name=display_name or user_id
        )
        try:
            with session.begin_nested():
                session.add(member)
                session.flush()
        except IntegrityError:  # created concurrently by another worker
            member = session.scalars(stmt).one()
    elif display_name and member.display_name != display_name:
        member.display_name = display_name
    return member
