"""Messages sent while the bot was down count when they were sent (#22 point 2).

The bot is down Sunday 19:00 -> Monday 01:00 (Shanghai); a note sent on Telegram at Sunday
19:30 is delivered at Monday 01:00 from the platform's backlog.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.model import ChatRef, Incoming, UserRef
from storage.models import CheckIn
from tests.conftest import FakeClock
from tests.support.digest_world import SLUG, make_app, make_senders

SHANGHAI = ZoneInfo("Asia/Shanghai")
STREAK = re.compile(r"连续打卡 (\d+) 周")
TELEGRAM_GROUP = ChatRef("telegram", "-1001", "group", "ML自学者俱乐部")


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI).astimezone(UTC)  # type: ignore[misc]


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'bot.db'}"


class Member:
    """A Telegram member whose messages carry the platform's timestamp."""

    def __init__(self, app, clock: FakeClock, user: str, name: str) -> None:  # type: ignore[no-untyped-def]
        self.app, self.clock, self.user, self.name = app, clock, user, name
        self.ids = iter(range(1, 10_000))

    async def say(self, text: str, sent_at: datetime | None = None) -> str:
        incoming = Incoming(
            chat=TELEGRAM_GROUP,
            sender=UserRef("telegram", self.user, self.name),
            text=text,
            message_id=f"{self.user}-{next(self.ids)}",
            sent_at=sent_at or self.clock(),
        )
        replies = await self.app.dispatcher.dispatch(incoming)
        return "\n".join(reply.text for reply in replies)


async def three_week_streak(member: Member, clock: FakeClock) -> None:
    for day in (4, 11, 18):  # Wednesdays 11-04, 11-11, 11-18
        clock.set(sh(2026, 11, day, 12, 0))
        assert "✅" in await member.say(f"/checkin 第 {day} 日")


async def test_a_note_delivered_after_downtime_counts_when_it_was_sent(
    db_url: str, clock: FakeClock
) -> None:
    senders = make_senders()
    app = make_app(db_url, clock, senders)
    try:
        member = Member(app, clock, "7", "小明")
        await three_week_streak(member, clock)
        service = app.digest
        clock.set(sh(2026, 11, 22, 20, 0))
        await service.publish_due(SLUG)  # issue ending 11-22 goes out (the three notes' last)
        # down Sunday 11-29 19:00 -> Monday 01:00; the 19:30 note comes from the backlog
        clock.set(sh(2026, 11, 30, 1, 0))
        reply = await member.say("/checkin 周日晚上写的心得", sent_at=sh(2026, 11, 29, 19, 30))
        assert "本周第 1 条" in reply
        assert "将收录进第 4 期周报（11月29日 20:00 截止）" in reply  # weekly since 11-04
        with app.db.session() as session:
            note = session.query(CheckIn).filter(CheckIn.text == "周日晚上写的心得").one()
            assert note.created_at == sh(2026, 11, 29, 19, 30)
        # the missed publish runs after the backlog: the note is in the issue it was promised
        before = len(senders["telegram"].sent)
        reports = await service.publish_due(SLUG)
        assert [r.status for r in reports] == ["published"]
        assert "周日晚上写的心得" in "\n".join(senders["telegram"].bodies[before:])
        # four weeks in a row, the last one the week the note was written in (was 1)
        assert STREAK.search(await member.say("/me")).group(1) == "4"
    finally:
        app.db.dispose()


async def test_a_late_note_for_a_published_issue_goes_into_the_next_one(
    db_url: str, clock: FakeClock
) -> None:
    app = make_app(db_url, clock, make_senders())
    try:
        member = Member(app, clock, "7", "小明")
        clock.set(sh(2026, 11, 25, 12, 0))
        await member.say("/checkin 周三")
        clock.set(sh(2026, 11, 29, 20, 0))
        await app.digest.publish_due(SLUG)
        clock.set(sh(2026, 11, 29, 20, 10))
        reply = await member.say("/checkin 晚到的心得", sent_at=sh(2026, 11, 29, 19, 59))
        assert "第 2 期周报（12月6日 20:00 截止）" in reply
    finally:
        app.db.dispose()


@pytest.mark.parametrize(
    ("sent_at", "counted_at"),
    [
        (sh(2026, 11, 25, 11, 0), sh(2026, 11, 25, 11, 0)),  # an hour late: as sent
        (sh(2026, 11, 20, 12, 0), sh(2026, 11, 24, 12, 0)),  # older than Telegram keeps: -24 h
        (sh(2026, 11, 25, 13, 0), sh(2026, 11, 25, 12, 0)),  # a clock ahead of ours: now
    ],
)
async def test_message_time_is_clamped_to_the_platform_retention(
    db_url: str, clock: FakeClock, sent_at: datetime, counted_at: datetime
) -> None:
    app = make_app(db_url, clock, make_senders())
    try:
        clock.set(sh(2026, 11, 25, 12, 0))
        await Member(app, clock, "7", "小明").say("/checkin 心得", sent_at=sent_at)
        with app.db.session() as session:
            [note] = session.query(CheckIn).all()
            assert note.created_at == counted_at
        assert counted_at >= clock() - timedelta(hours=24)
    finally:
        app.db.dispose()


