"""Papers (论文速递) and resources (links + #tags): duplicates, storing, weekly lists.

Check-ins live in :mod:`storage.checkins`, questions and answers in :mod:`storage.questions`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import Member, Paper, Resource, Tag


class DuplicatePaper(Exception):
    """The group already has this paper (same URL key or arXiv id)."""

    def __init__(self, existing: Paper) -> None:
        super().__init__(f"duplicate of paper {existing.id}")
        self.existing = existing


def private_key(member: Member, url_key: str) -> str:
    """The ``url_key`` of a private paper: the member's own, so that it takes the link from no
    one else (the group's unique key) and reveals nothing when others share it."""
    return private_key_of(f"{member.platform}:{member.platform_user_id}", url_key)


def private_key_of(member_ref: str, url_key: str) -> str:
    """:func:`private_key` by the member's ``platform:user_id`` (as export files name them)."""
    prefix = f"private:{member_ref}:"
    return url_key if url_key.startswith(prefix) else f"{prefix}{url_key}"[:512]


def seen_by(model: type[Paper] | type[Resource], member_id: int | None) -> Any:
    """The rows ``member_id`` may see: public ones and their own private ones (None: public
    ones only)."""
    if member_id is None:
        return model.private.is_(False)
    return or_(model.private.is_(False), model.member_id == member_id)


def find_paper_duplicate(
    session: Session,
    group_id: int,
    url_key: str,
    arxiv_id: str | None,
    member_id: int | None = None,
) -> Paper | None:
    """The earliest paper of the group with the same URL key or the same arXiv id, among those
    ``member_id`` may see (public ones and their own private ones)."""
    keys = [url_key] + ([f"arxiv:{arxiv_id}"] if arxiv_id else [])
    match: ColumnElement[bool] = Paper.url_key.in_(keys)
    if arxiv_id:
        match = or_(match, Paper.arxiv_id == arxiv_id)
    if member_id is not None:  # their own private copy too (its key carries their ref)
        member = session.get(Member, member_id)
        if member is not None:
            match = or_(match, Paper.url_key.in_([private_key(member, k) for k in keys]))
    stmt = (
        select(Paper)
        .where(Paper.group_id == group_id, match, seen_by(Paper, member_id))
        .order_by(Paper.id)
        .limit(1)
    )
    return session.scalars(stmt).first()


def add_paper(
    session: Session,
    group_id: int,
    member_id: int,
    *,
    url: str,
    url_key: str,
    arxiv_id: str | None,
    code_url: str | None,
    title: str,
    summary: str,
    one_liner: str,
    now: datetime,
    source: str | None = None,
    private: bool = False,
) -> Paper:
    """Store a paper; raises :class:`DuplicatePaper` if the group already has it as far as
    the member can see (``source``: the message it came from, see :mod:`storage.sources`;
    ``private``: see ``Paper.private``)."""
    existing = find_paper_duplicate(session, group_id, url_key, arxiv_id, member_id)
    if existing is not None:
        raise DuplicatePaper(existing)
    if private:
        member = session.get(Member, member_id)
        assert member is not None
        url_key = private_key(member, url_key)
    paper = Paper(
        group_id=group_id,
        member_id=member_id,
        url=url,
        url_key=url_key,
        private=private,
        arxiv_id=arxiv_id,
        code_url=code_url,
        title=title,
        summary=summary,
        one_liner=one_liner,
        created_at=now,
        source=source,
        arxiv_status="pending" if arxiv_id else None,  # bot.paper_metadata fetches it
        code_status="pending" if code_url else None,
    )
    try:
        with session.begin_nested():
            session.add(paper)
            session.flush()
    except IntegrityError:  # the same paper was stored concurrently
        existing = find_paper_duplicate(session, group_id, url_key, arxiv_id, member_id)
        if existing is None:
            raise
        raise DuplicatePaper(existing) from None
    return paper


def papers_between(
    session: Session, group_id: int, start: datetime, end: datetime, member_id: int | None = None
) -> list[Paper]:
    """The group's papers shared in [start, end) that ``member_id`` may see (None: the public
    ones), oldest first."""
    stmt = (
        select(Paper)
        .where(
            Paper.group_id == group_id,
            Paper.created_at >= start,
            Paper.created_at < end,
            seen_by(Paper, member_id),
        )
        .order_by(Paper.created_at, Paper.id)
    )
    return list(session.scalars(stmt))


def get_or_create_tags(session: Session, names: Sequence[str]) -> list[Tag]:
    """Tag rows for ``names`` (created when missing; safe when created concurrently)."""
    tags: list[Tag] = []
    for name in dict.fromkeys(names):
        tag = session.scalars(select(Tag).where(Tag.name == name)).one_or_none()
        if tag is None:
            tag = Tag(name=name)
            try:
                with session.begin_nested():
                    session.add(tag)
                    session.flush()
            except IntegrityError:
                tag = session.scalars(select(Tag).where(Tag.name == name)).one()
        tags.append(tag)
    return tags


def add_resource(
    session: Session,
    group_id: int,
    member_id: int,
    *,
    url: str,
    text: str,
    tags: Sequence[str],
    now: datetime,
    url_key: str | None = None,
    scored: bool = True,
    source: str | None = None,
    private: bool = False,
) -> Resource:
    """Store a shared resource with its tags (``scored``: it earns points; ``source``: the
    message it came from; ``private``: see ``Resource.private``)."""
    resource = Resource(
        group_id=group_id,
        member_id=member_id,
        private=private,
        url=url,
        url_key=url_key,
        scored=scored,
        text=text,
        created_at=now,
        tags=get_or_create_tags(session, tags),
        source=source,
    )
    session.add(resource)
    session.flush()
    return resource


def earlier_share(
    session: Session,
    group_id: int,
    url: str,
    key: str,
    paper_key: str,
    member_id: int | None = None,
) -> int | None:
    """The id of a resource of the group with this link already (by normalised ``key``, or
    the exact ``url`` for rows stored before keys were kept), or 0 for a paper with it
    (``paper_key``: ``arxiv:<id>`` for arXiv links, else ``key``); only entries ``member_id``
    may see count (others' private ones are not told)."""
    found = session.scalars(
        select(Resource.id)
        .where(
            Resource.group_id == group_id,
            or_(Resource.url_key == key, Resource.url == url),
            seen_by(Resource, member_id),
        )
        .order_by(Resource.id)
        .limit(1)
    ).first()
    if found is not None:
        return found
    paper = session.scalars(  # a private paper's key carries its sharer: never matched here
        select(Paper.id).where(Paper.group_id == group_id, Paper.url_key == paper_key).limit(1)
    ).first()
    return 0 if paper is not None else None
