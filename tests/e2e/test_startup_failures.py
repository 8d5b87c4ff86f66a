"""An operator's start-up mistakes, through the real ``studybot`` script: each one is a short
answer naming the cause and the fix, a non-zero exit, no traceback (unless ``-vv``) and never
the bot token."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import uuid
from pathlib import Path

import pytest
from aiohttp import web

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).with_name("studybot")
TOKEN = "123456:AAHsecretTOKENvalue"
PG_URL = os.environ.get("STUDYBOT_TEST_PG_URL")


async def studybot(*args: str, cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run the CLI (stdin closed); returns (exit code, stdout + stderr)."""
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "bot.cli"]
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("STUDYBOT_", "TELEGRAM_"))}
    clean.update(PYTHONPATH=str(ROOT), **(env or {}))
    process = await asyncio.create_subprocess_exec(
        *command,
        *args,
        cwd=cwd,
        env=clean,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 90)
    return process.returncode or 0, out.decode("utf-8", "replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def config_file(tmp_path: Path, body: str, db: str | None = None) -> Path:
    url = db or f"sqlite:///{tmp_path / 'bot.db'}"
    path = tmp_path / "config.yaml"
    path.write_text(f"database: {{url: '{url}'}}\nweb: {{enabled: false}}\n{body}", "utf-8")
    return path


TELEGRAM_CHAT = """
groups:
  - slug: ml-club
    chats: [{platform: telegram, chat_id: "-1001"}]
telegram:
  token: ${TELEGRAM_BOT_TOKEN:-}
"""


def assert_short_answer(code: int, out: str, *words: str) -> None:
    assert code != 0, out
    assert "Traceback" not in out
    assert TOKEN not in out and "AAHsecret" not in out
    lines = [line for line in out.splitlines() if line.strip()]
    assert 1 <= len(lines) <= 2, out
    for word in words:
        assert word in out, out


async def test_unset_token_is_an_error_not_the_console(tmp_path: Path) -> None:
    code, out = await studybot("-c", str(config_file(tmp_path, TELEGRAM_CHAT)), "run", cwd=tmp_path)
    assert_short_answer(code, out, "telegram.token is empty", "TELEGRAM_BOT_TOKEN")
    assert "console" not in out.lower() or "remove" in out


async def test_rejected_token_names_the_fix_without_printing_it(tmp_path: Path) -> None:
    async def unauthorized(request: web.Request) -> web.Response:
        return web.json_response(
            {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
        )

    fake = web.Application()
    fake.router.add_route("*", "/{tail:.*}", unauthorized)
    runner = web.AppRunner(fake)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        body = TELEGRAM_CHAT + f"  base_url: http://127.0.0.1:{port}/bot\n  start_retry_seconds: 0\n"
        config = str(config_file(tmp_path, body))
        env = {"TELEGRAM_BOT_TOKEN": TOKEN}
        code, out = await studybot("-c", config, "run", "--no-web", cwd=tmp_path, env=env)
        assert_short_answer(code, out, "rejected the bot token", "401", "@BotFather")
        code, out = await studybot("-vv", "-c", config, "run", "--no-web", cwd=tmp_path, env=env)
        assert code != 0 and "Traceback" in out  # -vv shows where it failed
    finally:
        await runner.cleanup()


async def test_closed_bot_api_port_names_the_address(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    body = TELEGRAM_CHAT + f"  base_url: http://127.0.0.1:{port}/bot\n  start_retry_seconds: 0\n"
    env = {"TELEGRAM_BOT_TOKEN": TOKEN}
    config = str(config_file(tmp_path, body))
    code, out = await studybot("-c", config, "run", "--no-web", cwd=tmp_path, env=env)
    assert_short_answer(code, out, "cannot reach the Telegram Bot API", f"127.0.0.1:{port}")


async def test_stopped_database_server(tmp_path: Path) -> None:
    url = f"postgresql://studybot:pw-secret@127.0.0.1:{free_port()}/studybot"
    code, out = await studybot("-c", str(config_file(tmp_path, "", url)), "run", cwd=tmp_path)
    assert_short_answer(code, out, "cannot connect to the database", "start PostgreSQL")
    assert "pw-secret" not in out


@pytest.mark.skipif(not PG_URL, reason="STUDYBOT_TEST_PG_URL not set")
async def test_missing_database(tmp_path: Path) -> None:
    from sqlalchemy.engine import make_url

    name = f"missing_{uuid.uuid4().hex[:8]}"
    url = make_url(PG_URL or "").set(database=name).render_as_string(hide_password=False)
    code, out = await studybot("-c", str(config_file(tmp_path, "", url)), "run", cwd=tmp_path)
    assert_short_answer(code, out, "does not exist", f"createdb {name}", "studybot db upgrade")
