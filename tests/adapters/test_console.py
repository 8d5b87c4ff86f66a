"""The console adapter driven in-process with in-memory streams and a real pipe."""

from __future__ import annotations

import asyncio
import io
import os
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot import outbox
from bot.adapters.console import ConsoleAdapter
from bot.app import App, build_app
from bot.i18n import COMMON
from bot.model import ChatRef, Incoming, Outgoing, Reply
from storage.models import Answer, CheckIn, KeywordReply, Member, Paper, Question
from tests.conftest import make_config


@pytest.fixture
def app(tmp_path, clock):
    built = build_app(make_config(tmp_path), clock=clock)
    yield built
    built.db.dispose()


@pytest.fixture
def en_app(tmp_path, clock):
    built = build_app(make_config(tmp_path, language="en"), clock=clock)
    yield built
    built.db.dispose()


def needs(app: App, *names: str) -> None:
    missing = [name for name in names if app.dispatcher.registry.find_command(name) is None]
    if missing:
        pytest.skip(f"commands not written yet: {missing}")


async def run_console(
    app: App | Any, script: str | bytes, tmp_path: Path, *, as_admin: bool = False
) -> str:
    """Feed ``script`` to a console adapter and return everything it printed."""
    stdin = io.BytesIO(script) if isinstance(script, bytes) else io.StringIO(script)
    out = io.StringIO()
    config = app.config
    adapter = ConsoleAdapter(
        app.dispatcher if isinstance(app, App) else app,
        config,
        stdin=stdin,
        stdout=out,
        as_admin=as_admin,
        image_dir=tmp_path / "images",
        sent=None if isinstance(app, App) else app,
    )
    if not isinstance(app, App):
        adapter.ingest = app  # a scripted dispatcher answers every message itself
    await asyncio.wait_for(adapter.run(), 60)
    assert adapter.finished.is_set()
    return out.getvalue()


def bot_id(output: str, pattern: str) -> str:
    """The short id ``bN`` of the first bot message matching ``pattern``."""
    match = re.search(rf"\[(b\d+)\] 🤖 [^\n]*{pattern}", output)
    assert match, f"no bot message matching {pattern!r} in:\n{output}"
    return match.group(1)


def scalars(app: App, stmt: Any) -> list[Any]:
    """Rows of a one-column select as values, of a several-column select as tuples."""
    with app.db.session() as session:
        result = session.execute(stmt).all()
    return [row[0] if len(row) == 1 else tuple(row) for row in result]


# -- banner and meta commands -------------------------------------------------------------------
async def test_banner_explains_usage_in_chinese(app, tmp_path):
    out = await run_console(app, "", tmp_path)
    assert "studybot 控制台" in out and "ML自学者俱乐部" in out and "「新同学」" in out
    for meta in (":user", ":admin", ":dm", ":group", ":reply", ":quit", ":help", "\\"):
        assert meta in out


async def test_banner_in_english(en_app, tmp_path):
    out = await run_console(en_app, "", tmp_path)
    assert "studybot console" in out and "Newcomer" in out and ":reply <b-id> <text>" in out


async def test_the_console_speaks_the_language_of_its_group(tmp_path, clock):
    """A console chat configured in an English group: banner, help lines and goodbye in
    English, though the global language is Chinese."""
    config = make_config(
        tmp_path,
        groups=[
            {"slug": "ml-club", "chats": [{"platform": "telegram", "chat_id": "-1001"}]},
            {
                "slug": "ml-en",
                "name": "ML Self-Study Club",
                "language": "en",
                "chats": [{"platform": "console", "chat_id": "console-group"}],
            },
        ],
    )
    built = build_app(config, clock=clock)
    try:
        out = await run_console(built, ":help\n:quit\n", tmp_path)
    finally:
        built.db.dispose()
    assert "studybot console · ML Self-Study Club" in out and "Newcomer" in out
    assert out.count(":reply <b-id> <text>") == 2 and "Bye" in out
    assert not re.search(r"[\u4e00-\u9fff]", out.replace("自学", "")), out


