"""Publish a digest issue to every digest chat of its group, exactly once per (issue, chat).

The rule ("published late, never twice"):

1. **Freeze.** The first publish attempt renders the issue once and stores it: the issue goes
   ``draft -> publishing`` (conditional UPDATE, so one publisher wins) with its Markdown and
   HTML, and one :class:`~storage.models.DigestDelivery` per chat is created holding the
   rendered parts. Retries send exactly those parts, even if members edit notes meanwhile.
2. **Claim.** A publisher owns a delivery after a conditional UPDATE
   (``pending -> claimed`` with a fresh ``owner`` token, compared on state/attempts/parts_sent)
   that changed one row. Two processes never both own it.
3. **Each part:** commit ``claimed -> sending`` *before* calling the sender, then commit
   ``parts_sent += 1`` (``sending -> claimed``, or ``sent`` after the last part) once the sender
   returned. A sender exception means "not delivered" (the Sender contract): the delivery goes
   back to ``pending`` with ``last_error`` and is retried later from the same part.
4. **Crash.** A delivery left ``claimed``/``sending`` by a publisher that died is taken over
   after its lease (:data:`LEASE`, refreshed at every step) expires. ``claimed`` resumes at the
   next unconfirmed part. ``sending`` means one part was in flight: it may or may not have
   arrived, so it is **never resent**: it is recorded in ``doubtful_part``, sending resumes
   with the part after it, and the delivery ends ``uncertain`` instead of ``sent``; the
   report lists it so admins can check that chat.
5. **Done.** When every delivery is ``sent`` or ``uncertain`` the issue becomes ``published``.

No database session is held across an ``await``: every state change is its own short
transaction whose first statement is the write (safe with SQLite's single writer).
An issue with no papers, notes or questions is not sent; it is marked ``empty``.
"""

from __future__ import annotations

import html
import logging
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from bot.adapters.base import Sender
from bot.config import Config, GroupConfig
from bot.i18n import Messages
from bot.model import ChatRef, Outgoing, Reply, utcnow
from digest.build import build_digest
from digest.model import Digest
from digest.render import render_html, render_markdown, render_telegram, render_wechat
from storage.db import Database
from storage.models import DigestDelivery, DigestIssue

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
TERMINAL = ("sent", "uncertain")
ISSUE_HOME_URL = "../"  # the issue page's link to the index, relative (server and export)
ISSUE_FEED_URL = "../atom.xml"

