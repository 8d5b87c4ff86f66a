"""What one search-index row holds, and how an entry becomes one.

:class:`Doc` is a ``search_docs`` row before it is written: the entry's jieba tokens
(``body``), its tags (raw names for ``#tag`` filters plus their tokens) and ``scope``, filter
tokens (``g<group> k<kind> t<tag hex>``) no search word can produce, so FTS5 applies group,
type and #tag filters inside the MATCH. :func:`doc_for` builds the row of a model object.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from storage.models import Answer, CheckIn, Paper, Question, Resource, Tag
from storage.models import resource_tags as resource_tags_table
from storage.search.text import hashtags, token_text


@dataclass(frozen=True)
class Doc:
    """One row of the index, before it is written."""

    kind: str
    ref_id: int
    group_id: int
    member_id: int
    question_id: int | None
    created_at: datetime
    tags: str
    tag_list: str
    body: str
    scope: str

    def params(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "ref_id": self.ref_id,
            "group_id": self.group_id,
            "member_id": self.member_id,
            "question_id": self.question_id,
            "created_at": self.created_at,
            "tags": self.tags,
            "tag_list": self.tag_list,
            "body": self.body,
            "scope": self.scope,
        }


def make_doc(
    kind: str,
    ref_id: int,
    group_id: int,
    member_id: int,
    created_at: datetime,
    texts: Sequence[str],
    tags: Iterable[str] = (),
    question_id: int | None = None,
) -> Doc:
    """Tokenise an entry's texts; ``#tags`` written in them join its explicit tags."""
    names = list(dict.fromkeys([*(t.lower() for t in tags), *hashtags(" ".join(texts))]))
    return Doc(
        kind=kind,
        ref_id=ref_id,
        group_id=group_id,
        member_id=member_id,
        question_id=question_id,
        created_at=created_at,
        tags=" ".join([*names, token_text(*names)]).strip(),  # raw names for #tag filters
        tag_list=" ".join(names),
        body=token_text(*texts),
        scope=scope_text(group_id, kind, names),
    )


def scope_token(prefix: str, value: object) -> str:
    """One FTS5 token for an exact filter: ``g12``, ``kpaper``, ``t`` + the tag's UTF-8 hex."""
    if prefix == "t":
        return "t" + str(value).encode("utf-8").hex()
    return f"{prefix}{value}"


def scope_text(group_id: int, kind: str, tags: Iterable[str]) -> str:
    """The ``scope`` column: group, kind and tags as tokens no search word can produce."""
    return " ".join(
        [scope_token("g", group_id), scope_token("k", kind)] + [scope_token("t", t) for t in tags]
    )


def doc_for(
    obj: Any,
    conn: Connection,
    *,
    tags: Sequence[str] | None = None,
    question_groups: dict[int, int] | None = None,
) -> Doc | None:
    """The index row of a flushed model object (SQL only on ``conn``, never the session).

    ``tags`` (a resource's tag names) and ``question_groups`` (question id -> group id, public
    questions only: a private question's answers are not indexed) save a query per entry when
    known, as in :func:`rebuild_index`.
    """
    if isinstance(obj, CheckIn):
        if obj.private:  # a private-chat note: not searchable by others
            return None
        return make_doc("checkin", obj.id, obj.group_id, obj.member_id, obj.created_at, [obj.text])
    if isinstance(obj, (Question, Paper, Resource)) and obj.private:
        return None  # private-chat entries: not searchable by others (answers follow below)
    if isinstance(obj, Question):
        return make_doc(
            "question", obj.id, obj.group_id, obj.member_id, obj.created_at, [obj.text],
            question_id=obj.id,
        )  # fmt: skip
    if isinstance(obj, Answer):
        if question_groups is not None:
            group_id = question_groups.get(obj.question_id)
        else:
            group_id = conn.scalar(
                select(Question.group_id).where(
                    Question.id == obj.question_id, Question.private.is_(False)
                )
            )
        if group_id is None:
            return None
        return make_doc(
            "answer", obj.id, group_id, obj.member_id, obj.created_at, [obj.text],
            question_id=obj.question_id,
        )  # fmt: skip
    if isinstance(obj, Paper):
        texts = [obj.title, obj.one_liner, obj.summary, obj.url, obj.code_url or ""]
        return make_doc("paper", obj.id, obj.group_id, obj.member_id, obj.created_at, texts)
    if isinstance(obj, Resource):
        names = (
            tags
            if tags is not None
            else conn.scalars(
                select(Tag.name)
                .join(resource_tags_table, resource_tags_table.c.tag_id == Tag.id)
                .where(resource_tags_table.c.resource_id == obj.id)
                .order_by(Tag.name)
            ).all()
        )
        texts = [obj.text, obj.url]
        return make_doc(
            "resource", obj.id, obj.group_id, obj.member_id, obj.created_at, texts, names
        )
    return None