async def test_meta_help_and_unknown_meta(app, tmp_path):
    out = await run_console(app, ":help\n:frobnicate\n", tmp_path)
    assert out.count(":reply <b编号>") == 2  # banner + :help
    assert "未知的控制台命令 :frobnicate" in out


async def test_start_greets_the_console_member(app, tmp_path):
    out = await run_console(app, "/start\n", tmp_path)
    assert re.search(r"\[b1\] 🤖 你好，新同学！", out)
    members = scalars(app, select(Member.platform_user_id))
    assert members == ["member"]


async def test_user_switch_changes_who_speaks(app, tmp_path):
    out = await run_console(app, ":user u42 小明\n/start\n:user bad/id\n", tmp_path)
    assert "现在你是「小明」（u42）" in out and "你好，小明！" in out
    assert "用法：:user <id>" in out
    assert scalars(app, select(Member.display_name)) == ["小明"]


async def test_dm_gets_the_private_hint_and_group_chat_stays_quiet(app, tmp_path):
    out = await run_console(app, "大家好\n:dm\n你好\n:group\n", tmp_path)
    assert out.count("（机器人没有回复）") == 1
    assert COMMON.get("private_hint", "zh") in out
    assert "与机器人的私聊" in out and "在群聊" in out


async def test_quit_stops_reading(app, tmp_path):
    out = await run_console(app, ":quit\n/start\n", tmp_path)
    assert "再见" in out and "你好，新同学" not in out


# -- the newcomer's tour ---------------------------------------------------------------------------
async def test_member_checks_in_with_a_multiline_note(app, tmp_path):
    needs(app, "checkin")
    out = await run_console(app, "/checkin 读完 CS231n 第三讲\\\n  还写了笔记 <b>&</b>\n", tmp_path)
    assert "已记录" in out
    assert scalars(app, select(CheckIn.text)) == ["读完 CS231n 第三讲\n  还写了笔记 <b>&</b>"]


async def test_hashtag_checkin(app, tmp_path):
    needs(app, "checkin")
    out = await run_console(app, "#打卡 今天复习了反向传播\n", tmp_path)
    assert "已记录" in out
    assert scalars(app, select(CheckIn.text)) == ["今天复习了反向传播"]


async def test_ask_then_another_user_answers_by_replying(app, tmp_path):
    needs(app, "ask", "answer")
    script = "/ask 什么是 dropout？\n:user bob 小明\n:reply b1 随机让神经元失活\n"
    out = await run_console(app, script, tmp_path)
    assert bot_id(out, "问题 #1") == "b1"
    assert "小明 对问题 #1 的回答" in out
    answers = scalars(
        app, select(Answer.text, Question.number).join(Question, Answer.question_id == Question.id)
    )
    assert answers == [("随机让神经元失活", 1)]


async def test_short_ids_belong_to_one_session(app, tmp_path):
    needs(app, "ask", "answer")
    await run_console(app, "/ask 什么是 dropout？\n", tmp_path)
    out = await run_console(app, ":reply b1 迟到的回答\n", tmp_path)
    assert "没有编号为 b1 的机器人消息" in out
    assert scalars(app, select(Answer)) == []


async def test_answer_by_number_and_reply_to_a_non_question(app, tmp_path):
    needs(app, "ask", "answer")
    script = "/ask 学习率怎么调？\n/start\n:reply b2 这不是问题\n/answer 1 先用 warmup\n"
    out = await run_console(app, script, tmp_path)
    assert "（机器人没有回复）" in out  # replying to a greeting is just chat
    assert "对问题 #1 的回答" in out
    assert scalars(app, select(Answer.text)) == ["先用 warmup"]


async def test_reply_usage_and_unknown_id(app, tmp_path):
    out = await run_console(app, ":reply\n:reply b9 hello\n", tmp_path)
    assert "用法：:reply" in out and "没有编号为 b9 的机器人消息" in out


