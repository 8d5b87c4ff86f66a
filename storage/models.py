"""SQLAlchemy 2 models (``DeclarativeBase``, ``Mapped[]``). Every datetime is timezone-aware UTC.

Tables: groups, members, check-ins, questions, answers, papers, resources + tags, keyword
replies, processed messages (dedupe), sent messages (question announcements), digest issues,
their overrides (edits of entries) and deliveries, seen chats (``studybot chats``), room
invitations (WeChat 「自学」) and slug redirects (renamed groups). The schema is created only by
Alembic migrations (``storage/migrations``).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

# Base and the UTC type live in model_base; migrations refer to them as storage.models.*
from storage.model_base import Base as Base
from storage.model_base import UTCDateTime as UTCDateTime
from storage.model_base import utc_now


class Group(Base):
    """A study group (club). ``slug`` matches ``groups[].slug`` in config."""

    __tablename__ = "groups"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Member(Base):
    """A person, identified by platform + platform user id."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id", name="uq_members_identity"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    platform_user_id: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16), default="member")  # member | admin
    away_until: Mapped[datetime | None] = mapped_column(default=None)
    joined_at: Mapped[datetime] = mapped_column(default=utc_now)
    #: whether what the member sends in a private chat may be public (``/public on|off``);
    #: None: ``privacy.dm_entries_public``
    dm_public: Mapped[bool | None] = mapped_column(Boolean, default=None)


class GroupMember(Base):
    """A member seen using the bot in one of a group's configured chats: the groups a private
    chat may act for (``/group``)."""

    __tablename__ = "group_members"
    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    first_seen: Mapped[datetime] = mapped_column(default=utc_now)
    # the group the member's private chat acts for (chosen with /group): at most one per member
    dm_chosen: Mapped[bool] = mapped_column(Boolean, default=False)


