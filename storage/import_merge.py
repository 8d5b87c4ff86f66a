"""Merging export rows into the database by natural key, one kind of row per function.

Owns :class:`ImportReport` (rows added and skipped per kind, notes), :class:`Matcher` (multiset
matching, so identical rows survive a round trip and a re-import adds nothing) and the merges
that :func:`storage.importer.import_data` runs in order: members and their away periods (by
``platform:user_id``), the group (by slug), check-ins, papers, resources and keyword replies,
then questions and answers (renumbering a question whose number is taken). Existing rows win.
Nothing here commits: it all runs in the caller's unit of work.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.content import private_key_of
from storage.export_schema import Export, GroupOut
from storage.models import (
    Answer,
    AwayPeriod,
    CheckIn,
    Group,
    KeywordReply,
    Member,
    Paper,
    Question,
    Resource,
    Tag,
)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass
class ImportReport:
    """What an import did: rows added and skipped (already present) per kind, notes."""

    added: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    #: ids of the published digest issues added: their pages are rendered again from the
    #: imported data (a file's HTML is never stored)
    rerender: list[int] = field(default_factory=list)

    def summary(self) -> str:
        kinds = sorted(set(self.added) | set(self.skipped))
        parts = [f"{k}: +{self.added[k]} (already there {self.skipped[k]})" for k in kinds]
        return "\n".join([*parts, *self.notes]) or "nothing to import"


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC, so the natural keys compare instants."""
    return moment.astimezone(UTC)


class Matcher(Generic[K, V]):
    """Multiset matching by natural key: the n-th file row with a key matches the n-th
    existing row with that key, so identical rows survive a round trip and a re-import
    adds nothing."""

    def __init__(self, rows: Iterable[tuple[K, V]]) -> None:
        self._rows: dict[K, list[V]] = defaultdict(list)
        for key, value in rows:
            self._rows[key].append(value)
        self._used: Counter[K] = Counter()

    def match(self, key: K) -> V | None:
        """The existing row for this occurrence of ``key``, or None (add a new one)."""
        index = self._used[key]
        self._used[key] += 1
        found = self._rows.get(key, [])
        return found[index] if index < len(found) else None


def merge_members(
    session: Session, data: Export, report: ImportReport, *, trust_roles: bool = False
) -> dict[str, int]:
    existing = {f"{m.platform}:{m.platform_user_id}": m for m in session.scalars(select(Member))}
    for item in data.members:
        if item.ref in existing:
            report.skipped["members"] += 1
            known = existing[item.ref]
            if known.dm_public is None and item.dm_public is not None:
                known.dm_public = item.dm_public  # the member's own /public choice
            continue
        if item.role != "member" and not trust_roles:
            report.notes.append(f"{item.ref}: role {item.role!r} not granted (--trust-roles)")
        member = Member(
            platform=item.platform,
            platform_user_id=item.user_id,
            display_name=item.display_name,
            role=item.role if trust_roles else "member",
            joined_at=item.joined_at,
            away_until=item.away_until,
            dm_public=item.dm_public,
        )
        session.add(member)
        existing[item.ref] = member
        report.added["members"] += 1
    session.flush()
    ids = {ref: m.id for ref, m in existing.items()}
    periods = Matcher(
        ((p.member_id, as_utc(p.starts_at), as_utc(p.ends_at)), True)
        for p in session.scalars(select(AwayPeriod))
    )
    for item in data.members:
        for away in item.away:
            key = (ids[item.ref], as_utc(away.starts_at), as_utc(away.ends_at))
            if periods.match(key):
                report.skipped["away periods"] += 1
                continue
            session.add(
                AwayPeriod(
                    member_id=key[0], starts_at=key[1], ends_at=key[2], created_at=away.created_at
                )
            )
            report.added["away periods"] += 1
    return ids


def merge_group(session: Session, item: GroupOut, report: ImportReport) -> Group:
    group = session.scalars(select(Group).where(Group.slug == item.slug)).one_or_none()
    if group is None:
        group = Group(
            slug=item.slug, name=item.name, timezone=item.timezone, created_at=item.created_at
        )
        session.add(group)
        session.flush()
        report.added["groups"] += 1
    else:
        report.skipped["groups"] += 1
    return group


