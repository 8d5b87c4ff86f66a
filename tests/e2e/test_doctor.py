"""``studybot doctor`` against a fake Bot API, the Telegram emulator and a stopped database,
and ``studybot chats`` after messages in a configured and an unknown chat."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from bot.doctor import run_checks
from tests.conftest import make_config, require_or_skip
from tests.e2e.telegram_emulator import EmulatorRequest, EmulatorServer, emulator_available
from tests.e2e.test_startup_failures import TOKEN, studybot
from tests.support.databases import migrated_sqlite


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def fake_bot_api() -> AsyncIterator[dict]:
    """getMe answers as @club_bot unless ``state['reject']``; getChat knows chat -1001 only."""
    state: dict = {"reject": False}

    async def call(request: web.Request) -> web.Response:
        method = request.match_info["method"]
        data = dict(await request.post()) if request.can_read_body else {}
        if state["reject"]:
            body = {"ok": False, "error_code": 401, "description": "Unauthorized"}
            return web.json_response(body, status=401)
        if method == "getMe":
            me = {"id": 42, "is_bot": True, "first_name": "Club", "username": "club_bot"}
            return web.json_response({"ok": True, "result": me})
        if method == "getChat" and str(data.get("chat_id")) == "-1001":
            chat = {
                "id": -1001,
                "type": "supergroup",
                "title": "ML自学者俱乐部",
                "accent_color_id": 0,
                "max_reaction_count": 11,
            }
            return web.json_response({"ok": True, "result": chat})
        body = {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
        return web.json_response(body, status=400)

    app = web.Application()
    app.router.add_post("/bot{token}/{method}", call)
    app.router.add_get("/bot{token}/{method}", call)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    state["base_url"] = f"http://127.0.0.1:{port}/bot"
    try:
        yield state
    finally:
        await runner.cleanup()


def write_config(tmp_path: Path, base_url: str, db_url: str | None = None) -> Path:
    db_url = db_url or migrated_sqlite(tmp_path / "club.db")
    path = tmp_path / "config.yaml"
    path.write_text(
        f"""
database: {{url: '{db_url}'}}
web: {{base_url: 'http://127.0.0.1:{free_port()}', port: {free_port()}}}
groups:
  - slug: ml-club
    chats:
      - {{platform: telegram, chat_id: "-1001"}}
      - {{platform: telegram, chat_id: "-1002"}}
telegram:
  token: ${{TELEGRAM_BOT_TOKEN}}
  base_url: {base_url}
""",
        encoding="utf-8",
    )
    return path


async def test_doctor_checklist_names_each_problem_and_its_fix(
    tmp_path: Path, fake_bot_api: dict
) -> None:
    config = str(write_config(tmp_path, fake_bot_api["base_url"]))
    env = {"TELEGRAM_BOT_TOKEN": TOKEN}
    code, out = await studybot("-c", config, "doctor", cwd=tmp_path, env=env)
    assert code == 1, out
    assert "✔ config: " in out and "✔ secrets: telegram.token set" in out
    assert "✔ database: sqlite:///" in out and "✔ migrations: at " in out
    assert f"✔ data_dir: {tmp_path / 'data'} writable" in out
    assert "✔ telegram: getMe: @club_bot (id 42)" in out
    assert "✔ chat -1001 (ml-club): reachable: ML自学者俱乐部" in out
    assert "✘ chat -1002 (ml-club): getChat failed: Chat not found" in out
    assert "fix: add the bot to that chat" in out
    assert "! web: " in out and "start the bot, then run doctor again" in out
    assert "1 problem(s) found" in out
    assert TOKEN not in out

    fake_bot_api["reject"] = True
    code, out = await studybot("-c", config, "doctor", cwd=tmp_path, env=env)
    assert code == 1
    assert "✘ telegram: Telegram rejected the bot token" in out and "@BotFather" in out
    assert TOKEN not in out

    code, out = await studybot("-c", config, "doctor", cwd=tmp_path)  # token unset
    assert "✘ secrets: telegram.token is empty" in out or "TELEGRAM_BOT_TOKEN is not set" in out
    assert code != 0


async def test_doctor_with_a_stopped_database(tmp_path: Path, fake_bot_api: dict) -> None:
    url = f"postgresql://studybot@127.0.0.1:{free_port()}/studybot"
    config = str(write_config(tmp_path, fake_bot_api["base_url"], url))
    code, out = await studybot(
        "-c", config, "doctor", cwd=tmp_path, env={"TELEGRAM_BOT_TOKEN": TOKEN}
    )
    assert code == 1
    assert "✘ database: cannot connect to the database" in out
    assert "fix: start PostgreSQL" in out
    assert "✔ telegram: getMe: @club_bot" in out  # the other checks still run


async def test_doctor_against_the_telegram_emulator(tmp_path: Path) -> None:
    require_or_skip(emulator_available(), "node or tests/peers/node_modules missing")
    emulator = EmulatorServer()
    emulator.start()
    try:
        path = write_config(tmp_path, f"{emulator.api}/bot")
        path.write_text(
            path.read_text(encoding="utf-8").replace("${TELEGRAM_BOT_TOKEN}", "'77:emulated'"),
            encoding="utf-8",
        )
        results = await run_checks(str(path), telegram_request=EmulatorRequest())
        by_name = {check.name: check for check in results}
        assert by_name["telegram"].status == "ok"
        assert by_name["telegram"].detail.startswith("getMe: @")
        assert by_name["database"].status == "ok"
    finally:
        emulator.stop()


async def test_chats_lists_seen_chats_ready_to_paste(tmp_path: Path, clock) -> None:
    from bot.app import build_app
    from bot.model import ChatRef
    from tests.conftest import Chatter

    config = make_config(
        tmp_path,
        groups=[{"slug": "ml-club", "chats": [{"platform": "telegram", "chat_id": "-1001"}]}],
    )
    app = build_app(config, clock=clock)
    try:
        chat = Chatter(app, clock)
        await chat.say("大家好", chat=ChatRef("telegram", "-1001", "group", "ML自学者俱乐部"))
        await chat.say("hello", chat=ChatRef("telegram", "-1009", "group", "English club"))
        await chat.say("/help", chat=ChatRef("telegram", "555", "private", "Alice"))
    finally:
        app.db.dispose()
    path = tmp_path / "config.yaml"
    path.write_text(
        f"database: {{url: '{config.database.url}'}}\n"
        "groups: [{slug: ml-club, chats: [{platform: telegram, chat_id: '-1001'}]}]\n",
        encoding="utf-8",
    )
    code, out = await studybot("-c", str(path), "chats", cwd=tmp_path)
    assert code == 0, out
    lines = out.splitlines()
    assert any(line.split()[:4] == ["telegram", "-1001", "group", "ml-club"] for line in lines)
    assert any(line.split()[:4] == ["telegram", "-1009", "group", "(not"] for line in lines)
    assert any(line.split()[:3] == ["telegram", "555", "private"] for line in lines)
    assert '      - {platform: telegram, chat_id: "-1009"}   # English club' in out
    assert 'chat_id: "-1001"}' not in out.split("to serve these chats")[1]


async def test_doctor_names_the_config_file_it_found_in_the_working_directory(
    tmp_path: Path, fake_bot_api: dict
) -> None:
    write_config(tmp_path, fake_bot_api["base_url"])  # ./config.yaml, no -c
    _code, out = await studybot("doctor", cwd=tmp_path, env={"TELEGRAM_BOT_TOKEN": TOKEN})
    assert "✔ config: config.yaml: 1 group(s)" in out, out
