"""build_digest over fixed rows: what goes into each section, in which order, and how admins'
featured/dropped choices and the period bounds shape it (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from bot.config import parse_config
from digest.build import CARRY_OVER_DAYS, MAX_ANSWERS, build_digest
from digest.periods import ensure_issue
from digest.render import render_markdown
from storage.content import add_resource
from storage.db import Database
from storage.models import Answer, CheckIn, DigestIssue, Group, Member, Paper, Question

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 15, 20, 0, tzinfo=SHANGHAI)
END = START + timedelta(days=7)
CONFIG = parse_config({"join": {"text": "回复「自学」加入我们"}})


def at(days: float) -> datetime:
    """A moment ``days`` after the period start."""
    return START + timedelta(days=days)


@pytest.fixture
def db(migrated_database_url):
    database = Database(migrated_database_url)
    yield database
    database.dispose()


class Week:
    """Writes rows for one group, like the handlers would."""

    def __init__(self, session):
        self.s = session
        self.group = Group(slug="ml", name="ML自学者俱乐部", timezone="Asia/Shanghai")
        session.add(self.group)
        session.flush()
        self.members: dict[str, Member] = {}
        self.numbers = 0
        self.issue = ensure_issue(session, self.group, at(1), "0 20 * * sun")

    def member(self, name: str) -> Member:
        if name not in self.members:
            m = Member(
                platform="console", platform_user_id=f"u{len(self.members)}", display_name=name
            )
            self.s.add(m)
            self.s.flush()
            self.members[name] = m
        return self.members[name]

    def note(self, name: str, text: str, when: datetime) -> CheckIn:
        row = CheckIn(
            group_id=self.group.id, member_id=self.member(name).id, text=text, created_at=when
        )
        self.s.add(row)
        self.s.flush()
        return row

    def paper(self, name: str, title: str, when: datetime, **kw) -> Paper:
        url = kw.pop("url", f"https://arxiv.org/abs/{len(title)}.{int(when.timestamp())}")
        row = Paper(
            group_id=self.group.id,
            member_id=self.member(name).id,
            url=url,
            url_key=url,
            title=title,
            created_at=when,
            **kw,
        )
        self.s.add(row)
        self.s.flush()
        return row

    def ask(self, name: str, text: str, when: datetime) -> Question:
        self.numbers += 1
        row = Question(
            group_id=self.group.id,
            number=self.numbers,
            member_id=self.member(name).id,
            text=text,
            status="open",
            created_at=when,
        )
        self.s.add(row)
        self.s.flush()
        return row

    def answer(self, question: Question, name: str, text: str, when: datetime) -> Answer:
        row = Answer(
            question_id=question.id, member_id=self.member(name).id, text=text, created_at=when
        )
        self.s.add(row)
        question.status = "answered"
        self.s.flush()
        return row

    def share(self, name: str, url: str, tags: list[str], text: str, when: datetime):
        return add_resource(
            self.s, self.group.id, self.member(name).id, url=url, text=text, tags=tags, now=when
        )

    def build(self, config=CONFIG, **kw):
        self.s.flush()
        self.s.expire_all()
        return build_digest(self.s, self.issue, config, **kw)


def test_papers_in_order_shared_within_the_period_only(db):
    with db.session() as s:
        w = Week(s)
        w.paper("大煌", "too early", START - timedelta(seconds=1))
        second = w.paper("奔腾", "第二篇", at(3), summary="摘要二", one_liner="一句话二")
        first = w.paper(
            "大煌",
            "CVPR2019：细粒度图像识别新论文\nDestruction and Construction Learning",
            START,
            code_url="https://github.com/a/b",
            arxiv_id="1903.10258",
        )
        w.paper("大煌", "too late", END)
        third = w.paper(
            "安芯", "第三篇", at(4), summary="论文名称：Deep Residual Learning\n\n残差网络。"
        )
        d = w.build()
        assert [p.title for p in d.papers] == ["CVPR2019：细粒度图像识别新论文", "第二篇", "第三篇"]
        assert d.papers[2].key == f"paper:{third.id}"
        assert (d.papers[2].paper_name, d.papers[2].summary) == (
            "Deep Residual Learning",
            "残差网络。",
        )
        assert d.papers[0].key == f"paper:{first.id}"
        assert d.papers[0].paper_name == "Destruction and Construction Learning"
        assert d.papers[0].code_url == "https://github.com/a/b"
        assert d.papers[1].summary == "摘要二" and d.papers[1].one_liner == "一句话二"
        assert d.papers[1].shared_by == "奔腾" and d.papers[1].key == f"paper:{second.id}"


def test_fetched_metadata_names_the_paper_under_the_members_headline(db):
    fetched = {
        "arxiv_status": "ok",
        "arxiv_title": "Attention Is All You Need",
        "arxiv_authors": "Ashish Vaswani\nNoam Shazeer\nNiki Parmar\nJakob Uszkoreit",
        "code_status": "ok",
        "code_stars": 16102,
        "code_url": "https://github.com/a/b\nhttps://github.com/c/d",
    }
    with db.session() as s:
        w = Week(s)
        w.paper("大煌", "注意力就是全部", at(1), arxiv_id="1706.03762", **fetched)
        w.paper("奔腾", "", at(2), arxiv_id="1810.04805", arxiv_status="ok", arxiv_title="BERT")
        w.paper("安芯", "", at(3), arxiv_id="1903.10258", arxiv_status="failed")
        headed, untitled, unfetched = w.build().papers
    assert headed.title == "注意力就是全部"
    assert headed.paper_name == headed.shown_name == "Attention Is All You Need"
    assert headed.author_list == "Ashish Vaswani, Noam Shazeer, Niki Parmar"
    assert headed.more_authors
    assert headed.code_links == ("https://github.com/a/b", "https://github.com/c/d")
    assert headed.stars == "★ 16.1k"
    # no headline: the real title heads it, and is not repeated as 论文名称
    assert untitled.title == "BERT" and untitled.shown_name is None
    # not fetched (yet): the arXiv id, as before
    assert unfetched.title == "arXiv:1903.10258" and unfetched.authors == ()


def test_notes_merged_per_member_in_order_of_first_note(db):
    with db.session() as s:
        w = Week(s)
        w.note("奔腾", "last week", START - timedelta(hours=1))
        w.note("大煌", "周一：读了 [论文](https://arxiv.org/abs/1)", at(0.5))
        w.note("奔腾", "复习概率论", at(1))
        w.note("大煌", "周三：复现代码", at(2))
        w.note("大煌", "   ", at(2.5))
        w.note("昨夜星辰", "next week", END)
        d = w.build()
        assert [n.member_name for n in d.notes] == ["大煌", "奔腾"]
        assert d.notes[0].texts == ["周一：读了 [论文](https://arxiv.org/abs/1)", "周三：复现代码"]
        assert d.notes[1].texts == ["复习概率论"]
        assert d.notes[0].key == f"member:{w.members['大煌'].id}"


def test_questions_of_the_period_and_carried_over_ones(db):
    with db.session() as s:
        w = Week(s)
        old_open = w.ask("a", "还没人回答的老问题？", START - timedelta(days=3))
        ancient = w.ask("a", "太老的问题", START - timedelta(days=CARRY_OVER_DAYS + 1))
        answered_before = w.ask("a", "上周已解决", START - timedelta(days=2))
        w.answer(answered_before, "b", "早就答了", START - timedelta(days=1))
        answered_now = w.ask("a", "上周问，本周才有人答", START - timedelta(days=4))
        w.answer(answered_now, "b", "本周的回答", at(2))
        fresh = w.ask("c", "lstm 激活函数为什么 sigmoid 和 tanh 同时存在", at(1))
        w.ask("c", "下周的问题", END + timedelta(minutes=1))
        d = w.build()
        keys = [q.key for q in d.questions]
        # questions of the week first, then carried-over ones in the order they were asked
        expected = (fresh.number, answered_now.number, old_open.number)
        assert keys == [f"question:{n}" for n in expected]
        assert f"question:{ancient.number}" not in keys
        by_number = {q.number: q for q in d.questions}
        assert by_number[fresh.number].carried_over is False
        assert by_number[fresh.number].open is True and by_number[fresh.number].answers == []
        assert by_number[old_open.number].carried_over is True
        carried = by_number[answered_now.number]
        assert carried.carried_over and not carried.open
        assert [a.text for a in carried.answers] == ["本周的回答"]


def test_best_answer_first_then_others_only_until_period_end(db):
    with db.session() as s:
        w = Week(s)
        q = w.ask("a", "怎么学概率？", at(1))
        w.answer(q, "b", "第一个回答", at(1.1))
        best = w.answer(q, "c", "最好的回答", at(1.2))
        for i in range(MAX_ANSWERS + 2):
            w.answer(q, "d", f"更多回答 {i}", at(1.3 + i / 100))
        w.answer(q, "e", "期后的回答", END + timedelta(hours=1))
        q.best_answer_id = best.id
        d = w.build()
        answers = d.questions[0].answers
        assert [a.text for a in answers[:2]] == ["最好的回答", "第一个回答"]
        assert answers[0].best and answers[0].answered_by == "c"
        assert len(answers) == MAX_ANSWERS
        assert "期后的回答" not in [a.text for a in answers]


def test_question_title_is_split_only_where_the_member_split_it(db):
    """Issue #17 point 4: a line break or `|` splits title and details, never a 「？」 (this
    test asserted the old split at the first sentence end)."""
    with db.session() as s:
        w = Week(s)
        w.ask("a", "研究生阶段如何规划\n老师，您好。我现在大四学生……", at(1))
        w.ask("a", "为什么要归一化？我试了几种方法都不行。", at(1.1))
        w.ask("a", "很长" * 80, at(1.2))
        w.ask("a", "[lstm 为什么](https://www.zhihu.com/question/46197687) 同时存在", at(1.3))
        w.ask("a", "BN 和 LN 的区别？ | 训练时和推理时各有什么不同？\n附：我的代码", at(1.4))
        titles = [q.title for q in w.build().questions]
        assert titles[0] == "研究生阶段如何规划"
        assert titles[1] == "为什么要归一化？我试了几种方法都不行。"
        assert len(titles[2]) <= 60 and titles[2].endswith("…")
        assert titles[3] == "lstm 为什么 同时存在"
        assert titles[4] == "BN 和 LN 的区别？"
        details = [q.details for q in w.build().questions]
        assert details[0] == "老师，您好。我现在大四学生……"
        assert details[1] == ""
        assert details[2] == "很长" * 80  # trimmed title: the whole question is shown
        assert details[3] == "[lstm 为什么](https://www.zhihu.com/question/46197687)"
        assert details[4] == "训练时和推理时各有什么不同？\n附：我的代码"


def test_featured_entries_move_first_and_dropped_ones_disappear(db):
    with db.session() as s:
        w = Week(s)
        for i, name in enumerate(["甲", "乙", "丙", "丁"]):
            w.note(name, f"note {i}", at(i / 10))
        p1 = w.paper("甲", "P1", at(1))
        p2 = w.paper("乙", "P2", at(1.1))
        q1 = w.ask("丙", "Q1", at(2))
        plain = w.build()
        by_name = {n.member_name: n.key for n in plain.notes}
        w.issue.featured = [by_name["丁"], by_name["丙"], f"paper:{p2.id}"]
        w.issue.dropped = [by_name["乙"], f"question:{q1.number}"]
        d = w.build()
        assert [n.member_name for n in d.notes] == ["丁", "丙", "甲"]
        assert [p.key for p in d.papers] == [f"paper:{p2.id}", f"paper:{p1.id}"]
        assert d.questions == []
        entries = d.entries
        assert [e.index for e in entries] == list(range(1, 6))
        assert [e.title for e in entries] == ["P2", "P1", "丁", "丙", "甲"]
        assert d.entry(3).key == by_name["丁"] and d.entry(6) is None and d.entry(0) is None


def test_preface_default_and_admin_override_and_join_text(db):
    with db.session() as s:
        w = Week(s)
        d = w.build(web_url="https://club.example/digest/1")
        assert d.preface == CONFIG.digest.default_preface
        assert d.join_text == "回复「自学」加入我们"
        assert d.web_url == "https://club.example/digest/1"
        assert (d.number, d.group_name) == (1, "ML自学者俱乐部")
        assert (d.period_start, d.period_end) == (w.issue.period_start, w.issue.period_end)
        w.issue.preface = "本期由大煌主编。"
        assert w.build().preface == "本期由大煌主编。"


def test_resources_grouped_by_the_weeks_tags_with_who_shared_them(db):
    with db.session() as s:
        w = Week(s)
        w.share("大灵", "https://early.example/", ["nlp"], "上周的", START - timedelta(hours=1))
        bert = w.share(
            "大灵", "https://zhuanlan.zhihu.com/p/1", ["bert", "nlp"], "BERT 原理讲解。图解", at(1)
        )
        w.share("奔腾", "https://a.example/grad/", [], "", at(2))
        cnn = w.share("安芯", "https://b.example/cnn", ["cv"], "CNN 入门 [荐]", at(3))
        w.share("吕涛", "https://c.example/nlp", ["nlp"], "NLP 课程", at(4))
        d = w.build()
        assert not d.is_empty and d.sections == ["resources"]
        groups = [
            (g.heading, [(r.title, r.shared_by) for r in g.resources]) for g in d.resource_groups
        ]
        assert groups == [
            ("#nlp", [("BERT 原理讲解", "大灵"), ("NLP 课程", "吕涛")]),
            ("#cv", [("CNN 入门 [荐]", "安芯")]),
            ("其他", [("a.example/grad", "奔腾")]),
        ]
        assert d.resource_groups[0].resources[0].text == "图解"
        # 本期内容 lists them in the order shown, and a drop leaves one out by its key
        assert [e.title for e in d.entries] == [
            "BERT 原理讲解",
            "NLP 课程",
            "CNN 入门 [荐]",
            "a.example/grad",
        ]
        w.issue.dropped = [f"resource:{cnn.id}"]
        w.issue.featured = [f"resource:{bert.id}"]
        d = w.build()
        assert [g.heading for g in d.resource_groups] == ["#nlp", "其他"]
        markdown = render_markdown(d)
        assert (
            "## 学习资料" in markdown
            and "[BERT 原理讲解](https://zhuanlan.zhihu.com/p/1)：图解（分享：大灵）" in markdown
        )
        assert "CNN" not in markdown


def test_telegram_gets_no_wechat_sentences(db):
    """Issue #17 point 5: the default preface and 加入我们 speak of WeChat/公众号; Telegram gets
    its own wording (an admin's own preface is used everywhere)."""
    from digest.render import render_telegram, render_wechat

    config = parse_config({})
    with db.session() as s:
        w = Week(s)
        w.note("大煌", "心得", at(1))
        d = w.build(config)
        telegram = "\n".join(render_telegram(d))
        assert "微信" not in telegram and "公众号" not in telegram
        assert config.digest.default_preface_telegram in telegram
        assert config.digest.join_text_telegram in telegram
        assert "微信不允许外部链接" in "\n".join(render_wechat(d))
        assert "公众号内回复" in render_markdown(d)
        w.issue.preface = "本周主题：**注意力机制**"
        telegram = "\n".join(render_telegram(w.build(config)))
        assert "本周主题：<b>注意力机制</b>" in telegram


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_join_us_is_written_for_where_the_digest_is_read(db, lang):
    """Trial item 7: 加入我们 in a WeChat room and in the console says how to join from there
    (friend the bot / DM it 「自学」); only the 公众号 article says 「公众号内回复「自学」」;
    join.<platform>.digest_text overrides a platform's wording."""
    from digest.render import render_telegram, render_wechat

    groups = [{"slug": "ml", "language": lang}]
    config = parse_config({"groups": groups})
    english = lang == "en"
    article_join = config.join.text_en if english else config.join.text
    with db.session() as s:
        w = Week(s)
        w.note("大煌", "心得", at(1))
        d = w.build(config)
        wechat = "\n".join(render_wechat(d))
        console = "\n".join(render_telegram(d, platform="console"))
        telegram = "\n".join(render_telegram(d))
        assert article_join in render_markdown(d)
        for chat_text in (wechat, console, telegram):
            assert article_join not in chat_text and "公众号" not in chat_text
            assert "「自学」" in chat_text
        assert config.digest_join_text("wechat", english) in wechat
        assert config.digest_join_text("console", english) in console
        own = {"join": {"wechat": {"digest_text": "群主拉你进群。", "digest_text_en": "Ask Ann."}}}
        mine = parse_config({"groups": groups, **own})
        wechat = "\n".join(render_wechat(w.build(mine)))
        assert ("Ask Ann." if english else "群主拉你进群。") in wechat


def test_section_placement_follows_config(db):
    with db.session() as s:
        w = Week(s)
        w.note("大煌", "心得", at(1))
        w.share("大灵", "https://zhuanlan.zhihu.com/p/1", ["nlp"], "BERT", at(1))
        w.ask("吕涛", "问题？", at(2))
        default = render_markdown(w.build())
        headings = [line for line in default.splitlines() if line.startswith("## ")]
        assert headings[2:] == ["## 学习心得", "## 学习资料", "## 疑问解答", "## 加入我们"]
        config = parse_config({"digest": {"sections": ["resources", "questions"]}})
        d = w.build(config)
        headings = [line for line in render_markdown(d).splitlines() if line.startswith("## ")]
        assert headings[2:] == ["## 学习资料", "## 疑问解答", "## 学习心得", "## 加入我们"]
        assert [e.section for e in d.entries] == ["resources", "questions", "notes"]
    with pytest.raises(ValueError, match="unknown digest section"):
        parse_config({"digest": {"sections": ["papers", "links"]}})


def test_empty_week_leaves_content_sections_out(db):
    with db.session() as s:
        w = Week(s)
        w.note("大煌", "last week", START - timedelta(days=1))
        d = w.build()
        assert d.is_empty and d.sections == [] and d.entries == []
        markdown = render_markdown(d)
        headings = [line for line in markdown.splitlines() if line.startswith("## ")]
        assert headings == ["## 刊首语", "## 加入我们"]


def _count_queries(db: Database, session, issue: DigestIssue) -> int:
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        session.expire_all()
        build_digest(session, issue, CONFIG)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return len([s for s in statements if s.lstrip().upper().startswith("SELECT")])


def _fill(w: Week, members: int) -> None:
    for i in range(members):
        name = f"成员{i}"
        w.note(name, f"心得 {i}", at(i / (members + 1)))
        w.note(name, f"更多 {i}", at(2 + i / (members + 1)))
        if i % 3 == 0:
            q = w.ask(name, f"问题 {i}？", at(3 + i / (members + 1)))
            w.answer(q, f"成员{(i + 1) % members}", "回答", at(4))
        if i % 5 == 0:
            w.paper(name, f"论文 {i}", at(5 + i / (members + 1)))


def test_query_count_does_not_grow_with_the_week(db):
    """No N+1: the same handful of queries for 6 members as for 60."""
    counts = []
    for members in (6, 60):
        with db.session() as s:
            for table in (Answer, Question, Paper, CheckIn, DigestIssue, Member, Group):
                s.query(table).delete()
            s.flush()
            w = Week(s)
            _fill(w, members)
            s.flush()
            counts.append(_count_queries(db, s, w.issue))
            assert len(build_digest(s, w.issue, CONFIG).notes) == members
    assert counts[0] == counts[1]
    assert counts[0] <= 8
