"""Export -> import -> export round trip, Markdown, bad files, idempotence, online backup."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select, text

from bot.cli import main
from bot.model import ChatRef
from digest.build import build_digest
from storage.db import Database
from storage.identity import ensure_group
from storage.importer import count_rows
from storage.models import CheckIn, DigestIssue, Paper


def config_file(tmp_path: Path, url: str, name: str) -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"database": {"url": url}}), encoding="utf-8")
    return str(path)


def cli(*argv: str) -> int:
    return main(list(argv))


async def fill(chat, clock, app) -> None:
    """A bit of everything, over two weeks, with awkward text, after a published issue."""
    # an issue published before any of it (numbers are given at publish, so it comes first)
    with app.db.session() as session:
        gc = app.config.groups[0]
        group = ensure_group(session, gc.slug, gc.name, gc.timezone)
        start = clock() - timedelta(days=7)
        session.add(
            DigestIssue(
                group_id=group.id,
                number=1,
                period_start=start,
                period_end=start + timedelta(days=7),
                status="published",
                markdown="# 第1期\n\n内容",
                featured=["checkin:1"],
                published_at=start + timedelta(days=7),
            )
        )
    await chat.say("/checkin 学了 <b>word2vec</b> & GloVe\n# 不是标题", user="u1", name="大煌")
    await chat.say("/checkin 第二条", user="u1", name="大煌")
    # an identical row at the same instant (the bot refuses a repeated note, older data has them)
    with app.db.session() as session:
        last = session.scalars(select(CheckIn).order_by(CheckIn.id.desc()).limit(1)).one()
        session.add(
            CheckIn(
                group_id=last.group_id,
                member_id=last.member_id,
                text=last.text,
                created_at=last.created_at,
                week=last.week,
                scored=False,
            )
        )
    await chat.say("/ask 什么是正则化？", user="u2", name="小明")
    await chat.say("/answer 1 L2 正则化就是权重衰减", user="u1", name="大煌")
    await chat.say("/answer 1 还有 dropout", user="u3", name="Ann")
    await chat.say("/best 1 2", user="admin")
    await chat.say("/ask 为什么要归一化？", user="u3", name="Ann")
    await chat.say(
        "/paper https://arxiv.org/abs/1706.03762 https://github.com/tensorflow/tensor2tensor "
        "Attention Is All You Need | Transformer | 注意力就够了",
        user="u2",
        name="小明",
    )
    await chat.say("/share https://example.com/yolo #目标检测 #cv YOLO 入门", user="u3", name="Ann")
    await chat.say("/keyword add 周报 每周日晚发布", user="admin")
    with app.db.session() as session:  # admins' digest edits (overrides) travel too
        paper = session.scalars(select(Paper.id)).one()
        first = session.scalars(select(CheckIn).order_by(CheckIn.id)).first()
        assert first is not None
        checkin, member = first.id, first.member_id
    for edit in (
        f"edit P{paper} headline 注意力就够了",
        "edit Q2 title 归一化有什么用？",
        f"edit C{checkin} text 学了 word2vec 和 GloVe",
        "move Q2 first",
        f"move M{member} last",
    ):
        reply = await chat.say(f"/digest {edit}", user="admin")
        assert "✏️" in reply or "↕️" in reply, reply
    await chat.say("/away 2w", user="u2", name="小明")
    # the members' /public choices travel (one public, one private, the rest not chosen)
    await chat.say("/public on", user="u3", name="Ann", chat=ChatRef("console", "dm-u3", "private"))
    await chat.say("/public off", user="u1", name="大煌", chat=ChatRef("console", "dm-u1", "private"))
    # a paper and a resource shared privately stay private after the round trip
    dm = ChatRef("console", "dm-u1", "private")
    await chat.say("/paper https://arxiv.org/abs/1512.03385 私藏 ResNet", user="u1", name="大煌", chat=dm)
    await chat.say("/share https://example.com/mine #私藏 私人资料", user="u1", name="大煌", chat=dm)
    clock.advance(days=7)
    await chat.say("/checkin 下一周", user="u3", name="Ann")


def export_json(tmp_path: Path, config: str, name: str) -> dict:
    out = tmp_path / f"{name}.json"
    assert cli("--config", config, "export", "--out", str(out)) == 0
    return json.loads(out.read_text(encoding="utf-8"))


def without_stamp(data: dict) -> dict:
    return {k: v for k, v in data.items() if k != "exported_at"}


def without_pages(data: dict) -> dict:
    """The export without its time stamp and the issues' rendered pages."""
    data = json.loads(json.dumps(without_stamp(data)))
    for group in data["groups"]:
        for issue in group["digest_issues"]:
            issue.pop("html", None)
            issue.pop("markdown", None)
    return data


