"""The digest as plain data: what :func:`digest.build.build_digest` returns and renderers read.

Frozen dataclasses, no ORM objects: a :class:`Digest` can be rendered, compared and stored
without a database session. Entry keys are stable across rebuilds of the same issue:
``paper:<Paper.id>``, ``member:<Member.id>``, ``resource:<Resource.id>`` and
``question:<Question.number>``; they are what ``DigestIssue.featured`` / ``DigestIssue.dropped``
hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from digest.text import split_question

SECTION_PAPERS = "papers"
SECTION_NOTES = "notes"
SECTION_QUESTIONS = "questions"
SECTION_RESOURCES = "resources"

#: Section ids with their Chinese headings (as in the seed digest), in the default order.
SECTION_TITLES: dict[str, str] = {
    SECTION_PAPERS: "论文速递",
    SECTION_NOTES: "学习心得",
    SECTION_RESOURCES: "学习资料",
    SECTION_QUESTIONS: "疑问解答",
}
#: The default order of the content sections (``digest.sections`` in config changes it).
DEFAULT_SECTION_ORDER: tuple[str, ...] = tuple(SECTION_TITLES)
#: How a collapsed section counts what it lists by name (「另有 N 位成员的心得」).
SECTION_UNITS: dict[str, str] = {
    SECTION_PAPERS: "篇论文",
    SECTION_NOTES: "位成员的心得",
    SECTION_RESOURCES: "条资料",
    SECTION_QUESTIONS: "个问答",
}
#: Heading of the 学习资料 group of resources shared without any #tag.
UNTAGGED = "其他"


@dataclass(frozen=True)
class PaperEntry:
    """One paper of 论文速递. ``paper_name`` is the original paper name (论文名称), if given."""

    key: str
    title: str
    url: str
    arxiv_id: str | None
    summary: str
    one_liner: str
    code_url: str | None
    shared_by: str
    paper_name: str | None = None
    authors: tuple[str, ...] = ()  # fetched from arXiv (bot.paper_metadata)
    code_urls: tuple[str, ...] = ()  # every code link; code_url is the first
    code_stars: int | None = None  # the first code link's GitHub stars

    @property
    def shown_name(self) -> str | None:
        """论文名称 when it says more than the headline (not the same words again)."""
        return self.paper_name if self.paper_name and self.paper_name != self.title else None

    @property
    def author_list(self) -> str:
        """The first three authors (:attr:`more_authors` tells whether others follow)."""
        return ", ".join(self.authors[:3])

    @property
    def more_authors(self) -> bool:
        return len(self.authors) > 3

    @property
    def code_links(self) -> tuple[str, ...]:
        return self.code_urls or ((self.code_url,) if self.code_url else ())

    @property
    def stars(self) -> str:
        """``★ 16.1k`` for the first code link, or ''."""
        if self.code_stars is None:
            return ""
        n = self.code_stars
        return f"★ {n / 1000:.1f}k".replace(".0k", "k") if n >= 1000 else f"★ {n}"


@dataclass(frozen=True)
class MemberNotes:
    """One member's 学习心得 of the week: every note they sent, in order; ``text_keys`` are
    the notes' own keys (``checkin:<CheckIn.id>``), parallel to ``texts``."""

    key: str
    member_name: str
    texts: list[str]
    text_keys: list[str] = field(default_factory=list)


#: Short, stable references shown in previews (``/digest drop M3``): key prefix -> letter.
CODE_LETTERS = {"paper": "P", "member": "M", "resource": "R", "question": "Q", "checkin": "C"}
_KIND_OF_LETTER = {letter: kind for kind, letter in CODE_LETTERS.items()}


def entry_code(key: str) -> str:
    """``paper:12`` -> ``P12``: the reference an admin types; it never shifts."""
    kind, _, ident = key.partition(":")
    return f"{CODE_LETTERS.get(kind, kind)}{ident}"


def key_of_code(code: str) -> str | None:
    """``P12`` / ``p12`` -> ``paper:12``; None when ``code`` is not a reference."""
    code = code.strip().strip("〔〕[]")
    if len(code) < 2 or not code[1:].isascii() or not code[1:].isdigit():
        return None
    kind = _KIND_OF_LETTER.get(code[0].upper())
    return f"{kind}:{int(code[1:])}" if kind else None


@dataclass(frozen=True)
class ResourceEntry:
    """One shared resource of 学习资料: its link, a title, the rest of its text (one line),
    its #tags (most used this week first)."""

    key: str
    title: str
    url: str
    text: str
    tags: tuple[str, ...]
    shared_by: str