class AwayPeriod(Base):
    """A member's away/vacation period [starts_at, ends_at): weeks it covers keep the streak."""

    __tablename__ = "away_periods"
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class CheckIn(Base):
    """A weekly learning note (学习心得 / 打卡)."""

    __tablename__ = "checkins"
    __table_args__ = (
        Index("ix_checkins_group_created", "group_id", "created_at"),
        Index("ix_checkins_group_member_created", "group_id", "member_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    edited_at: Mapped[datetime | None] = mapped_column(default=None)
    #: The Monday identifying the club week it counts for in streaks (bot.clubtime.week_key);
    #: None (rows imported without it) means the calendar week of ``created_at``.
    week: Mapped[date | None] = mapped_column(default=None)
    scored: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    """False for a member's second and later check-ins of a day: kept, no points."""
    source: Mapped[str | None] = mapped_column(String(300), default=None, index=True)
    """``platform:chat_id:message_id`` of the message it came from (edits and recalls)."""
    private: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Sent in a private chat by a member who keeps those private (``/public``,
    ``privacy.dm_entries_public``): it counts for streaks and ``/me``, never shows in the
    digest, the archive, feeds or ``/search``."""
    member: Mapped[Member] = relationship(lazy="joined")


class Question(Base):
    """A question (疑问). ``number`` is the per-group number users see (#12)."""

    __tablename__ = "questions"
    __table_args__ = (
        UniqueConstraint("group_id", "number", name="uq_questions_group_number"),
        Index("ix_questions_group_created", "group_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | answered | closed
    best_answer_id: Mapped[int | None] = mapped_column(
        ForeignKey("answers.id", use_alter=True, ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    source: Mapped[str | None] = mapped_column(String(300), default=None, index=True)
    """``platform:chat_id:message_id`` of the message it came from (edits and recalls)."""
    private: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Asked in a private chat by a member who keeps those private (``/public``): only the
    asker sees it (and its answers); it is never announced, listed, searched or in the
    digest."""
    member: Mapped[Member] = relationship(lazy="joined")
    answers: Mapped[list[Answer]] = relationship(
        back_populates="question", foreign_keys="Answer.question_id", order_by="Answer.id"
    )


class Answer(Base):
    """An answer to a question."""

    __tablename__ = "answers"
    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    source: Mapped[str | None] = mapped_column(String(300), default=None, index=True)
    """``platform:chat_id:message_id`` of the message it came from (edits and recalls)."""
    member: Mapped[Member] = relationship(lazy="joined")
    question: Mapped[Question] = relationship(back_populates="answers", foreign_keys=[question_id])


class Paper(Base):
    """A paper (论文速递): URL, arXiv id, code link, title, summary, one-line gist."""

    __tablename__ = "papers"
    __table_args__ = (
        UniqueConstraint("group_id", "url_key", name="uq_papers_group_url"),
        Index("ix_papers_group_arxiv", "group_id", "arxiv_id"),
        Index("ix_papers_group_created", "group_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(Text)
    url_key: Mapped[str] = mapped_column(String(512))  # normalised URL or "arxiv:<id>"
    arxiv_id: Mapped[str | None] = mapped_column(String(32), default=None)
    # every code link, one per line (the first: the main repository)
    code_url: Mapped[str | None] = mapped_column(Text, default=None)
    title: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    one_liner: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    source: Mapped[str | None] = mapped_column(String(300), default=None, index=True)
    """``platform:chat_id:message_id`` of the message it came from (edits and recalls)."""
    # fetched metadata (bot.paper_metadata); a status is None when there is nothing to fetch,
    # else "pending", "ok", "missing" (no such paper/repository) or "failed" (tried again)
    arxiv_status: Mapped[str | None] = mapped_column(String(16), default=None)
    arxiv_title: Mapped[str] = mapped_column(Text, default="", server_default="")
    arxiv_authors: Mapped[str] = mapped_column(Text, default="", server_default="")  # 1 a line
    arxiv_abstract: Mapped[str] = mapped_column(Text, default="", server_default="")
    arxiv_published: Mapped[str] = mapped_column(String(32), default="", server_default="")
    code_status: Mapped[str | None] = mapped_column(String(16), default=None)
    code_description: Mapped[str] = mapped_column(Text, default="", server_default="")
    code_stars: Mapped[int | None] = mapped_column(default=None)
    metadata_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    private: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Shared in a private chat by a member who keeps those private (``/public``): only the
    sharer sees it, never the digest, lists or search. Its ``url_key`` then starts with
    ``private:<member ref>:`` (:func:`storage.content.private_key`), so it takes the link from
    no one else in the group."""
    member: Mapped[Member] = relationship(lazy="joined")

    @property
    def code_urls(self) -> list[str]:
        """The code links, in the order the member gave them."""
        return (self.code_url or "").split()

    @property
    def link(self) -> str:
        """The link shown to readers: an arxiv.org PDF/HTML link becomes the abstract page
        (``https://arxiv.org/abs/<id>``); the stored ``url`` stays as the member gave it."""
        if self.arxiv_id and _ARXIV_PAGE.match(self.url):
            return f"https://arxiv.org/abs/{self.arxiv_id}"
        return self.url

    @property
    def label(self) -> str:
        """How the paper is named everywhere (/papers, /search, replies, the digest): the first
        line of its title, else the title fetched from arXiv, else ``arXiv:<id>``, else
        :attr:`link`."""
        lines = [line.strip() for line in (self.title or "").splitlines() if line.strip()]
        if lines:
            return lines[0]
        if (self.arxiv_title or "").strip():
            return self.arxiv_title.strip()
        return f"arXiv:{self.arxiv_id}" if self.arxiv_id else self.link


_ARXIV_PAGE = re.compile(r"(?i)^(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/")


resource_tags = Table(
    "resource_tags",
    Base.metadata,
    Column("resource_id", ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
)


class Tag(Base):
    """A #tag on resources (stored lower-case, without '#')."""

    __tablename__ = "tags"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)


class Resource(Base):
    """A shared learning resource: URL + #tags + text."""

    __tablename__ = "resources"
    __table_args__ = (
        Index("ix_resources_group_created", "group_id", "created_at"),
        Index("ix_resources_group_url_key", "group_id", "url_key"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(Text)
    url_key: Mapped[str | None] = mapped_column(String(512), default=None)
    text: Mapped[str] = mapped_column(Text, default="")
    scored: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    """False for a link the group had already: kept, no points."""
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    source: Mapped[str | None] = mapped_column(String(300), default=None, index=True)
    """``platform:chat_id:message_id`` of the message it came from (edits and recalls)."""
    private: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Shared in a private chat by a member who keeps those private (``/public``): only the
    sharer sees it, never the digest or search."""
    member: Mapped[Member] = relationship(lazy="joined")
    tags: Mapped[list[Tag]] = relationship(secondary=resource_tags, lazy="selectin")


class KeywordReply(Base):
    """An exact-message keyword reply (「自学」 seeded from config; admins add more)."""

    __tablename__ = "keyword_replies"
    __table_args__ = (UniqueConstraint("group_id", "keyword", name="uq_keyword_replies_kw"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    keyword: Mapped[str] = mapped_column(String(100))
    reply: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(160), default="config")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class ProcessedMessage(Base):
    """A platform message already handled: a re-delivered message is stored once."""

    __tablename__ = "processed_messages"
    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)


class SeenChat(Base):
    """A chat the bot has received a message in, configured or not (``studybot chats``)."""

    __tablename__ = "seen_chats"
    __table_args__ = (Index("ix_seen_chats_user", "platform", "user_id"),)
    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # group | private
    title: Mapped[str] = mapped_column(String(256), default="")
    first_seen: Mapped[datetime] = mapped_column(default=utc_now)
    last_seen: Mapped[datetime] = mapped_column(default=utc_now)
    user_id: Mapped[str | None] = mapped_column(String(128), default=None)
    """A private chat's person: whom the bot can message privately (new answers)."""


class RoomInvitation(Base):
    """A 「自学」 invitation into a study room (WeChat): one per person per cooldown, even
    across restarts. ``state``: ``sent`` or ``failed`` (the admins were told, once)."""

    __tablename__ = "room_invitations"
    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    contact_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    room_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    invited_at: Mapped[datetime] = mapped_column()
    error: Mapped[str | None] = mapped_column(Text, default=None)


class SlugRedirect(Base):
    """A group's former slug: its old archive links redirect to the group's current one."""

    __tablename__ = "slug_redirects"
    old_slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    renamed_at: Mapped[datetime] = mapped_column(default=utc_now)


class SentMessage(Base):
    """A message the bot sent that announced a question: replies to it are answers."""

    __tablename__ = "sent_messages"
    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    sent_at: Mapped[datetime] = mapped_column(default=utc_now)


class DigestIssue(Base):
    """One weekly digest: a period [start, end) of one group, and what admins set for it.

    ``status``: draft -> published. Periods are contiguous: each starts where the last ended.
    """

    __tablename__ = "digest_issues"
    __table_args__ = (
        UniqueConstraint("group_id", "number", name="uq_digest_issues_number"),
        UniqueConstraint("group_id", "period_start", name="uq_digest_issues_start"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    period_start: Mapped[datetime] = mapped_column()
    period_end: Mapped[datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="draft")
    preface: Mapped[str | None] = mapped_column(Text, default=None)
    featured: Mapped[list[str]] = mapped_column(JSON, default=list)  # entry keys
    dropped: Mapped[list[str]] = mapped_column(JSON, default=list)
    markdown: Mapped[str | None] = mapped_column(Text, default=None)
    html: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    published_at: Mapped[datetime | None] = mapped_column(default=None)


class DigestOverride(Base):
    """An edit of one digest entry's display text or position, by an admin (/digest edit,
    /digest move) or by the member who shared it (/paper edit); the member's row stays as sent.

    ``entry_key`` is the digest entry's key (``paper:12``, ``question:3``, ``checkin:40``,
    ``resource:7``, ``member:5``); ``issue_number`` 0 means every issue (text edits), else the
    one issue it applies to (``position``: the entry's place in its section).
    """

    __tablename__ = "digest_overrides"
    __table_args__ = (
        UniqueConstraint(
            "group_id", "entry_key", "field", "issue_number", name="uq_digest_overrides_field"
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    entry_key: Mapped[str] = mapped_column(String(40))
    field: Mapped[str] = mapped_column(String(16))
    issue_number: Mapped[int] = mapped_column(Integer, default=0)
    value: Mapped[str] = mapped_column(Text)
    set_by: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[datetime] = mapped_column(default=utc_now)


class DigestDelivery(Base):
    """Delivery of one digest issue to one chat: pending -> claimed/sending -> sent (exactly once).

    ``uncertain``: sent, except part ``doubtful_part`` which a crash left in doubt (never resent).
    """

    __tablename__ = "digest_deliveries"
    __table_args__ = (
        UniqueConstraint("issue_id", "platform", "chat_id", name="uq_digest_deliveries_target"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("digest_issues.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    parts_sent: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)
    # digest.publish: the rendered parts frozen at the first attempt ([{text, html}]), the
    # claim token of the publisher sending them, and a part left in doubt by a crash.
    parts: Mapped[list[dict[str, str | None]] | None] = mapped_column(JSON, default=None)
    owner: Mapped[str | None] = mapped_column(String(64), default=None)
    doubtful_part: Mapped[int | None] = mapped_column(Integer, default=None)


class OutboxMessage(Base):
    """A reply waiting for the send stage (``bot.sending``): stored in the message's
    transaction, sent once by its platform's scheduler, or dropped when too old."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_platform_state", "platform", "state", "id"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16), index=True)
    chat_id: Mapped[str] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text, default=None)
    reply_to: Mapped[str | None] = mapped_column(String(128), default=None)  # message answered
    question_id: Mapped[int | None] = mapped_column(Integer, default=None)  # it announces this
    # pending | sending | sent | failed | expired (too old to send, see sending.max_age_seconds)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # parts of a long reply already sent (a reply stopped halfway resumes after them)
    parts_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    # the send stage's order: 0 answers, 1 digest parts, 2 acknowledgments and notices
    priority: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(16), default="reply")  # reply | ack
    chat_kind: Mapped[str] = mapped_column(String(16), default="group")  # group | private
    mention_user_id: Mapped[str | None] = mapped_column(String(128), default=None)
    # what else the platform needs: the sender's name, a fallback chat, a room to invite to
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    image: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    file: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)


class MpState(Base):
    """Shared state of the 公众号 API client, read by every process: the access token (one
    process fetching a new one must not leave the others with a stale one) and the media ids
    of uploads (the join QR code, valid for 3 days). ``expires_at`` None: never expires."""

    __tablename__ = "mp_state"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class MpDraft(Base):
    """The ledger of 公众号 drafts: one per digest issue (draft/add once, draft/update after).

    ``state``: ``adding`` (draft/add called, its media id not yet known: never added again
    automatically), ``added``, ``submitted`` (freepublish/submit accepted, ``publish_id``).
    ``content_hash`` is the hash of what the draft holds, so an unchanged rebuild calls nothing.
    """

    __tablename__ = "mp_drafts"
    __table_args__ = (UniqueConstraint("group_id", "issue_number", name="uq_mp_drafts_issue"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    issue_number: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="adding")
    media_id: Mapped[str | None] = mapped_column(String(128), default=None)
    thumb_media_id: Mapped[str | None] = mapped_column(String(128), default=None)
    content_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    publish_id: Mapped[str | None] = mapped_column(String(128), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class MemberAlias(Base):
    """Another platform identity of a member (``/link``): a 公众号 follower's openid joined to
    their chat identity, so their check-ins and streak are one member's."""

    __tablename__ = "member_aliases"
    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    platform_user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class LinkCode(Base):
    """A one-time ``/link`` code: whoever sends it from another platform becomes this member."""

    __tablename__ = "link_codes"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime] = mapped_column()


class TrashItem(Base):
    """Something an admin deleted (paper, resource, question, answer): its JSON snapshot,
    who and when. The row itself is gone from every list, the digest and search."""

    __tablename__ = "trash"
    __table_args__ = (Index("ix_trash_group_deleted", "group_id", "deleted_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # paper | resource | question | answer
    label: Mapped[str] = mapped_column(String(32))  # what users saw: "#3", "#3-2"
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    deleted_by: Mapped[str] = mapped_column(String(200))
    deleted_at: Mapped[datetime] = mapped_column(default=utc_now)


class AuditEntry(Base):
    """One admin command: who (name and platform id), what (command and arguments), when."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_group_created", "group_id", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    actor: Mapped[str] = mapped_column(String(200))
    actor_id: Mapped[str] = mapped_column(String(200))
    command: Mapped[str] = mapped_column(String(40))
    args: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
