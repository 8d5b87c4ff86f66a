"""Chats the bot has seen and group renames: what an operator needs to fill in the config.

:func:`note_chats` records the chats of incoming messages (``seen_chats``; the dispatcher
calls it once per chat and process, and again when a title changes). :func:`seen_chats` lists
them for ``studybot chats``. :func:`rename_group` moves a group to a new slug keeping its
history; the old slug is kept in ``slug_redirects`` so published links keep working.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Group, SeenChat, SlugRedirect


def note_chats(
    session: Session,
    chats: Iterable[tuple[str, str, str, str]],
    now: datetime,
    user_id: str | None = None,
) -> None:
    """Insert or refresh ``(platform, chat_id, kind, title)`` rows; ``user_id``: the person of
    a private chat (see :func:`private_chat_of`)."""
    for platform, chat_id, kind, title in chats:
        row = session.get(SeenChat, (platform, chat_id))
        if row is None:
            session.add(
                SeenChat(
                    platform=platform,
                    chat_id=chat_id,
                    kind=kind,
                    title=title[:256],
                    first_seen=now,
                    last_seen=now,
                    user_id=user_id,
                )
            )
        else:
            row.kind, row.title, row.last_seen = kind, title[:256] or row.title, now
            row.user_id = user_id or row.user_id


def private_chat_of(session: Session, platform: str, user_id: str) -> str | None:
    """The id of the private chat a person has had with the bot (they wrote to it there,
    e.g. Telegram /start), or None: the bot may not be able to message them privately."""
    stmt = select(SeenChat.chat_id).where(
        SeenChat.platform == platform, SeenChat.user_id == user_id, SeenChat.kind == "private"
    )
    return session.scalars(stmt.limit(1)).first()


def seen_chats(session: Session) -> list[SeenChat]:
    """Every chat seen, groups first, most recently active first."""
    stmt = select(SeenChat).order_by(SeenChat.kind, SeenChat.last_seen.desc())
    return list(session.scalars(stmt))


class RenameError(ValueError):
    """The rename cannot be done (unknown old slug, new slug taken...)."""


def rename_group(session: Session, old: str, new: str, now: datetime) -> Group:
    """Give group ``old`` the slug ``new`` (history, issues and links stay with it)."""
    group = session.scalars(select(Group).where(Group.slug == old)).one_or_none()
    if group is None:
        raise RenameError(f"there is no group {old!r} in the database")
    taken = session.scalars(select(Group).where(Group.slug == new)).one_or_none()
    if taken is not None:
        raise RenameError(
            f"a group {new!r} already exists in the database (id {taken.id}); it was probably "
            "created by starting the bot with the new slug before renaming. Rename it away "
            "first if it holds nothing you need"
        )
    stale = session.get(SlugRedirect, new)
    if stale is not None:
        session.delete(stale)  # the new slug is a live group again
    group.slug = new
    existing = session.get(SlugRedirect, old)
    if existing is None:
        session.add(SlugRedirect(old_slug=old, group_id=group.id, renamed_at=now))
    else:
        existing.group_id, existing.renamed_at = group.id, now
    return group


def redirects(session: Session) -> dict[str, str]:
    """Old slug -> the group's current slug."""
    stmt = select(SlugRedirect.old_slug, Group.slug).join(Group, Group.id == SlugRedirect.group_id)
    return {old: current for old, current in session.execute(stmt)}


def orphaned_groups(session: Session, configured: Iterable[str]) -> list[str]:
    """Groups in the database whose slug is not configured (a slug changed in the config
    without ``studybot db rename-group`` leaves the history behind under the old one)."""
    wanted = set(configured)
    return [slug for slug in session.scalars(select(Group.slug)) if slug not in wanted]
