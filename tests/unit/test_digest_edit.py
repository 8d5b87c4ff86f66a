"""/digest edit and /digest move (admins) and /paper edit (the sharer): overrides of digest
entries, as admins and members see them in chat, the preview and the published digest."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import build_app
from bot.config import Config
from storage.models import AuditEntry, CheckIn, DigestOverride, Paper, Question
from tests.conftest import Chatter, FakeClock
from tests.unit.test_digest_admin import RecordingSender

LIMITS = {"limits": {"messages_per_minute": 1000, "burst": 1000}}  # an admin typing fast


@pytest.fixture
def chat(config_factory: Callable[..., Config], clock: FakeClock) -> Any:
    app = build_app(config_factory(**LIMITS), clock=clock)
    yield Chatter(app, clock)
    app.db.dispose()


async def seed(chat: Chatter) -> None:
    """Two papers, two members' notes, two questions and a resource (Mon 17:00 CST)."""
    await chat.say(
        "/paper https://arxiv.org/abs/1706.03762 Attention Is All You Need | 提出 Transformer"
        " | 注意力就够了",
        user="u1",
        name="大煌",
    )
    await chat.say(
        "/paper https://arxiv.org/abs/1810.04805 BERT | 双向预训练 | 预训练很重要",
        user="u2",
        name="奔腾",
    )
    await chat.say("/checkin 读完 CS231n 第三讲", user="u1", name="大煌")
    await chat.say("/checkin 复习了反向传播", user="u2", name="奔腾")
    await chat.say("/ask lstm激活函数为什么sigmoid和tanh同时存在？", user="u3", name="吕涛")
    await chat.say("/ask 学习率怎么调？", user="u3", name="吕涛")
    await chat.say("/share https://zhuanlan.zhihu.com/p/123 #NLP BERT 原理讲解", user="u1")


def ids(chat: Chatter) -> dict[str, Any]:
    with chat.app.db.session() as s:
        papers = s.scalars(select(Paper.id).order_by(Paper.id)).all()
        checkins = s.scalars(select(CheckIn.id).order_by(CheckIn.id)).all()
        questions = s.scalars(select(Question.number).order_by(Question.number)).all()
    return {"P": [f"P{i}" for i in papers], "C": [f"C{i}" for i in checkins], "Q": questions}


async def preview(chat: Chatter) -> str:
    return await chat.say("/digest preview", user="admin")


def overrides(chat: Chatter) -> list[tuple[str, str, int, str]]:
    with chat.app.db.session() as s:
        rows = s.scalars(select(DigestOverride).order_by(DigestOverride.id)).all()
        return [(r.entry_key, r.field, r.issue_number, r.value) for r in rows]


async def test_edit_paper_headline_shows_in_preview_and_keeps_the_original(chat: Chatter) -> None:
    await seed(chat)
    p1 = ids(chat)["P"][0]
    reply = await chat.say(f"/digest edit {p1} headline 注意力就是一切", user="admin")
    assert f"已修改 {p1} 的标题：注意力就是一切" in reply
    text = await preview(chat)
    assert "注意力就是一切" in text
    assert "Attention Is All You Need" not in text.split("以下是")[1]
    assert f"✏️ 已修改（/digest edit 编号 查看原文）：{p1} headline" in text
    with chat.app.db.session() as s:  # the member's row is untouched
        assert s.scalars(select(Paper.title).order_by(Paper.id)).first() == (
            "Attention Is All You Need"
        )
    shown = await chat.say(f"/digest edit {p1}", user="admin")
    assert "标题（headline）：注意力就是一切" in shown
    assert "已修改，原文：Attention Is All You Need" in shown
    assert "摘要（summary）：提出 Transformer" in shown
    assert "论文名称（title）：（空）" in shown


