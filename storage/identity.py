"""Groups and members: resolve a chat to its group and a sender to a member row."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from storage.models import Group, Member, MemberAlias


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


def ensure_member(session: Session, platform: str, user_id: str, display_name: str = "") -> Member:
    """Return the member for ``platform:user_id``; create it or refresh its display name.

    Runs for every message, so the row is read with a Core statement and attached to the
    session as a loaded instance (no ORM query). Pending changes are flushed first (a no-op
    on the dispatcher's path, where the claim just flushed), so none can hide from that read;
    a member this session already holds is returned as it is, pending changes included. A
    member this session resolved before (or :func:`preload_members` loaded) is not read again.
    """
    known = _known_members(session)
    member = known.get((platform, user_id))
    if member is None or member not in session:
        member = known[(platform, user_id)] = _load_or_create(
            session, platform, user_id, display_name
        )
    if display_name and member.display_name != display_name and member.platform == platform:
        member.display_name = display_name  # (an identity joined by /link keeps the name)
    return member


def preload_members(session: Session, platform: str, user_ids: Iterable[str]) -> None:
    """Read the members among ``user_ids`` in one statement, so that :func:`ensure_member`
    finds them in this session (a batch of messages from many senders: one read, not one per
    message). Senders without a row yet are left to :func:`ensure_member` to create."""
    known = _known_members(session)
    wanted = [uid for uid in dict.fromkeys(user_ids) if (platform, uid) not in known]
    if not wanted:
        return
    # an ORM query here (not the Core read + attach of one member): its loader builds the
    # instances in one pass, ~0.2 ms whatever the batch, where attaching costs ~0.06 ms each;
    # members this session holds already come back as they are (identity map)
    session.flush()
    for member in session.scalars(_MEMBERS_BY_IDENTITY, {"platform": platform, "ids": wanted}):
        known[(platform, member.platform_user_id)] = member


def _known_members(session: Session) -> dict[tuple[str, str], Member]:
    """(platform, user id) -> the member instance this session resolved (its own cache)."""
    return cast(dict[tuple[str, str], Member], session.info.setdefault(_KNOWN, {}))


def _load_or_create(session: Session, platform: str, user_id: str, display_name: str) -> Member:
    session.flush()
    params = {"platform": platform, "user_id": user_id}
    conn = session.connection()
    row = conn.execute(_MEMBER_ROW, params).first()
    if row is None:  # an identity joined to another member by /link (storage.links)
        row = conn.execute(_ALIASED_MEMBER_ROW, params).first()
    if row is None and conn.dialect.name in _INSERT_IGNORING:
        # INSERT ... ON CONFLICT DO NOTHING, then load it: no SAVEPOINT, and a member created
        # concurrently by another worker is simply found
        values = {"platform": platform, "platform_user_id": user_id}
        values["display_name"] = display_name or user_id
        conn.execute(_INSERT_IGNORING[conn.dialect.name], values)
        row = conn.execute(_MEMBER_ROW, params).one()
    if row is None:
        return _new_member(session, platform, user_id, display_name)
    return _attached(session, row)


def _attached(session: Session, row: Row[Any]) -> Member:
    """The session's instance for ``row``: the one it holds, or one made from the row."""
    held = session.identity_map.get(identity_key(Member, (row.id,)))
    if held is not None:
        return held
    member = Member(**row._asdict())
    make_transient_to_detached(member)  # as if loaded by a query: no history, no INSERT
    session.add(member)
    return member


def _new_member(session: Session, platform: str, user_id: str, display_name: str) -> Member:
    """Other databases: INSERT in a SAVEPOINT, or find the row another worker just created."""
    member = Member(
        platform=platform, platform_user_id=user_id, display_name=display_name or user_id
    )
    try:
        with session.begin_nested():
            session.add(member)
            session.flush()
    except IntegrityError:  # created concurrently by another worker
        member = session.scalars(
            _MEMBER_BY_IDENTITY, {"platform": platform, "user_id": user_id}
        ).one()
    return member


# Built once: they run for every incoming message.
_GROUP_BY_SLUG = select(Group).where(Group.slug == bindparam("slug"))
_MEMBER_BY_IDENTITY = select(Member).where(
    Member.platform == bindparam("platform"), Member.platform_user_id == bindparam("user_id")
)
_MEMBERS = cast(Table, Member.__table__)
_MEMBER_ROW = select(_MEMBERS).where(
    _MEMBERS.c.platform == bindparam("platform"),
    _MEMBERS.c.platform_user_id == bindparam("user_id"),
)
_ALIASES = cast(Table, MemberAlias.__table__)
_ALIASED_MEMBER_ROW = (
    select(_MEMBERS)
    .join(_ALIASES, _ALIASES.c.member_id == _MEMBERS.c.id)
    .where(
        _ALIASES.c.platform == bindparam("platform"),
        _ALIASES.c.platform_user_id == bindparam("user_id"),
    )
)
_MEMBERS_BY_IDENTITY = select(Member).where(
    Member.platform == bindparam("platform"),
    Member.platform_user_id.in_(bindparam("ids", expanding=True)),
)
_KNOWN = "studybot.members"  # key in Session.info
_INSERT_IGNORING: dict[str, Any] = {
    "sqlite": sqlite.insert(_MEMBERS).on_conflict_do_nothing(
        index_elements=["platform", "platform_user_id"]
    ),
    "postgresql": postgresql.insert(_MEMBERS).on_conflict_do_nothing(
        index_elements=["platform", "platform_user_id"]
    ),
}
