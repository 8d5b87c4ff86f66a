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
transaction whose first statement is the write (safe with SQLite's single writer), run in the
database's worker thread (:meth:`storage.db.Database.run`); building and rendering the issue
runs in a thread of its own. Nothing of a publish runs on the event loop, so members' replies
never wait for it.
An issue with no papers, notes or questions is not sent; it is marked ``empty``.

The pieces live in helper modules: :mod:`digest.publish_parts` (what each platform's chats are
sent), :mod:`digest.publish_claims` (the conditional UPDATEs of steps 2-5) and
:mod:`digest.publish_report` (the status report and its texts). This module freezes issues and
sends the parts; its public names, and those of the helpers, are importable from here.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from bot.config import Config, GroupConfig
from bot.model import ChatRef, Outgoing, Reply, utcnow
from bot.platform import Sender
from digest.budget import fit_markdown
from digest.build import build_digest
from digest.periods import give_up_number
from digest.publish_claims import LEASE, TERMINAL, DeliveryClaims, rowcount
from digest.publish_parts import (
    ISSUE_FEED_URL,
    ISSUE_HOME_URL,
    issue_url,
    render_parts,
)
from digest.publish_report import MSG, PublishReport, delivery_status
from digest.render import render_html
from storage.db import Database
from storage.models import DigestDelivery, DigestIssue

log = logging.getLogger(__name__)


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
        self.claims = DeliveryClaims(db, clock, lease)

    async def publish(self, group_slug: str, issue_id: int) -> PublishReport:
        """Send ``issue_id`` to every digest chat not served yet; safe to call any time."""
        gconf = group_config(self.config, group_slug)
        # building and rendering a busy week takes 0.2-0.5 s: off the event loop
        frozen = await asyncio.to_thread(self._freeze, gconf, issue_id)
        if frozen == "empty":
            return await self.db.run(self.report, group_slug, issue_id)
        sent = 0
        for delivery_id in await self.db.run(self.claims.open_deliveries, issue_id):
            sent += await self._deliver(delivery_id, gconf)
        await self.db.run(self.claims.finish, issue_id)
        report = await self.db.run(self.report, group_slug, issue_id)
        report.parts_sent_now = sent
        # another run (a second ``publish --now``, the scheduler) froze or sent this issue:
        # this one sent nothing and must not read as a partial delivery of its own
        in_flight = any(d.state in ("claimed", "sending") for d in report.deliveries)
        report.by_another_run = in_flight or (frozen != "froze" and sent == 0 and report.published)
        if sent:  # what an operator reads at -v: where this run published, what is left
            where = ", ".join(
                f"{d.platform}:{d.chat_id} {d.state} {d.parts_sent}/{d.parts_total}"
                for d in report.deliveries
            )
            log.info(
                "digest %s issue %s: %d part(s) sent now, %s (%s)",
                group_slug,
                report.number,
                sent,
                report.status,
                where,
            )
        return report

    # -- freeze ------------------------------------------------------------------------------
    def _freeze(self, gconf: GroupConfig, issue_id: int) -> str:
        """Render once and create the deliveries; returns the issue status, ``froze`` when
        this run turned the draft into ``publishing``."""
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
            url = issue_url(self.config, issue.number, gconf.slug)
            d = build_digest(s, issue, self.config, web_url=url)
        if status == "draft" and d.is_empty:
            with self.db.session() as s:
                skipped = s.execute(
                    update(DigestIssue)
                    .where(DigestIssue.id == issue_id, DigestIssue.status == "draft")
                    .values(status="empty")
                )
                if rowcount(skipped) == 1:  # no gap: the next issue takes its number
                    empty = s.get(DigestIssue, issue_id)
                    assert empty is not None
                    give_up_number(s, empty)
            return "empty"
        now = self.clock()
        # everything rendered before the write transaction opens (it holds SQLite's write lock)
        draft = status == "draft"
        markdown = fit_markdown(d, self.config).parts[0] if draft else None
        page = render_html(d, home_url=ISSUE_HOME_URL, feed_url=ISSUE_FEED_URL) if draft else None
        parts = {chat.platform: render_parts(d, chat.platform, self.config) for chat in missing}
        with self.db.session() as s:
            if status == "draft":
                won = rowcount(
                    s.execute(
                        update(DigestIssue)
                        .where(DigestIssue.id == issue_id, DigestIssue.status == "draft")
                        .values(status="publishing", markdown=markdown, html=page)
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
                                parts=parts[chat.platform],
                                updated_at=now,
                            )
                        )
                        s.flush()
                except IntegrityError:  # created concurrently
                    pass
        return "froze" if draft else "publishing"

    # -- one chat ----------------------------------------------------------------------------
    async def _deliver(self, delivery_id: int, gconf: GroupConfig) -> int:
        """Send the unconfirmed parts of one delivery; returns how many parts were sent."""
        row = await self.db.run(self._delivery, delivery_id)
        sender = None if row is None else self.senders.get(row.platform)
        if row is None:
            return 0
        if sender is None:
            error = MSG.get(
                "no_sender", gconf.language or self.config.language, platform=row.platform
            )
            await self.db.run(self.claims.set, delivery_id, {"state": "pending"}, last_error=error)
            return 0
        token = uuid.uuid4().hex
        claimed = await self.db.run(self.claims.claim, delivery_id, token)
        if claimed is None or claimed.state in TERMINAL:
            return 0
        parts = claimed.parts or []
        chat = ChatRef(claimed.platform, claimed.chat_id, "group", gconf.name)
        done = 0
        for index in range(claimed.parts_sent, len(parts)):
            mine = {"owner": token, "state": "claimed", "parts_sent": index}
            if not await self.db.run(self.claims.set, delivery_id, mine, state="sending"):
                log.warning("digest delivery %s: lost the claim; stopping", delivery_id)
                return done
            part = parts[index]
            try:
                await sender.send(Outgoing(chat, Reply(text=part["text"] or "", html=part["html"])))
            except Exception as error:  # the sender says: not delivered
                log.warning("digest delivery %s part %s failed: %s", delivery_id, index + 1, error)
                await self.db.run(
                    self.claims.set,
                    delivery_id,
                    {"owner": token, "state": "sending"},
                    state="pending",
                    owner=None,
                    last_error=f"{type(error).__name__}: {error}"[:1000],
                )
                return done
            last = index + 1 == len(parts)
            final = "uncertain" if claimed.doubtful_part is not None else "sent"
            await self.db.run(
                self.claims.set,
                delivery_id,
                {"owner": token, "state": "sending", "parts_sent": index},
                state=final if last else "claimed",
                parts_sent=index + 1,
                owner=None if last else token,
            )
            done += 1
        if not parts:
            mine = {"owner": token, "state": "claimed"}
            await self.db.run(self.claims.set, delivery_id, mine, state="sent", owner=None)
        return done

    def _delivery(self, delivery_id: int) -> DigestDelivery | None:
        with self.db.session() as s:
            return s.get(DigestDelivery, delivery_id)

    # -- report ------------------------------------------------------------------------------
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
            number = issue.number
            if number < 0:  # skipped: the number it gave up (now the next issue's)
                number = 1 + (
                    s.scalar(
                        select(func.count()).where(
                            DigestIssue.group_id == issue.group_id,
                            DigestIssue.number > 0,
                            DigestIssue.period_start < issue.period_start,
                        )
                    )
                    or 0
                )
            return PublishReport(
                group_slug=group_slug,
                issue_id=issue_id,
                number=number,
                status=issue.status,
                deliveries=[delivery_status(r) for r in rows],
                web_url=issue_url(self.config, issue.number, group_slug) if issue.html else None,
            )