async def test_member_shares_a_paper(app, tmp_path):
    needs(app, "paper")
    script = "/paper https://arxiv.org/abs/1706.03762 Attention Is All You Need | 提出 Transformer | 注意力就够了\n"
    out = await run_console(app, script, tmp_path)
    assert "已收录论文" in out
    [paper] = scalars(app, select(Paper))
    assert paper.arxiv_id == "1706.03762" and paper.title == "Attention Is All You Need"


async def test_member_shares_a_resource(app, tmp_path):
    needs(app, "share")
    out = await run_console(app, "/share https://example.com/nlp #NLP 入门好文\n", tmp_path)
    assert "已收藏资源" in out


async def test_join_keyword_in_group_and_dm(app, tmp_path):
    out = await run_console(app, "自学\n:dm\n自学\n", tmp_path)
    # #19: the group hears one line (members are in already), the DM the join text
    assert out.count("欢迎加入ML自学者俱乐部！") == 1
    assert out.count("你已经在「ML自学者俱乐部」里啦") == 1
    assert out.index("你已经在") < out.index("欢迎加入ML自学者俱乐部！")


# -- admin -----------------------------------------------------------------------------------------
async def test_as_admin_manages_keywords(app, tmp_path):
    script = "/keyword add 书单 西瓜书、花书\n书单\n/keyword list\n"
    out = await run_console(app, script, tmp_path, as_admin=True)
    assert "「管理员」（admin），管理员" in out
    assert "已添加关键词「书单」" in out and "🤖 西瓜书、花书" in out
    assert scalars(app, select(KeywordReply.keyword)) == ["书单"]


async def test_member_is_refused_then_admin_toggle_allows(app, tmp_path):
    out = await run_console(
        app, "/keyword add 书单 西瓜书\n:admin\n/keyword add 书单 西瓜书\n", tmp_path
    )
    assert COMMON.get("admin_only", "zh", name="keyword") in out
    assert "已添加关键词「书单」" in out
    assert scalars(app, select(KeywordReply.created_by)) == ["console:admin"]


async def test_admin_toggle_keeps_a_custom_identity(app, tmp_path):
    out = await run_console(
        app, ":user carol 卡罗\n:admin\n/keyword list\n:admin\n/keyword list\n", tmp_path
    )
    assert "关键词回复" in out
    assert out.count(COMMON.get("admin_only", "zh", name="keyword")) == 1


# -- bad input through the console ----------------------------------------------------------------
async def test_bad_input_gets_clear_replies_and_stores_nothing(app, tmp_path):
    script = (
        "/nosuch\n"
        "/keyword add 书单 x\n" + "/start " + "长" * 10_240 + "\n"
        "\x00\x07\x1b\n"
        "   \n"
        "<script>alert(1)</script>\n"
    )
    out = await run_console(app, script, tmp_path)
    assert COMMON.get("unknown_command", "zh", name="nosuch") in out
    assert COMMON.get("admin_only", "zh", name="keyword") in out
    assert "消息太长了（10247 字，上限 4000 字）" in out
    assert scalars(app, select(KeywordReply)) == []


async def test_empty_arguments_through_the_console(app, tmp_path):
    needs(app, "ask", "paper")
    out = await run_console(app, "/ask\n/paper\n", tmp_path)
    assert out.count("用法") >= 2
    assert scalars(app, select(Question)) == [] and scalars(app, select(Paper)) == []


async def test_invalid_utf8_and_crlf_from_a_pipe_do_not_crash(app, tmp_path):
    script = b"\xff\xfe\xfd broken\r\n:dm\r\n\xe4\xbd hi\r\n\xe8\x87\xaa\xe5\xad\xa6\r\n/start"
    out = await run_console(app, script, tmp_path)
    assert "\ufffd" in out  # the bytes were replaced, not fatal
    assert COMMON.get("private_hint", "zh") in out
    assert "欢迎加入ML自学者俱乐部" in out  # 「自学」 read from raw UTF-8 bytes with CRLF
    assert "你好，新同学" in out  # last line without a newline still handled


async def test_continuation_at_end_of_input_is_still_sent(app, tmp_path):
    out = await run_console(app, "/start\\\n", tmp_path)
    assert "你好，新同学" in out