MSG = Messages(
    {
        "published": ("第{n}期已发布 ✅", "Issue {n} published ✅"),
        "partial": (
            "第{n}期尚未发完，失败的会自动重试：",
            "Issue {n} is not fully delivered yet; failed chats are retried automatically:",
        ),
        "empty": (
            "第{n}期没有任何内容（论文、心得、提问都没有），不发布。",
            "Issue {n} has no papers, notes or questions; nothing was published.",
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


def issue_url(config: Config, number: int) -> str:
    """The issue's page on the web archive: the WeChat 阅读原文 link."""
    return f"{config.web.base_url.rstrip('/')}/issues/{number}"


_LINK = re.compile(r'<a\s+href="([^"]*)"[^>]*>(.*?)</a>', re.S)
_TAG = re.compile(r"<[^>]+>")


def html_to_text(part: str) -> str:
    """A plain-text fallback of a Telegram HTML part: tags dropped, links as ``text (url)``."""

    def link(match: re.Match[str]) -> str:
        url, label = html.unescape(match.group(1)), _TAG.sub("", match.group(2))
        label = html.unescape(label)
        return label if label.strip() == url else f"{label} ({url})"

    return html.unescape(_TAG.sub("", _LINK.sub(lambda m: html.escape(link(m)), part)))


def render_parts(d: Digest, platform: str, config: Config) -> list[dict[str, str | None]]:
    """The messages a chat on ``platform`` gets: [{"text": plain, "html": telegram-html}]."""
    if platform == "telegram":
        return [{"text": html_to_text(p), "html": p} for p in render_telegram(d)]
    if platform == "wechat":
        return [
            {"text": p, "html": None}
            for p in render_wechat(d, max_chars=config.wechat.max_text_chars)
        ]
    return [{"text": render_markdown(d), "html": None}]


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
        lines = [MSG.get(key, lang, n=self.number)]
        if self.web_url:
            lines.append(MSG.get("web", lang, url=self.web_url))
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


def group_config(config: Config, slug: str) -> GroupConfig:
    for group in config.groups:
        if group.slug == slug:
            return group
    raise LookupError(f"no group {slug!r} in config")


class Publisher:
    """Sends digest issues through ``senders`` (platform -> Sender), exactly once per chat."""

    def __init__(
        self,
        db: Database,
        config: Config,
        senders: Mapping[str, Sender],
        clock: Callable[[], datetime] = utcnow,
        *,
        lease: timedelta = LEASE,
    ) -> None:
        self.db = db
        self.config = config
        self.senders = senders
        self.clock = clock
        self.lease = lease

    async def publish(self, group_slug: str, issue_id: int) -> PublishReport:
        """Send ``issue_id`` to every digest chat not served yet; safe to call any time."""
        gconf = group_config(self.config, group_slug)
        if self._freeze(gconf, issue_id) == "empty":
            return self.report(group_slug, issue_id)
        sent = 0
        for delivery_id in self._open_deliveries(issue_id):
            sent += await self._deliver(delivery_id, gconf)
        self._finish(issue_id)
        report = self.report(group_slug, issue_id)
        report.parts_sent_now = sent
        return report

    # -- freeze ------------------------------------------------------------------------------
    def _freeze(self, gconf: GroupConfig, issue_id: int) -> str:
        """Render once and create the deliveries; returns the issue status."""
        targets = [c for c in gconf.chats if c.digest]
        with self.db.session() as s:
            issue = s.get(DigestIssue, issue_id)
            if issue is None:
                raise LookupError(f"no digest issue {issue_id}")
            status = issue.status
            if status in ("published", "empty"):
                return status
            have = {
                (platform, chat_id)
                for platform, chat_id in s.execute(
                    select(DigestDelivery.platform, DigestDelivery.chat_id).where(
                        DigestDelivery.issue_id == issue_id
                    )
                )
            }
            missing = [c for c in targets if (c.platform, c.chat_id) not in have]
            if status != "draft" and not missing:
                return status
            d = build_digest(s, issue, self.config, web_url=issue_url(self.config, issue.number))
        if status == "draft" and d.is_empty:
            with self.db.session() as s:
                s.execute(
                    update(DigestIssue)
                    .where(DigestIssue.id == issue_id, DigestIssue.status == "draft")
                    .values(status="empty")
                )
            return "empty"
        now = self.clock()
        with self.db.session() as s:
            if status == "draft":
                won = _rowcount(
                    s.execute(
                        update(DigestIssue)
                        .where(DigestIssue.id == issue_id, DigestIssue.status == "draft")
                        .values(
                            status="publishing",
                            markdown=render_markdown(d),
                            html=render_html(d, home_url=ISSUE_HOME_URL, feed_url=ISSUE_FEED_URL),
                        )
                    )
                )
                if won != 1:  # another publisher froze it first (and made its deliveries)
                    return "publishing"
            for chat in missing:
                try:
                    with s.begin_nested():
                        s.add(
                            DigestDelivery(
                                issue_id=issue_id,
                                platform=chat.platform,
                                chat_id=chat.chat_id,
                                state="pending",
                                parts_sent=0,
                                attempts=0,
                                parts=render_parts(d, chat.platform, self.config),
                                updated_at=now,
                            )
                        )
                        s.flush()
                except IntegrityError:  # created concurrently
                    pass
        return "publishing"

    def _open_deliveries(self, issue_id: int) -> list[int]:
        with self.db.session() as s:
            return list(
                s.scalars(
                    select(DigestDelivery.id)
                    .where(
                        DigestDelivery.issue_id == issue_id,
                        DigestDelivery.state.not_in(TERMINAL),
                    )
                    .order_by(DigestDelivery.id)
                )
            )

    # -- one chat ----------------------------------------------------------------------------
    def _set(self, delivery_id: int, where: dict[str, Any], **values: Any) -> bool:
        """A conditional UPDATE of one delivery; True when it changed the row."""
        values.setdefault("updated_at", self.clock())
        stmt = update(DigestDelivery).where(DigestDelivery.id == delivery_id)
        for column, expected in where.items():
            stmt = stmt.where(getattr(DigestDelivery, column) == expected)
        with self.db.session() as s:
            return _rowcount(s.execute(stmt.values(**values))) == 1

    def _claim(self, delivery_id: int, token: str) -> DigestDelivery | None:
        """Own the delivery (pending, or abandoned past its lease); None if someone else has it."""
        with self.db.session() as s:
            row = s.get(DigestDelivery, delivery_id)
        if row is None or row.state in TERMINAL:
            return None
        if row.state in ("claimed", "sending") and row.updated_at > self.clock() - self.lease:
            return None  # a live publisher is on it
        values: dict[str, Any] = {"state": "claimed", "owner": token, "attempts": row.attempts + 1}
        parts_sent = row.parts_sent
        if row.state == "sending":  # the previous owner died with this part in flight
            # one part can be in doubt per crash; the first one stays on record
            values["doubtful_part"] = (
                row.doubtful_part if row.doubtful_part is not None else row.parts_sent
            )
            values["last_error"] = (
                f"part {row.parts_sent + 1} was in flight when the publisher stopped; not resent"
            )
            parts_sent = row.parts_sent + 1
            values["parts_sent"] = parts_sent
            if parts_sent >= len(row.parts or []):
                values["state"] = "uncertain"
        expected = {"state": row.state, "attempts": row.attempts, "parts_sent": row.parts_sent}
        if not self._set(delivery_id, expected, **values):
            return None
        if row.state == "sending":
            log.warning("digest delivery %s: part %s in doubt, not resent", delivery_id, parts_sent)
        row.parts_sent, row.state = parts_sent, values["state"]
        row.doubtful_part = values.get("doubtful_part", row.doubtful_part)
        return row

    async def _deliver(self, delivery_id: int, gconf: GroupConfig) -> int:
        """Send the unconfirmed parts of one delivery; returns how many parts were sent."""
        sender = None
        with self.db.session() as s:
            row = s.get(DigestDelivery, delivery_id)
            if row is not None:
                sender = self.senders.get(row.platform)
        if row is None:
            return 0
        if sender is None:
            error = MSG.get("no_sender", self.config.language, platform=row.platform)
            self._set(delivery_id, {"state": "pending"}, last_error=error)
            return 0
        token = uuid.uuid4().hex
        claimed = self._claim(delivery_id, token)
        if claimed is None or claimed.state in TERMINAL:
            return 0
        parts = claimed.parts or []
        chat = ChatRef(claimed.platform, claimed.chat_id, "group", gconf.name)
        done = 0
        for index in range(claimed.parts_sent, len(parts)):
            mine = {"owner": token, "state": "claimed", "parts_sent": index}
            if not self._set(delivery_id, mine, state="sending"):
                log.warning("digest delivery %s: lost the claim; stopping", delivery_id)
                return done
            part = parts[index]
            try:
                await sender.send(Outgoing(chat, Reply(text=part["text"] or "", html=part["html"])))
            except Exception as error:  # the sender says: not delivered
                log.warning("digest delivery %s part %s failed: %s", delivery_id, index + 1, error)
                self._set(
                    delivery_id,
                    {"owner": token, "state": "sending"},
                    state="pending",
                    owner=None,
                    last_error=f"{type(error).__name__}: {error}"[:1000],
                )
                return done
            last = index + 1 == len(parts)
            final = "uncertain" if claimed.doubtful_part is not None else "sent"
            self._set(
                delivery_id,
                {"owner": token, "state": "sending", "parts_sent": index},
                state=final if last else "claimed",
                parts_sent=index + 1,
                owner=None if last else token,
            )
            done += 1
        if not parts:
            self._set(delivery_id, {"owner": token, "state": "claimed"}, state="sent", owner=None)
        return done

    # -- completion --------------------------------------------------------------------------
    def _finish(self, issue_id: int) -> None:
        with self.db.session() as s:
            states = list(
                s.scalars(select(DigestDelivery.state).where(DigestDelivery.issue_id == issue_id))
            )
        if states and all(state in TERMINAL for state in states):
            with self.db.session() as s:
                s.execute(
                    update(DigestIssue)
                    .where(DigestIssue.id == issue_id, DigestIssue.status == "publishing")
                    .values(status="published", published_at=self.clock())
                )

    def report(self, group_slug: str, issue_id: int) -> PublishReport:
        """The issue's status and every delivery's state, read from the database."""
        with self.db.session() as s:
            issue = s.get(DigestIssue, issue_id)
            if issue is None:
                raise LookupError(f"no digest issue {issue_id}")
            rows = s.scalars(
                select(DigestDelivery)
                .where(DigestDelivery.issue_id == issue_id)
                .order_by(DigestDelivery.id)
            ).all()
            return PublishReport(
                group_slug=group_slug,
                issue_id=issue_id,
                number=issue.number,
                status=issue.status,
                deliveries=[delivery_status(r) for r in rows],
                web_url=issue_url(self.config, issue.number) if issue.html else None,
            )


def _rowcount(result: Any) -> int:
    """Rows changed by an UPDATE (a CursorResult's rowcount)."""
    return int(result.rowcount)


def delivery_status(row: DigestDelivery) -> DeliveryStatus:
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
