"""Weekly check-in reminders: name the members who have not checked in yet this week.

Who is named: members with at least one check-in in the group during the last
:data:`LOOKBACK_WEEKS` weeks, none yet this week, and not away (an away period running now, or
one that excuses this week). Newcomers who never checked in are not nagged.

Where: every chat of the group with ``reminders: true``, as one message naming each of them
once: members on that chat's platform by a real mention (``mention_user_ids``, rendered by the
adapter; at most :data:`MAX_NAMES`), the others by name. ``reminders.mentions: none`` names
everyone without mentioning (no group notification; DMs still go out per ``reminders.dm``). With ``reminders.dm`` each named
member on a platform where the bot can write first (console, WeChat) also gets a private
message; on Telegram a bot may only write to users who started it, so none is sent there.

When: ``reminders.cron`` in the group's timezone. The week is the club week (the digest
period the reminder is due in). Inside ``reminders.quiet_hours`` (e.g. ``23:00-08:00``, local)
the reminder is postponed to the end of the quiet hours if that is still inside its week, and
dropped otherwise; it concerns the week it was due in, and DMs show the streak for that week.
A run missed while the bot was down is caught up within :data:`REMINDER_GRACE`, never once
its week has ended.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import clubtime
from bot.clubtime import PeriodError, cron_periods, next_allowed_time
from bot.config import Config
from bot.i18n import Messages
from bot.model import ChatRef, Outgoing, Reply
from digest.jobs import JobContext, bound
from digest.periods import ClubWeek, club_week
from storage import engagement, engagement_away
from storage.identity import ensure_group
from storage.models import CheckIn, Group, Member

log = logging.getLogger(__name__)

LOOKBACK_WEEKS = 8
MAX_NAMES = 50
DM_PLATFORMS = ("console", "wechat")
JOB_PREFIX = "studybot-reminders"
#: A reminder missed while the bot was down is still sent if it starts within this (seconds).
REMINDER_GRACE = 3600

MSG = Messages(
    {
        "group": (
            "⏰ 本周打卡提醒：{names} 本周还没有提交学习心得哦～\n"
            "发送 /checkin <心得> 或 #打卡 <心得> 记录；要请假请发 /away 2w。",
            "⏰ Weekly check-in reminder: {names}, no learning notes from you this week yet.\n"
            "Send /checkin <notes> or #打卡 <notes>; going away? Send /away 2w.",
        ),
        "mentioned": (
            "⏰ 本周打卡提醒：以上同学本周还没有提交学习心得哦～{others}\n"
            "发送 /checkin <心得> 或 #打卡 <心得> 记录；要请假请发 /away 2w。",
            "⏰ Weekly check-in reminder: no learning notes from the people above this week "
            "yet.{others}\nSend /checkin <notes> or #打卡 <notes>; going away? Send /away 2w.",
        ),
        "others": ("（还有：{names}）", " (also: {names})"),
        "more": ("{names} 等 {n} 人", "{names} and {n} more"),
        "dm": (
            "⏰ {name}，本周还没有收到你在「{group}」的学习心得。"
            "发送 /checkin <心得> 记录，保持连续打卡 🔥{streak} 周！",
            "⏰ {name}, no learning notes from you in “{group}” this week yet. "
            "Send /checkin <notes> to keep your 🔥{streak}-week streak!",
        ),
    }
)


# -- who and what -------------------------------------------------------------------------
def members_to_remind(
    session: Session, group: Group, week: ClubWeek, due: datetime
) -> list[Member]:
    """Recently active members without a check-in in the club ``week`` who are not away
    (at ``due``, or for that week)."""
    tz = engagement.group_tz(group)
    monday = week.key
    week_from = week.start
    lookback = week.start - timedelta(weeks=LOOKBACK_WEEKS)
    last = (
        select(CheckIn.member_id, func.max(CheckIn.created_at).label("last"))
        .where(CheckIn.group_id == group.id, CheckIn.created_at >= lookback)
        .group_by(CheckIn.member_id)
        .subquery()
    )
    candidates = list(
        session.scalars(
            select(Member)
            .join(last, last.c.member_id == Member.id)
            .where(last.c.last < week_from)
            .order_by(Member.display_name, Member.id)
        )
    )
    ids = [m.id for m in candidates]
    away_now = engagement_away.away_member_ids(session, ids, due)
    periods = engagement_away.away_periods_by_member(session, ids)
    return [
        m
        for m in candidates
        if m.id not in away_now and monday not in clubtime.away_weeks(periods.get(m.id, []), tz)
    ]


def _names(members: list[Member], lang: str) -> str:
    shown = ", ".join(m.display_name for m in members[:MAX_NAMES])
    if len(members) > MAX_NAMES:
        return MSG.get("more", lang, names=shown, n=len(members))
    return shown


def _group_reminder(
    chat: ChatRef, members: list[Member], config: Config, lang: str | None = None
) -> Outgoing:
    """One chat's reminder naming each member once: members of the chat's platform by a
    real mention (the adapter renders it, ``reminders.mentions: compact``), the others by
    name; with ``mentions: none`` everyone by name, nobody notified in the group. Written in
    ``lang`` (the group's language; default the global one)."""
    lang = lang or config.language
    mentioned: list[Member] = []
    if config.reminders.mentions == "compact":
        mentioned = [m for m in members if m.platform == chat.platform][:MAX_NAMES]
    others = [m for m in members if m not in mentioned]
    if not mentioned:
        text = MSG.get("group", lang, names=_names(others, lang))
    else:
        extra = MSG.get("others", lang, names=_names(others, lang)) if others else ""
        text = MSG.get("mentioned", lang, others=extra)
    ids = tuple(m.platform_user_id for m in mentioned)
    return Outgoing(chat=chat, reply=Reply(text), mention_user_ids=ids)


def build_reminders(
    session: Session,
    group: Group,
    config: Config,
    now: datetime,
    *,
    due: datetime | None = None,
) -> list[Outgoing]:
    """The reminder messages for ``group`` (empty when nobody needs one).

    ``due`` is when the reminder was scheduled (default ``now``): its club week (the digest
    period, :func:`digest.periods.club_week`) is the one checked, and DMs show the streak
    as it stands for that week.
    """
    group_config = next((g for g in config.groups if g.slug == group.slug), None)
    if group_config is None or not config.reminders.enabled:
        return []
    due = due or now
    week = club_week(session, group, due, config.digest.cron)
    members = members_to_remind(session, group, week, due)
    if not members:
        return []
    lang = group_config.language or config.language
    outgoing = [
        _group_reminder(
            ChatRef(chat.platform, chat.chat_id, "group", group.name), members, config, lang
        )
        for chat in group_config.chats
        if chat.reminders
    ]
    if config.reminders.dm:
        dm_members = [m for m in members if m.platform in DM_PLATFORMS]
        streaks = engagement.streaks_for_group(
            session, group, due, [m.id for m in dm_members], this_week=week.key
        )
        for m in dm_members:
            line = MSG.get(
                "dm", lang, name=m.display_name, group=group.name, streak=streaks[m.id].current
            )
            chat = ChatRef(m.platform, m.platform_user_id, "private", m.display_name)
            outgoing.append(Outgoing(chat=chat, reply=Reply(line)))
    return outgoing


# -- scheduling ---------------------------------------------------------------------------
async def send_all(jobs: JobContext, messages: list[Outgoing]) -> int:
    """Send through the app's senders; a failing or missing sender is logged. Returns #sent."""
    sent = 0
    for message in messages:
        sender = jobs.senders.get(message.chat.platform)
        if sender is None:
            log.warning("no %s sender running; reminder not sent", message.chat.platform)
            continue
        try:
            await sender.send(message)
            sent += 1
        except Exception:
            log.exception("reminder to %s:%s failed", message.chat.platform, message.chat.chat_id)
    return sent


async def run_reminders(
    group_slug: str, due_iso: str | None = None, *, jobs: JobContext | None = None
) -> int:
    """The scheduler job: build and send one group's reminders (postponed past quiet hours)."""
    jobs = bound(jobs)
    config = jobs.config
    group_config = next((g for g in config.groups if g.slug == group_slug), None)
    if group_config is None or not config.reminders.enabled:
        log.info("reminders for %s are not configured any more; skipped", group_slug)
        return 0
    now = jobs.clock()
    due = (
        datetime.fromisoformat(due_iso)
        if due_iso
        else _due_time(config, group_config.timezone, now)
    )
    with jobs.db.session() as session:
        group = ensure_group(session, group_config.slug, group_config.name, group_config.timezone)
        week_end = club_week(session, group, due, config.digest.cron).end
    if now >= week_end:
        log.info("reminders for %s due %s dropped: that week has ended", group_slug, due)
        return 0
    allowed = next_allowed_time(now, config.reminders.quiet_hours, group_config.timezone)
    if allowed >= week_end:
        log.info("reminders for %s dropped: quiet hours last until the week ends", group_slug)
        return 0
    if allowed > now and jobs.scheduler is not None:
        jobs.scheduler.add_job(
            run_reminders,
            "date",
            run_date=allowed,
            args=[group_slug, due.isoformat()],
            id=f"{JOB_PREFIX}:{group_slug}:postponed",
            replace_existing=True,
        )
        log.info("reminders for %s postponed to %s (quiet hours)", group_slug, allowed)
        return 0
    with jobs.db.session() as session:
        group = ensure_group(session, group_config.slug, group_config.name, group_config.timezone)
        messages = build_reminders(session, group, config, now, due=due)
    sent = await send_all(jobs, messages)
    log.info(
        "reminders for %s: %d of %d sent (%d group, %d private)",
        group_slug,
        sent,
        len(messages),
        sum(not m.chat.is_private for m in messages),
        sum(m.chat.is_private for m in messages),
    )
    return sent


def _due_time(config: Config, timezone: str, now: datetime) -> datetime:
    """When the reminder job now running was due: the latest ``reminders.cron`` fire at or
    before ``now`` (a run caught up after downtime is about the week it was due in)."""
    try:
        return cron_periods(config.reminders.cron, timezone).last_end_at_or_before(now)
    except PeriodError:
        return now


def register_reminder_job(scheduler: Any, jobs: JobContext) -> list[str]:
    """Add one cron job per group (``reminders.cron`` in the group's timezone); returns ids.

    Job ids are stable (``studybot-reminders:<slug>``); a stored job with the same schedule is
    kept as it is (:func:`digest.triggers.ensure_job`), so a run missed while the bot was down
    is caught up within the grace time instead of being moved to next week. Jobs of groups no
    longer configured, or all of them when ``reminders.enabled`` is false, are removed from a
    persistent job store.
    """
    from digest.triggers import ClubCronTrigger, ensure_job

    enabled = jobs.config.reminders.enabled
    wanted = {f"{JOB_PREFIX}:{g.slug}" for g in jobs.config.groups} if enabled else set()
    for job in scheduler.get_jobs():
        base = job.id.removesuffix(":postponed")
        if job.id.startswith(f"{JOB_PREFIX}:") and base not in wanted:
            scheduler.remove_job(job.id)
    if not enabled:
        return []
    ids = []
    for group in jobs.config.groups:
        job_id = f"{JOB_PREFIX}:{group.slug}"
        ensure_job(
            scheduler,
            job_id,
            run_reminders,
            ClubCronTrigger(jobs.config.reminders.cron, group.timezone),
            [group.slug],
            coalesce=True,
            misfire_grace_time=REMINDER_GRACE,
        )
        ids.append(job_id)
    return ids