async def test_round_trip_gives_identical_json(chat, clock, bot_app, tmp_path, database_url):
    await fill(chat, clock, bot_app)
    source = config_file(tmp_path, bot_app.config.database.url, "source")
    first = export_json(tmp_path, source, "first")
    assert first["format"] == "studybot-export" and first["version"] == 1
    assert first["exported_at"].endswith("Z") or first["exported_at"].endswith("+00:00")
    group = first["groups"][0]
    assert len(group["checkins"]) == 4 and len(group["questions"]) == 2
    assert group["checkins"][1] == group["checkins"][2]
    assert group["questions"][0]["best_answer"] == 1
    assert group["resources"][0]["tags"] == ["cv", "目标检测"]
    assert any(m["away"] for m in first["members"])
    choices = {m["user_id"]: m["dm_public"] for m in first["members"]}
    assert (choices["u1"], choices["u2"], choices["u3"]) == (False, None, True)
    assert [p["private"] for p in group["papers"]] == [False, True]
    assert [r["private"] for r in group["resources"]] == [False, True]
    assert group["papers"][1]["url_key"].startswith("private:console:u1:")
    assert group["digest_issues"][0]["markdown"].startswith("# 第1期")
    edits = {(e["kind"], e["field"]): e for e in group["digest_edits"]}
    assert edits[("paper", "headline")]["value"] == "注意力就够了"
    assert edits[("question", "title")]["index"] == 1  # the second question
    assert edits[("checkin", "text")]["index"] == 0
    assert edits[("member", "position")]["member"] == "console:u1"
    assert edits[("question", "position")]["issue"] == 2

    target = config_file(tmp_path, database_url, "target")
    assert cli("--config", target, "import", str(tmp_path / "first.json")) == 0
    second = export_json(tmp_path, target, "second")
    # the published issue's pages are drawn again from the data (never the file's, #16)
    [issue] = [i for i in second["groups"][0]["digest_issues"] if i["status"] == "published"]
    assert issue["html"].lower().startswith("<!doctype html>") and issue["markdown"].startswith("#")
    assert without_pages(second) == without_pages(first)

    # importing again adds nothing
    db = Database(database_url)
    try:
        with db.session() as session:  # the edits apply to the same entries there
            issue = session.scalars(select(DigestIssue).where(DigestIssue.number == 2)).one()
            d = build_digest(session, issue, bot_app.config)
            assert d.papers[0].title == "注意力就够了"
            assert [q.title for q in d.questions] == ["归一化有什么用？", "什么是正则化？"]
            assert d.notes[0].texts[0] == "学了 word2vec 和 GloVe"
            assert [n.member_name for n in d.notes][-1] == "大煌"
        with db.session() as session:
            before = count_rows(session)
        assert cli("--config", target, "import", str(tmp_path / "first.json")) == 0
        with db.session() as session:
            assert count_rows(session) == before
            assert before["checkins"] == 4 and before["answers"] == 2
            assert before["digest_overrides"] == len(first["groups"][0]["digest_edits"])
    finally:
        db.dispose()


