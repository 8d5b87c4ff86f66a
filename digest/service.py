"""The digest service: publish (admin or scheduler), retry, preview to admins.

``bot.app.build_app`` builds one :class:`DigestService` per app (``app.digest``) from the
database, the config, the app's senders and its clock; handlers reach ``publish_digest``
through ``ctx.services``, the scheduler's jobs and the command line through ``app.digest``.

Senders are looked up in ``senders`` (the app's own dict) at call time: adapters register
after the app is built.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.clubtime import PeriodError
from bot.config import Config
from bot.model import ChatRef, Outgoing, Reply
from bot.platform import Sender
from digest.mp_draft import MpDrafts
from digest.periods import ensure_issue, issue_ending_at_or_before
from digest.preview import digest_of, preview_replies
from digest.publish import Publisher, group_config
from digest.publish_report import PublishReport, published_just_before
from storage.db import Database
from storage.identity import ensure_group
from storage.models import DigestIssue, Group

log = logging.getLogger(__name__)


def close_early(session: Session, issue: DigestIssue, now: datetime) -> None:
    """Publishing a draft before its period ends closes the period now (the next issue
    starts here, so nothing sent later is lost).

    A conditional UPDATE: when two runs close the same draft at once, the one that comes
    second keeps the first one's end (a plain assignment moved the end past the next issue's
    start, so their periods overlapped)."""
    end = now + timedelta(microseconds=1)  # what was sent up to this moment is in
    if issue.status == "draft" and issue.period_start < end < issue.period_end:
        session.execute(
            update(DigestIssue)
            .where(
                DigestIssue.id == issue.id,
                DigestIssue.status == "draft",
                DigestIssue.period_end == issue.period_end,
            )
            .values(period_end=end)
            .execution_options(synchronize_session=False)
        )
        session.refresh(issue)


NOTICE_WINDOW = 5.0  # seconds: publish notices after the first are summarised together
MAX_NOTICE_LINES = 30


class DigestService:
    """Publishing and previews for every configured group of one app."""

    def __init__(
        self,
        db: Database,
        config: Config,
        senders: Mapping[str, Sender],
        clock: Callable[[], datetime],
        *,
        mp_drafts: MpDrafts | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.senders = senders  # the app's dict: adapters add themselves when they start
        self.clock = clock
        self.mp_drafts = mp_drafts  # published issues become 公众号 drafts when configured
        self._notices: list[str] = []  # publish notices waiting for the summary
        self._notice_task: asyncio.Task[None] | None = None

    def lang(self, slug: str) -> str:
        """The language of group ``slug`` (admins of that group read the summaries)."""
        return self.config.group_language(slug)

    def publisher(self) -> Publisher:
        return Publisher(self.db, self.config, self.senders, self.clock)

    def _group(self, slug: str) -> int:
        gconf = group_config(self.config, slug)
        with self.db.session() as s:
            return ensure_group(s, gconf.slug, gconf.name, gconf.timezone).id

    # -- publishing ----------------------------------------------------------------------
    async def publish_issue(self, slug: str, issue_id: int) -> PublishReport:
        report = await self.publisher().publish(slug, issue_id)
        drafts = self.mp_drafts
        if report.published and drafts is not None and slug == drafts.slug:
            await self.push_mp_draft(report.number)
        return report

    async def push_mp_draft(self, number: int | None = None, *, force: bool = False) -> str:
        """The 公众号 draft of issue ``number`` (default: the latest published): made once,
        updated after a rebuild; admins hear when it did not work. Returns the summary."""
        drafts = self.mp_drafts
        if drafts is None:
            return (
                "没有配置公众号（mp.app_id / mp.app_secret），无法生成草稿。"
                if self.config.language == "zh"
                else "No 公众号 is configured (mp.app_id / mp.app_secret): no draft."
            )
        result = await drafts.push(number, force=force)
        summary = str(result.summary(self.lang(drafts.slug)))
        if result.status in ("failed", "uncertain"):
            await self.notify_admins(summary)
        return summary

    async def publish_digest(self, slug: str, number: int | None = None) -> str:
        """Publish issue ``number`` (default: the latest closed unpublished one); a summary."""
        issue_id = await self.db.run(self._issue_to_publish, slug, number)
        if issue_id is None:
            return (
                "没有待发布的周报。"
                if self.lang(slug) == "zh"
                else "No digest waiting to be published."
            )
        report = await self.publish_issue(slug, issue_id)
        return report.summary(self.lang(slug))

    def _issue_to_publish(self, slug: str, number: int | None) -> int | None:
        group_id = self._group(slug)
        cron = self.config.digest.cron
        with self.db.session() as s:
            if number is None:
                group = s.get(Group, group_id)
                assert group is not None
                try:
                    found = issue_ending_at_or_before(s, group, self.clock(), cron)
                except PeriodError:
                    found = None
            else:
                found = s.scalars(
                    select(DigestIssue).where(
                        DigestIssue.group_id == group_id, DigestIssue.number == number
                    )
                ).first()
            return found.id if found is not None else None

    async def publish_now(self, slug: str) -> str:
        """Publish the current period at once (closing it now); a summary."""
        issue_id, number, draft = await self.db.run(self._current_issue, slug)
        # building the digest reads the whole week: in a thread of its own, not the database's
        if draft and await asyncio.to_thread(self._is_empty, issue_id):
            nothing = (
                f"第{number}期还没有任何内容，不发布。"
                if self.lang(slug) == "zh"
                else f"Issue {number} has nothing in it yet; not published."
            )
            # a concurrent run may have closed the period a moment ago
            elsewhere = await self.db.run(self._just_before, issue_id, self.lang(slug))
            return nothing if elsewhere is None else f"{elsewhere}\n{nothing}"
        if draft:
            await self.db.run(self._close_early, issue_id)
        report = await self.publish_issue(slug, issue_id)
        return report.summary(self.lang(slug))

    def _current_issue(self, slug: str) -> tuple[int, int, bool]:
        """The current period's issue (made if missing): id, number, whether a draft."""
        group_id = self._group(slug)
        with self.db.session() as s:
            group = s.get(Group, group_id)
            assert group is not None
            issue = ensure_issue(s, group, self.clock(), self.config.digest.cron)
            return issue.id, issue.number, issue.status == "draft"

    def _is_empty(self, issue_id: int) -> bool:
        with self.db.session() as s:
            issue = s.get(DigestIssue, issue_id)
            return issue is None or digest_of(s, issue, self.config).is_empty

    def _just_before(self, issue_id: int, lang: str) -> str | None:
        with self.db.session() as s:
            issue = s.get(DigestIssue, issue_id)
            return None if issue is None else published_just_before(s, issue, self.clock(), lang)

    def _close_early(self, issue_id: int) -> None:
        with self.db.session() as s:
            issue = s.get(DigestIssue, issue_id)
            if issue is not None:
                close_early(s, issue, self.clock())

    async def publish_due(self, slug: str) -> list[PublishReport]:
        """Scheduler: publish every closed, unpublished issue (the one that just ended
        is created if missing), oldest first; admins get the summaries."""
        return await self._publish_all(slug, await self.db.run(self._due, slug))

    def _due(self, slug: str) -> list[int]:
        group_id = self._group(slug)
        now = self.clock()
        with self.db.session() as s:
            group = s.get(Group, group_id)
            assert group is not None
            try:
                issue_ending_at_or_before(s, group, now, self.config.digest.cron)
            except PeriodError:
                pass
            ids = list(
                s.scalars(
                    select(DigestIssue.id)
                    .where(
                        DigestIssue.group_id == group_id,
                        DigestIssue.period_end <= now,
                        DigestIssue.status.in_(("draft", "publishing")),
                    )
                    .order_by(DigestIssue.number)
                )
            )
        return ids

    async def retry(self, slug: str) -> list[PublishReport]:
        """Scheduler: finish issues whose publishing started but did not complete."""
        ids = await self.db.run(self._unfinished, slug)
        return await self._publish_all(slug, ids, quiet_failures=True)

    def _unfinished(self, slug: str) -> list[int]:
        group_id = self._group(slug)
        with self.db.session() as s:
            return list(
                s.scalars(
                    select(DigestIssue.id)
                    .where(DigestIssue.group_id == group_id, DigestIssue.status == "publishing")
                    .order_by(DigestIssue.number)
                )
            )

    async def _publish_all(
        self, slug: str, ids: list[int], *, quiet_failures: bool = False
    ) -> list[PublishReport]:
        """Publish each issue; admins hear about progress, and about failures unless quiet
        (the retry job runs every few minutes: it reports only when something was sent)."""
        reports = []
        for issue_id in ids:
            report = await self.publish_issue(slug, issue_id)
            reports.append(report)
            if report.parts_sent_now or (not report.published and not quiet_failures):
                await self.publish_notice(report.summary(self.lang(slug)))
        return reports

    async def publish_notice(self, text: str) -> None:
        """Tell admins how a publish went; when many groups publish at one cron fire, the
        notices of ``NOTICE_WINDOW`` seconds after the first come as ONE summary, not one
        private message per group."""
        if self._notice_task is None or self._notice_task.done():
            self._notice_task = asyncio.get_running_loop().create_task(
                self._summarise_notices(), name="digest-notices"
            )
            await self.notify_admins(text)
            return
        self._notices.append(text)

    async def _summarise_notices(self) -> None:
        await asyncio.sleep(NOTICE_WINDOW)
        notices, self._notices = self._notices, []
        if len(notices) == 1:
            await self.notify_admins(notices[0])
        elif notices:
            head = (
                f"📰 另有 {len(notices)} 个群的周报发布结果："
                if self.config.language == "zh"
                else f"📰 Publishing results of {len(notices)} more groups:"
            )
            lines = [f"• {' '.join(notice.split())}" for notice in notices[:MAX_NOTICE_LINES]]
            if len(notices) > MAX_NOTICE_LINES:
                more = len(notices) - MAX_NOTICE_LINES
                lines.append(f"… 还有 {more} 个群" if self.config.language == "zh" else f"… {more} more")
            await self.notify_admins("\n".join([head, *lines]))

    # -- previews and admin notices -------------------------------------------------------
    def preview(self, slug: str) -> list[Reply]:
        """The current period's numbered preview (creates the issue if needed)."""
        group_id = self._group(slug)
        with self.db.session() as s:
            group = s.get(Group, group_id)
            assert group is not None
            issue = ensure_issue(s, group, self.clock(), self.config.digest.cron)
            return preview_replies(s, issue, self.config)

    async def send_preview(self, slug: str) -> int:
        """Send the current preview to every admin we can reach; returns messages sent."""
        sent = 0
        for reply in self.preview(slug):
            sent += await self.notify_admins(reply.text, html=reply.html)
        return sent

    def admin_chats(self) -> list[ChatRef]:
        """Private chats of config admins on platforms that have a running sender."""
        chats = []
        for admin in self.config.admins:
            platform, user_id = admin.split(":", 1)
            if platform in self.senders:
                chats.append(ChatRef(platform, user_id, "private", user_id))
        return chats

    async def notify_admins(self, text: str, *, html: str | None = None) -> int:
        """Tell every reachable admin privately; failures are logged, never raised."""
        sent = 0
        for chat in self.admin_chats():
            try:
                await self.senders[chat.platform].send(  # after answers and digests
                    Outgoing(chat, Reply(text=text, html=html, kind="notice"))
                )
                sent += 1
            except Exception:
                log.exception("could not notify admin %s:%s", chat.platform, chat.chat_id)
        return sent
