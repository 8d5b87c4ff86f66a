"""Messages handled together (bot.batching) behave exactly as if handled one by one."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

from sqlalchemy import func, select

from bot.app import App, build_app
from bot.batching import InOrderBatcher, dispatch_many
from bot.model import Incoming, Reply, UserRef
from storage.models import CheckIn, ProcessedMessage, Question
from tests.conftest import GROUP_CHAT, FakeClock, make_config

BURST = [
    ("u1", "/checkin 第一条 词向量"),
    ("u2", "/ask 学习率怎么调？"),
    ("u1", "/checkin 第二条 正则化"),
    ("u3", "/answer 1 先 warmup 再余弦退火"),
    ("u2", "/checkin " + "长" * 5000),  # too long: refused before any transaction
    ("u1", "/checkin edit 999 不存在"),  # the handler refuses it: the batch is re-run one by one
    ("u3", "/ask 为什么要归一化？"),
    ("u1", "/checkin"),  # lists this week's notes: sees the two above
]


def new_app(tmp: Path, name: str) -> App:
    config = make_config(tmp, database={"url": f"sqlite:///{tmp / name}"})
    return build_app(config, clock=FakeClock())


def incomings(messages: list[tuple[str, str]], ids: itertools.count) -> list[Incoming]:
    return [
        Incoming(
            chat=GROUP_CHAT,
            sender=UserRef("console", user, f"同学{user}"),
            text=text,
            message_id=str(next(ids)),
        )
        for user, text in messages
    ]


def texts(replies: list[list[Reply]]) -> list[list[str]]:
    return [[reply.text for reply in batch] for batch in replies]


def stored(app: App) -> tuple[list[str], list[tuple[int, str]], int]:
    with app.db.session() as session:
        notes = list(session.scalars(select(CheckIn.text).order_by(CheckIn.id)))
        questions = [(q.number, q.text) for q in session.scalars(select(Question))]
        handled = int(session.scalar(select(func.count()).select_from(ProcessedMessage)) or 0)
    return notes, questions, handled


def test_a_batch_gives_the_replies_and_rows_of_one_by_one(tmp_path):
    one_by_one, batched = new_app(tmp_path, "a.db"), new_app(tmp_path, "b.db")

    async def sequential() -> list[list[Reply]]:
        return [
            await one_by_one.dispatcher.dispatch(m) for m in incomings(BURST, itertools.count(1))
        ]

    expected = asyncio.run(sequential())
    got = asyncio.run(dispatch_many(batched.dispatcher, incomings(BURST, itertools.count(1))))
    assert texts(got) == texts(expected)
    assert "太长" in got[4][0].text and "999" in got[5][0].text  # each failure has its own reply
    assert "第一条 词向量" in got[7][0].text and "第二条 正则化" in got[7][0].text
    assert stored(batched) == stored(one_by_one)
    notes, questions, _ = stored(batched)
    assert notes == ["第一条 词向量", "第二条 正则化"]
    assert questions == [(1, "学习率怎么调？"), (2, "为什么要归一化？")]


def test_a_message_repeated_inside_a_batch_is_stored_once(tmp_path):
    app = new_app(tmp_path, "c.db")
    same = incomings([("u1", "/checkin 只存一次")], itertools.count(7)) * 2
    replies = asyncio.run(dispatch_many(app.dispatcher, [*same, *incomings(
        [("u2", "/checkin 另一条")], itertools.count(8))]))  # fmt: skip
    assert "✅" in replies[0][0].text and replies[1] == [] and "✅" in replies[2][0].text
    assert stored(app)[0] == ["只存一次", "另一条"]


def test_a_keyword_after_its_definition_in_the_same_burst_is_answered(tmp_path):
    app = new_app(tmp_path, "d.db")
    burst = incomings(
        [("admin", "/keyword add 资料 见群公告"), ("u1", "资料"), ("u1", "/checkin 之后")],
        itertools.count(1),
    )
    replies = asyncio.run(dispatch_many(app.dispatcher, burst))
    assert [r.text for r in replies[1]] == ["见群公告"]
    assert stored(app)[0] == ["之后"]


def test_slots_are_dispatched_in_arrival_order_whatever_order_they_are_translated_in():
    seen: list[list[str]] = []

    async def fake_dispatch(batch: list[Incoming]) -> list[list[Reply]]:
        seen.append([m.text for m in batch])
        return [[Reply(f"re:{m.text}")] for m in batch]

    async def scenario() -> list[list[Reply]]:
        batcher = InOrderBatcher(fake_dispatch)
        messages = incomings([("u", "一"), ("u", "二"), ("u", "三")], itertools.count(1))
        slots = [batcher.reserve() for _ in messages]
        batcher.fill(slots[2], messages[2])  # translated first, but it came last
        batcher.fill(slots[1], None)  # an update the bot ignores
        await asyncio.sleep(0)
        assert seen == []  # the first message is not ready: nothing may overtake it
        batcher.fill(slots[0], messages[0])
        return [await batcher.replies(slot) for slot in slots]

    replies = asyncio.run(scenario())
    assert seen == [["一", "三"]]
    assert texts(replies) == [["re:一"], [], ["re:三"]]


def test_a_clean_burst_is_one_transaction(tmp_path):
    from sqlalchemy import event

    app = new_app(tmp_path, "e.db")
    asyncio.run(
        app.dispatcher.dispatch(incomings([("u0", "/checkin 预热")], itertools.count(90))[0])
    )
    commits: list[int] = []
    event.listen(app.db.engine, "commit", lambda _conn: commits.append(1))
    burst = incomings([(f"u{i}", f"/checkin 第{i}条") for i in range(20)], itertools.count(1))
    replies = asyncio.run(dispatch_many(app.dispatcher, burst))
    assert all("✅" in r[0].text for r in replies)
    assert len(commits) == 1
    assert len(stored(app)[0]) == 21


def test_senders_known_new_and_renamed_in_one_batch_match_one_by_one(tmp_path):
    """A batch reads its senders together: members already stored, members seen for the first
    time, and a member whose name changed mid-burst get the same rows and replies as when the
    messages are handled one at a time."""
    from storage.models import Member

    def members(app: App) -> list[tuple[str, str]]:
        with app.db.session() as session:
            rows = session.execute(select(Member.platform_user_id, Member.display_name))
            return sorted((uid, name) for uid, name in rows)

    def burst(ids: itertools.count) -> list[Incoming]:
        said = [("u1", "老名字", "/checkin 一"), ("u9", "新人", "/checkin 二"),
                ("u1", "新名字", "/checkin 三"), ("u2", "小二", "/checkin 四"),
                ("u9", "新人", "/checkin")]  # fmt: skip
        return [
            Incoming(
                chat=GROUP_CHAT,
                sender=UserRef("console", uid, name),
                text=text,
                message_id=str(next(ids)),
            )
            for uid, name, text in said
        ]

    apps = new_app(tmp_path, "f.db"), new_app(tmp_path, "g.db")
    for app in apps:  # u1 and u2 are known before the burst
        warm = incomings([("u1", "/checkin 旧"), ("u2", "/checkin 旧")], itertools.count(100))
        asyncio.run(dispatch_many(app.dispatcher, warm[:1]))
        asyncio.run(app.dispatcher.dispatch(warm[1]))

    async def sequential() -> list[list[Reply]]:
        return [await apps[0].dispatcher.dispatch(m) for m in burst(itertools.count(1))]

    expected = asyncio.run(sequential())
    got = asyncio.run(dispatch_many(apps[1].dispatcher, burst(itertools.count(1))))
    assert texts(got) == texts(expected)
    assert "老名字 本周第 2 条" in got[0][0].text and "新名字 本周第 3 条" in got[2][0].text
    assert "新人 本周第 1 条" in got[1][0].text and "新人" in got[4][0].text
    assert (
        members(apps[1]) == members(apps[0]) == [("u1", "新名字"), ("u2", "小二"), ("u9", "新人")]
    )