async def test_imported_entries_are_searchable(chat, clock, bot_app, tmp_path):
    await fill(chat, clock, bot_app)
    export_json(tmp_path, config_file(tmp_path, bot_app.config.database.url, "source"), "data")
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    # a separate process, as in real use: no handler module has been imported there
    config = config_file(tmp_path, url, "fresh")
    argv = [
        sys.executable,
        "-m",
        "bot.cli",
        "--config",
        config,
        "import",
        str(tmp_path / "data.json"),
    ]
    done = await asyncio.to_thread(
        subprocess.run, argv, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    from bot.app import build_app
    from tests.conftest import Chatter, make_config

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (tmp_path / "fresh.db").rename(fresh / "studybot.db")
    app = build_app(make_config(fresh), clock=clock)
    try:
        found = await Chatter(app, clock).say("/search word2vec")
        assert "word2vec" in found and "大煌" in found
        from sqlalchemy import select

        from storage.models import Paper

        with app.db.session() as session:  # the file has no metadata: the bot fetches it
            paper = session.scalars(select(Paper).where(Paper.arxiv_id == "1706.03762")).one()
            assert (paper.arxiv_status, paper.code_status) == ("pending", "pending")
    finally:
        app.db.dispose()


async def test_import_into_existing_data_renumbers_clashing_questions(
    chat, clock, bot_app, tmp_path, capsys
):
    await fill(chat, clock, bot_app)
    source = config_file(tmp_path, bot_app.config.database.url, "source")
    export_json(tmp_path, source, "data")
    other = config_file(tmp_path, f"sqlite:///{tmp_path / 'other.db'}", "other")
    other_db = Database(f"sqlite:///{tmp_path / 'other.db'}")
    other_db.dispose()
    from bot.app import build_app
    from bot.config import load_config
    from tests.conftest import Chatter

    app = build_app(load_config(other), clock=clock)
    try:
        await Chatter(app, clock).say("/ask 别的群的问题", user="zz", name="Zed")
    finally:
        app.db.dispose()
    capsys.readouterr()
    assert cli("--config", other, "import", str(tmp_path / "data.json")) == 0
    out = capsys.readouterr().out
    assert "question #1 was imported as #2" in out and "question #2 was imported as #3" in out
    merged = export_json(tmp_path, other, "merged")
    numbers = {q["text"]: q["number"] for q in merged["groups"][0]["questions"]}
    assert numbers == {"别的群的问题": 1, "什么是正则化？": 2, "为什么要归一化？": 3}


async def test_markdown_export(chat, clock, bot_app, tmp_path):
    await fill(chat, clock, bot_app)
    source = config_file(tmp_path, bot_app.config.database.url, "source")
    folder = tmp_path / "md"
    assert (
        cli(
            "--config",
            source,
            "export",
            "--out",
            str(tmp_path / "x.json"),
            "--markdown",
            str(folder),
        )
        == 0
    )
    group = folder / "ml-club"
    checkins = (group / "checkins.md").read_text(encoding="utf-8")
    assert (
        "大煌" in checkins and "&lt;b&gt;word2vec&lt;/b&gt;" in checkins and "<b>" not in checkins
    )
    assert "\n# 不是标题" not in checkins and "\\# 不是标题" in checkins
    questions = (group / "questions.md").read_text(encoding="utf-8")
    assert "什么是正则化" in questions and "还有 dropout" in questions and "⭐" in questions
    papers = (group / "papers.md").read_text(encoding="utf-8")
    assert "https://arxiv.org/abs/1706.03762" in papers and "tensor2tensor" in papers
    assert "`#目标检测`" in (group / "resources.md").read_text(encoding="utf-8")
    assert (group / "digests" / "001.md").read_text(encoding="utf-8").startswith("# 第1期")
    assert "checkins.md" in (group / "README.md").read_text(encoding="utf-8")


def valid_export(tmp_path: Path) -> dict:
    return {
        "format": "studybot-export",
        "version": 1,
        "exported_at": "2026-11-16T09:00:00Z",
        "members": [
            {
                "platform": "console",
                "user_id": "u1",
                "display_name": "大煌",
                "joined_at": "2026-11-01T00:00:00+08:00",
            }
        ],
        "groups": [
            {
                "slug": "ml-club",
                "name": "ML自学者俱乐部",
                "timezone": "Asia/Shanghai",
                "created_at": "2026-11-01T00:00:00Z",
                "checkins": [
                    {"member": "console:u1", "text": "ok", "created_at": "2026-11-16T09:00:00Z"}
                ]
                * 1,
            }
        ],
    }


def broken(data: dict, how: str) -> dict:
    group = data["groups"][0]
    if how == "naive_datetime":
        group["checkins"].append(
            {"member": "console:u1", "text": "x", "created_at": "2026-11-16T09:00:00"}
        )
    elif how == "unknown_member":
        group["checkins"].append(
            {"member": "console:ghost", "text": "x", "created_at": "2026-11-16T10:00:00Z"}
        )
    elif how == "bad_best_answer":
        group["questions"] = [
            {
                "number": 1,
                "member": "console:u1",
                "text": "?",
                "created_at": "2026-11-16T09:00:00Z",
                "best_answer": 3,
                "answers": [],
            }
        ]
    elif how == "edit_of_a_missing_entry":
        group["digest_edits"] = [
            {
                "kind": "checkin",
                "index": 5,
                "field": "text",
                "value": "x",
                "set_at": "2026-11-16T09:00:00Z",
            }
        ]
    elif how == "wrong_version":
        data["version"] = 99
    elif how == "bad_timezone":
        group["timezone"] = "Mars/Olympus"
    elif how == "wrong_type":
        group["checkins"][0]["text"] = ["not", "text"]
    return data


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("naive_datetime", "groups.0.checkins.1.created_at"),
        ("unknown_member", "console:ghost"),
        ("bad_best_answer", "best_answer 3"),
        ("edit_of_a_missing_entry", "checkin index 5 but the group has 1 checkins"),
        ("wrong_version", "unsupported export version 99"),
        ("bad_timezone", "Mars/Olympus"),
        ("wrong_type", "groups.0.checkins.0.text"),
    ],
)
def test_malformed_file_imports_nothing(tmp_path, capsys, how, message):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    config = config_file(tmp_path, url, "c")
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(broken(valid_export(tmp_path), how)), encoding="utf-8")
    assert cli("--config", config, "import", str(path)) == 1
    err = capsys.readouterr().err
    assert message in err and "nothing imported" in err
    db = Database(url)
    try:
        with db.session() as session:
            assert sum(count_rows(session).values()) == 0
    finally:
        db.dispose()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not JSON"),
        (b"[]", "top level must be a JSON object"),
        (b'{"format": "other"}', "not a studybot export"),
        (b"\xff\xfe\x00garbage", "UTF-8"),
    ],
)
def test_garbage_files_are_refused(tmp_path, capsys, content, message):
    config = config_file(tmp_path, f"sqlite:///{tmp_path / 'e.db'}", "c")
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    assert cli("--config", config, "import", str(path)) == 1
    assert message in capsys.readouterr().err