class BrokenDispatcher:
    """A dispatcher whose every call fails."""

    db = None

    def __init__(self, config: Any) -> None:
        self.config = config

    def language_of(self, chat: ChatRef) -> str:
        return self.config.language

    def use_outbox(self, platform: str) -> None:
        return None

    async def handle(self, incoming: Incoming) -> list[Reply]:
        """The console's ingest: fails."""
        raise RuntimeError("database is on fire")

    def record_sent(self, chat: ChatRef, message_id: str, question_id: int) -> None:
        raise RuntimeError("database is on fire")


async def test_dispatcher_failure_does_not_end_the_session(app, tmp_path):
    broken = BrokenDispatcher(app.config)
    out = await run_console(broken, "first\nsecond\n", tmp_path)
    assert out.count("处理这条消息时出错了") == 2


# -- replies with extras, and bot-initiated messages -----------------------------------------------
class ScriptedDispatcher:
    """Returns the given replies for every message and records ``record_sent`` calls."""

    def __init__(self, app: App, replies: list[Reply]) -> None:
        self.config = app.config
        self.db = app.db
        self.replies = replies
        self.recorded: list[tuple[ChatRef, str, int]] = []
        self.incoming: list[Incoming] = []

    def language_of(self, chat: ChatRef) -> str:
        return self.config.language

    def use_outbox(self, platform: str) -> None:
        return None

    def queue(self, incoming: Incoming, replies: list[Reply]) -> None:
        """Into the outbox, as the real dispatcher does (the console's send stage prints)."""
        with self.db.session() as session:
            outbox.stage(session, incoming, replies)

    async def handle(self, incoming: Incoming) -> list[Reply]:
        """What the console's ingest gives for a message: the scripted replies."""
        self.incoming.append(incoming)
        return self.replies

    def record_sent(self, chat: ChatRef, message_id: str, question_id: int) -> None:
        self.recorded.append((chat, message_id, question_id))


async def test_image_html_invite_and_question_replies(app, tmp_path):
    replies = [
        Reply("图表如下", image=b"\x89PNG fake", image_name="../../stats.png"),
        Reply("纯文本版本", html="<b>HTML 版本</b>"),
        Reply("邀请你", invite_to_room="room-1"),
        Reply("❓ 问题 #7", question_id=7),
        Reply("私下说", private=True),
        Reply("发到别的群", chat=ChatRef("console", "other-room", "group", "读书会")),
    ]
    scripted = ScriptedDispatcher(app, replies)
    out = await run_console(scripted, "hi\n", tmp_path)
    saved = tmp_path / "images" / "stats.png"
    assert saved.read_bytes() == b"\x89PNG fake"
    assert f"图片已保存：{saved}" in out
    assert "纯文本版本" in out and "HTML 版本" not in out
    assert "room-1" in out
    [(chat, message_id, question_id)] = scripted.recorded
    assert chat.chat_id == "console-group" and question_id == 7 and message_id.endswith("b4")
    assert "私聊给 新同学" in out
    assert "机器人发往 读书会 (console:other-room)" in out
    [incoming] = scripted.incoming
    assert incoming.sender.qualified_id == "console:member" and incoming.text == "hi"


async def test_reply_meta_sets_reply_to_the_recorded_platform_id(app, tmp_path):
    scripted = ScriptedDispatcher(app, [Reply("❓ 问题 #7", question_id=7)])
    await run_console(scripted, "q\n:reply b1 answer\n", tmp_path)
    [(chat, message_id, _)] = scripted.recorded[:1]
    assert scripted.incoming[1].reply_to_message_id == message_id
    assert scripted.incoming[1].chat == chat
    assert len({i.message_id for i in scripted.incoming}) == 2


async def test_send_prints_outgoing_with_target_header(app, tmp_path):
    out = io.StringIO()
    adapter = ConsoleAdapter(app.dispatcher, app.config, stdin=io.StringIO(""), stdout=out)
    chat = ChatRef("console", "console-group", "group", "ML自学者俱乐部")
    ids = await adapter.send(Outgoing(chat, Reply("📚 第 1 期周报\n刊首语"), ("member",)))
    assert ids == ["b1"]
    text = out.getvalue()
    assert "机器人发往 ML自学者俱乐部 (console:console-group)" in text
    assert "[b1] 🤖 📚 第 1 期周报\n     刊首语" in text and "@member" in text