async def test_every_paper_field_and_clearing(chat: Chatter) -> None:
    await seed(chat)
    p1 = ids(chat)["P"][0]
    for field, text in (
        ("title", "Attention Is All You Need (NeurIPS 2017)"),
        ("summary", "Transformer 用自注意力取代循环。"),
        ("one-liner", "只要注意力"),
    ):
        assert "已修改" in await chat.say(f"/digest edit {p1} {field} {text}", user="admin")
    text = await preview(chat)
    assert "Attention Is All You Need (NeurIPS 2017)" in text
    assert "Transformer 用自注意力取代循环。" in text and "只要注意力" in text
    assert "已恢复" in await chat.say(f"/digest edit {p1} summary -", user="admin")
    assert "Transformer 用自注意力取代循环。" not in await preview(chat)
    assert "已恢复" in await chat.say(f"/digest edit {p1} 一句话 reset", user="admin")
    cleared = await chat.say(f"/digest edit {p1} reset", user="admin")
    assert "清除 1 项修改" in cleared
    assert overrides(chat) == []
    assert "没有修改过" in await chat.say(f"/digest edit {p1} headline -", user="admin")


async def test_question_checkin_and_resource_edits(chat: Chatter) -> None:
    await seed(chat)
    c1 = ids(chat)["C"][0]
    q = ids(chat)["Q"][0]
    assert "已修改" in await chat.say(
        f"/digest edit Q{q} title LSTM 为什么两种激活函数？", user="admin"
    )
    assert "已修改" in await chat.say(
        f"/digest edit {c1} 正文 读完 CS231n 第三讲：损失函数", user="admin"
    )
    with chat.app.db.session() as s:
        r = s.scalars(select(DigestOverride)).first()
        assert r is not None
        from storage.models import Resource

        rid = s.scalars(select(Resource.id)).one()
    assert "已修改" in await chat.say(f"/digest edit R{rid} title BERT 图解", user="admin")
    text = await preview(chat)
    assert "LSTM 为什么两种激活函数？" in text
    assert "读完 CS231n 第三讲：损失函数" in text
    assert "BERT 图解" in text
    # the question keeps its full text under the new title
    assert "lstm激活函数为什么sigmoid和tanh同时存在" in text


async def test_sloppy_forms_full_width_spaces_and_chinese_aliases(chat: Chatter) -> None:
    await seed(chat)
    p1 = ids(chat)["P"][0].lower()
    reply = await chat.say(f"/周报　编辑　{p1}　标题　自注意力", user="admin")
    assert "已修改" in reply and "自注意力" in reply
    reply = await chat.say(f"/digest 修改 〔{p1.upper()}〕 一句话概括 注意力", user="admin")
    assert "已修改" in reply


async def test_unknown_ref_field_and_bad_text_are_refused_and_store_nothing(chat: Chatter) -> None:
    await seed(chat)
    p1 = ids(chat)["P"][0]
    text = await chat.say("/digest edit P999 headline x", user="admin")
    assert "本期没有 P999 这一项" in text and p1 in text and "Q1" in text
    text = await chat.say("/digest edit banana headline x", user="admin")
    assert "本期没有" in text and p1 in text
    text = await chat.say(f"/digest edit {p1} colour red", user="admin")
    assert "没有「colour」这个字段" in text and "headline" in text and "one-liner" in text
    text = await chat.say(f"/digest edit {p1} headline", user="admin")
    assert "请在字段后写新文字" in text
    text = await chat.say(f"/digest edit {p1} headline " + "长" * 201, user="admin")
    assert "太长了（201 字，上限 200 字）" in text
    text = await chat.say("/digest edit M1 text x", user="admin")
    assert "不能整体编辑" in text
    assert "用法" in await chat.say("/digest edit", user="admin")
    assert overrides(chat) == []


async def test_same_text_as_the_original_stores_no_override(chat: Chatter) -> None:
    await seed(chat)
    p1 = ids(chat)["P"][0]
    assert "与原文相同" in await chat.say(
        f"/digest edit {p1} headline Attention Is All You Need", user="admin"
    )
    assert overrides(chat) == []