async def test_an_empty_week_gives_its_number_to_the_next_issue(
    db_url: str, clock: FakeClock
) -> None:
    """Issue numbers are final when published: week 2 has nothing, is skipped, and week 3 is
    published as 第2期, which its members' replies already said (no 1, 2, 3, 5 archive)."""
    from sqlalchemy import select

    from storage.models import DigestIssue

    senders = make_senders()
    app = make_app(db_url, clock, senders)
    try:
        member = Member(app, clock, "7", "小明")
        service = app.digest
        clock.set(sh(2026, 11, 18, 12, 0))
        assert "第 1 期周报（11月22日 20:00 截止）" in await member.say("/checkin 第一周")
        clock.set(sh(2026, 11, 22, 20, 0))
        assert [r.status for r in await service.publish_due(SLUG)] == ["published"]
        clock.set(sh(2026, 11, 26, 12, 0))
        assert "还没有" in await member.say("/checkin")  # a read creates nothing
        clock.set(sh(2026, 11, 29, 20, 0))
        [skipped] = await service.publish_due(SLUG)
        assert skipped.status == "empty" and "第2期顺延到下一期" in skipped.summary("zh")
        clock.set(sh(2026, 12, 2, 12, 0))
        assert "将收录进第 2 期周报（12月6日 20:00 截止）" in await member.say("/checkin 第三周")
        clock.set(sh(2026, 12, 6, 20, 0))
        before = len(senders["telegram"].sent)
        [report] = await service.publish_due(SLUG)
        assert report.status == "published" and report.number == 2
        assert "第2期" in senders["telegram"].bodies[before]
        with app.db.session() as session:
            published = session.scalars(
                select(DigestIssue.number)
                .where(DigestIssue.status == "published")
                .order_by(DigestIssue.period_start)
            ).all()
        assert published == [1, 2]
        # the next week's issue is number 3, right after
        clock.set(sh(2026, 12, 8, 12, 0))
        assert "第 3 期周报（12月13日 20:00 截止）" in await member.say("/checkin 第四周")
    finally:
        app.db.dispose()


async def test_a_changed_cron_replans_the_open_issue(db_url: str, clock: FakeClock) -> None:
    """#22 point 6 with notes opening issues: Sunday 20:00 -> Saturday 20:00 mid-week moves
    the open issue's deadline to Saturday (was published about a week late)."""
    from digest.schedule import start_scheduler

    app = make_app(db_url, clock, make_senders())
    member = Member(app, clock, "7", "小明")
    clock.set(sh(2026, 11, 25, 12, 0))
    assert "（11月29日 20:00 截止）" in await member.say("/checkin 周三")
    app.db.dispose()

    senders = make_senders()
    restarted = make_app(db_url, clock, senders, digest={"cron": "0 20 * * sat"})
    stop = await start_scheduler(restarted)
    try:
        member = Member(restarted, clock, "8", "小红")
        assert "将收录进第 1 期周报（11月28日 20:00 截止）" in await member.say("/checkin 周三下午")
        clock.set(sh(2026, 11, 28, 20, 0))
        [report] = await restarted.digest.publish_due(SLUG)
        assert report.status == "published" and report.number == 1
        clock.set(sh(2026, 11, 29, 12, 0))
        assert "第 2 期周报（12月5日 20:00 截止）" in await member.say("/checkin 周日")
    finally:
        await stop()
        restarted.db.dispose()


async def test_a_paper_reply_names_its_issue_and_a_late_one_joins_the_next(
    db_url: str, clock: FakeClock
) -> None:
    app = make_app(db_url, clock, make_senders())
    try:
        member = Member(app, clock, "7", "小明")
        clock.set(sh(2026, 11, 25, 12, 0))
        reply = await member.say("/paper https://arxiv.org/abs/1706.03762 Attention")
        assert "将收录进第 1 期周报的论文速递（11月29日 20:00 截止）" in reply
        clock.set(sh(2026, 11, 29, 20, 0))
        await app.digest.publish_due(SLUG)
        clock.set(sh(2026, 11, 29, 20, 5))
        late = await member.say(
            "/paper https://arxiv.org/abs/1810.04805 BERT", sent_at=sh(2026, 11, 29, 19, 58)
        )
        assert "第 2 期周报的论文速递（12月6日 20:00 截止）" in late
    finally:
        app.db.dispose()