# -- a real pipe: input arrives later and the event loop keeps running ------------------------------
async def test_reads_a_pipe_without_blocking_the_event_loop(app, tmp_path):
    read_fd, write_fd = os.pipe()
    out = io.StringIO()
    with os.fdopen(read_fd, "rb") as stdin, os.fdopen(write_fd, "wb") as writer:
        adapter = ConsoleAdapter(app.dispatcher, app.config, stdin=stdin, stdout=out)
        await adapter.start()
        ticks = 0
        for _ in range(5):  # the loop runs while the reader waits for input
            await asyncio.sleep(0.01)
            ticks += 1
        assert ticks == 5 and not adapter.finished.is_set()
        writer.write("自学\n".encode())
        writer.flush()
        for _ in range(500):
            if "你已经在「ML自学者俱乐部」里啦" in out.getvalue():
                break
            await asyncio.sleep(0.01)
        assert "你已经在「ML自学者俱乐部」里啦" in out.getvalue()
        writer.close()
        await asyncio.wait_for(adapter.finished.wait(), 10)
        await adapter.stop()


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_every_command_answers_through_the_console(tmp_path, clock, lang):
    """Registry-driven: each command (as admin, empty and hostile args) gets a real reply."""
    app = build_app(
        make_config(
            tmp_path, language=lang, limits={"messages_per_minute": 10_000, "burst": 10_000}
        ),
        clock=clock,
    )
    try:
        names = sorted(app.dispatcher.registry.commands)
        lines = [f"/{name}" for name in names]
        lines += [f"/{name} <b>&amp;</b> *x* _y_ [z] `q`\x00" for name in names]
        out = await run_console(app, "\n".join(lines) + "\n", tmp_path, as_admin=True)
    finally:
        app.db.dispose()
    replies = re.findall(r"^\[b\d+\] 🤖 ", out, re.M)
    assert len(replies) >= len(lines), out
    assert COMMON.get("internal_error", lang) not in out
    assert ("（机器人没有回复）" if lang == "zh" else "(no reply)") not in out
    assert "处理这条消息时出错了" not in out and "Something went wrong" not in out


async def test_lines_read_before_shutdown_are_handled(app):
    """SIGTERM while piped lines wait: those already read are handled (stored once) before
    the console stops, within sending.shutdown_seconds — not dropped with the reader."""
    lines = "".join(
        f":user m{n} 成员{n}\n#打卡 第 {n} 条：读了 d2l 第 {n} 节\n" for n in range(1, 41)
    )
    adapter = ConsoleAdapter(
        app.dispatcher, app.config, stdin=io.StringIO(lines), stdout=io.StringIO()
    )
    await adapter.start()
    await asyncio.sleep(0.05)  # every line read; a few handled, most still queued
    await adapter.stop()
    with app.db.session() as session:
        stored = session.scalars(select(CheckIn.text)).all()
    assert sorted(stored) == sorted(f"第 {n} 条：读了 d2l 第 {n} 节" for n in range(1, 41))


async def test_lines_left_after_the_shutdown_time_are_logged(tmp_path, clock, caplog):
    import logging

    # no time to handle the lines read ahead
    app = build_app(make_config(tmp_path, sending={"shutdown_seconds": 0}), clock=clock)
    adapter = ConsoleAdapter(
        app.dispatcher, app.config, stdin=io.StringIO("/help\n" * 300), stdout=io.StringIO()
    )
    with caplog.at_level(logging.WARNING, logger="bot.adapters.console"):
        await adapter.start()
        await asyncio.sleep(0.05)
        await adapter.stop()
    app.db.dispose()
    match = re.search(r"console: (\d+) input lines read but not handled", caplog.text)
    assert match and 0 < int(match.group(1)) < 300
