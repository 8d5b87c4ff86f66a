"""Groups and members: resolve a chat to its group and a sender to a member row."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import Group, Member


def ensure_group(session: Session, slug: str, name: str, timezone: str) -> Group:
    """Return the group with ``slug``, creating it (or updating name/timezone) from config."""
    group = session.scalars(_GROUP_BY_SLUG, {"slug": slug}).one_or_none()
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
    params = {"platform": platform, "user_id": user_id}
    member = session.scalars(_MEMBER_BY_IDENTITY, params).one_or_none()
    if member is None and session.get_bind().dialect.name in _INSERT_IGNORING:
        # INSERT ... ON CONFLICT DO NOTHING, then load it: no SAVEPOINT, and a member created
        # concurrently by another worker is simply found
        values = {"platform": platform, "platform_user_id": user_id}
        values["display_name"] = display_name or user_id
        session.execute(_INSERT_IGNORING[session.get_bind().dialect.name], values)
        member = session.scalars(_MEMBER_BY_IDENTITY, params).one()
    elif member is None:
        member = Member(
            platform=platform, platform_user_id=user_id, display_name=display_name or user_id
        )
        try:
            with session.begin_nested():
                session.add(member)
                session.flush()
        except IntegrityError:  # created concurrently by another worker
            member = session.scalars(_MEMBER_BY_IDENTITY, params).one()
    elif display_name and member.display_name != display_name:
        member.display_name = display_name
    return member


# Built once: they run for every incoming message.
_GROUP_BY_SLUG = select(Group).where(Group.slug == bindparam("slug"))
_MEMBER_BY_IDENTITY = select(Member).where(
    Member.platform == bindparam("platform"), Member.platform_user_id == bindparam("user_id")
)
_MEMBERS = cast(Table, Member.__table__)
_INSERT_IGNORING: dict[str, Any] = {
    "sqlite": sqlite.insert(_MEMBERS).on_conflict_do_nothing(
        index_elements=["platform", "platform_user_id"]
    ),
    "postgresql": postgresql.insert(_MEMBERS).on_conflict_do_nothing(
        index_elements=["platform", "platform_user_id"]
    ),
}
