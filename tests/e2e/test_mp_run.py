"""The real ``studybot run`` serving the 公众号 callback on its web server (a subprocess), its
API calls going to the local fake 公众号 API: what a follower and WeChat's servers see."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import socket
import sys
import time
from pathlib import Path

import aiohttp
from PIL import Image
from wechatpy import parse_message

from tests.support.mp_fake import APP_ID, APP_SECRET, FakeMp

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).with_name("studybot")
TOKEN = "e2e-callback-token"
OPENID = "o-e2e-follower-0001"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def signed(**extra: str) -> dict[str, str]:
    timestamp, nonce = str(int(time.time())), str(time.time_ns())
    signature = hashlib.sha1("".join(sorted([TOKEN, timestamp, nonce])).encode()).hexdigest()
    return {"signature": signature, "timestamp": timestamp, "nonce": nonce, **extra}


def text_xml(content: str, msg_id: int) -> bytes:
    return (
        f"<xml><ToUserName><![CDATA[gh_e2e]]></ToUserName>"
        f"<FromUserName><![CDATA[{OPENID}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    ).encode()


async def test_studybot_run_answers_followers(tmp_path: Path) -> None:
    qr = io.BytesIO()
    Image.new("RGB", (120, 120), "black").save(qr, format="PNG")
    (tmp_path / "qr.png").write_bytes(qr.getvalue())
    port = free_port()
    with FakeMp() as fake:
        (tmp_path / "config.yaml").write_text(
            f"database: {{url: 'sqlite:///{tmp_path / 'bot.db'}'}}\n"
            f"web: {{enabled: true, port: {port}, base_url: 'http://127.0.0.1:{port}'}}\n"
            "digest: {enabled: false}\nreminders: {enabled: false}\n"
            "mp:\n  app_id: ${MP_APP_ID}\n  app_secret: ${MP_APP_SECRET}\n"
            f"  token: ${{MP_TOKEN}}\n  api_base_url: {fake.url}\n"
            f"  qr_image: {tmp_path / 'qr.png'}\n",
            encoding="utf-8",
        )
        command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "bot.cli"]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("STUDYBOT_", "MP_"))}
        env.update(MP_APP_ID=APP_ID, MP_APP_SECRET=APP_SECRET, MP_TOKEN=TOKEN)
        env["PYTHONPATH"] = str(ROOT)
        process = await asyncio.create_subprocess_exec(
            *command,
            "-c",
            str(tmp_path / "config.yaml"),
            "run",
            cwd=tmp_path,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            async with aiohttp.ClientSession() as http:
                for _ in range(150):
                    try:
                        async with http.get(f"{base}/healthz") as response:
                            if response.status == 200:
                                break
                    except aiohttp.ClientError:
                        await asyncio.sleep(0.2)
                callback = f"{base}/mp/callback"
                async with http.get(callback, params=signed(echostr="e2e-echo")) as response:
                    assert (response.status, await response.text()) == (200, "e2e-echo")
                forged = {**signed(), "signature": "f" * 40}
                async with http.post(callback, params=forged, data=text_xml("自学", 1)) as response:
                    assert response.status == 403
                async with http.post(
                    callback, params=signed(), data=text_xml("自学", 2)
                ) as response:
                    reply = parse_message(await response.text())
                assert reply.target == OPENID and "二维码" in reply.content
                for _ in range(100):  # the QR code follows as a customer-service message
                    if fake.messages:
                        break
                    await asyncio.sleep(0.1)
                [image] = fake.messages
                assert image["msgtype"] == "image" and image["touser"] == OPENID
                assert fake.temp_media[image["image"]["media_id"]] == qr.getvalue()
                body = text_xml("/checkin 用公众号打卡：读完了西瓜书第三章", 3)
                async with http.post(callback, params=signed(), data=body) as response:
                    assert "✅" in parse_message(await response.text()).content
        finally:
            process.terminate()
            out, _ = await asyncio.wait_for(process.communicate(), 30)
    log = out.decode(errors="replace")
    assert "bad signature" in log and "Traceback" not in log, log[-2000:]
    assert APP_SECRET not in log and "TOKEN-" not in log  # no secret or token in the log


def test_mp_is_a_platform_of_studybot_run() -> None:
    from bot.cli import build_parser

    args = build_parser().parse_args(["run", "--platform", "mp", "--platform", "telegram"])
    assert args.platform == ["mp", "telegram"]
