"""Admins delete any paper, resource, question or answer (soft: kept in the trash and listed by
/digest status), and every admin action is logged and shown by /audit (issue #19)."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.app import build_app
from storage.models import Answer, Paper, Question, Resource, TrashItem
from tests.conftest import Chatter


def count(chat, model) -> int:
    with chat.app.db.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


async def test_admin_deletes_a_paper_and_it_leaves_lists_digest_and_search(chat):
    await chat.say("/paper https://arxiv.org/abs/1706.03762 Attention Is All You Need", user="u1")
    await chat.say("/paper https://arxiv.org/abs/1810.04805 BERT", user="u1")
    with chat.app.db.session() as session:
        first = session.scalars(select(Paper).order_by(Paper.id)).first()
        assert first is not None
        paper_id = first.id
    assert "仅限管理员" in await chat.say(f"/delete paper {paper_id}", user="u1")
    reply = await chat.say(f"/delete paper {paper_id}", user="admin")
    assert "已删除论文" in reply and f"#{paper_id}" in reply
    assert "Attention" not in await chat.say("/papers", user="u2")
    assert "BERT" in await chat.say("/papers", user="u2")
    preview = await chat.say("/digest preview", user="admin")
    assert "Attention" not in preview and "BERT" in preview
    status = await chat.say("/digest status", user="admin")
    assert "本期管理员删除了 1 条" in status and f"论文 #{paper_id}" in status and "admin" in status
    with chat.app.db.session() as session:
        [item] = session.scalars(select(TrashItem)).all()
        assert item.kind == "paper" and item.snapshot["title"] == "Attention Is All You Need"
    assert "没有找到论文" in await chat.say(f"/delete paper {paper_id}", user="admin")


async def test_admin_deletes_questions_answers_and_resources(chat):
    await chat.say("/ask 什么是 dropout？", user="u1", name="问者")
    await chat.say("/answer 1 训练时随机丢弃", user="u2", name="乙")
    await chat.say("/answer 1 广告：加我微信", user="u3", name="丙")
    await chat.say("/best 1 2", user="admin")
    assert "已删除回答 #1-2" in await chat.say("/delete answer 1 2", user="admin")
    shown = await chat.say("/q 1", user="u4")
    assert "广告" not in shown and "训练时随机丢弃" in shown and "🏅" not in shown
    assert "没有找到回答 #1-5" in await chat.say("/delete answer 1 5", user="admin")
    assert "已删除问题 #1" in await chat.say("/删除内容 问题 1", user="admin")
    assert count(chat, Question) == 0 and count(chat, Answer) == 0
    await chat.say("/share https://example.com/spam #ad 广告", user="u3")
    with chat.app.db.session() as session:
        resource_id = session.scalars(select(Resource.id)).one()
    assert "已删除资源" in await chat.say(f"/delete resource {resource_id}", user="admin")
    assert count(chat, Resource) == 0
    for bad in ("/delete", "/delete paper", "/delete paper x", "/delete answer 1", "/delete 猫 1"):
        assert "用法" in await chat.say(bad, user="admin"), bad
    assert count(chat, TrashItem) == 3  # the question took its remaining answer with it


async def test_every_admin_action_is_logged_and_shown_by_audit(chat, clock):
    assert "还没有管理员操作记录" in await chat.say("/audit", user="admin")
    await chat.say("/keyword add 书单 西瓜书", user="admin", name="管理员甲")
    await chat.say("/digest preface 本周加油", user="admin", name="管理员甲")
    await chat.say("/keyword add 越权 x", user="u1")  # refused: not logged
    log = await chat.say("/audit", user="admin", name="管理员甲")
    lines = log.splitlines()
    assert "最近 2 条" in lines[0]  # reading the log is no action
    assert "管理员甲" in lines[1] and "/digest preface 本周加油" in lines[1]
    assert "/keyword add 书单 西瓜书" in lines[2]
    assert "越权" not in log and "17:00" in lines[2]  # 09:00 UTC in the group's timezone
    assert "最近 1 条" in await chat.say("/audit 1", user="admin")
    assert "用法" in await chat.say("/audit abc", user="admin")
    assert "仅限管理员" in await chat.say("/audit", user="u1")


async def test_deleting_a_questions_only_answer_opens_it_again(chat):
    await chat.say("/ask 什么是 dropout？", user="u1", name="问者")
    await chat.say("/answer 1 广告：加我微信", user="u3", name="丙")
    assert "没有待解答" in await chat.say("/questions", user="u4")
    await chat.say("/delete answer 1 1", user="admin")
    assert "#1" in await chat.say("/questions", user="u4")
    assert "待解答" in await chat.say("/q 1", user="u4")


async def test_admin_lists_the_trash_and_restores_entries(chat):
    await chat.say("/paper https://arxiv.org/abs/1706.03762 Attention Is All You Need", user="u1")
    await chat.say("/share https://example.com/cs231n #cv 斯坦福 CS231n", user="u2")
    await chat.say("/ask 什么是 dropout？", user="u1", name="问者")
    await chat.say("/answer 1 训练时随机丢弃", user="u2", name="乙")
    await chat.say("/answer 1 推理时不丢弃", user="u3", name="丙")
    await chat.say("/best 1 2", user="admin")
    with chat.app.db.session() as session:
        paper_id = session.scalars(select(Paper.id)).one()
        resource_id = session.scalars(select(Resource.id)).one()
    assert "回收站是空的" in await chat.say("/trash", user="admin")
    await chat.say(f"/delete paper {paper_id}", user="admin", name="管理员甲")
    await chat.say(f"/delete resource {resource_id}", user="admin", name="管理员甲")
    await chat.say("/delete question 1", user="admin", name="管理员甲")
    listing = await chat.say("/回收站", user="admin")
    assert "最近 3 条" in listing and "Attention" in listing and "管理员甲" in listing
    assert "/restore question 1" in listing and f"/restore paper {paper_id}" in listing
    assert "仅限管理员" in await chat.say("/restore question 1", user="u1")

    assert "已恢复问题 #1" in await chat.say("/restore question 1", user="admin")
    shown = await chat.say("/q 1", user="u4")
    assert "训练时随机丢弃" in shown and "🏅" in shown and "推理时不丢弃" in shown
    assert "已恢复论文" in await chat.say(f"/恢复 论文 {paper_id}", user="admin")
    assert "Attention" in await chat.say("/papers", user="u4")
    assert "已恢复资源" in await chat.say(f"/restore resource {resource_id}", user="admin")
    assert "CS231n" in await chat.say("/search CS231n", user="u4")
    assert "cv" in await chat.say("/search #cv", user="u4")
    assert "回收站里没有论文" in await chat.say(f"/restore paper {paper_id}", user="admin")


async def test_restore_is_logged_and_explains_its_usage(chat):
    await chat.say("/ask 什么是 dropout？", user="u1", name="问者")
    await chat.say("/delete question 1", user="admin")
    assert "已恢复问题 #1" in await chat.say("/restore question 1", user="admin", name="管理员甲")
    assert "回收站是空的" in await chat.say("/trash", user="admin")
    log = await chat.say("/audit", user="admin")
    assert "管理员甲：/restore question 1" in log
    for bad in ("/restore", "/restore paper", "/restore answer 1", "/restore 猫 1"):
        assert "用法" in await chat.say(bad, user="admin"), bad


async def test_restoring_answers_and_renumbered_questions(
    migrated_database_url, config_factory, clock
):
    """On SQLite and PostgreSQL: a restored entry keeps its number unless it was taken
    meanwhile, and a restored answer finds its (renumbered) question."""
    app = build_app(config_factory(database={"url": migrated_database_url}), clock=clock)
    try:
        chat = Chatter(app, clock)
        await chat.say("/ask 问题一", user="u1")
        await chat.say("/ask 问题二", user="u1")
        await chat.say("/answer 2 回答甲", user="u2")
        await chat.say("/delete answer 2 1", user="admin")
        assert "#2" in await chat.say("/questions", user="u4")  # open again
        await chat.say("/delete question 2", user="admin")
        assert "无法恢复回答 #2-1" in await chat.say("/restore answer 2 1", user="admin")
        await chat.say("/ask 问题三（取了 #2）", user="u3")
        reply = await chat.say("/restore question 2", user="admin")
        assert "现为 #3" in reply
        assert "问题二" in await chat.say("/q 3", user="u4")
        assert "问题三" in await chat.say("/q 2", user="u4")
        assert "已恢复回答 #2-1" in await chat.say("/restore answer 2 1", user="admin")
        shown = await chat.say("/q 3", user="u4")
        assert "回答甲" in shown
        assert "#3" not in await chat.say("/questions", user="u4")  # answered again
    finally:
        app.db.dispose()


async def test_a_paper_shared_again_is_not_restored_twice(chat):
    await chat.say("/paper https://arxiv.org/abs/1810.04805 BERT", user="u1")
    with chat.app.db.session() as session:
        first = session.scalars(select(Paper.id)).one()
    await chat.say(f"/delete paper {first}", user="admin")
    await chat.say("/paper https://arxiv.org/abs/1810.04805 BERT again", user="u2")
    with chat.app.db.session() as session:
        again = session.scalars(select(Paper.id)).one()
    assert f"又被分享为 #{again}" in await chat.say(f"/restore paper {first}", user="admin")
    assert count(chat, Paper) == 1 and count(chat, TrashItem) == 1