def test_valid_minimal_file_imports(tmp_path, capsys):
    config = config_file(tmp_path, f"sqlite:///{tmp_path / 'e.db'}", "c")
    path = tmp_path / "ok.json"
    path.write_text(json.dumps(valid_export(tmp_path)), encoding="utf-8")
    assert cli("--config", config, "import", str(path)) == 0
    out = capsys.readouterr().out
    assert "check-ins: +1" in out
    assert "search index: 1 entries indexed" in out  # indexed by the import, not left queued
    db = Database(f"sqlite:///{tmp_path / 'e.db'}")
    try:
        with db.session() as session:
            assert session.scalar(text("SELECT count(*) FROM search_queue")) == 0
            assert session.scalar(text("SELECT count(*) FROM search_docs")) == 1
    finally:
        db.dispose()


async def test_failure_halfway_rolls_everything_back(
    chat, clock, bot_app, tmp_path, monkeypatch, capsys
):
    await fill(chat, clock, bot_app)
    source = config_file(tmp_path, bot_app.config.database.url, "source")
    export_json(tmp_path, source, "data")
    url = f"sqlite:///{tmp_path / 'target.db'}"
    target = config_file(tmp_path, url, "target")

    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    import storage.importer

    monkeypatch.setattr(storage.importer, "_digests", explode)  # after members, check-ins...
    assert cli("--config", target, "import", str(tmp_path / "data.json")) == 1
    assert "disk on fire" in capsys.readouterr().err
    db = Database(url)
    try:
        with db.session() as session:
            assert sum(count_rows(session).values()) == 0
    finally:
        db.dispose()


async def test_backup_while_the_bot_database_is_open(chat, clock, bot_app, tmp_path, capsys):
    await fill(chat, clock, bot_app)
    with bot_app.db.session() as session:
        expected = count_rows(session)
    # keep a connection with a read transaction open, like a running bot would
    holder = sqlite3.connect(str(tmp_path / "studybot.db"))
    holder.execute("BEGIN")
    holder.execute("SELECT count(*) FROM checkins").fetchone()
    try:
        source = config_file(tmp_path, bot_app.config.database.url, "source")
        out = tmp_path / "backups" / "copy.db"
        assert cli("--config", source, "db", "backup", "--out", str(out)) == 0
        await chat.say("/checkin 备份之后", user="u1")  # the bot keeps writing
    finally:
        holder.close()
    assert "backed up" in capsys.readouterr().out
    copy = Database(f"sqlite:///{out}", migrate=False)
    try:
        with copy.session() as session:
            assert count_rows(session) == expected
    finally:
        copy.dispose()
    check = sqlite3.connect(str(out))
    assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    check.close()