@dataclass(frozen=True)
class ResourceGroup:
    """The resources of one #tag (``tag`` without '#'; :data:`UNTAGGED` for the rest)."""

    tag: str
    resources: list[ResourceEntry]
    untagged_label: str = UNTAGGED  # the heading of the untagged resources, in the language

    @property
    def heading(self) -> str:
        return self.untagged_label if self.tag == UNTAGGED else f"#{self.tag}"


@dataclass(frozen=True)
class AnswerEntry:
    """One answer shown under a question; ``best`` marks the admin-chosen best answer."""

    text: str
    answered_by: str
    best: bool = False


@dataclass(frozen=True)
class QuestionEntry:
    """One question of 疑问解答 with the answers shown (best first).

    ``carried_over``: asked before this period (still open, or answered during it).
    ``open``: nobody's answer settled it yet (status ``open``).
    """

    key: str
    number: int
    title: str
    text: str
    asked_by: str
    answers: list[AnswerEntry]
    carried_over: bool
    open: bool
    answered_in_period: bool = False  # someone answered it during this period

    @property
    def is_news(self) -> bool:
        """Asked or answered in this period (an old question still open is not news)."""
        return not self.carried_over or self.answered_in_period

    @property
    def details(self) -> str:
        """What the question says beyond its title: the part after the member's own split (a
        line break or ``|``, see :func:`digest.text.split_question`); the whole question when
        the title was trimmed or rewritten."""
        title, details = split_question(self.text)
        return details if title == self.title else self.text.strip()


@dataclass(frozen=True)
class TocEntry:
    """A line of 本期内容: ``index`` is the 1-based number previews show (``/digest drop N``)."""

    key: str
    index: int
    section: str
    title: str

    @property
    def code(self) -> str:
        """The entry's stable reference (``P12``, ``M3``, ``R5``, ``Q7``)."""
        return entry_code(self.key)


