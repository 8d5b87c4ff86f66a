"""Test-only plumbing for the npm ``telegram-test-api`` Bot API emulator.

:class:`EmulatorServer` starts ``tests/peers/telegram_server.mjs`` on a free port and stops it;
:class:`EmulatorRequest` is PTB's HTTPXRequest with the emulator's quirks fixed (never used in
the product); :class:`TelegramUser` is a simulated person posting to the emulator's client API
and waiting for the bot's replies with a deadline.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import select
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
from telegram.request import HTTPXRequest, RequestData

PEERS = Path(__file__).resolve().parents[1] / "peers"
SCRIPT = PEERS / "telegram_server.mjs"
BOT_ID = 666  # what the emulator's getMe reports
FAKED = {"setMyCommands": True, "deleteMyCommands": True}


def emulator_available() -> bool:
    return shutil.which("node") is not None and (PEERS / "node_modules/telegram-test-api").exists()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmulatorServer:
    """The Node emulator as a child process; ``api`` is its base URL."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.api = ""

    def start(self, within: float = 20.0, *, limits: bool = False) -> None:
        """``limits``: the emulator answers 429 past Telegram's limits (30/s, 20/min a group)."""
        for _ in range(3):  # a free port can be taken between probe and listen
            port = free_port()
            process = subprocess.Popen(
                ["node", str(SCRIPT), str(port), *(["--limits"] if limits else [])],
                cwd=PEERS,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
            assert process.stdout is not None
            ready, _, _ = select.select([process.stdout], [], [], within)
            line = process.stdout.readline().decode() if ready else ""
            if line.startswith("ready"):
                self.process, self.api = process, f"http://127.0.0.1:{port}"
                return
            process.kill()
            process.wait()
        raise RuntimeError("telegram emulator did not start")

    def stop(self) -> None:
        if self.process is None:
            return
        assert self.process.stdin is not None
        self.process.stdin.close()  # the script exits when stdin closes
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


class EmulatorRequest(HTTPXRequest):
    """HTTPXRequest that papers over telegram-test-api's differences from the real Bot API."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        **timeouts: Any,
    ) -> tuple[int, bytes]:
        endpoint = url.rsplit("/", 1)[-1]
        if endpoint in FAKED:  # unimplemented fire-and-forget calls
            return 200, json.dumps({"ok": True, "result": FAKED[endpoint]}).encode()
        code, payload = await super().do_request(url, method, request_data, **timeouts)
        try:
            body = json.loads(payload)
        except ValueError:
            return code, payload
        if not isinstance(body, dict):
            return code, payload
        if code == 200 and body.get("ok") is False:  # failures come as HTTP 200
            return 400, payload
        result = body.get("result")
        if endpoint == "editMessageText" and result is None:  # Telegram returns the message
            body["result"] = True
        if endpoint == "getMe" and isinstance(result, dict):
            result.setdefault("is_bot", True)
        if isinstance(result, dict):  # the emulator echoes a sent message's fields as given
            for field in ("link_preview_options", "reply_markup", "reply_parameters"):
                if isinstance(result.get(field), str):  # form-encoded JSON: decode it again
                    result[field] = json.loads(result[field])
        if isinstance(result, dict) and isinstance(result.get("date"), int):
            if result["date"] > 10**11:  # milliseconds
                result["date"] //= 1000
        return code, json.dumps(body).encode()


class TelegramUser:
    """A person talking to the bot through the emulator's client API."""

    _ids = itertools.count(1)

    def __init__(
        self, client: httpx.AsyncClient, token: str, user_id: int, first_name: str
    ) -> None:
        self.client, self.token = client, token
        self.user = {"id": user_id, "is_bot": False, "first_name": first_name}

    @property
    def dm(self) -> dict[str, Any]:
        return {"id": self.user["id"], "type": "private", "first_name": self.user["first_name"]}

    async def say(
        self, text: str, chat: dict[str, Any], *, reply_to: dict[str, Any] | None = None
    ) -> None:
        message: dict[str, Any] = {
            "botToken": self.token,
            "from": self.user,
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }
        route = "/sendMessage"
        if text.startswith("/"):
            route = "/sendCommand"
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        response = await self.client.post(route, json=message)
        response.raise_for_status()

    async def last_message_id(self, text: str) -> int:
        """The id the emulator gave this user's latest message with ``text``."""
        response = await self.client.post("/getUpdatesHistory", json={"token": self.token})
        response.raise_for_status()
        mine = [
            update
            for update in response.json()["result"]
            if update.get("message", {}).get("from", {}).get("id") == self.user["id"]
            and update["message"].get("text") == text
        ]
        return int(mine[-1]["messageId"])

    async def edit(self, message_id: int, text: str, chat: dict[str, Any]) -> None:
        """Edit an earlier message: the bot gets an ``edited_message`` (see telegram_server.mjs)."""
        message = {
            "botToken": self.token,
            "from": self.user,
            "chat": chat,
            "date": int(time.time()),
            "text": text,
            "edit_of": message_id,
        }
        response = await self.client.post("/sendMessage", json=message)
        response.raise_for_status()

    async def join(self, chat: dict[str, Any]) -> None:
        """Join the group: a service message with ``new_chat_members``."""
        message = {
            "botToken": self.token,
            "from": self.user,
            "chat": chat,
            "date": int(time.time()),
            "new_chat_members": [self.user],
        }
        response = await self.client.post("/sendMessage", json=message)
        response.raise_for_status()

    async def replies(
        self, chat: dict[str, Any], count: int = 1, within: float = 10.0
    ) -> list[dict[str, Any]]:
        """Wait until the bot has sent ``count`` unread messages to ``chat``; returns them."""
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + within
        while len(found) < count and time.monotonic() < deadline:
            response = await self.client.post(
                "/getUpdates", json={"token": self.token, "chatId": chat["id"]}
            )
            found.extend(response.json()["result"])
            if len(found) < count:
                await asyncio.sleep(0.01)
        if len(found) < count:
            raise AssertionError(f"expected {count} bot message(s) in {chat['id']}, got {found}")
        return found

    async def reactions(self) -> list[dict[str, Any]]:
        """Every reaction the bot set (the emulator's setMessageReaction, this bot's token)."""
        response = await self.client.post("/getReactions", json={"token": self.token})
        result: list[dict[str, Any]] = response.json()["result"]
        return result

    async def reacted(self, count: int = 1, within: float = 10.0) -> list[dict[str, Any]]:
        """Wait until the bot has set ``count`` reactions in all; returns them."""
        deadline = time.monotonic() + within
        found = await self.reactions()
        while len(found) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
            found = await self.reactions()
        if len(found) < count:
            raise AssertionError(f"expected {count} reaction(s), got {found}")
        return found

    async def replies_until(
        self, chat: dict[str, Any], contains: str, within: float = 10.0
    ) -> list[dict[str, Any]]:
        """Every bot message to ``chat`` up to the first one containing ``contains``.

        Updates are handled in order, so a reply to anything said before the message that
        triggers ``contains`` would show up first: this checks that nothing else was said.
        """
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            found += await self.replies(chat, within=deadline - time.monotonic())
            if any(contains in item["message"]["text"] for item in found):
                return found
        raise AssertionError(f"no bot message containing {contains!r} in {chat['id']}: {found}")


def as_reply_target(bot_update: dict[str, Any], chat: dict[str, Any]) -> dict[str, Any]:
    """The bot's message, as a user's ``reply_to_message`` refers to it."""
    return {
        "message_id": bot_update["messageId"],
        "date": int(time.time()),
        "chat": chat,
        "from": {"id": BOT_ID, "is_bot": True, "first_name": "Test First name"},
        "text": bot_update["message"]["text"],
    }