async def test_members_cannot_edit_and_admin_edits_are_audited(chat: Chatter) -> None:
    await seed(chat)
    p1 = ids(chat)["P"][0]
    assert "仅限管理员" in await chat.say(f"/digest edit {p1} headline x", user="bob")
    assert overrides(chat) == []
    await chat.say(f"/digest edit {p1} headline 新标题", user="admin")
    with chat.app.db.session() as s:
        logged = s.scalars(select(AuditEntry.args).where(AuditEntry.command == "digest")).all()
    assert f"edit {p1} headline 新标题" in logged


async def test_move_by_position_before_after_and_refusals(chat: Chatter) -> None:
    await seed(chat)
    p1, p2 = ids(chat)["P"]
    q1, q2 = ids(chat)["Q"]
    reply = await chat.say(f"/digest move {p2} 1", user="admin")
    assert "已移动" in reply and reply.index(p2) < reply.index(p1)
    text = await preview(chat)
    assert text.index("BERT") < text.index("Attention Is All You Need")
    await chat.say(f"/digest move Q{q1} after Q{q2}", user="admin")
    text = await preview(chat)
    assert text.index("学习率怎么调") < text.index("lstm激活函数")
    await chat.say(f"/digest 移动 Q{q1} 前 Q{q2}", user="admin")
    text = await preview(chat)
    assert text.index("lstm激活函数") < text.index("学习率怎么调")
    assert "不在同一栏目" in await chat.say(f"/digest move {p1} before Q{q1}", user="admin")
    assert "位置要在 1 到 2 之间" in await chat.say(f"/digest move {p1} 7", user="admin")
    assert "用法" in await chat.say(f"/digest move {p1}", user="admin")
    assert "单条心得不能移动" in await chat.say(f"/digest move {ids(chat)['C'][0]} 1", user="admin")
    await chat.say(f"/digest drop {p1}", user="admin")
    assert "先 /digest undrop" in await chat.say(f"/digest move {p1} 1", user="admin")


async def test_edits_and_moves_survive_rebuilds_new_content_and_publish(
    chat: Chatter, clock: FakeClock
) -> None:
    sender = RecordingSender()
    chat.app.add_sender(sender)
    await seed(chat)
    p1, p2 = ids(chat)["P"]
    await chat.say(f"/digest edit {p1} headline 注意力就是一切", user="admin")
    await chat.say(f"/digest move {p2} first", user="admin")
    clock.advance(hours=2)  # more content arrives after the edits
    await chat.say(
        "/paper https://arxiv.org/abs/2005.14165 GPT-3 | 少样本 | 大模型", user="u4", name="小王"
    )
    text = await preview(chat)
    body = text.split("以下是")[1]
    assert body.index("BERT") < body.index("注意力就是一切") < body.index("GPT-3")
    assert "已发布" in await chat.say("/digest publish now", user="admin")
    published = sender.sent[0].reply.text
    assert "注意力就是一切" in published and "Attention Is All You Need" not in published
    assert "已经开始发布" in await chat.say(f"/digest edit {p1} headline 再改", user="admin")
    # kept after publishing (for the archive and exports)
    assert (f"paper:{p1[1:]}", "headline", 0, "注意力就是一切") in overrides(chat)


async def test_cron_replan_keeps_edits_and_positions(
    config_factory: Callable[..., Config], clock: FakeClock
) -> None:
    app = build_app(config_factory(**LIMITS), clock=clock)
    chat = Chatter(app, clock)
    await seed(chat)
    p1, p2 = ids(chat)["P"]
    await chat.say(f"/digest edit {p1} headline 注意力就是一切", user="admin")
    await chat.say(f"/digest move {p2} 1", user="admin")
    app.db.dispose()
    from digest.periods import replan_open_issue
    from storage.models import Group

    database = {"url": app.config.database.url}  # the same database, a new cron
    moved = build_app(
        config_factory(digest={"cron": "0 18 * * 6"}, database=database, **LIMITS), clock=clock
    )
    with moved.db.session() as s:
        group = s.scalars(select(Group)).one()
        assert replan_open_issue(s, group, "0 18 * * 6", clock())
    again = Chatter(moved, clock, ids=chat.ids)  # message ids go on (no dedupe)
    text = await again.say("/digest preview", user="admin")
    body = text.split("以下是")[1]
    assert body.index("BERT") < body.index("注意力就是一切")
    moved.db.dispose()


