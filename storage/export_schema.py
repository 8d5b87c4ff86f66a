"""The versioned JSON format of ``studybot export`` / ``studybot import`` (pydantic models).

Format ``studybot-export`` version 1::

    {"format": "studybot-export", "version": 1, "exported_at": "...Z",
     "members": [{"platform", "user_id", "display_name", "role", "joined_at",
                  "away_until", "away": [{"starts_at", "ends_at", "created_at"}], "dm_public"}],
     "groups": [{"slug", "name", "timezone", "created_at",
                 "checkins": [{"member", "text", "created_at", "edited_at", "private"}],
                 "questions": [{"number", "member", "text", "status", "created_at",
                                "best_answer", "answers": [{"member", "text", "created_at"}],
                                "private"}],
                 "papers": [{..., "private"}], "resources": [{..., "tags": ["nlp"], "private"}],
                 "keyword_replies": [...], "digest_issues": [...],
                 "digest_edits": [{"kind", "index" | "member", "field", "value", "issue",
                                   "set_by", "set_at"}]}]}

Members are referred to as ``"platform:user_id"``; ``best_answer`` is an index into the
question's ``answers``; a digest edit names its entry by ``kind`` and ``index`` into that
group's list of that kind (``member`` for a member's block). Datetimes are ISO-8601 with a UTC
offset (naive ones are refused). Database ids are not exported: rows are matched by natural keys on import.
"""

from __future__ import annotations

from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

FORMAT = "studybot-export"
VERSION = 1

