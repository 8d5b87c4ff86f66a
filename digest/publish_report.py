"""What a digest publish run reports: each chat's delivery state and the admins' summary.

Owns the zh/en texts of the publisher (:data:`MSG`, also used by the preview),
:class:`DeliveryStatus` (one chat), :class:`PublishReport` (one issue, with
:meth:`PublishReport.summary` for admins) and :func:`delivery_status`, which reads a
:class:`~storage.models.DigestDelivery` row into a status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.i18n import Messages
from digest.publish_claims import TERMINAL
from storage.models import DigestDelivery, DigestIssue

#: ``publish now`` finding the open period empty: an issue published this recently was most
#: likely published by a concurrent run (and the reply says so)
JUST_NOW = timedelta(minutes=10)

MSG = Messages(
    {
        "published": ("第{n}期已发布 ✅", "Issue {n} published ✅"),
        "partial": (
            "第{n}期尚未发完，失败的会自动重试：",
            "Issue {n} is not fully delivered yet; failed chats are retried automatically:",
        ),
        "elsewhere_done": (
            "第{n}期已由另一次发布发出（另一个进程或定时任务），这次没有重复发送。",
            "Issue {n} was already published by another run (another process or the "
            "schedule); this run sent nothing again.",
        ),
        "elsewhere_busy": (
            "第{n}期正由另一次发布发送中（另一个进程或定时任务），这次没有重复发送；"
            "稍后用 /digest status 查看结果。",
            "Issue {n} is being published by another run right now (another process or the "
            "schedule); this run sent nothing twice. See /digest status later.",
        ),
        "empty": (
            "本期没有任何内容（论文、心得、资料、提问都没有），不发布；第{n}期顺延到下一期。",
            "Nothing this time (no papers, notes or questions); nothing was published, and issue "
            "{n} moves to the next period.",
        ),
        "no_chats": (
            "第{n}期：配置里没有接收周报的群（groups[].chats 中 digest: true）。",
            "Issue {n}: no chat is configured to receive the digest (groups[].chats digest: true).",
        ),
        "line": ("· {chat}：{state} {sent}/{total} 条", "· {chat}: {state} {sent}/{total} parts"),
        "error": ("（错误：{error}）", " (error: {error})"),
        "doubt": (
            "  ⚠️ 第{part}条发送时程序中断，可能没有送达（为避免重复，没有重发），请到该群确认。",
            "  ⚠️ part {part} was being sent when the bot stopped; it may be missing (not resent "
            "to avoid a duplicate): please check that chat.",
        ),
        "state_sent": ("已发送", "sent"),
        "state_uncertain": ("已发送（有疑问）", "sent (in doubt)"),
        "state_pending": ("待重试", "to retry"),
        "state_claimed": ("发送中", "sending"),
        "state_sending": ("发送中", "sending"),
        "web": ("网页版（阅读原文）：{url}", "On the web: {url}"),
        "no_sender": ("没有 {platform} 的发送通道（适配器未运行）", "no {platform} sender running"),
    }
)


@dataclass(frozen=True)
class DeliveryStatus:
    """Where one chat's delivery stands."""

    platform: str
    chat_id: str
    state: str
    parts_sent: int
    parts_total: int
    attempts: int
    last_error: str | None
    doubtful_part: int | None

    @property
    def done(self) -> bool:
        return self.state in TERMINAL


@dataclass
class PublishReport:
    """What :meth:`Publisher.publish` did; ``status`` is the issue's status afterwards."""

    group_slug: str
    issue_id: int
    number: int
    status: str
    deliveries: list[DeliveryStatus] = field(default_factory=list)
    parts_sent_now: int = 0
    web_url: str | None = None
    #: this run sent nothing: another run published the issue or is publishing it
    by_another_run: bool = False

    @property
    def published(self) -> bool:
        return self.status == "published"

    @property
    def uncertain(self) -> list[DeliveryStatus]:
        return [d for d in self.deliveries if d.state == "uncertain"]

    def summary(self, lang: str = "zh") -> str:
        """A short zh/en text for admins."""
        if self.status == "empty":
            return MSG.get("empty", lang, n=self.number)
        if not self.deliveries:
            return MSG.get("no_chats", lang, n=self.number)
        key = "published" if self.published else "partial"
        if self.by_another_run:
            key = "elsewhere_done" if self.published else "elsewhere_busy"
        lines = [MSG.get(key, lang, n=self.number)]
        if self.web_url:
            lines.append(MSG.get("web", lang, url=self.web_url))
        if key == "elsewhere_done":
            return "\n".join(lines)
        for d in self.deliveries:
            line = MSG.get(
                "line",
                lang,
                chat=f"{d.platform}:{d.chat_id}",
                state=MSG.get(f"state_{d.state}", lang) if f"state_{d.state}" in MSG else d.state,
                sent=d.parts_sent,
                total=d.parts_total,
            )
            if d.last_error and not d.done:
                line += MSG.get("error", lang, error=d.last_error[:200])
            lines.append(line)
            if d.doubtful_part is not None:
                lines.append(MSG.get("doubt", lang, part=d.doubtful_part + 1))
        return "\n".join(lines)


def delivery_status(row: DigestDelivery) -> DeliveryStatus:
    """One delivery row as a :class:`DeliveryStatus`."""
    return DeliveryStatus(
        platform=row.platform,
        chat_id=row.chat_id,
        state=row.state,
        parts_sent=row.parts_sent,
        parts_total=len(row.parts or []),
        attempts=row.attempts,
        last_error=row.last_error,
        doubtful_part=row.doubtful_part,
    )


def published_just_before(
    session: Session, current: DigestIssue, now: datetime, lang: str
) -> str | None:
    """What a run that would publish ``current`` early, but finds it empty, says of the issue
    before it when another run has just closed it: 「第N期已由另一次发布发出…」 (published
    within :data:`JUST_NOW` of ``now``) or 「第N期正由另一次发布发送中…」 (publishing, or a
    draft closed within :data:`JUST_NOW`); else None."""
    before = session.scalars(
        select(DigestIssue)
        .where(
            DigestIssue.group_id == current.group_id,
            DigestIssue.status.in_(("published", "publishing", "draft")),
            DigestIssue.period_end <= current.period_start,
        )
        .order_by(DigestIssue.period_end.desc())
        .limit(1)
    ).first()
    if before is None:
        return None
    if before.status == "publishing":
        return MSG.get("elsewhere_busy", lang, n=before.number)
    # a draft closed a moment ago: the run that closed it is about to freeze and send it
    moment = before.published_at if before.status == "published" else before.period_end
    if moment is None:
        return None
    if moment.tzinfo is None:  # SQLite gives naive UTC
        moment = moment.replace(tzinfo=UTC)
    if now - moment > JUST_NOW:
        return None
    key = "elsewhere_done" if before.status == "published" else "elsewhere_busy"
    return MSG.get(key, lang, n=before.number)