def test_export_refuses_missing_database(tmp_path, capsys):
    config = config_file(tmp_path, f"sqlite:///{tmp_path / 'nope.db'}", "c")
    assert cli("--config", config, "export", "--out", str(tmp_path / "x.json")) == 1
    assert "does not exist" in capsys.readouterr().err


def test_db_downgrade_and_upgrade(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    config = config_file(tmp_path, url, "m")
    assert cli("--config", config, "db", "upgrade") == 0
    assert cli("--config", config, "db", "downgrade", "base") == 0
    with sqlite3.connect(str(tmp_path / "m.db")) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "checkins" not in tables
    assert cli("--config", config, "db", "upgrade") == 0
    with sqlite3.connect(str(tmp_path / "m.db")) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"checkins", "away_periods"} <= tables


def test_roles_in_a_file_are_not_granted_without_trust_roles(tmp_path, capsys):
    """#16: a file saying ``"role": "admin"`` made its member an admin of every group."""
    data = valid_export(tmp_path)
    for member in data["members"]:
        member["role"] = "admin"
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    for flags, role, db_name in (([], "member", "a.db"), (["--trust-roles"], "admin", "b.db")):
        config = config_file(tmp_path, f"sqlite:///{tmp_path / db_name}", db_name)
        assert cli("--config", config, "import", str(path), *flags) == 0
        db = Database(f"sqlite:///{tmp_path / db_name}")
        try:
            with db.session() as session:
                assert set(session.scalars(text("SELECT role FROM members"))) == {role}
        finally:
            db.dispose()
    assert "not granted (--trust-roles)" in capsys.readouterr().out


def test_a_gzip_bomb_is_refused_before_it_is_decompressed_whole(tmp_path, capsys, monkeypatch):
    import gzip

    import bot.cli_data

    monkeypatch.setattr(bot.cli_data, "MAX_IMPORT_BYTES", 1_000_000)
    path = tmp_path / "bomb.json.gz"
    path.write_bytes(gzip.compress(b" " * 5_000_000))  # ~5 KB on disk
    config = config_file(tmp_path, f"sqlite:///{tmp_path / 'c.db'}", "c")
    assert cli("--config", config, "import", str(path)) == 1
    assert "decompresses to more than 1000000 bytes; nothing imported" in capsys.readouterr().err


async def test_imported_pages_are_rendered_from_the_data_never_taken_from_the_file(
    chat, clock, bot_app, tmp_path
):
    """#16: an imported issue's HTML (a meta-refresh to a phishing page) was served verbatim
    by the archive and reached /feed.xml."""
    from bot.web_archive import Archive
    from tests.conftest import make_config

    await fill(chat, clock, bot_app)
    data = export_json(tmp_path, config_file(tmp_path, bot_app.config.database.url, "s"), "s")
    [issue] = [i for i in data["groups"][0]["digest_issues"] if i["status"] == "published"]
    issue["html"] = '<meta http-equiv="refresh" content="0;url=https://phish.example/login">'
    issue["markdown"] = "[请重新登录](https://phish.example/login)"
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'target.db'}"
    assert cli("--config", config_file(tmp_path, url, "t"), "import", str(path)) == 0
    db = Database(url)
    try:
        archive = Archive(make_config(tmp_path, database={"url": url}), db)
        page, markdown = archive.issue_html(1), archive.issue_markdown(1)
        assert page is not None and markdown is not None
        public = page + markdown + archive.rss().decode() + archive.atom().decode()
        assert "phish.example" not in public and "http-equiv" not in public
        assert "第1期" in page
    finally:
        db.dispose()


def issue_in_2020(number: int) -> dict:
    return {
        "number": number,
        "period_start": "2020-01-05T12:00:00Z",
        "period_end": "2020-01-12T12:00:00Z",
        "status": "published",
        "html": "<p>old</p>",
        "created_at": "2020-01-12T12:00:00Z",
        "published_at": "2020-01-12T12:00:00Z",
    }


