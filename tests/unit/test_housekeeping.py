"""Handled-message ids are pruned after ``database.processed_retention_days``; inside the
window a re-delivered message is still refused (issue #16)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from bot.housekeeping import Housekeeping, prune_processed
from bot.model import utcnow
from storage.models import ProcessedMessage


def handled(chat) -> int:
    with chat.app.db.session() as session:
        return session.scalar(select(func.count()).select_from(ProcessedMessage)) or 0


async def test_a_redelivery_inside_the_window_is_still_refused(chat):
    assert "已记录" in await chat.say("#打卡 读完了第三章", user="u1", message_id="m-1")
    db = chat.app.db
    assert prune_processed(db, 30, utcnow() + timedelta(days=29)) == 0
    assert await chat.say("#打卡 读完了第三章", user="u1", message_id="m-1") == ""
    assert "（1 条）" in await chat.say("/checkin", user="u1")


async def test_ids_older_than_the_window_are_pruned_and_newer_ones_kept(chat):
    await chat.say("/start", message_id="old")
    await chat.say("/start", message_id="new")
    assert handled(chat) == 2
    with chat.app.db.session() as session:
        row = session.scalars(
            select(ProcessedMessage).where(ProcessedMessage.message_id == "old")
        ).one()
        row.processed_at = utcnow() - timedelta(days=31)
    assert prune_processed(chat.app.db, 30, utcnow()) == 1
    with chat.app.db.session() as session:
        left = session.scalars(select(ProcessedMessage.message_id)).all()
    assert left == ["new"]


async def test_housekeeping_prunes_at_start_and_again_each_interval(chat):
    await chat.say("/start", message_id="a")
    later = [utcnow() + timedelta(days=40)]
    keeper = Housekeeping(chat.app.db, 30, interval=0.05, clock=lambda: later[0])
    try:
        for _ in range(100):
            if handled(chat) == 0:
                break
            await asyncio.sleep(0.02)
        assert handled(chat) == 0  # pruned at start
        later[0] = utcnow()  # from now on nothing is old enough
        await chat.say("/start", message_id="b")
        await asyncio.sleep(0.2)  # several rounds
        assert handled(chat) == 1
        later[0] = utcnow() + timedelta(days=31)
        for _ in range(100):
            if handled(chat) == 0:
                break
            await asyncio.sleep(0.02)
        assert handled(chat) == 0  # pruned again by a later round
    finally:
        await keeper()
    assert keeper.task.done()
