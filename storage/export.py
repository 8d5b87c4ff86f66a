"""Data ownership: export everything to versioned JSON and Markdown; SQLite online backups.

:func:`export_data` reads every group with its members' contributions into the
:mod:`storage.export_schema` model (deterministic order, so exporting the same data twice gives
the same file apart from ``exported_at``); :func:`export_group` reads one group (the chat
command ``/export``); :func:`write_markdown` writes a readable copy;
:func:`backup_sqlite` copies a live SQLite database with ``sqlite3.Connection.backup``.
Import lives in :mod:`storage.importer`; Markdown in :mod:`storage.export_markdown`, backups
in :mod:`storage.backup` (both importable from here as before).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from storage.export_edits import edits_out
from storage.export_schema import (
    AnswerOut,
    AwayOut,
    CheckInOut,
    DigestIssueOut,
    Export,
    GroupOut,
    KeywordReplyOut,
    MemberOut,
    PaperOut,
    QuestionOut,
    ResourceOut,
)
from storage.models import (
    AwayPeriod,
    CheckIn,
    DigestIssue,
    Group,
    KeywordReply,
    Member,
    Paper,
    Question,
    Resource,
)

Progress = Callable[[str, int, int], None]
"""``progress(label, done, total)``: called as each table is read or written."""


def _noop(label: str, done: int, total: int) -> None:
    return None


def _members(session: Session) -> tuple[list[MemberOut], dict[int, str]]:
    away: dict[int, list[AwayOut]] = {}
    for period in session.scalars(
        select(AwayPeriod).order_by(AwayPeriod.member_id, AwayPeriod.starts_at, AwayPeriod.id)
    ):
        away.setdefault(period.member_id, []).append(
            AwayOut(
                starts_at=period.starts_at, ends_at=period.ends_at, created_at=period.created_at
            )
        )
    members, refs = [], {}
    for m in session.scalars(select(Member).order_by(Member.platform, Member.platform_user_id)):
        refs[m.id] = f"{m.platform}:{m.platform_user_id}"
        members.append(
            MemberOut(
                platform=m.platform,
                user_id=m.platform_user_id,
                display_name=m.display_name,
                role="admin" if m.role == "admin" else "member",
                joined_at=m.joined_at,
                away_until=m.away_until,
                away=away.get(m.id, []),
                dm_public=m.dm_public,
            )
        )
    return members, refs


def _group(session: Session, group: Group, refs: dict[int, str]) -> GroupOut:
    gid = group.id
    checkins = [
        CheckInOut(
            member=refs[c.member_id],
            text=c.text,
            created_at=c.created_at,
            edited_at=c.edited_at,
            private=c.private,
        )
        for c in session.scalars(
            select(CheckIn).where(CheckIn.group_id == gid).order_by(CheckIn.created_at, CheckIn.id)
        )
    ]
    questions = []
    for q in session.scalars(
        select(Question)
        .where(Question.group_id == gid)
        .options(selectinload(Question.answers))
        .order_by(Question.number)
    ):
        answers = sorted(q.answers, key=lambda a: (a.created_at, a.id))
        best = next((i for i, a in enumerate(answers) if a.id == q.best_answer_id), None)
        questions.append(
            QuestionOut(
                number=q.number,
                member=refs[q.member_id],
                text=q.text,
                status=q.status if q.status in ("open", "answered", "closed") else "open",  # type: ignore[arg-type]
                created_at=q.created_at,
                best_answer=best,
                answers=[
                    AnswerOut(member=refs[a.member_id], text=a.text, created_at=a.created_at)
                    for a in answers
                ],
                private=q.private,
            )
        )
    papers = [
        PaperOut(
            member=refs[p.member_id],
            url=p.url,
            url_key=p.url_key,
            arxiv_id=p.arxiv_id,
            code_url=p.code_url,
            title=p.title,
            summary=p.summary,
            one_liner=p.one_liner,
            created_at=p.created_at,
            private=p.private,
        )
        for p in session.scalars(
            select(Paper).where(Paper.group_id == gid).order_by(Paper.created_at, Paper.id)
        )
    ]
    resources = [
        ResourceOut(
            member=refs[r.member_id],
            url=r.url,
            text=r.text,
            tags=sorted(t.name for t in r.tags),
            created_at=r.created_at,
            private=r.private,
        )
        for r in session.scalars(
            select(Resource)
            .where(Resource.group_id == gid)
            .order_by(Resource.created_at, Resource.id)
        )
    ]
    keywords = [
        KeywordReplyOut(
            keyword=k.keyword, reply=k.reply, created_by=k.created_by, created_at=k.created_at
        )
        for k in session.scalars(
            select(KeywordReply).where(KeywordReply.group_id == gid).order_by(KeywordReply.keyword)
        )
    ]
    digests = [
        DigestIssueOut(
            number=d.number,
            period_start=d.period_start,
            period_end=d.period_end,
            status=d.status,
            preface=d.preface,
            featured=list(d.featured or []),
            dropped=list(d.dropped or []),
            markdown=d.markdown,
            html=d.html,
            created_at=d.created_at,
            published_at=d.published_at,
        )
        for d in session.scalars(
            select(DigestIssue).where(DigestIssue.group_id == gid).order_by(DigestIssue.number)
        )
    ]
    return GroupOut(
        slug=group.slug,
        name=group.name,
        timezone=group.timezone,
        created_at=group.created_at,
        checkins=checkins,
        questions=questions,
        papers=papers,
        resources=resources,
        keyword_replies=keywords,
        digest_issues=digests,
        digest_edits=edits_out(session, group, refs),
    )


def export_data(session: Session, now: datetime, progress: Progress = _noop) -> Export:
    """Everything in the database as an :class:`Export` (members first, then each group)."""
    groups = list(session.scalars(select(Group).order_by(Group.slug)))
    total = len(groups) + 1
    members, refs = _members(session)
    progress("members", 1, total)
    out = []
    for done, group in enumerate(groups, start=2):
        out.append(_group(session, group, refs))
        progress(f"group {group.slug}", done, total)
    return Export(exported_at=now, members=members, groups=out)


def export_group(session: Session, slug: str, now: datetime) -> Export | None:
    """One group in the same format (the chat command ``/export``); None for an unknown slug.

    Members: all of them when the database holds this group only (the file then equals the
    one ``studybot export`` writes), else the members who wrote something in this group, so
    one group's admins do not receive the other groups' member lists.
    """
    group = session.scalars(select(Group).where(Group.slug == slug)).first()
    if group is None:
        return None
    members, refs = _members(session)
    out = _group(session, group, refs)
    if session.scalar(select(func.count()).select_from(Group)) != 1:
        used = out.member_refs()
        members = [m for m in members if m.ref in used]
    return Export(exported_at=now, members=members, groups=[out])


def dump_json(data: Export) -> str:
    """The export as pretty, UTF-8 friendly JSON (Chinese stays readable)."""
    return json.dumps(data.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n"


def write_json(data: Export, path: Path) -> None:
    """Write atomically: a crash never leaves half a file under ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(dump_json(data), encoding="utf-8")
    os.replace(tmp, path)