@dataclass(frozen=True)
class Digest:
    """One issue of the weekly digest, ready to render. Periods are aware datetimes."""

    group_name: str
    number: int
    period_start: datetime
    period_end: datetime
    preface: str
    papers: list[PaperEntry]
    notes: list[MemberNotes]
    questions: list[QuestionEntry]
    join_text: str
    web_url: str | None = None
    timezone: str = "Asia/Shanghai"
    resources: list[ResourceEntry] = field(default_factory=list)
    section_order: tuple[str, ...] = DEFAULT_SECTION_ORDER
    #: Keys the admins featured (shown in full even in a collapsed section).
    featured: tuple[str, ...] = ()
    #: Sections shown as highlights only (featured entries in full, the rest as names), set
    #: by :mod:`digest.budget` to fit a target's length budget.
    collapsed: frozenset[str] = frozenset()
    #: 本期内容 lists at most this many names per section, else a count.
    toc_names_max: int = 12
    #: Chat wording of the default 刊首语 (links work there; None: the same as everywhere);
    #: WeChat keeps the 阅读原文 preface, links being off there too.
    telegram_preface: str | None = None
    #: 加入我们 as read in each platform's chats (platform -> text); ``join_text`` is the
    #: 公众号 article's. See :meth:`for_chat`.
    chat_join_text: Mapping[str, str] = field(default_factory=dict)

    def for_chat(self, platform: str) -> Digest:
        """The digest as posted in a chat on ``platform``: that platform's 加入我们 and, where
        links work (not WeChat), the chat preface."""
        preface = self.preface if platform == "wechat" else self.telegram_preface or self.preface
        join_text = self.chat_join_text.get(platform) or self.join_text
        return replace(self, preface=preface, join_text=join_text)

    def _all(self, section: str) -> list[Any]:
        everything: dict[str, list[Any]] = {
            SECTION_PAPERS: self.papers,
            SECTION_NOTES: self.notes,
            SECTION_RESOURCES: self.resources,
            SECTION_QUESTIONS: self.questions,
        }
        return everything[section]

    def shown(self, section: str) -> list[Any]:
        """The entries of ``section`` shown in full (all, or the featured ones if collapsed)."""
        entries = self._all(section)
        if section not in self.collapsed:
            return list(entries)
        return [e for e in entries if e.key in self.featured]

    def rest(self, section: str) -> list[str]:
        """Names of the entries of a collapsed ``section`` not shown in full."""
        if section not in self.collapsed:
            return []
        titles = dict(self._section_rows(section))
        return [titles[e.key] for e in self._all(section) if e.key not in self.featured]

    def toc_counted(self, section: str) -> bool:
        """True when 本期内容 gives a count for ``section`` instead of its names."""
        return len(self._all(section)) > self.toc_names_max

    @property
    def shown_resource_groups(self) -> list[ResourceGroup]:
        """:attr:`resource_groups` limited to the resources shown in full."""
        keep = {r.key for r in self.shown(SECTION_RESOURCES)}
        groups = [
            ResourceGroup(g.tag, [r for r in g.resources if r.key in keep])
            for g in self.resource_groups
        ]
        return [g for g in groups if g.resources]

    lang: str = "zh"  # the group's language: headings and labels (digest.labels)

    @property
    def t(self) -> dict[str, str]:
        """The fixed words of the digest in its language (``d.t.preface``...)."""
        from digest.labels import labels

        return labels(self.lang)

    def label(self, key: str, /, **values: object) -> str:
        """A label with placeholders (``d.label("no_answer", n=3)``)."""
        from digest.labels import label

        return label(self.lang, key, **values)

    @property
    def units(self) -> dict[str, str]:
        """What a section's entries are called after a count (``12 篇论文``, ``12 papers``)."""
        if self.lang != "en":
            return SECTION_UNITS
        return {
            SECTION_PAPERS: "papers",
            SECTION_NOTES: "members' notes",
            SECTION_RESOURCES: "resources",
            SECTION_QUESTIONS: "questions",
        }

    def section_title(self, section: str) -> str:
        """A content section's heading in the digest's language."""
        return self.t[section] if self.lang != "zh" else SECTION_TITLES[section]

    @property
    def resource_groups(self) -> list[ResourceGroup]:
        """学习资料 grouped by each resource's first #tag, groups in order of first appearance;
        untagged resources last, under :data:`UNTAGGED`."""
        groups: dict[str, list[ResourceEntry]] = {}
        for entry in self.resources:
            groups.setdefault(entry.tags[0] if entry.tags else UNTAGGED, []).append(entry)
        untagged = groups.pop(UNTAGGED, None)
        out = [ResourceGroup(tag, items) for tag, items in groups.items()]
        other = self.t["untagged"]
        return out + ([ResourceGroup(UNTAGGED, untagged, other)] if untagged else [])

    def _section_rows(self, section: str) -> list[tuple[str, str]]:
        if section == SECTION_PAPERS:
            return [(p.key, p.title) for p in self.papers]
        if section == SECTION_NOTES:
            return [(n.key, n.member_name) for n in self.notes]
        if section == SECTION_RESOURCES:
            return [(r.key, r.title) for g in self.resource_groups for r in g.resources]
        return [(q.key, q.title) for q in self.questions]

    @property
    def order(self) -> list[str]:
        """Every content section id in display order (``section_order``, then any missing)."""
        known = [s for s in self.section_order if s in SECTION_TITLES]
        return known + [s for s in DEFAULT_SECTION_ORDER if s not in known]

    @property
    def entries(self) -> list[TocEntry]:
        """The table of contents in section order (papers, notes, resources, questions by
        default); resources in the order of their tag groups."""
        rows: list[tuple[str, str, str]] = []
        for section in self.order:
            rows += [(key, section, title) for key, title in self._section_rows(section)]
        return [
            TocEntry(key=key, index=i, section=section, title=title)
            for i, (key, section, title) in enumerate(rows, start=1)
        ]

    def entry(self, index: int) -> TocEntry | None:
        """The table-of-contents entry shown as number ``index`` (1-based), or None."""
        entries = self.entries
        return entries[index - 1] if 1 <= index <= len(entries) else None

    @property
    def sections(self) -> list[str]:
        """Ids of the non-empty content sections, in display order."""
        present = {
            SECTION_PAPERS: bool(self.papers),
            SECTION_NOTES: bool(self.notes),
            SECTION_RESOURCES: bool(self.resources),
            SECTION_QUESTIONS: bool(self.questions),
        }
        return [name for name in self.order if present[name]]

    @property
    def is_empty(self) -> bool:
        """True when the week brought nothing new: no papers, notes or resources, and no
        question asked or answered in it (open questions carried over alone are no issue)."""
        news = any(question.is_news for question in self.questions)
        return not (self.papers or self.notes or self.resources or news)

    @property
    def local_start(self) -> datetime:
        return self.period_start.astimezone(ZoneInfo(self.timezone))

    @property
    def local_end(self) -> datetime:
        return self.period_end.astimezone(ZoneInfo(self.timezone))

    @property
    def period_label(self) -> str:
        """``2026-11-15 20:00 – 2026-11-22 20:00`` in the group's timezone."""
        fmt = "%Y-%m-%d %H:%M"
        return f"{self.local_start.strftime(fmt)} – {self.local_end.strftime(fmt)}"

    @property
    def title(self) -> str:
        """``ML自学者俱乐部周报 · 第3期`` (``… weekly digest · Issue 3`` in English)."""
        return self.label("title", group=self.group_name, n=self.number)
