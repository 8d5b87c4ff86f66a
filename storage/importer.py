"""``studybot import``: load an export file into an empty or existing database.

* Validated first (:func:`load_export`): a malformed file raises :class:`ImportFormatError`
  naming every problem (``groups.0.checkins.3.created_at: ...``) before anything is written.
* Idempotent: rows are matched by natural keys, so importing a file twice adds nothing the
  second time. Members by ``platform:user_id``; groups by slug; check-ins, questions and
  answers by (member, created_at, text); papers by URL key; resources by (member, URL,
  created_at); keyword replies by keyword; digest issues by period start. Existing rows win.
* Transactional: :func:`import_data` runs inside the caller's unit of work; on any error the
  caller rolls back and nothing is stored.

A question whose number is taken by a different question gets the next free number (the
report says so).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, TypeVar

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.export import Progress, _noop
from storage.export_schema import FORMAT, VERSION, Export, GroupOut
from storage.models import (
    Answer,
    AwayPeriod,
    CheckIn,
    DigestIssue,
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


class ImportFormatError(ValueError):
    """The file is not a valid studybot export; the message lists what is wrong."""


@dataclass
class ImportReport:
    """What an import did: rows added and skipped (already present) per kind, notes."""

    added: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        kinds = sorted(set(self.added) | set(self.skipped))
        parts = [f"{k}: +{self.added[k]} (already there {self.skipped[k]})" for k in kinds]
        return "\n".join([*parts, *self.notes]) or "nothing to import"


def load_export(text: str) -> Export:
    """Parse and validate export JSON; :class:`ImportFormatError` explains any problem."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFormatError(
            f"not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    if not isinstance(raw, dict):
        raise ImportFormatError("not a studybot export: the top level must be a JSON object")
    if raw.get("format") != FORMAT:
        raise ImportFormatError(f"not a studybot export: 'format' must be {FORMAT!r}")
    if raw.get("version") != VERSION:
        raise ImportFormatError(
            f"unsupported export version {raw.get('version')!r}; this studybot reads version {VERSION}"
        )
    try:
        return Export.model_validate(raw)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
            for err in exc.errors()[:20]
        ]
        more = exc.error_count() - len(problems)
        if more > 0:
            problems.append(f"... and {more} more")
        raise ImportFormatError("invalid export file:\n  " + "\n  ".join(problems)) from None


def _utc(moment: datetime) -> datetime:
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


def _members(session: Session, data: Export, report: ImportReport) -> dict[str, int]:
    existing = {f"{m.platform}:{m.platform_user_id}": m for m in session.scalars(select(Member))}
    for item in data.members:
        if item.ref in existing:
            report.skipped["members"] += 1
            continue
        member = Member(
            platform=item.platform,
            platform_user_id=item.user_id,
            display_name=item.display_name,
            role=item.role,
            joined_at=item.joined_at,
            away_until=item.away_until,
        )
        session.add(member)
        existing[item.ref] = member
        report.added["members"] += 1
    session.flush()
    ids = {ref: m.id for ref, m in existing.items()}
    periods = Matcher(
        ((p.member_id, _utc(p.starts_at), _utc(p.ends_at)), True)
        for p in session.scalars(select(AwayPeriod))
    )
    for item in data.members:
        for away in item.away:
            key = (ids[item.ref], _utc(away.starts_at), _utc(away.ends_at))
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


def _group_row(session: Session, item: GroupOut, report: ImportReport) -> Group:
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


def _content(
    session: Session, group: Group, item: GroupOut, ids: dict[str, int], report: ImportReport
) -> None:
    gid = group.id
    seen = Matcher(
        ((c.member_id, _utc(c.created_at), c.text), True)
        for c in session.scalars(select(CheckIn).where(CheckIn.group_id == gid))
    )
    for c in item.checkins:
        key = (ids[c.member], _utc(c.created_at), c.text)
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
            )
        )
        report.added["check-ins"] += 1
    urls = set(session.scalars(select(Paper.url_key).where(Paper.group_id == gid)))
    for p in item.papers:
        if p.url_key in urls:
            report.skipped["papers"] += 1
            continue
        urls.add(p.url_key)
        session.add(
            Paper(
                group_id=gid,
                member_id=ids[p.member],
                url=p.url,
                url_key=p.url_key,
                arxiv_id=p.arxiv_id,
                code_url=p.code_url,
                title=p.title,
                summary=p.summary,
                one_liner=p.one_liner,
                created_at=p.created_at,
            )
        )
        report.added["papers"] += 1
    tags = {t.name: t for t in session.scalars(select(Tag))}
    shared = Matcher(
        ((r.member_id, r.url, _utc(r.created_at)), True)
        for r in session.scalars(select(Resource).where(Resource.group_id == gid))
    )
    for r in item.resources:
        rkey = (ids[r.member], r.url, _utc(r.created_at))
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