async def test_an_issue_out_of_order_is_refused_and_digest_status_keeps_working(
    tmp_path, clock, capsys, database_url
):
    """#16: an imported 2020 issue broke the issues after it (the trial saw every later
    ``/digest status`` fail; here, without the check, the next issues are numbered after the
    2020 one: 第3期, 第4期, 第5期 with no 第2期 this year)."""
    from bot.app import build_app
    from tests.conftest import Chatter, make_config

    app = build_app(make_config(tmp_path, database={"url": database_url}), clock=clock)
    chat = Chatter(app, clock)
    try:
        await chat.say("#打卡 这周读了 ResNet", user="u1")
        assert "第1期" in await chat.say("/digest status", user="admin")
        data = valid_export(tmp_path)
        data["groups"][0]["digest_issues"] = [issue_in_2020(2), issue_in_2020(1)]
        path = tmp_path / "old.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        target = config_file(tmp_path, database_url, "target")
        assert cli("--config", target, "import", str(path)) == 0
        out = capsys.readouterr().out
        assert "digest issue #2 (2020-01-05 to 2020-01-12) not imported: it comes before " \
            "issue #1 in time but not in number" in out
        assert "digest issue #1 (2020-01-05 to 2020-01-12) not imported: that number already " \
            "exists" in out
        with app.db.session() as session:
            assert session.scalars(select(DigestIssue.number)).all() == [1]
        for _ in range(3):  # and on into the next weeks
            status = await chat.say("/digest status", user="admin")
            assert "周报状态" in status and "出错" not in status
            clock.advance(days=7)
        assert "第4期" in await chat.say("/digest status", user="admin")
    finally:
        app.db.dispose()


def test_an_earlier_issue_with_an_earlier_number_is_imported(tmp_path, capsys):
    """History before the target's issues is welcome when numbers and periods agree."""
    url = f"sqlite:///{tmp_path / 'h.db'}"
    data = valid_export(tmp_path)
    later = issue_in_2020(5)
    later.update(period_start="2020-01-12T12:00:00Z", period_end="2020-01-19T12:00:00Z")
    data["groups"][0]["digest_issues"] = [later]
    path = tmp_path / "later.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert cli("--config", config_file(tmp_path, url, "h"), "import", str(path)) == 0
    earliest = issue_in_2020(6)
    earliest.update(period_start="2019-12-29T12:00:00Z", period_end="2020-01-05T12:00:00Z")
    data["groups"][0]["digest_issues"] = [issue_in_2020(4), earliest]
    path.write_text(json.dumps(data), encoding="utf-8")
    assert cli("--config", config_file(tmp_path, url, "h"), "import", str(path)) == 0
    out = capsys.readouterr().out
    assert "digest issue #6 (2019-12-29 to 2020-01-05) not imported: it comes before issue #" in out
    db = Database(url)
    try:
        with db.session() as session:
            rows = session.execute(
                select(DigestIssue.number, DigestIssue.html).order_by(DigestIssue.number)
            ).all()
        assert [number for number, _ in rows] == [4, 5]
        assert all(html and "<p>old</p>" not in html for _, html in rows)
    finally:
        db.dispose()


async def test_old_issues_into_an_empty_group_create_only_the_open_week(
    tmp_path, capsys, database_url
):
    """#16: a file holding only 2020 issues, imported into an empty group, made the bot create
    every weekly issue from 2020 up to now at its next message (about 360 empty drafts). Now
    only the file's issues and the open week's issue exist, numbered without a gap."""
    from bot.app import build_app
    from tests.conftest import Chatter, FakeClock, make_config

    data = valid_export(tmp_path)
    first = issue_in_2020(1)
    first.update(period_start="2019-12-29T12:00:00Z", period_end="2020-01-05T12:00:00Z")
    data["groups"][0]["digest_issues"] = [first, issue_in_2020(2)]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert cli("--config", config_file(tmp_path, database_url, "target"), "import", str(path)) == 0
    clock = FakeClock(datetime.now(UTC))
    app = build_app(make_config(tmp_path, database={"url": database_url}), clock=clock)
    chat = Chatter(app, clock)
    try:
        assert "第 3 期" in await chat.say("#打卡 导入之后的第一条心得", user="u1", name="大煌")
        with app.db.session() as session:
            rows = session.execute(
                select(DigestIssue.number, DigestIssue.period_start, DigestIssue.period_end)
                .order_by(DigestIssue.period_start)
            ).all()
        assert [n for n, _, _ in rows] == [1, 2, 3]
        assert rows[2][1] <= clock() < rows[2][2]  # the open week
        assert "第3期" in await chat.say("/digest status", user="admin")
        clock.advance(days=7)
        assert "第4期" in await chat.say("/digest status", user="admin")
        with app.db.session() as session:
            assert session.scalars(
                select(DigestIssue.number).order_by(DigestIssue.period_start)
            ).all() == [1, 2, 3, 4]
    finally:
        app.db.dispose()
