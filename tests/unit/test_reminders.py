"""Weekly reminders: who is named, away members skipped, DMs, quiet hours, the scheduler job."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import build_app
from bot.clubtime import next_allowed_time
from bot.model import Outgoing
from digest import reminders
from digest.jobs import JobContext
from digest.reminders import build_reminders
from storage.identity import get_group
from tests.conftest import Chatter

SH = "Asia/Shanghai"


def sh(*args: int) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(*args, tzinfo=ZoneInfo(SH)).astimezone(UTC)  # type: ignore[misc]


def build(app: Any, now: datetime, **kwargs: Any) -> list[Outgoing]:
    with app.db.session() as session:
        group = get_group(session, "ml-club")
        assert group is not None
        return build_reminders(session, group, app.config, now, **kwargs)


async def populate(chat: Chatter, clock: Any) -> None:
    """ancient: 10 weeks ago only; lapsed/away: last week; keen: this week; asker: no check-in."""
    await chat.say("/checkin 很久以前", user="ancient", name="古人")
    clock.advance(weeks=9)
    for user, name in (("lapsed", "小李"), ("keen", "小张"), ("away", "小王")):
        await chat.say("/checkin 上周", user=user, name=name)
    clock.advance(weeks=1)
    await chat.say("/checkin 本周", user="keen", name="小张")
    await chat.say("/away 2w", user="away", name="小王")
    await chat.say("/ask 什么是 BERT？", user="asker", name="提问者")


async def test_names_only_recent_members_without_checkin_and_not_away(chat, clock):
    await populate(chat, clock)
    messages = build(chat.app, clock())
    group = [m for m in messages if m.chat.kind == "group"]
    assert [m.chat.chat_id for m in group] == ["console-group"]
    text = group[0].reply.text
    assert "以上同学" in text and "/checkin" in text  # named once: by the mention (#19)
    assert "小李" not in text
    for absent in ("小张", "小王", "古人", "提问者"):
        assert absent not in text
    assert group[0].mention_user_ids == ("lapsed",)


async def test_dm_goes_to_console_members_with_their_streak(chat, clock):
    await populate(chat, clock)
    private = [m for m in build(chat.app, clock()) if m.chat.kind == "private"]
    assert [(m.chat.platform, m.chat.chat_id) for m in private] == [("console", "lapsed")]
    assert "小李" in private[0].reply.text and "🔥1" in private[0].reply.text


async def test_no_dm_when_disabled_and_chats_opted_out(config_factory, clock):
    groups = [
        {
            "slug": "ml-club",
            "chats": [
                {"platform": "console", "chat_id": "console-group"},
                {"platform": "telegram", "chat_id": "-100", "reminders": False},
                {"platform": "wechat", "chat_id": "room@chatroom"},
            ],
        }
    ]
    app = build_app(config_factory(groups=groups, reminders={"dm": False}), clock=clock)
    try:
        chat = Chatter(app, clock)
        await populate(chat, clock)
        messages = build(app, clock())
        assert [(m.chat.platform, m.chat.kind) for m in messages] == [
            ("console", "group"),
            ("wechat", "group"),
        ]
        assert messages[1].mention_user_ids == ()  # 小李 is a console user
    finally:
        app.db.dispose()


async def test_nobody_to_remind_sends_nothing(chat, clock):
    await chat.say("/checkin 本周", user="keen")
    assert build(chat.app, clock()) == []
    clock.advance(weeks=1)
    await chat.say("/checkin 又一周", user="keen")
    assert build(chat.app, clock()) == []


async def test_away_period_ended_early_is_reminded_again(chat, clock):
    await chat.say("/checkin 上周", user="u1", name="阿一")
    clock.advance(weeks=1)
    await chat.say("/away 1w", user="u1", name="阿一")
    assert build(chat.app, clock()) == []
    await chat.say("/away off", user="u1", name="阿一")
    assert build(chat.app, clock())[0].mention_user_ids == ("u1",)


async def test_disabled_reminders_build_nothing(config_factory, clock):
    app = build_app(config_factory(reminders={"enabled": False}), clock=clock)
    try:
        chat = Chatter(app, clock)
        await populate(chat, clock)
        assert build(app, clock()) == []
    finally:
        app.db.dispose()


async def test_reminder_is_about_the_club_week_it_was_due_in(chat, clock):
    """Due Friday 23:30, inside quiet hours, sent Saturday 08:00: same club week (digest
    period ending Sunday 20:00), so who is named and the DM streak are for that week."""
    clock.set(sh(2026, 11, 18, 12, 0))  # the week before
    await chat.say("/checkin 上周", user="u2", name="阿二")
    clock.set(sh(2026, 11, 25, 12, 0))  # the due week
    await chat.say("/checkin 本周", user="u1", name="阿一")
    due = sh(2026, 11, 27, 23, 30)
    clock.set(sh(2026, 11, 28, 8, 0))
    messages = build(chat.app, clock(), due=due)
    assert messages[0].mention_user_ids == ("u2",)  # named once, by the mention (#19)
    [dm] = [m for m in messages if m.chat.kind == "private"]
    assert "🔥1 周" in dm.reply.text  # last week's check-in still counts: not 🔥0


async def test_a_note_after_the_deadline_counts_for_the_next_week(chat, clock):
    """Sunday 20:00:05 is the next club week: a reminder due in it names who has not checked
    in since, and the member is not told their note went into the week just published."""
    clock.set(sh(2026, 11, 25, 12, 0))
    await chat.say("/checkin 上周三", user="u1", name="阿一")
    await chat.say("/checkin 上周三", user="u2", name="阿二")
    clock.set(sh(2026, 11, 29, 20, 0, 5))
    await chat.say("/checkin 截止后五秒", user="u1", name="阿一")
    clock.set(sh(2026, 12, 4, 20, 0))  # Friday's reminder in the new week
    assert build(chat.app, clock())[0].mention_user_ids == ("u2",)


async def test_quiet_hours_past_the_end_of_the_week_drop_the_reminder(config_factory, clock):
    app = build_app(
        config_factory(
            reminders={"enabled": True, "cron": "0 19 * * sun", "quiet_hours": "18:00-08:00"}
        ),
        clock=clock,
    )
    try:
        chat = Chatter(app, clock)
        await chat.say("/checkin 上周", user="u1", name="阿一")
        clock.set(sh(2026, 11, 22, 19, 0))  # Sunday 19:00: quiet until Monday 08:00
        sender = FakeSender()
        app.add_sender(sender)
        scheduler = AsyncIOScheduler(timezone=UTC)
        reminders.register_reminder_job(scheduler, JobContext.of(app, scheduler))
        assert await reminders.run_reminders("ml-club", jobs=JobContext.of(app, scheduler)) == 0
        assert scheduler.get_job("studybot-reminders:ml-club:postponed") is None
        assert sender.sent == []
    finally:
        app.db.dispose()


async def test_a_reminder_missed_by_a_restart_is_caught_up_but_never_for_an_ended_week(chat, clock):
    """The bot restarts 20 s after Friday 20:00: the stored job keeps its missed run and sends
    it; the same run found only after the week ended (Monday) is dropped."""
    await chat.say("/checkin 上周", user="u1", name="阿一")
    sender = FakeSender()
    chat.app.add_sender(sender)
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.start(paused=True)
    reminders.register_reminder_job(scheduler, JobContext.of(chat.app, scheduler))
    # the store holds the job with its Friday 20:00 run, missed while the bot was down
    scheduler.modify_job("studybot-reminders:ml-club", next_run_time=sh(2026, 11, 27, 20, 0))
    clock.set(sh(2026, 11, 27, 20, 0, 20))
    reminders.register_reminder_job(
        scheduler, JobContext.of(chat.app, scheduler)
    )  # the restart registers again
    job = scheduler.get_job("studybot-reminders:ml-club")
    scheduler.shutdown(wait=False)
    assert job.next_run_time == sh(2026, 11, 27, 20, 0)  # kept: APScheduler runs it (grace)
    assert job.misfire_grace_time == reminders.REMINDER_GRACE
    jobs = JobContext.of(chat.app, scheduler)
    assert await reminders.run_reminders("ml-club", jobs=jobs) == 2  # group message + DM
    assert sender.sent[0].mention_user_ids == ("u1",)
    clock.set(sh(2026, 11, 30, 9, 0))  # Monday: the Friday reminder's week is over
    friday = sh(2026, 11, 27, 20, 0).isoformat()
    assert await reminders.run_reminders("ml-club", friday, jobs=jobs) == 0


# -- quiet hours --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("moment", "quiet", "expected"),
    [
        (sh(2026, 11, 20, 20, 0), "23:00-08:00", sh(2026, 11, 20, 20, 0)),
        (sh(2026, 11, 20, 23, 30), "23:00-08:00", sh(2026, 11, 21, 8, 0)),
        (sh(2026, 11, 21, 2, 0), "23:00-08:00", sh(2026, 11, 21, 8, 0)),
        (sh(2026, 11, 21, 8, 0), "23:00-08:00", sh(2026, 11, 21, 8, 0)),
        (sh(2026, 11, 21, 13, 0), "12:00-14:00", sh(2026, 11, 21, 14, 0)),
        (sh(2026, 11, 21, 11, 59), "12:00-14:00", sh(2026, 11, 21, 11, 59)),
        (sh(2026, 11, 21, 3, 0), "00:00-00:00", sh(2026, 11, 21, 3, 0)),
    ],
)
def test_next_allowed_time(moment, quiet, expected):
    assert next_allowed_time(moment, quiet, SH) == expected


def test_quiet_hours_in_a_dst_zone_end_at_local_time():
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    # the night clocks go forward: 23:00 Saturday -> 08:00 Sunday local is 8 real hours
    moment = datetime(2026, 3, 28, 23, 0, tzinfo=berlin).astimezone(UTC)
    allowed = next_allowed_time(moment, "22:00-08:00", berlin)
    assert allowed.astimezone(berlin).strftime("%m-%d %H:%M") == "03-29 08:00"
    assert allowed - moment == timedelta(hours=8)


# -- the scheduler job ----------------------------------------------------------------------
@dataclass
class FakeSender:
    platform: str = "console"
    sent: list[Outgoing] = field(default_factory=list)

    async def send(self, outgoing: Outgoing) -> list[str]:
        self.sent.append(outgoing)
        return [str(len(self.sent))]


async def test_job_registration_is_stable_and_sends(chat, clock):
    await chat.say("/checkin 上周", user="u1", name="阿一")
    clock.set(sh(2026, 11, 27, 20, 0))  # Friday 20:00 local, the default cron time
    sender = FakeSender()
    chat.app.add_sender(sender)
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.start(paused=True)
    ids = reminders.register_reminder_job(scheduler, JobContext.of(chat.app, scheduler))
    assert (
        reminders.register_reminder_job(scheduler, JobContext.of(chat.app, scheduler))
        == ids
        == ["studybot-reminders:ml-club"]
    )
    jobs = scheduler.get_jobs()
    scheduler.shutdown(wait=False)
    assert [job.id for job in jobs] == ids
    trigger = jobs[0].trigger
    assert str(trigger.timezone) == SH
    first = trigger.get_next_fire_time(None, sh(2026, 11, 23, 0, 0))
    assert first == sh(2026, 11, 27, 20, 0)

    assert (
        await reminders.run_reminders("ml-club", jobs=JobContext.of(chat.app, scheduler)) == 2
    )  # group message + DM
    assert sender.sent[0].mention_user_ids == ("u1",)


async def test_job_inside_quiet_hours_is_postponed(chat, clock):
    await chat.say("/checkin 上周", user="u1", name="阿一")
    clock.set(sh(2026, 11, 27, 23, 30))
    sender = FakeSender()
    chat.app.add_sender(sender)
    scheduler = AsyncIOScheduler(timezone=UTC)
    reminders.register_reminder_job(scheduler, JobContext.of(chat.app, scheduler))
    assert await reminders.run_reminders("ml-club", jobs=JobContext.of(chat.app, scheduler)) == 0
    assert sender.sent == []
    postponed = scheduler.get_job("studybot-reminders:ml-club:postponed")
    assert postponed is not None
    assert postponed.trigger.run_date == sh(2026, 11, 28, 8, 0)
    # due when the cron fired (Friday 20:00), not when the job happened to run
    assert postponed.args == ("ml-club", sh(2026, 11, 27, 20, 0).isoformat())


async def test_missing_or_failing_sender_is_logged_not_raised(chat, clock, caplog):
    await chat.say("/checkin 上周", user="u1", name="阿一")
    clock.set(sh(2026, 11, 27, 20, 0))  # the reminder's Friday 20:00
    reminders.register_reminder_job(AsyncIOScheduler(timezone=UTC), JobContext.of(chat.app))
    assert await reminders.run_reminders("ml-club", jobs=JobContext.of(chat.app)) == 0
    assert "no console sender" in caplog.text


async def test_disabling_reminders_removes_persisted_jobs(chat, config_factory, clock):
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.start(paused=True)
    try:
        reminders.register_reminder_job(scheduler, JobContext.of(chat.app, scheduler))
        scheduler.add_job(
            reminders.run_reminders,
            "date",
            run_date=clock() + timedelta(hours=1),
            args=["gone"],
            id="studybot-reminders:gone:postponed",
        )
        scheduler.add_job(
            reminders.run_reminders, "interval", hours=1, args=["x"], id="someone-else"
        )
        off = build_app(config_factory(reminders={"enabled": False}), clock=clock)
        try:
            assert reminders.register_reminder_job(scheduler, JobContext.of(off, scheduler)) == []
            assert [job.id for job in scheduler.get_jobs()] == ["someone-else"]
            assert await reminders.run_reminders("ml-club", jobs=JobContext.of(off)) == 0
        finally:
            off.db.dispose()
    finally:
        scheduler.shutdown(wait=False)


async def test_job_for_a_removed_group_does_nothing(chat):
    reminders.register_reminder_job(AsyncIOScheduler(timezone=UTC), JobContext.of(chat.app))
    assert await reminders.run_reminders("no-such-group", jobs=JobContext.of(chat.app)) == 0


async def test_the_bot_scheduler_registers_and_persists_the_job(bot_app):
    from digest.schedule import scheduler_for, start_scheduler

    stop = await start_scheduler(bot_app)
    try:
        job = scheduler_for(bot_app).get_job("studybot-reminders:ml-club")
        assert job is not None and job.func_ref == "digest.reminders:run_reminders"
        assert str(job.trigger.timezone) == SH
    finally:
        await stop()
    stop = await start_scheduler(bot_app)  # a restart: still exactly one reminder job
    try:
        ids = [j.id for j in scheduler_for(bot_app).get_jobs()]
        assert ids.count("studybot-reminders:ml-club") == 1
    finally:
        await stop()


async def test_each_member_is_named_once_mentioned_on_their_platform_or_by_name(
    config_factory, clock
):
    """Issue #19: reminders mentioned every member twice (a wall of @ with 50 members)."""
    groups = [
        {
            "slug": "ml-club",
            "chats": [
                {"platform": "console", "chat_id": "console-group"},
                {"platform": "wechat", "chat_id": "room@chatroom"},
            ],
        }
    ]
    for mode in ("compact", "none"):
        app = build_app(
            config_factory(groups=groups, reminders={"mentions": mode}), clock=clock
        )
        try:
            chat = Chatter(app, clock)
            await populate(chat, clock)
            console, wechat = [m for m in build(app, clock()) if m.chat.kind == "group"]
            assert "@" not in console.reply.text and "@" not in wechat.reply.text
            assert "小李" in wechat.reply.text  # a console member: named, not mentioned
            if mode == "compact":
                assert console.mention_user_ids == ("lapsed",)
                assert "小李" not in console.reply.text
            else:
                assert console.mention_user_ids == () and "小李" in console.reply.text
        finally:
            app.db.dispose()
            clock.set(datetime(2026, 11, 16, 9, 0, tzinfo=UTC))
