"""Build a :class:`~digest.model.Digest` from the store for one issue's period (no side effects).

What goes in, for the group of ``issue`` and rows with ``period_start <= created_at <
period_end``:

* 刊首语: ``issue.preface`` or ``config.digest.default_preface``.
* 论文速递: papers in the order they were shared. The original paper name (论文名称) is
  the second line of a multi-line title, or a first summary line ``论文名称：...``.
* 学习心得: one entry per member, ordered by their first note of the week; all their notes
  of the week merged in order (links kept).
* 学习资料: resources shared in the period (``/share``), each under one of its #tags — the
  one most used this week (ties: alphabetical) so the week's resources cluster; untagged ones
  under 其他. Title: the first line/sentence of its text, else the link's host and path.
* 疑问解答: questions asked in the period, then *carried-over* questions asked earlier that
  either got an answer during the period or are still open without any answer (asked at most
  :data:`CARRY_OVER_DAYS` before the period). Each shows the best answer
  (``Question.best_answer_id``) first, then the other answers, at most :data:`MAX_ANSWERS`,
  only answers given before the period ended. An open question without answers is shown
  in full, marked open (renderers invite answers), so it reaches the readers who can help.
* 加入我们: ``config.join.text``.

``issue.featured`` keys move entries to the front of their section (in the order listed);
``issue.dropped`` keys leave entries out. Stored overrides (:mod:`digest.overrides`: edited
headlines, titles, summaries, check-in texts, pinned positions) are applied last. A fixed number of queries per digest (eager loads,
no per-row queries).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from bot.config import Config
from digest.model import (
    AnswerEntry,
    Digest,
    MemberNotes,
    PaperEntry,
    QuestionEntry,
    ResourceEntry,
)
from digest.overrides import Edits, apply, apply_notes
from digest.text import make_title, split_question
from storage import digest_overrides
from storage.models import (
    Answer,
    CheckIn,
    DigestIssue,
    Group,
    Member,
    Paper,
    Question,
    Resource,
)

CARRY_OVER_DAYS = 28
MAX_ANSWERS = 3
_PAPER_NAME = re.compile(r"^论文名称\s*[:：]\s*([^\n]+)(?:\n|$)")

E = TypeVar("E", PaperEntry, MemberNotes, ResourceEntry, QuestionEntry)


def _name(member: Member) -> str:
    return (member.display_name or member.platform_user_id).strip()


def _arrange(entries: list[E], featured: Sequence[str], dropped: Sequence[str]) -> list[E]:
    """Drop ``dropped`` keys; move ``featured`` keys first (in featured order)."""
    gone = set(dropped)
    kept = [e for e in entries if e.key not in gone]
    rank = {key: i for i, key in enumerate(featured)}
    first = sorted((e for e in kept if e.key in rank), key=lambda e: rank[e.key])
    return first + [e for e in kept if e.key not in rank]


def _paper(paper: Paper) -> PaperEntry:
    lines = [line.strip() for line in (paper.title or "").splitlines() if line.strip()]
    fetched = (paper.arxiv_title or "").strip()  # the real title, from arXiv
    title = paper.label  # the same name as in /papers and /search
    paper_name = " ".join(lines[1:]) or None
    summary = (paper.summary or "").strip()
    named = _PAPER_NAME.match(summary)
    if named and paper_name is None:
        paper_name, summary = named.group(1).strip(), summary[named.end() :].strip()
    paper_name = paper_name or fetched or None
    return PaperEntry(
        key=f"paper:{paper.id}",
        title=title,
        url=paper.link,  # an arxiv.org PDF link: the abstract page
        arxiv_id=paper.arxiv_id,
        summary=summary,
        one_liner=(paper.one_liner or "").strip(),
        code_url=next(iter(paper.code_urls), None),
        shared_by=_name(paper.member),
        paper_name=paper_name,
        authors=tuple(paper.arxiv_authors.splitlines()),
        code_urls=tuple(paper.code_urls),
        code_stars=paper.code_stars if paper.code_status == "ok" else None,
    )


def _notes(checkins: Sequence[CheckIn], dropped: Sequence[str] = ()) -> list[MemberNotes]:
    by_member: dict[int, MemberNotes] = {}
    gone = set(dropped)
    for checkin in checkins:
        text = checkin.text.strip()
        if not text or f"checkin:{checkin.id}" in gone:
            continue
        entry = by_member.get(checkin.member_id)
        if entry is None:
            entry = MemberNotes(f"member:{checkin.member_id}", _name(checkin.member), [])
            by_member[checkin.member_id] = entry
        entry.texts.append(text)
        entry.text_keys.append(f"checkin:{checkin.id}")
    return list(by_member.values())


def _link_title(url: str) -> str:
    """``zhuanlan.zhihu.com/p/123`` for ``https://zhuanlan.zhihu.com/p/123/``."""
    bare = re.sub(r"^https?://(www\.)?", "", url.strip(), flags=re.IGNORECASE).rstrip("/")
    return bare if len(bare) <= 60 else bare[:59] + "…"