async def test_paper_edit_by_the_member_who_shared_it(chat: Chatter) -> None:
    await seed(chat)
    p1, p2 = ids(chat)["P"]
    n1 = p1[1:]
    reply = await chat.say(f"/paper edit {n1} headline 注意力就是一切", user="u1", name="大煌")
    assert "已修改" in reply
    assert "注意力就是一切" in await preview(chat)
    refused = await chat.say(f"/paper edit {p2[1:]} headline 抢改", user="u1", name="大煌")
    assert "只能修改自己分享的论文" in refused
    assert "抢改" not in await preview(chat)
    text = await chat.say(f"/论文 编辑 {n1} title X", user="u1", name="大煌")
    assert "headline" in text and "one-liner" in text  # title is not theirs to change
    assert "没有编号为 9999 的论文" in await chat.say("/paper edit 9999 headline x", user="u1")
    assert "用法" in await chat.say("/paper edit", user="u1")
    with chat.app.db.session() as s:
        logged = s.scalars(select(AuditEntry.command)).all()
    assert "paper" in logged  # the member's edit is in the audit log too


@pytest.mark.parametrize("lang", ["en"])
async def test_english_group_gets_english_replies(
    config_factory: Callable[..., Config], clock: FakeClock, lang: str
) -> None:
    app = build_app(config_factory(language=lang, **LIMITS), clock=clock)
    chat = Chatter(app, clock)
    await seed(chat)
    p1 = ids(chat)["P"][0]
    assert "headline set to: Attention!" in await chat.say(
        f"/digest edit {p1} headline Attention!", user="admin"
    )
    text = await chat.say(f"/digest edit {p1} colour x", user="admin")
    assert "has no field" in text and "one-liner" in text
    assert "too long" in await chat.say(f"/digest edit {p1} title " + "x" * 400, user="admin")
    assert "There is no P999" in await chat.say("/digest edit P999 title x", user="admin")
    assert "Moved" in await chat.say(f"/digest move {p1} last", user="admin")
    head = (await chat.send("/digest preview", user="admin"))[0].text
    assert "message(s)" in head and "条" not in head
    assert "edit <ref> <field> <text>" in head
    app.db.dispose()


async def test_a_deleted_entry_takes_its_edits_along_and_restore_brings_them_back(
    chat: Chatter,
) -> None:
    await seed(chat)
    p2 = ids(chat)["P"][1]
    await chat.say(f"/digest edit {p2} headline 双向编码器", user="admin")
    assert "已删除" in await chat.say(f"/delete paper {p2[1:]}", user="admin")
    assert overrides(chat) == [] and "双向编码器" not in await preview(chat)
    assert "已恢复论文" in await chat.say(f"/restore paper {p2[1:]}", user="admin")
    assert "双向编码器" in await preview(chat)


async def test_a_new_entry_given_a_deleted_entrys_id_does_not_inherit_its_edits(
    chat: Chatter,
) -> None:
    await seed(chat)
    p2 = ids(chat)["P"][1]
    await chat.say(f"/digest edit {p2} headline 双向编码器", user="admin")
    await chat.say(f"/delete paper {p2[1:]}", user="admin")
    # SQLite gives the highest id out again: the next paper must not inherit the edit
    await chat.say(
        "/paper https://arxiv.org/abs/2005.14165 GPT-3 | 少样本 | 大模型", user="u4", name="小王"
    )
    text = await preview(chat)
    assert "GPT-3" in text and "双向编码器" not in text


async def test_a_deleted_checkin_takes_its_edit_along(chat: Chatter) -> None:
    await seed(chat)
    c1 = ids(chat)["C"][0]
    await chat.say(f"/digest edit {c1} text 改过的心得", user="admin")
    assert "已删除" in await chat.say("/checkin del 1", user="u1", name="大煌")
    assert overrides(chat) == []
