"""Data ownership: export everything to versioned JSON and Markdown; SQLite online backups.

:func:`export_data` reads every group with its members' contributions into the
:mod:`storage.export_schema` model (deterministic order, so exporting the same data twice gives
the same file apart from ``exported_at``); :func:`export_group` reads one group (the chat
command ``/export``); :func:`write_markdown` writes a readable copy;
:func:`backup_sqlite` copies a live SQLite database with ``sqlite3.Connection.backup``.
Import lives in :mod:`storage.importer`.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, selectinload

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
            )
        )
    return members, refs


def _group(session: Session, group: Group, refs: dict[int, str]) -> GroupOut:
    gid = group.id
    checkins = [
        CheckInOut(
            member=refs[c.member_id], text=c.text, created_at=c.created_at, edited_at=c.edited_at
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


# -- Markdown -----------------------------------------------------------------------------
_HTML = str.maketrans({"<": "&lt;", ">": "&gt;", "&": "&amp;"})
_LINE_START = re.compile(r"^(\s*)([#>*+\-=|]|\d+\.)", re.M)


def md_text(text: str) -> str:
    """User text made inert for Markdown: no raw HTML, no accidental headings or lists."""
    escaped = _LINE_START.sub(r"\1\\\2", text.translate(_HTML))
    return escaped.replace("[", "\\[").replace("]", "\\]").replace("\n", "  \n  ")


def _when(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _group_markdown(group: GroupOut, names: dict[str, str]) -> dict[str, str]:
    tz = ZoneInfo(group.timezone)

    def who(ref: str) -> str:
        return md_text(names.get(ref) or ref)

    files: dict[str, str] = {}
    lines = [f"# {md_text(group.name)} — 学习心得 / check-ins", ""]
    lines += [
        f"- {_when(c.created_at, tz)} **{who(c.member)}**：{md_text(c.text)}"
        for c in group.checkins
    ]
    files["checkins.md"] = "\n".join(lines)
    lines = [f"# {md_text(group.name)} — 疑问解答 / questions", ""]
    for q in group.questions:
        lines += [
            "",
            f"## #{q.number} ({q.status}) {who(q.member)} · {_when(q.created_at, tz)}",
            "",
        ]
        lines.append(md_text(q.text))
        for i, a in enumerate(q.answers):
            mark = " ⭐" if i == q.best_answer else ""
            lines.append(f"- **{who(a.member)}**{mark}：{md_text(a.text)}")
    files["questions.md"] = "\n".join(lines)
    lines = [f"# {md_text(group.name)} — 论文速递 / papers", ""]
    for p in group.papers:
        title = md_text(p.title or p.url)
        lines.append(f"- [{title}](<{p.url}>) — {who(p.member)}, {_when(p.created_at, tz)}")
        if p.code_url:
            lines.append(f"  - code: <{p.code_url}>")
        for text in (p.summary, p.one_liner):
            if text:
                lines.append(f"  - {md_text(text)}")
    files["papers.md"] = "\n".join(lines)
    lines = [f"# {md_text(group.name)} — 学习资料 / resources", ""]
    for r in group.resources:
        tags = " ".join(f"`#{t}`" for t in r.tags)
        lines.append(f"- <{r.url}> {tags} {md_text(r.text)} — {who(r.member)}".rstrip())
    files["resources.md"] = "\n".join(lines)
    for issue in group.digest_issues:
        if issue.markdown:
            files[f"digests/{issue.number:03d}.md"] = issue.markdown
    index = [f"# {md_text(group.name)}", ""]
    index += [f"- [{name}]({name})" for name in files]
    files["README.md"] = "\n".join(index)
    return {name: text.rstrip("\n") + "\n" for name, text in files.items()}


def write_markdown(data: Export, directory: Path) -> list[Path]:
    """One folder per group: README, check-ins, questions, papers, resources, digests."""
    names = {m.ref: m.display_name for m in data.members}
    written = []
    for group in data.groups:
        for name, text in _group_markdown(group, names).items():
            path = directory / group.slug / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


# -- backup ---------------------------------------------------------------------------------
class BackupError(RuntimeError):
    """The backup cannot be made (wrong database kind, unreadable file...)."""


def sqlite_path(url: str) -> Path:
    """The file of a SQLite URL; :class:`BackupError` for other databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise BackupError(
            f"studybot db backup works on SQLite only; this database is "
            f"{parsed.get_backend_name()}. Use its own tool, e.g. "
            f"pg_dump --format=custom --file=studybot.dump {parsed.database or 'DBNAME'}"
        )
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    path = Path(parsed.database).expanduser()
    if not path.exists():
        raise BackupError(f"database file {path} does not exist")
    return path


def backup_sqlite(url: str, out: Path, progress: Progress = _noop, pages: int = 256) -> int:
    """Copy the live database to ``out`` with SQLite's online backup API; returns pages.

    Safe while the bot runs: readers and writers continue. Written to a temporary file, checked
    with ``PRAGMA integrity_check`` and then renamed, so ``out`` is never half-written.
    """
    source_path = sqlite_path(url)
    out = out.expanduser()
    if out.resolve() == source_path.resolve():
        raise BackupError("the backup file must differ from the database file")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.unlink(missing_ok=True)
    source = sqlite3.connect(str(source_path), timeout=30)
    target = sqlite3.connect(str(tmp))
    copied = 0
    try:

        def step(status: int, remaining: int, total: int) -> None:
            nonlocal copied
            copied = total
            progress("backup", total - remaining, total)

        source.backup(target, pages=pages, progress=step)
        target.execute("PRAGMA journal_mode=DELETE")
        ok = target.execute("PRAGMA integrity_check").fetchone()
        if not ok or ok[0] != "ok":
            raise BackupError(f"the backup failed its integrity check: {ok}")
    except BaseException:
        target.close()
        tmp.unlink(missing_ok=True)
        raise
    finally:
        target.close()
        source.close()
    os.replace(tmp, out)
    return copied