def _resources(resources: Sequence[Resource]) -> list[ResourceEntry]:
    uses: dict[str, int] = {}
    for resource in resources:
        for tag in resource.tags:
            uses[tag.name] = uses.get(tag.name, 0) + 1
    entries = []
    for resource in resources:
        names = sorted((t.name for t in resource.tags), key=lambda n: (-uses[n], n))
        text = (resource.text or "").strip()
        title = make_title(text) if text else ""
        rest = text
        if title and text.startswith(title):
            rest = text[len(title) :].lstrip(" \t\n。.，,：:")
        entries.append(
            ResourceEntry(
                key=f"resource:{resource.id}",
                title=title or _link_title(resource.url),
                url=resource.url,
                text=" ".join(rest.split()),
                tags=tuple(names),
                shared_by=_name(resource.member),
            )
        )
    return entries


def _question(question: Question, issue: DigestIssue) -> QuestionEntry:
    given = [a for a in question.answers if a.created_at < issue.period_end]
    best = [a for a in given if a.id == question.best_answer_id]
    ordered = best + [a for a in given if a.id != question.best_answer_id]
    answers = [
        AnswerEntry(a.text.strip(), _name(a.member), best=a.id == question.best_answer_id)
        for a in ordered[:MAX_ANSWERS]
        if a.text.strip()
    ]
    return QuestionEntry(
        key=f"question:{question.number}",
        number=question.number,
        title=split_question(question.text)[0] or f"#{question.number}",
        text=question.text.strip(),
        asked_by=_name(question.member),
        answers=answers,
        carried_over=question.created_at < issue.period_start,
        open=question.status == "open",
        answered_in_period=any(issue.period_start <= a.created_at for a in given),
    )


def _questions(session: Session, issue: DigestIssue) -> list[Question]:
    start, end = issue.period_start, issue.period_end
    answered_in_period = Question.answers.any(
        and_(Answer.created_at >= start, Answer.created_at < end)
    )
    unanswered_open = and_(
        Question.status == "open",
        Question.created_at >= start - timedelta(days=CARRY_OVER_DAYS),
        ~Question.answers.any(Answer.created_at < end),
    )
    stmt = (
        select(Question)
        .where(
            Question.group_id == issue.group_id,
            Question.created_at < end,
            Question.private.is_(False),  # asked privately: only the asker sees it
            or_(Question.created_at >= start, answered_in_period, unanswered_open),
        )
        .options(selectinload(Question.answers))
        .order_by(Question.created_at, Question.id)
    )
    found = list(session.scalars(stmt).unique().all())
    fresh = [q for q in found if q.created_at >= start]
    carried = [q for q in found if q.created_at < start]
    return fresh + carried


def build_digest(
    session: Session,
    issue: DigestIssue,
    config: Config,
    *,
    web_url: str | None = None,
    edited: bool = True,
) -> Digest:
    """The digest of ``issue`` as it would be published now (reads only); ``edited=False``
    leaves out the overrides (``/digest edit``, ``/digest move``, ``/paper edit``) to show
    the members' originals."""
    group = session.get(Group, issue.group_id)
    if group is None:
        raise ValueError(f"digest issue {issue.id} has no group")
    start, end = issue.period_start, issue.period_end

    def in_period(column: Any) -> Any:
        return and_(column >= start, column < end)

    papers = (
        session.scalars(
            select(Paper)
            .where(
                Paper.group_id == group.id,
                in_period(Paper.created_at),
                Paper.private.is_(False),  # shared privately
            )
            .order_by(Paper.created_at, Paper.id)
        )
        .unique()
        .all()
    )
    checkins = (
        session.scalars(
            select(CheckIn)
            .where(
                CheckIn.group_id == group.id,
                in_period(CheckIn.created_at),
                CheckIn.private.is_(False),  # private-chat notes stay private
            )
            .order_by(CheckIn.created_at, CheckIn.id)
        )
        .unique()
        .all()
    )
    questions = _questions(session, issue)
    resources = (
        session.scalars(
            select(Resource)
            .where(
                Resource.group_id == group.id,
                in_period(Resource.created_at),
                Resource.private.is_(False),  # shared privately
            )
            .order_by(Resource.created_at, Resource.id)
        )
        .unique()
        .all()
    )

    featured = list(issue.featured or [])
    dropped = list(issue.dropped or [])
    rows = digest_overrides.for_issue(session, group.id, issue.number) if edited else []
    edits = Edits.of(rows)
    lang = config.group_language(group.slug)
    english = lang == "en"
    default = config.digest.default_preface_en if english else config.digest.default_preface
    preface = (issue.preface or "").strip() or default
    return Digest(
        group_name=group.name,
        number=issue.number,
        period_start=start,
        period_end=end,
        preface=preface,
        papers=apply(_arrange([_paper(p) for p in papers], featured, dropped), edits, featured),
        notes=apply_notes(_arrange(_notes(checkins, dropped), featured, dropped), edits, featured),
        questions=apply(
            _arrange([_question(q, issue) for q in questions], featured, dropped), edits, featured
        ),
        join_text=config.join.text_en if english else config.join.text,
        web_url=web_url,
        timezone=group.timezone,
        resources=apply(_arrange(_resources(resources), featured, dropped), edits, featured),
        section_order=tuple(config.digest.sections),
        featured=tuple(featured),
        toc_names_max=config.digest.budget.toc_names_max,
        telegram_preface=None
        if english or (issue.preface or "").strip()
        else config.digest.default_preface_telegram,
        chat_join_text={
            platform: text
            for platform in ("telegram", "wechat", "console")
            if (text := config.digest_join_text(platform, english))
        },
        lang=lang,
    )
