"""Chinese full-text search (/search, similar questions) on SQLite FTS5 and PostgreSQL.

The seed lists in tests/data (copies of shared/seeds/resources-*.txt) are sent through the
dispatcher: blog excerpts as /share resources (#blog), learning-note lines as /checkin notes,
and the 2019 research list as /paper entries. Every test runs on SQLite and, when
STUDYBOT_TEST_PG_URL is set (always on CI), on a fresh PostgreSQL database of its own.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from bot.app import App, build_app
from storage.models import Answer, CheckIn, Group, Member, Paper, Question, Resource
from storage.search.drain import index_all_pending
from storage.search.find import search, similar_questions
from storage.search.index import MODELS, rebuild_index
from storage.search.queue import pending_count
from tests.conftest import Chatter, FakeClock, make_config, pg_url, require_or_skip
from tests.support.databases import temporary_database

DATA = Path(__file__).resolve().parent.parent / "data"
BACKENDS = ["sqlite", "postgres"]


# -- seed corpus -------------------------------------------------------------------------------
def blog_entries() -> list[str]:
    lines = (DATA / "resources-blog-index.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if len(line.strip()) > 80]


def note_entries() -> list[str]:
    """The learning notes in weekly-note sized chunks (up to 8 lines, about 600 characters)."""
    lines = (DATA / "resources-learning-notes.txt").read_text(encoding="utf-8").splitlines()
    notes: list[str] = []
    chunk: list[str] = []
    for line in (x.strip() for x in lines):
        if line:
            chunk.append(line[:1000])
        if chunk and (not line or len(chunk) == 8 or sum(map(len, chunk)) > 600):
            notes.append("\n".join(chunk))
            chunk = []
    return notes + (["\n".join(chunk)] if chunk else [])


def paper_entries() -> list[tuple[str, str, str]]:
    """(url, title, summary) for each paper of the 2019 list (the lines before its link)."""
    lines = (DATA / "resources-research-2019.txt").read_text(encoding="utf-8").splitlines()
    lines = [line.strip() for line in lines if line.strip()]
    papers = []
    for i, line in enumerate(lines):
        if line.startswith("https://github.com/"):
            before = [x for x in lines[max(0, i - 4) : i] if not x.startswith("GitHub")]
            papers.append((line, before[-2].replace("|", "/"), before[-1].replace("|", "/")))
    return papers


def backend_url(kind: str, tmp: Path) -> Any:
    if kind == "postgres":
        require_or_skip(pg_url() is not None, "PostgreSQL tests need STUDYBOT_TEST_PG_URL")
    return temporary_database(kind, tmp, migrated=True)


def make_app(url: str, tmp: Path, clock: FakeClock) -> App:
    return build_app(make_config(tmp, database={"url": url}), clock=clock)


async def seed(chat: Chatter) -> None:
    """Send the whole seed corpus through the dispatcher, spread over members."""
    for i, entry in enumerate(blog_entries()):
        reply = await chat.say(
            f"/share https://blog.example.org/post-{i} #blog {entry}", user=f"b{i}", name=f"博主{i}"
        )
        assert "#" in reply, reply
    for i, note in enumerate(note_entries()):
        await chat.say(f"/checkin {note}", user=f"n{i % 40}", name=f"学员{i % 40}")
        chat.clock.advance(minutes=7)
    for i, (url, title, summary) in enumerate(paper_entries()):
        reply = await chat.say(f"/paper {url} {title} | {summary}", user=f"p{i}", name=f"读者{i}")
        assert "📄" in reply, reply


@pytest.fixture(scope="module", params=BACKENDS)
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Chatter]:
    """One app per backend holding the seed corpus (read-only tests share it)."""
    tmp = tmp_path_factory.mktemp(f"search-{request.param}")
    with backend_url(request.param, tmp) as url:
        clock = FakeClock()
        app = make_app(url, tmp, clock)
        chat = Chatter(app, clock)
        asyncio.run(seed(chat))
        yield chat
        app.db.dispose()


@pytest.fixture(params=BACKENDS)
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Chatter]:
    """An empty app of its own (a new database) for tests that write."""
    with backend_url(request.param, tmp_path) as url:
        clock = FakeClock()
        app = make_app(url, tmp_path, clock)
        yield Chatter(app, clock)
        app.db.dispose()


def group_id(app: App) -> int:
    with app.db.session() as session:
        return session.scalars(select(Group.id).order_by(Group.id)).first() or 0


def run(app: App, query: str, **kwargs: Any) -> Any:
    with app.db.session() as session:
        return search(session, group_id(app), query, **kwargs)


def full_text(app: App, kind: str, ref_id: int) -> str:
    with app.db.session() as session:
        obj = session.get(MODELS[kind], ref_id)
        assert obj is not None
        if isinstance(obj, Paper):
            return f"{obj.title} {obj.summary} {obj.url}"
        return f"{obj.text} {getattr(obj, 'url', '')}"


def index_rows(app: App) -> int:
    """Rows in the index once it has caught up with what is queued."""
    index_all_pending(app.db.session)
    with app.db.session() as session:
        return int(session.scalar(text("SELECT count(*) FROM search_docs")) or 0)


# -- ranking on the seed lists ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("词向量", "Word2Vec是从大量文本语料中"),
        ("word2vec", "Word2Vec是从大量文本语料中"),
        ("Word2Vec", "Word2Vec是从大量文本语料中"),
        ("正则化", "正则化 正则化是一个通用的算法"),
        ("过拟合", "过拟合(overfitting)是指"),
        ("BERT", "BERT模型的原理及其变体"),
        ("自监督学习", "又称为自监督学习"),
        ("图像金字塔", "图像金字塔和多尺度滑动窗口检测"),
        ("image pyramid", "image pyramid"),
        ("星际争霸 强化学习", "星际争霸多智能体挑战赛"),
        ("PyTorch Geometric", "PyTorch Geometric"),
    ],
)
def test_seed_query_ranks_the_right_entry_first(seeded, query, expected):
    page = run(seeded.app, query)
    assert page.total >= 1 and not page.relaxed
    first = page.items[0]
    assert expected in full_text(seeded.app, first.kind, first.ref_id)


def test_every_hit_contains_the_query_word(seeded):
    page = run(seeded.app, "正则化", per_page=50)
    for hit in page.items:
        assert "正则化" in full_text(seeded.app, hit.kind, hit.ref_id)


async def test_detection_and_yolo_find_both_kinds_of_entry(seeded):
    page = run(seeded.app, "目标检测 YOLO")
    top = [full_text(seeded.app, h.kind, h.ref_id) for h in page.items[:3]]
    assert any("YOLO的核心思想" in t for t in top)
    assert sum("目标检测" in t for t in top) == 2
    reply = await seeded.say("/search 目标检测 YOLO", user="searcher1")
    assert "YOLO的核心思想" in reply


async def test_entry_with_every_word_ranks_above_partial_matches(fresh):
    for i, entry in enumerate(blog_entries()):
        await fresh.say(f"/share https://blog.example.org/{i} #blog {entry}", user=f"b{i}")
    await fresh.say("/checkin 本周用 YOLO v3 做小目标检测，mAP 提升明显", user="u1", name="大煌")
    page = run(fresh.app, "目标检测 YOLO")
    assert not page.relaxed and page.total == 1
    assert page.items[0].kind == "checkin" and page.items[0].member == "大煌"


async def test_search_command_shows_kind_member_date_and_snippet(seeded):
    reply = await seeded.say("/search 过拟合", user="searcher2")
    lines = reply.splitlines()
    assert "过拟合" in lines[0]
    assert re.match(
        r"^1\. \[资源 \d+\] https://blog\.example\.org/post-\d+ — 博主\d+ · 2026-11-16$", lines[1]
    )
    assert "过拟合" in lines[2]
    assert "第 1/1 页" in reply


async def test_search_alias(seeded):
    assert "Word2Vec" in await seeded.say("/搜索 词向量", user="searcher3")


# -- filters and paging ---------------------------------------------------------------------
def test_tag_filter_keeps_only_tagged_entries(seeded):
    page = run(seeded.app, "学习 #blog", per_page=100)
    assert page.total >= 3
    assert {hit.kind for hit in page.items} == {"resource"}
    assert run(seeded.app, "学习 #nosuchtag").total == 0


@pytest.mark.parametrize(
    ("filter_", "kind"),
    [
        ("type:paper", "paper"),
        ("type:论文", "paper"),
        ("论文:", "paper"),
        ("类型:心得", "checkin"),
        ("type:checkin", "checkin"),
        ("资源:", "resource"),
    ],
)
def test_type_filter(seeded, filter_, kind):
    page = run(seeded.app, f"学习 {filter_}", per_page=100)
    assert page.total >= 1
    assert {hit.kind for hit in page.items} == {kind}


def test_without_a_filter_results_mix_kinds(seeded):
    page = run(seeded.app, "学习", per_page=200)
    assert {"resource", "checkin", "paper"} <= {hit.kind for hit in page.items}


async def test_paging_walks_every_result_once(seeded):
    total = len(blog_entries())
    first = await seeded.say("/search #blog", user="pager")
    assert f"共 {total} 条结果" in first
    pages = -(-total // 5)
    assert f"第 1/{pages} 页，发送 /search #blog page 2 查看下一页" in first
    seen: list[tuple[str, int]] = []
    for number in range(1, pages + 1):
        page = run(seeded.app, f"#blog page {number}")
        assert page.page == number and len(page.items) == min(5, total - 5 * (number - 1))
        seen += [(h.kind, h.ref_id) for h in page.items]
    assert len(seen) == len(set(seen)) == total
    last = await seeded.say(f"/search #blog page {pages}", user="pager2")
    assert f"第 {pages}/{pages} 页" in last and "下一页" not in last
    beyond = await seeded.say("/search #blog page 99", user="pager3")
    assert f"只有 {pages} 页" in beyond


async def test_empty_query_shows_usage_and_unknown_type_is_explained(seeded):
    assert "用法" in await seeded.say("/search", user="u-empty")
    assert "用法" in await seeded.say("/search    ", user="u-empty")
    reply = await seeded.say("/search type:电影 学习", user="u-empty")
    assert "电影" in reply and "论文" in reply


async def test_no_results_get_a_friendly_reply(seeded):
    reply = await seeded.say("/search 火锅底料配方", user="u-none")
    assert "没有找到" in reply and "火锅底料配方" in reply
    assert "没有找到" in await seeded.say("/search 的 了 吗", user="u-none")


# -- hostile input ------------------------------------------------------------------------------
HOSTILE = [
    '"', '""', '"词向量', "*", "词*", "(", ")", "()", "AND", "OR", "NOT", "NEAR", "NEAR(a b)",
    "a AND", "OR b", "-", "-词向量", ":", "body:x", "tags : blog", "{tags body}: x", "^bert",
    "'", "\\", "%", "_", "a'b", "'); DROP TABLE search_docs; --", "word2vec NEAR/2 词向量",
    "&|!<->", "#", "##", "#\"", "type:", "page", "page -1", "第0页", "\x00", "👍🏽", "ａｂｃ",
]  # fmt: skip


@pytest.mark.parametrize("query", HOSTILE)
async def test_fts_syntax_in_queries_never_errors(seeded, query):
    run(seeded.app, query)
    reply = await seeded.say(f"/search {query}", user=f"hostile{HOSTILE.index(query)}")
    assert "出错" not in reply and reply
    assert index_rows(seeded.app) > 0  # nothing was dropped


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=60))
def test_any_text_is_a_valid_query(seeded, query):
    try:
        page = run(seeded.app, query)
    except ValueError as error:  # only an unknown type: filter may be refused
        assert "unknown_type" in str(error)
        return
    assert page.total >= len(page.items)


async def test_html_in_entries_comes_back_as_plain_text(fresh):
    await fresh.say(
        "/share https://example.com/attn #nlp <b>注意力机制</b> <script>alert(1)</script>",
        user="u1",
    )
    replies = await fresh.send("/search 注意力机制", user="u2")
    assert len(replies) == 1 and replies[0].html is None
    assert "<b>注意力机制</b> <script>alert(1)</script>" in replies[0].text


# -- keeping the index in sync --------------------------------------------------------------------
def test_rolled_back_insert_leaves_no_index_row(fresh):
    app = fresh.app
    with app.db.session() as session:
        member = Member(platform="console", platform_user_id="x", display_name="x")
        group = Group(slug="g", name="g")
        session.add_all([member, group])
    before = index_rows(app)
    with pytest.raises(RuntimeError), app.db.session() as session:
        session.add(CheckIn(group_id=group.id, member_id=member.id, text="独角兽词汇 unicornword"))
        session.flush()
        assert pending_count(session) == 1  # queued in the message's own transaction
        assert search(session, group.id, "unicornword").total == 1  # a search indexes it first
        assert index_rows_in(session) == before + 1
        raise RuntimeError("message failed")
    assert index_rows(app) == before
    with app.db.session() as session:
        assert pending_count(session) == 0
    with app.db.session() as session:
        assert search(session, group.id, "unicornword").total == 0


def index_rows_in(session: Any) -> int:
    return int(session.scalar(text("SELECT count(*) FROM search_docs")) or 0)


def test_savepoint_rollback_drops_only_its_rows(fresh):
    app = fresh.app
    with app.db.session() as session:
        member = Member(platform="console", platform_user_id="x", display_name="x")
        group = Group(slug="g", name="g")
        session.add_all([member, group])
        session.flush()
        session.add(CheckIn(group_id=group.id, member_id=member.id, text="保留 keepword"))
        session.flush()
        with pytest.raises(RuntimeError), session.begin_nested():
            session.add(CheckIn(group_id=group.id, member_id=member.id, text="丢弃 dropword"))
            session.flush()
            raise RuntimeError
    with app.db.session() as session:
        assert search(session, group.id, "keepword").total == 1
        assert search(session, group.id, "dropword").total == 0


async def test_failed_command_stores_no_index_row(fresh):
    await fresh.say("/checkin 第一条 正常心得", user="u1")
    before = index_rows(fresh.app)
    reply = await fresh.say("/checkin " + "长" * 3500, user="u1")
    assert "太长" in reply
    assert index_rows(fresh.app) == before


async def test_edit_and_delete_update_the_index(fresh):
    assert "✅" in await fresh.say("/checkin 学习了 transformer 的位置编码", user="u1")
    checkin_id = run(fresh.app, "transformer").items[0].ref_id
    await fresh.say(f"/checkin edit {checkin_id} 改为学习 卷积神经网络 的池化", user="u1")
    assert run(fresh.app, "transformer").total == 0
    assert run(fresh.app, "池化").items[0].ref_id == checkin_id
    await fresh.say(f"/checkin del {checkin_id}", user="u1")
    assert run(fresh.app, "池化").total == 0
    assert index_rows(fresh.app) == 0


def test_resource_tag_changes_and_member_deletion_reach_the_index(fresh):
    app = fresh.app
    from storage.content import get_or_create_tags

    with app.db.session() as session:
        member = Member(platform="console", platform_user_id="m", display_name="m")
        group = Group(slug="g", name="g")
        session.add_all([member, group])
        session.flush()
        resource = Resource(
            group_id=group.id, member_id=member.id, url="https://e.org/x", text="扩散模型 综述",
            tags=get_or_create_tags(session, ["cv"]),
        )  # fmt: skip
        session.add(resource)
    with app.db.session() as session:
        assert search(session, group.id, "扩散模型 #cv").total == 1
        res = session.get(Resource, resource.id)
        assert res is not None
        res.tags = get_or_create_tags(session, ["生成模型"])
    with app.db.session() as session:
        assert search(session, group.id, "扩散模型 #cv").total == 0
        assert search(session, group.id, "#生成模型").total == 1
        session.delete(session.get(Member, member.id))
    with app.db.session() as session:
        assert search(session, group.id, "扩散模型").total == 0
    assert index_rows(app) == 0


async def test_answers_are_searchable_and_labelled_with_their_question(fresh):
    await fresh.say("/ask 学习率 怎么调？", user="u1")
    await fresh.say("/answer 1 先用 warmup 再余弦退火", user="u2", name="小林")
    page = run(fresh.app, "余弦退火")
    assert [(h.kind, h.number, h.member) for h in page.items] == [("answer", 1, "小林")]
    reply = await fresh.say("/search 余弦退火 type:回答", user="u3")
    assert "回答 · 问题 #1" in reply and "小林" in reply


def test_rebuild_index_restores_everything(seeded):
    app = seeded.app
    rows = index_rows(app)
    with app.db.session() as session:
        entries = sum(
            int(session.scalar(select(func.count()).select_from(m)) or 0) for m in MODELS.values()
        )
    assert rows == entries
    with app.db.session() as session:
        assert rebuild_index(session) == entries
    assert index_rows(app) == entries
    assert "Word2Vec是从大量文本语料中" in full_text(app, *first_hit(app, "词向量"))


def first_hit(app: App, query: str) -> tuple[str, int]:
    hit = run(app, query).items[0]
    return hit.kind, hit.ref_id


def test_migration_indexes_entries_that_already_exist(fresh):
    from storage.db import downgrade, upgrade

    app = fresh.app
    with app.db.session() as session:
        member = Member(platform="console", platform_user_id="m", display_name="m")
        group = Group(slug="g", name="g")
        session.add_all([member, group])
        session.flush()
        question = Question(
            group_id=group.id, number=1, member_id=member.id, text="什么是 梯度消失"
        )
        session.add(question)
        session.flush()
        session.add(Answer(question_id=question.id, member_id=member.id, text="用 残差连接 缓解"))
    downgrade(app.db.engine, "0002_away_periods")
    upgrade(app.db.engine)
    with app.db.session() as session:
        assert search(session, group.id, "梯度消失").items[0].kind == "question"
        assert search(session, group.id, "残差连接").items[0].number == 1


# -- similar questions for /ask -----------------------------------------------------------------
async def test_ask_suggests_similar_earlier_questions(fresh):
    await fresh.say("/ask 怎么防止过拟合？", user="u1")
    await fresh.say("/ask YOLO 的 anchor 怎么设置？", user="u2")
    reply = await fresh.say("/ask 过拟合有什么好的解决办法？", user="u3")
    assert "#1 怎么防止过拟合" in reply and "#2" not in reply
    unrelated = await fresh.say("/ask 如何部署 flask 服务", user="u4")
    assert "#1" not in unrelated.split("\n", 1)[1] and "#2" not in unrelated


def test_similar_questions_ranks_excludes_itself_and_stays_in_group(fresh):
    app = fresh.app
    with app.db.session() as session:
        member = Member(platform="console", platform_user_id="m", display_name="m")
        mine, other = Group(slug="a", name="a"), Group(slug="b", name="b")
        session.add_all([member, mine, other])
        session.flush()
        texts = [
            "BERT 的 预训练 任务 是什么",
            "BERT 预训练 和 微调 的区别",
            "GPT 和 BERT 的区别",
            "怎么画图",
        ]
        for n, body in enumerate(texts, start=1):
            session.add(Question(group_id=mine.id, number=n, member_id=member.id, text=body))
        session.add(
            Question(group_id=other.id, number=1, member_id=member.id, text="BERT 预训练 任务")
        )
        session.flush()
        new = Question(
            group_id=mine.id, number=9, member_id=member.id, text="BERT 的预训练任务有哪些"
        )
        session.add(new)
        session.flush()
        found = similar_questions(session, mine.id, new.text, exclude_id=new.id)
        assert found and found[0].text == texts[0]
        assert all(q.group_id == mine.id and q.id != new.id for q in found)
        assert "怎么画图" not in [q.text for q in found] and len(found) <= 3
        assert similar_questions(session, mine.id, "，。！？", exclude_id=new.id) == []


# -- isolation, scope tokens, language, PostgreSQL window ----------------------------------------
def test_filter_tokens_are_not_searchable_words(seeded):
    gid = group_id(seeded.app)
    for word in (f"g{gid}", "kpaper", "kcheckin", "t" + b"blog".hex(), "scope"):
        assert run(seeded.app, word).total == 0, word


def test_other_groups_entries_are_not_found(fresh):
    app = fresh.app
    with app.db.session() as session:
        member = Member(platform="console", platform_user_id="m", display_name="m")
        mine, other = Group(slug="a", name="a"), Group(slug="b", name="b")
        session.add_all([member, mine, other])
        session.flush()
        session.add(CheckIn(group_id=other.id, member_id=member.id, text="别组的 知识蒸馏 笔记"))
        session.add(CheckIn(group_id=mine.id, member_id=member.id, text="本组的 数据增强 笔记"))
    with app.db.session() as session:
        assert search(session, mine.id, "知识蒸馏").total == 0
        assert search(session, other.id, "知识蒸馏").total == 1
        assert search(session, mine.id, "笔记").total == 1


async def test_english_replies(tmp_path):
    clock = FakeClock()
    app = build_app(make_config(tmp_path, language="en"), clock=clock)
    try:
        chat = Chatter(app, clock)
        assert "Usage: /search" in await chat.say("/search", user="u1")
        await chat.say("/checkin learned word2vec negative sampling", user="u2", name="Ann")
        reply = await chat.say("/search word2vec", user="u3")
        assert reply.startswith("🔎 “word2vec”: 1 found") and "[check-in" in reply
        assert "Ann · 2026-11-16" in reply and "Page 1/1" in reply
        assert "Nothing found" in await chat.say("/search hotpot", user="u4")
        assert "Unknown kind" in await chat.say("/search type:movie x", user="u5")
    finally:
        app.db.dispose()


async def test_dates_are_shown_in_the_group_timezone(fresh):
    fresh.clock.set(datetime(2026, 11, 16, 20, 30, tzinfo=UTC))  # 04:30 next day in Shanghai
    await fresh.say("/checkin 复习 反向传播", user="u1", name="大煌")
    assert "大煌 · 2026-11-17" in await fresh.say("/search 反向传播", user="u2")


async def test_postgres_counts_and_ranks_within_a_window(fresh, monkeypatch):
    import storage.search.engine

    monkeypatch.setattr(storage.search.engine, "PG_WINDOW", 3)
    for i in range(5):
        await fresh.say(f"/checkin 第{i}次 练习 卷积", user=f"u{i}")
    page = run(fresh.app, "卷积")
    pg = fresh.app.db.dialect == "postgresql"
    assert page.capped is pg and page.total == (3 if pg else 5)
    reply = await fresh.say("/search 卷积", user="reader")
    assert ("共 3+ 条结果" if pg else "共 5 条结果") in reply


async def test_totals_are_exact_whether_or_not_a_count_query_runs(fresh):
    """Page 1 with room to spare is its own total (no count query); a full page, a later page
    or a page beyond the end count; relaxed matches count their candidates."""
    for i in range(7):
        await fresh.say(f"/checkin 第{i}次 复习 countword", user=f"u{i}")
    await fresh.say("/checkin 只有 loneword 一条", user="u9")
    assert run(fresh.app, "loneword").total == 1
    for per_page in (5, 7, 8):
        page = run(fresh.app, "countword", per_page=per_page)
        assert page.total == 7 and len(page.items) == min(per_page, 7)
    assert [run(fresh.app, "countword", page=n).total for n in (2, 3)] == [7, 7]
    assert len(run(fresh.app, "countword", page=3).items) == 0
    relaxed = run(fresh.app, "countword loneword")  # no entry has both words
    assert relaxed.relaxed and relaxed.total == 8 and len(relaxed.items) == 5


async def test_postgres_rebuild_leaves_the_planner_fresh_statistics(tmp_path):
    """After a rebuild (imports, a move from SQLite) PostgreSQL knows the index's size at once
    instead of planning searches blind until autovacuum gets round to it."""
    with backend_url("postgres", tmp_path) as url:
        app = make_app(url, tmp_path, FakeClock())
        chat = Chatter(app, FakeClock())
        for i in range(30):
            await chat.say(f"/checkin 第{i}条 统计信息 statword", user=f"u{i}")  # distinct (#19)
        with app.db.session() as session:
            assert rebuild_index(session) == 30
        with app.db.session() as session:
            known = session.scalar(
                text("SELECT reltuples FROM pg_class WHERE relname = 'search_docs'")
            )
        app.db.dispose()
    assert known == 30


def test_jieba_loads_only_when_first_needed():
    import subprocess
    import sys

    code = "import sys, storage.db, storage.search.find, handlers.search; print('jieba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- the trimmed dictionary ---------------------------------------------------------------------
def test_trimmed_dictionary_keeps_common_words_and_drops_rare_ones(tmp_path):
    from storage.search.text import MIN_WORD_FREQ, trimmed_dictionary

    source = tmp_path / "dict.txt"
    source.write_text(
        "学习 5000 v\n底料 2 n\n词向量 6 n\nC语言 3 n\n龟龙麟凤 3 ns\n坏行\n", encoding="utf-8"
    )
    trimmed = trimmed_dictionary(source, tmp_path / "cache")
    words = [line.split()[0] for line in trimmed.read_text(encoding="utf-8").splitlines()]
    assert MIN_WORD_FREQ == 5 and words == ["学习", "底料", "词向量"]
    assert trimmed_dictionary(source, tmp_path / "cache") == trimmed  # written once


async def test_words_left_out_of_the_dictionary_are_still_found(fresh):
    """``C语言`` and ``龟龙麟凤`` are too rare for the trimmed dictionary: split, still found."""
    await fresh.say("/checkin 用 C语言 手写了反向传播", user="u1")
    await fresh.say("/checkin 读到成语 龟龙麟凤 的出处", user="u2")
    assert run(fresh.app, "C语言").total == 1
    assert run(fresh.app, "龟龙麟凤").total == 1
    assert run(fresh.app, "C语言 龟龙麟凤").relaxed
