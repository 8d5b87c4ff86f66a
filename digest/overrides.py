"""Edits of digest entries applied at build time: which fields each kind of entry has, the
words admins may type for them, their length limits, and :func:`apply` / :func:`apply_notes`.

Fields (the stored name first; Chinese and short aliases in :data:`FIELD_WORDS`):

* paper (P): ``headline`` (the Chinese headline the entry is headed by), ``title`` (论文名称,
  the paper's real title), ``summary``, ``one-liner``;
* question (Q): ``title``; resource (R): ``title``, ``summary`` (its line of text);
* check-in (C): ``text`` (what the digest shows of the note).

A ``position`` override (one issue) pins an entry's place in its section (``/digest move``):
pinned entries in position order, then the rest in their usual order; an entry featured but
not pinned still comes first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol, TypeVar

from digest.model import MemberNotes, PaperEntry, QuestionEntry, ResourceEntry

POSITION = "position"

#: Entry kind (key prefix) -> its editable fields, in the order they are shown.
FIELDS: dict[str, tuple[str, ...]] = {
    "paper": ("headline", "title", "summary", "one-liner"),
    "question": ("title",),
    "resource": ("title", "summary"),
    "checkin": ("text",),
}

#: Longest text each field takes (characters).
LIMITS: dict[str, int] = {
    "headline": 200,
    "title": 300,
    "summary": 3000,
    "one-liner": 500,
    "text": 4000,
}

_COMMON_WORDS = {
    "summary": "summary",
    "摘要": "summary",
    "简介": "summary",
    "简述": "summary",
    "text": "text",
    "正文": "text",
    "内容": "text",
    "文字": "text",
}
#: What an admin may type for a field, per entry kind (lower-cased).
FIELD_WORDS: dict[str, dict[str, str]] = {
    "paper": {
        **_COMMON_WORDS,
        "headline": "headline",
        "标题": "headline",
        "中文标题": "headline",
        "title": "title",
        "name": "title",
        "论文名称": "title",
        "论文名": "title",
        "原标题": "title",
        "one-liner": "one-liner",
        "oneliner": "one-liner",
        "one_liner": "one-liner",
        "一句话": "one-liner",
        "一句话概括": "one-liner",
        "概括": "one-liner",
    },
    "question": {"title": "title", "headline": "title", "标题": "title", "题目": "title"},
    "resource": {**_COMMON_WORDS, "title": "title", "headline": "title", "标题": "title"},
    "checkin": {"text": "text", "正文": "text", "内容": "text", "文字": "text", "心得": "text"},
}


def field_of(kind: str, word: str) -> str | None:
    """The stored field name an admin's ``word`` means for an entry of ``kind``, or None."""
    return FIELD_WORDS.get(kind, {}).get(word.strip().lower())


class _Override(Protocol):
    entry_key: str
    field: str
    value: str


@dataclass(frozen=True)
class Edits:
    """The overrides of one issue: ``(key, field) -> text`` and ``key -> position``."""

    texts: dict[tuple[str, str], str] = field(default_factory=dict)
    positions: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, rows: Iterable[_Override]) -> Edits:
        texts: dict[tuple[str, str], str] = {}
        positions: dict[str, int] = {}
        for row in rows:
            if row.field == POSITION:
                if row.value.isdigit():
                    positions[row.entry_key] = int(row.value)
            else:
                texts[(row.entry_key, row.field)] = row.value
        return cls(texts, positions)

    def get(self, key: str, name: str) -> str | None:
        return self.texts.get((key, name))


def _edited_paper(entry: PaperEntry, edits: Edits) -> PaperEntry:
    get = edits.get
    return replace(
        entry,
        title=get(entry.key, "headline") or entry.title,
        paper_name=get(entry.key, "title") or entry.paper_name,
        summary=get(entry.key, "summary") or entry.summary,
        one_liner=get(entry.key, "one-liner") or entry.one_liner,
    )


def _edited(entry: object, edits: Edits) -> object:
    if isinstance(entry, PaperEntry):
        return _edited_paper(entry, edits)
    if isinstance(entry, QuestionEntry):
        return replace(entry, title=edits.get(entry.key, "title") or entry.title)
    if isinstance(entry, ResourceEntry):
        return replace(
            entry,
            title=edits.get(entry.key, "title") or entry.title,
            text=edits.get(entry.key, "summary") or entry.text,
        )
    return entry


class _Keyed(Protocol):
    @property
    def key(self) -> str: ...


K = TypeVar("K", bound=_Keyed)


def ordered(entries: list[K], edits: Edits, featured: Sequence[str]) -> list[K]:
    """``entries`` (already featured-first) with pinned positions applied."""
    if not any(e.key in edits.positions for e in entries):
        return entries
    pinned = sorted(
        (e for e in entries if e.key in edits.positions), key=lambda e: edits.positions[e.key]
    )
    loose = [e for e in entries if e.key not in edits.positions]
    stars = set(featured)
    return [e for e in loose if e.key in stars] + pinned + [e for e in loose if e.key not in stars]


E = TypeVar("E", PaperEntry, QuestionEntry, ResourceEntry)


def apply(entries: list[E], edits: Edits, featured: Sequence[str]) -> list[E]:
    """Papers, questions or resources with their text overrides and positions applied."""
    edited: list[E] = [_edited(e, edits) for e in entries]  # type: ignore[misc]
    return ordered(edited, edits, featured)


def apply_notes(
    notes: list[MemberNotes], edits: Edits, featured: Sequence[str]
) -> list[MemberNotes]:
    """Members' notes with each check-in's ``text`` override applied, members in their pinned
    positions."""
    edited = []
    for n in notes:
        keys = n.text_keys + [""] * (len(n.texts) - len(n.text_keys))
        texts = [edits.get(k, "text") or t for k, t in zip(keys, n.texts, strict=False)]
        edited.append(replace(n, texts=texts))
    return ordered(edited, edits, featured)
