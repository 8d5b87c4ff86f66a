"""An offline Bot API for PTB: a ``BaseRequest`` that records calls and answers like Telegram.

``FakeBotAPI.calls`` holds ``(endpoint, parameters)`` for every request; ``fail(endpoint,
*responses)`` queues failures (HTTP status + Telegram error body, or an exception) that the
next calls of that endpoint get before normal answers resume. ``sent()`` lists the messages
Telegram accepted; uploads (sendPhoto, sendDocument) carry ``files``: field name ->
``(filename, bytes, mime type)``. ``refuse[chat_id] = response`` answers every send into that
chat with ``response`` (a user who blocked the bot: ``BLOCKED``; ``CHAT_NOT_FOUND``). Update
builders produce real Bot API ``Update`` JSON.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from telegram.request import BaseRequest, RequestData

BOT = {"id": 4242, "is_bot": True, "first_name": "Study", "username": "StudyHelperBot"}
GROUP = {"id": -1001234, "type": "supergroup", "title": "ML自学者俱乐部"}
DATE = 1_763_283_600  # 2025-11-16


def user(user_id: int, first: str, last: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first}
    if last:
        data["last_name"] = last
    return data


def private_chat(person: dict[str, Any]) -> dict[str, Any]:
    return {"id": person["id"], "type": "private", "first_name": person["first_name"]}


def flood(seconds: int) -> tuple[int, dict[str, Any]]:
    """Telegram's answer when flood control hits."""
    return 429, {
        "ok": False,
        "error_code": 429,
        "description": f"Too Many Requests: retry after {seconds}",
        "parameters": {"retry_after": seconds},
    }


BAD_REACTION = {"ok": False, "error_code": 400, "description": "Bad Request: REACTION_INVALID"}
BAD_GATEWAY = (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})
BLOCKED = (403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked"})
CHAT_NOT_FOUND = (
    400,
    {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"},
)
SENDS = ("sendMessage", "sendPhoto", "sendDocument")


class FakeBotAPI(BaseRequest):
    """Answers Bot API calls from memory and records them."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.admins: dict[int, list[dict[str, Any]]] = {}
        self.failures: dict[str, list[Any]] = {}
        self.message_ids = itertools.count(5000)
        self.accepted: list[tuple[str, dict[str, Any], Any]] = []
        self.refuse: dict[int, tuple[int, dict[str, Any]]] = {}

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float:
        return 1.0

    def fail(self, endpoint: str, *responses: Any, after: int = 0) -> None:
        """The next calls of ``endpoint`` get ``responses`` (after ``after`` normal answers)."""
        self.failures.setdefault(endpoint, []).extend([None] * after + list(responses))

    def of(self, endpoint: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == endpoint]

    def sent(
        self, chat_id: int | None = None, endpoint: str = "sendMessage"
    ) -> list[dict[str, Any]]:
        """Messages Telegram accepted: the call's parameters plus the new ``message_id``."""
        return [
            {**params, "message_id": result["message_id"]}
            for name, params, result in self.accepted
            if name == endpoint and (chat_id is None or int(params["chat_id"]) == chat_id)
        ]

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        endpoint = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        if request_data is not None and request_data.contains_files:
            params["files"] = dict(request_data.multipart_data)  # name -> (filename, bytes, type)
        self.calls.append((endpoint, params))
        queued = self.failures.get(endpoint)
        outcome = queued.pop(0) if queued else None
        if outcome is None and endpoint in SENDS and "chat_id" in params:
            outcome = self.refuse.get(int(params["chat_id"]))
        if outcome is not None:
            if isinstance(outcome, BaseException):
                raise outcome
            status, body = outcome
            return status, json.dumps(body).encode()
        result = self.answer(endpoint, params)
        self.accepted.append((endpoint, params, result))
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def answer(self, endpoint: str, params: dict[str, Any]) -> Any:
        if endpoint == "getMe":
            return BOT
        if endpoint in ("sendMessage", "sendPhoto", "sendDocument"):
            chat_id = int(params["chat_id"])
            chat = GROUP if chat_id == GROUP["id"] else {"id": chat_id, "type": "private"}
            message: dict[str, Any] = {
                "message_id": next(self.message_ids),
                "date": DATE,
                "chat": chat,
                "from": BOT,
            }
            if endpoint == "sendMessage":
                message["text"] = params["text"]
            elif endpoint == "sendDocument":
                name, _data, mime = params["files"]["document"]
                message["document"] = {
                    "file_id": "d1",
                    "file_unique_id": "ud1",
                    "file_name": name,
                    "mime_type": mime,
                }
                if params.get("caption"):
                    message["caption"] = params["caption"]
            else:
                message["photo"] = [
                    {"file_id": "p1", "file_unique_id": "u1", "width": 10, "height": 10}
                ]
                if params.get("caption"):
                    message["caption"] = params["caption"]
            return message
        if endpoint == "getChatAdministrators":
            return [
                {"status": "creator", "user": person, "is_anonymous": False}
                for person in self.admins.get(int(params["chat_id"]), [])
            ]
        return True


class Updates:
    """Builds Update JSON with increasing update and message ids."""

    def __init__(self) -> None:
        self.update_ids = itertools.count(1)
        self.message_ids = itertools.count(100)

    def message(
        self,
        text: str,
        sender: dict[str, Any],
        *,
        chat: dict[str, Any] = GROUP,
        reply_to: dict[str, Any] | None = None,
        message_id: int | None = None,
        update_id: int | None = None,
        caption: bool = False,
        edited: bool = False,
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": message_id or next(self.message_ids),
            "date": DATE,
            "chat": chat,
            "from": sender,
        }
        if caption:
            message["caption"] = text
            message["photo"] = [{"file_id": "p", "file_unique_id": "u", "width": 1, "height": 1}]
        else:
            message["text"] = text
        if text.startswith("/"):
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        return {
            "update_id": update_id or next(self.update_ids),
            "edited_message" if edited else "message": message,
        }


def bot_message(sent: dict[str, Any], message_id: int) -> dict[str, Any]:
    """The bot's message (as a reply target) from the parameters of an accepted sendMessage."""
    chat_id = int(sent["chat_id"])
    chat = GROUP if chat_id == GROUP["id"] else {"id": chat_id, "type": "private"}
    return {
        "message_id": message_id,
        "date": DATE,
        "chat": chat,
        "from": BOT,
        "text": sent["text"],
    }
