"""Never block the conversation: no transaction across an ``await``, slow work after the commit
and off the in-order ingest path, background failures logged and reported to the admins."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from functools import partial

from sqlalchemy import func, select

from bot.batching import InOrderBatcher, ingest_in_order
from bot.context import Context
from bot.dispatch import Dispatcher
from bot.model import Incoming, Reply, UserRef
from bot.registry import Registry, command
from bot.tasks import BackgroundTasks
from storage.models import KeywordReply
from tests.conftest import FakeClock
from tests.support.digest_world import GROUP_CHAT, make_app, make_senders, seed_week


def stored_keywords(dispatcher: Dispatcher) -> int:
    with dispatcher.db.session() as session:
        found = select(func.count()).where(KeywordReply.keyword == "半")
        return int(session.scalar(found) or 0)


async def test_a_handler_that_awaits_inside_its_transaction_is_refused_and_stores_nothing(
    bot_app, caplog
):
    registry = Registry()

    @command("slow", help_zh="慢", help_en="slow", registry=registry)
    async def slow(ctx: Context) -> Reply:
        ctx.session.add(KeywordReply(group_id=ctx.group.id, keyword="半", reply="写了一半"))
        ctx.session.flush()
        await asyncio.sleep(0.01)  # e.g. a chart drawn while the transaction is open
        return Reply("done")

    dispatcher = Dispatcher(bot_app.config, bot_app.db, registry=registry, clock=FakeClock())
    message = Incoming(GROUP_CHAT, UserRef("console", "u1", "阿一"), "/slow", "m1")
    caplog.set_level(logging.ERROR)
    [reply] = await dispatcher.dispatch(message)
    assert reply.text != "done" and "出错" in reply.text  # the internal-error reply
    assert stored_keywords(dispatcher) == 0  # rolled back: nothing half-way
    assert "awaited inside its transaction" in caplog.text


async def test_publishing_a_digest_never_delays_the_next_members_replies(tmp_path):
    """/digest publish then /checkin through the in-order ingest path (as on Telegram): the
    check-in is answered while the slow digest is still being sent, and the publish summary
    arrives afterwards."""
    clock = FakeClock()
    senders = make_senders()
    for sender in senders.values():
        sender.delay = 1.0  # every digest part takes 0.2 s to send
    app = make_app(f"sqlite:///{tmp_path / 'd.db'}", clock, senders)
    await seed_week(app, clock, members=3, long=False)
    dispatcher = app.dispatcher
    batcher = InOrderBatcher(partial(ingest_in_order, dispatcher))
    delivered: list[tuple[float, str]] = []
    ids = itertools.count(1000)

    async def send(text: str, user: str) -> float:
        incoming = Incoming(GROUP_CHAT, UserRef("console", user, user), text, str(next(ids)))
        started = time.monotonic()
        slot = batcher.reserve()
        batcher.fill(slot, incoming)
        outcome = await batcher.replies(slot)
        delivered.extend((time.monotonic(), r.text) for r in outcome.replies)
        dispatcher.complete_later(
            outcome, lambda replies: delivered.extend((time.monotonic(), r.text) for r in replies)
        )
        return time.monotonic() - started

    await send("/digest publish now", "admin")
    waited = await send("/checkin 发布期间的打卡", "u9")
    assert len(dispatcher.tasks) == 1  # the digest is still being sent
    assert waited < 0.25
    assert any("已记录" in text for _, text in delivered)
    await dispatcher.tasks.idle()
    summary = [at for at, text in delivered if "第1期" in text and "发布" in text]
    checkin = [at for at, text in delivered if "已记录" in text]
    assert summary and checkin[0] < summary[0]
    assert senders["telegram"].sent  # the digest did go out
    app.db.dispose()


async def test_a_failing_background_task_is_logged_and_reported_to_the_admins(caplog):
    reports: list[str] = []

    async def report(text: str) -> None:
        reports.append(text)

    async def broken() -> None:
        raise ConnectionError("telegram is down")

    tasks = BackgroundTasks(report=report)
    caplog.set_level(logging.ERROR, logger="bot.tasks")
    tasks.spawn(broken(), "publishing issue 3")
    await tasks.idle()
    assert "publishing issue 3" in caplog.text
    assert reports == ["⚠️ publishing issue 3: ConnectionError: telegram is down"]


async def test_shutdown_lets_background_work_finish_within_its_grace_then_cancels_it(caplog):
    tasks = BackgroundTasks()
    finished: list[str] = []

    async def work(seconds: float, name: str) -> None:
        await asyncio.sleep(seconds)
        finished.append(name)

    tasks.spawn(work(0.01, "quick"), "quick")
    tasks.spawn(work(30, "stuck"), "stuck")
    caplog.set_level(logging.WARNING, logger="bot.tasks")
    await asyncio.wait_for(tasks.close(grace=0.2), timeout=5)
    assert finished == ["quick"] and len(tasks) == 0
    assert "stuck cancelled at shutdown" in caplog.text
