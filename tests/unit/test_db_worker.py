"""database.worker_thread: the bot's transactions in one worker thread, the loop free meanwhile."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

from sqlalchemy import select

from bot.app import build_app
from bot.ingest import Ingest
from bot.model import ChatRef, Incoming, UserRef
from storage.db import Database
from storage.models import CheckIn, OutboxMessage
from tests.conftest import FakeClock, make_config
from tests.support.databases import migrated_sqlite

GROUP = ChatRef("console", "console-group", "group", "ML")


async def test_a_slow_transaction_in_the_worker_leaves_the_loop_free(tmp_path: Path) -> None:
    db = Database(migrated_sqlite(tmp_path / "w.db"), worker_thread=True)
    ran_in: list[str] = []

    def slow() -> str:
        ran_in.append(threading.current_thread().name)
        time.sleep(0.3)  # a transaction waiting on the database
        return "done"

    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    assert await db.run(slow) == "done"
    ticker.cancel()
    assert ticks >= 10  # the loop went on while the job ran
    assert ran_in[0].startswith("studybot-db")
    db.dispose()


async def test_jobs_run_in_the_order_queued_and_dispose_waits_for_them(tmp_path: Path) -> None:
    db = Database(migrated_sqlite(tmp_path / "w.db"), worker_thread=True)
    order: list[str] = []
    db.submit(lambda: (time.sleep(0.05), order.append("parts counted")))
    db.submit(order.append, "settled")
    await db.run(order.append, "awaited")
    db.submit(lambda: (time.sleep(0.05), order.append("last")))
    db.dispose()  # joins the worker after its queued jobs
    assert order == ["parts counted", "settled", "awaited", "last"]


async def test_messages_through_the_worker_are_stored_once_in_arrival_order(
    tmp_path: Path, clock: FakeClock
) -> None:
    config = make_config(
        tmp_path,
        database={"url": migrated_sqlite(tmp_path / "s.db"), "worker_thread": True},
    )
    app = build_app(config, clock=clock)
    assert app.db.worker_thread
    app.dispatcher.use_outbox("console")
    ingest = Ingest(app.dispatcher, window=0.005)

    async def post(i: int) -> None:
        user = UserRef("console", f"m{i}", f"成员{i}")
        slot = ingest.reserve()
        await asyncio.sleep(0)  # translated later, as an adapter does
        ingest.fill(slot, Incoming(GROUP, user, f"/checkin 第{i}条心得", f"msg-{i}"))
        await ingest.queue(slot, lambda: None)

    await asyncio.gather(*(post(i) for i in range(30)))
    await asyncio.gather(*(post(i) for i in range(5)))  # re-delivered: stored once
    with app.db.session() as session:
        texts = list(session.scalars(select(CheckIn.text).order_by(CheckIn.id)))
        replies = session.scalars(select(OutboxMessage.text)).all()
    assert texts == [f"第{i}条心得" for i in range(30)]
    assert len(replies) == 30 and all("已记录" in text for text in replies)
    app.db.dispose()