Str16 = Annotated[str, Field(min_length=1, max_length=16)]
Name = Annotated[str, Field(max_length=200)]
MemberRef = Annotated[str, Field(pattern=r"^[a-z]{1,16}:.+$", max_length=145)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


class AwayOut(_Model):
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    created_at: AwareDatetime


class MemberOut(_Model):
    platform: Str16
    user_id: Annotated[str, Field(min_length=1, max_length=128)]
    display_name: Name
    role: Literal["member", "admin"] = "member"
    joined_at: AwareDatetime
    away_until: AwareDatetime | None = None
    away: list[AwayOut] = []
    #: the member's ``/public on|off`` choice for what they send in a private chat (None: not
    #: chosen, the deployment's ``privacy.dm_entries_public`` applies)
    dm_public: bool | None = None

    @property
    def ref(self) -> str:
        return f"{self.platform}:{self.user_id}"


class CheckInOut(_Model):
    member: MemberRef
    text: str
    created_at: AwareDatetime
    edited_at: AwareDatetime | None = None
    private: bool = False


class AnswerOut(_Model):
    member: MemberRef
    text: str
    created_at: AwareDatetime


class QuestionOut(_Model):
    number: Annotated[int, Field(ge=1, lt=2**31)]
    member: MemberRef
    text: str
    status: Literal["open", "answered", "closed"] = "open"
    created_at: AwareDatetime
    best_answer: Annotated[int, Field(ge=0)] | None = None
    answers: list[AnswerOut] = []
    private: bool = False

    @model_validator(mode="after")
    def _best_answer_exists(self) -> QuestionOut:
        if self.best_answer is not None and self.best_answer >= len(self.answers):
            raise ValueError(
                f"best_answer {self.best_answer} but the question has {len(self.answers)} answers"
            )
        return self


class PaperOut(_Model):
    member: MemberRef
    url: str
    url_key: Annotated[str, Field(min_length=1, max_length=512)]
    arxiv_id: Annotated[str, Field(max_length=32)] | None = None
    code_url: str | None = None
    title: str = ""
    summary: str = ""
    one_liner: str = ""
    created_at: AwareDatetime
    private: bool = False


class ResourceOut(_Model):
    member: MemberRef
    url: str
    text: str = ""
    tags: list[Annotated[str, Field(min_length=1, max_length=64)]] = []
    created_at: AwareDatetime
    private: bool = False


class KeywordReplyOut(_Model):
    keyword: Annotated[str, Field(min_length=1, max_length=100)]
    reply: str
    created_by: Annotated[str, Field(max_length=160)] = "config"
    created_at: AwareDatetime


class DigestIssueOut(_Model):
    number: Annotated[int, Field(ge=1, lt=2**31)]
    period_start: AwareDatetime
    period_end: AwareDatetime
    status: Str16 = "draft"
    preface: str | None = None
    featured: list[str] = []
    dropped: list[str] = []
    markdown: str | None = None
    html: str | None = None
    created_at: AwareDatetime
    published_at: AwareDatetime | None = None


class DigestEditOut(_Model):
    """One edit of a digest entry (``digest_overrides``). The entry is named by its place in
    this group's export: ``kind`` and ``index`` into ``papers`` / ``questions`` / ``checkins``
    / ``resources``, or ``member`` for a member's block of notes (positions)."""

    kind: Literal["paper", "question", "checkin", "resource", "member"]
    index: Annotated[int, Field(ge=0)] | None = None
    member: MemberRef | None = None
    field: Str16
    value: str
    issue: Annotated[int, Field(ge=0, lt=2**31)] = 0
    set_by: Name = ""
    set_at: AwareDatetime

    @model_validator(mode="after")
    def _names_its_entry(self) -> DigestEditOut:
        if (self.kind == "member") != (self.member is not None):
            raise ValueError("a member's edit names 'member', any other edit does not")
        if (self.kind == "member") == (self.index is not None):
            raise ValueError(f"a {self.kind} edit needs 'index' (and a member's none)")
        return self


class GroupOut(_Model):
    slug: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
    name: Name
    timezone: Annotated[str, Field(max_length=64)]
    created_at: AwareDatetime
    checkins: list[CheckInOut] = []
    questions: list[QuestionOut] = []
    papers: list[PaperOut] = []
    resources: list[ResourceOut] = []
    keyword_replies: list[KeywordReplyOut] = []
    digest_issues: list[DigestIssueOut] = []
    digest_edits: list[DigestEditOut] = []

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _edits_name_entries(self) -> GroupOut:
        sizes = {
            "paper": len(self.papers),
            "question": len(self.questions),
            "checkin": len(self.checkins),
            "resource": len(self.resources),
        }
        for edit in self.digest_edits:
            if edit.index is not None and edit.index >= sizes[edit.kind]:
                raise ValueError(
                    f"digest_edits: {edit.kind} index {edit.index} but the group has "
                    f"{sizes[edit.kind]} {edit.kind}s"
                )
        return self

    def member_refs(self) -> set[str]:
        refs = {c.member for c in self.checkins} | {p.member for p in self.papers}
        refs |= {r.member for r in self.resources}
        refs |= {e.member for e in self.digest_edits if e.member is not None}
        for question in self.questions:
            refs.add(question.member)
            refs |= {a.member for a in question.answers}
        return refs


class Export(_Model):
    """The whole file."""

    format: Literal["studybot-export"] = "studybot-export"
    version: Literal[1] = 1
    exported_at: AwareDatetime
    members: list[MemberOut] = []
    groups: list[GroupOut] = []

    @model_validator(mode="after")
    def _consistent(self) -> Export:
        refs = [m.ref for m in self.members]
        if len(set(refs)) != len(refs):
            raise ValueError("members: the same platform:user_id appears twice")
        slugs = [g.slug for g in self.groups]
        if len(set(slugs)) != len(slugs):
            raise ValueError("groups: the same slug appears twice")
        known = set(refs)
        for group in self.groups:
            missing = sorted(group.member_refs() - known)
            if missing:
                raise ValueError(
                    f"group {group.slug!r} refers to members not in 'members': {missing[:5]}"
                )
            numbers = [q.number for q in group.questions]
            if len(set(numbers)) != len(numbers):
                raise ValueError(f"group {group.slug!r}: a question number appears twice")
        return self
