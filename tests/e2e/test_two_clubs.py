"""One ``studybot run`` process serving a Chinese and an English club side by side on Telegram
(the emulator): each club's replies, /help, 「自学」 join text, digest and archive pages are in
its own language, as a new operator set them up from docs/deploy.md."""

from __future__ import annotations

import asyncio
import html
import os
import re
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import require_or_skip
from tests.e2e.telegram_emulator import EmulatorServer, TelegramUser, emulator_available, free_port

ROOT = Path(__file__).resolve().parents[2]
ZH = {"id": -1001111, "type": "supergroup", "title": "ML自学者俱乐部"}
EN = {"id": -1002222, "type": "supergroup", "title": "ML Self-Study Club"}
ADMIN = 4242
CJK = re.compile(r"[\u4e00-\u9fff]")


def write_config(folder: Path, api: str, web_port: int) -> Path:
    config = folder / "etc" / "config.yaml"
    config.parent.mkdir()
    config.write_text(
        f"""\
data_dir: ../var            # relative: resolved against this file's folder
admins: ["telegram:{ADMIN}"]
groups:
  - slug: ml-club
    name: ML自学者俱乐部
    chats: [{{platform: telegram, chat_id: "{ZH["id"]}"}}]
  - slug: ml-en
    name: ML Self-Study Club
    language: en
    timezone: Europe/London
    chats: [{{platform: telegram, chat_id: "{EN["id"]}"}}]
join:
  text_en: Send 「自学」 to the bot to join the ML Self-Study Club.
telegram:
  token: ${{TELEGRAM_BOT_TOKEN}}
  base_url: {api}/bot
web: {{host: 127.0.0.1, port: {web_port}, base_url: "http://127.0.0.1:{web_port}"}}
""",
        encoding="utf-8",
    )
    return config


async def say_and_wait(user: TelegramUser, text: str, chat: dict[str, Any], count: int = 1) -> str:
    await user.say(text, chat)
    return "\n".join(r["message"]["text"] for r in await user.replies(chat, count, within=20))


async def test_one_process_serves_a_chinese_and_an_english_club(tmp_path: Path) -> None:
    require_or_skip(emulator_available(), "node or tests/peers/node_modules missing")
    emulator = EmulatorServer()
    emulator.start()
    token = f"{uuid.uuid4().int % 10**9}:two-clubs"
    web_port = free_port()
    config = write_config(tmp_path, emulator.api, web_port)
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": token, "PYTHONPATH": str(ROOT)}
    log = (tmp_path / "run.log").open("w")
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "tests.e2e.studybot_on_emulator", "-c", str(config), "-v", "run"),
        cwd=tmp_path,  # another directory than the config's: paths follow the config
        env=env,
        stdout=log,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with httpx.AsyncClient(base_url=emulator.api, timeout=10) as client:
            admin = TelegramUser(client, token, ADMIN, "Ann")
            for chat in (ZH, EN):
                answer = await client.post(
                    "/setChatAdministrators", json={"chatId": chat["id"], "userIds": [ADMIN]}
                )
                answer.raise_for_status()
            deadline = time.monotonic() + 60
            while "web archive:" not in (tmp_path / "run.log").read_text():
                assert process.returncode is None, (tmp_path / "run.log").read_text()
                assert time.monotonic() < deadline, (tmp_path / "run.log").read_text()
                await asyncio.sleep(0.2)

            assert "可用命令" in await say_and_wait(admin, "/help", ZH)
            help_en = await say_and_wait(admin, "/help", EN)
            assert help_en.startswith("Commands:") and "&lt;learning note&gt;" in help_en
            assert "/digest" in help_en  # the admin sees the admin commands, in English
            # in the club's own chat members are told they are in already (#19)
            assert "你已经在「ML自学者俱乐部」里啦" in await say_and_wait(admin, "自学", ZH)
            assert "You're already in “ML Self-Study Club”" in html.unescape(
                await say_and_wait(admin, "自学", EN)
            )
            assert "已登记问题 #1" in await say_and_wait(admin, "/ask 什么是 dropout？", ZH)
            asked = await say_and_wait(admin, "/ask what is dropout?", EN)
            assert "Question #1" in asked and not CJK.search(asked)

            zh = await say_and_wait(admin, "/digest publish now", ZH, count=2)
            en = await say_and_wait(admin, "/digest publish now", EN, count=2)
            assert "ML自学者俱乐部周报 · 第1期" in zh and "加入我们" in zh and "暂无回答" in zh
            assert "ML Self-Study Club weekly digest · Issue 1" in en
            # Telegram's 加入我们 says how to join there (join.text_en speaks of the 公众号)
            assert "Join us" in en and "Send 「自学」 privately to the bot" in en
            # Chinese only in what the operator or the members wrote (the 「自学」 keyword)
            assert CJK.findall(en) == list("自学")

        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{web_port}") as web:
            page_en = (await web.get("/g/ml-en/issues/1")).text
            assert '<html lang="en"' in page_en and "Join us" in page_en
            assert "Send 「自学」 to the bot to join" in page_en  # the web page: join.text_en
            assert '<html lang="zh-CN"' in (await web.get("/g/ml-club/issues/1")).text
            missing = await web.get("/g/ml-en/issues/99")
            assert missing.status_code == 404 and '<html lang="en"' in missing.text
            assert "<language>en</language>" in (await web.get("/g/ml-en/feed.xml")).text
        assert (tmp_path / "var" / "studybot.db").exists()  # data_dir beside the config
    finally:
        process.terminate()
        try:
            code = await asyncio.wait_for(process.wait(), 20)
        finally:
            emulator.stop()
            log.close()
    output = (tmp_path / "run.log").read_text()
    assert code == 0, output
    assert "group ml-en (ML Self-Study Club, Europe/London, en)" in output
    assert token.split(":")[1] not in output  # no secret in the INFO log
    assert "WARNING" not in output, output