def _questions(
    session: Session, group: Group, item: GroupOut, ids: dict[str, int], report: ImportReport
) -> None:
    gid = group.id
    rows = list(session.scalars(select(Question).where(Question.group_id == gid)))
    existing = Matcher(((q.member_id, _utc(q.created_at), q.text), q) for q in rows)
    numbers = {q.number for q in rows}
    questions: list[Question] = []
    for q in item.questions:
        question = existing.match((ids[q.member], _utc(q.created_at), q.text))
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
            )
            session.add(question)
            report.added["questions"] += 1
        questions.append(question)
    session.flush()
    answers = Matcher(
        ((a.question_id, a.member_id, _utc(a.created_at), a.text), a)
        for a in session.scalars(
            select(Answer)
            .join(Question, Question.id == Answer.question_id)
            .where(Question.group_id == gid)
        )
    )
    chosen: list[tuple[Question, Answer]] = []
    for q, question in zip(item.questions, questions, strict=True):
        for index, a in enumerate(q.answers):
            answer = answers.match((question.id, ids[a.member], _utc(a.created_at), a.text))
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


def _digests(session: Session, group: Group, item: GroupOut, report: ImportReport) -> None:
    rows = list(session.scalars(select(DigestIssue).where(DigestIssue.group_id == group.id)))
    starts = {_utc(d.period_start) for d in rows}
    numbers = {d.number for d in rows}
    for d in item.digest_issues:
        if _utc(d.period_start) in starts:
            report.skipped["digest issues"] += 1
            continue
        if d.number in numbers:
            report.notes.append(
                f"{group.slug}: digest issue #{d.number} not imported: that number already "
                "exists for a different period"
            )
            report.skipped["digest issues"] += 1
            continue
        starts.add(_utc(d.period_start))
        numbers.add(d.number)
        session.add(
            DigestIssue(
                group_id=group.id,
                number=d.number,
                period_start=d.period_start,
                period_end=d.period_end,
                status=d.status,
                preface=d.preface,
                featured=list(d.featured),
                dropped=list(d.dropped),
                markdown=d.markdown,
                html=d.html,
                created_at=d.created_at,
                published_at=d.published_at,
            )
        )
        report.added["digest issues"] += 1


def import_data(session: Session, data: Export, progress: Progress = _noop) -> ImportReport:
    """Merge ``data`` into the database (inside the caller's transaction)."""
    report = ImportReport()
    total, done = 1 + 3 * len(data.groups), 1
    ids = _members(session, data, report)
    progress("members", done, total)
    for item in data.groups:
        group = _group_row(session, item, report)
        for label, stage in (
            ("check-ins, papers, resources", _content),
            ("questions", _questions),
            ("digest issues", _digest_stage),
        ):
            stage(session, group, item, ids, report)
            done += 1
            progress(f"{item.slug}: {label}", done, total)
    session.flush()
    return report


def _digest_stage(
    session: Session, group: Group, item: GroupOut, ids: dict[str, int], report: ImportReport
) -> None:
    _digests(session, group, item, report)


def count_rows(session: Session) -> dict[str, int]:
    """Rows per table (for reports and tests)."""
    models = {
        "members": Member,
        "groups": Group,
        "checkins": CheckIn,
        "questions": Question,
        "answers": Answer,
        "papers": Paper,
        "resources": Resource,
        "tags": Tag,
        "keyword_replies": KeywordReply,
        "digest_issues": DigestIssue,
        "away_periods": AwayPeriod,
    }
    return {
        name: session.scalar(select(func.count()).select_from(model)) or 0
        for name, model in models.items()
    }