def merge_content(
    session: Session, group: Group, item: GroupOut, ids: dict[str, int], report: ImportReport
) -> None:
    gid = group.id
    seen = Matcher(
        ((c.member_id, as_utc(c.created_at), c.text), True)
        for c in session.scalars(select(CheckIn).where(CheckIn.group_id == gid))
    )
    for c in item.checkins:
        key = (ids[c.member], as_utc(c.created_at), c.text)
        if seen.match(key):
            report.skipped["check-ins"] += 1
            continue
        session.add(
            CheckIn(
                group_id=gid,
                member_id=key[0],
                text=c.text,
                created_at=c.created_at,
                edited_at=c.edited_at,
                private=c.private,
            )
        )
        report.added["check-ins"] += 1
    urls = set(session.scalars(select(Paper.url_key).where(Paper.group_id == gid)))
    for p in item.papers:
        # a private paper's key is its sharer's own (a file may lack the prefix)
        url_key = private_key_of(p.member, p.url_key) if p.private else p.url_key
        if url_key in urls:
            report.skipped["papers"] += 1
            continue
        urls.add(url_key)
        session.add(
            Paper(
                group_id=gid,
                member_id=ids[p.member],
                url=p.url,
                url_key=url_key,
                private=p.private,
                arxiv_id=p.arxiv_id,
                code_url=p.code_url,
                title=p.title,
                summary=p.summary,
                one_liner=p.one_liner,
                created_at=p.created_at,
                # metadata is not in the file: the running bot fetches it (bot.paper_metadata)
                arxiv_status="pending" if p.arxiv_id else None,
                code_status="pending" if p.code_url else None,
            )
        )
        report.added["papers"] += 1
    tags = {t.name: t for t in session.scalars(select(Tag))}
    shared = Matcher(
        ((r.member_id, r.url, as_utc(r.created_at)), True)
        for r in session.scalars(select(Resource).where(Resource.group_id == gid))
    )
    for r in item.resources:
        rkey = (ids[r.member], r.url, as_utc(r.created_at))
        if shared.match(rkey):
            report.skipped["resources"] += 1
            continue
        row_tags = [tags.setdefault(name, Tag(name=name)) for name in dict.fromkeys(r.tags)]
        session.add(
            Resource(
                group_id=gid,
                member_id=rkey[0],
                url=r.url,
                text=r.text,
                created_at=r.created_at,
                tags=row_tags,
                private=r.private,
            )
        )
        report.added["resources"] += 1
    words = set(session.scalars(select(KeywordReply.keyword).where(KeywordReply.group_id == gid)))
    for k in item.keyword_replies:
        if k.keyword in words:
            report.skipped["keyword replies"] += 1
            continue
        words.add(k.keyword)
        session.add(
            KeywordReply(
                group_id=gid,
                keyword=k.keyword,
                reply=k.reply,
                created_by=k.created_by,
                created_at=k.created_at,
            )
        )
        report.added["keyword replies"] += 1
    session.flush()


def merge_questions(
    session: Session, group: Group, item: GroupOut, ids: dict[str, int], report: ImportReport
) -> None:
    gid = group.id
    rows = list(session.scalars(select(Question).where(Question.group_id == gid)))
    existing = Matcher(((q.member_id, as_utc(q.created_at), q.text), q) for q in rows)
    numbers = {q.number for q in rows}
    questions: list[Question] = []
    for q in item.questions:
        question = existing.match((ids[q.member], as_utc(q.created_at), q.text))
        if question is not None:
            report.skipped["questions"] += 1
        else:
            number = q.number
            if number in numbers:
                number = max(numbers) + 1
                report.notes.append(f"{group.slug}: question #{q.number} was imported as #{number}")
            numbers.add(number)
            question = Question(
                group_id=gid,
                number=number,
                member_id=ids[q.member],
                text=q.text,
                status=q.status,
                created_at=q.created_at,
                private=q.private,
            )
            session.add(question)
            report.added["questions"] += 1
        questions.append(question)
    session.flush()
    answers = Matcher(
        ((a.question_id, a.member_id, as_utc(a.created_at), a.text), a)
        for a in session.scalars(
            select(Answer)
            .join(Question, Question.id == Answer.question_id)
            .where(Question.group_id == gid)
        )
    )
    chosen: list[tuple[Question, Answer]] = []
    for q, question in zip(item.questions, questions, strict=True):
        for index, a in enumerate(q.answers):
            answer = answers.match((question.id, ids[a.member], as_utc(a.created_at), a.text))
            if answer is None:
                answer = Answer(
                    question_id=question.id,
                    member_id=ids[a.member],
                    text=a.text,
                    created_at=a.created_at,
                )
                session.add(answer)
                report.added["answers"] += 1
            else:
                report.skipped["answers"] += 1
            if index == q.best_answer and question.best_answer_id is None:
                chosen.append((question, answer))
    session.flush()
    for question, answer in chosen:
        question.best_answer_id = answer.id
