"""Chinese-first user-facing text with English available.

Each handler module owns its strings in a :class:`Messages` table::

    MSG = Messages({"saved": ("已记录 ✅", "Saved ✅")})
    MSG.get("saved", "en")

Placeholders use ``str.format`` names: ``MSG.get("n", lang, n=3)``.
"""

from __future__ import annotations

import re
from typing import Literal

Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = ("zh", "en")


SINGULAR = {
    "answers": "answer",
    "check-ins": "check-in",
    "days": "day",
    "entries": "entry",
    "issues": "issue",
    "links": "link",
    "members": "member",
    "messages": "message",
    "notes": "note",
    "papers": "paper",
    "parts": "part",
    "people": "person",
    "points": "point",
    "questions": "question",
    "replies": "reply",
    "resources": "resource",
    "times": "time",
    "weeks": "week",
}
_ONE_OF = re.compile(r"(?<![\d.,])\b1 (" + "|".join(map(re.escape, SINGULAR)) + r")\b")


def english_counts(text: str) -> str:
    """English text with the count 1 read in the singular: 「1 papers」 → 「1 paper」 (the
    templates say ``{n} papers`` for every count)."""
    return _ONE_OF.sub(lambda match: f"1 {SINGULAR[match.group(1)]}", text)


class Messages:
    """A table of texts keyed by name, each a (中文, English) pair."""

    def __init__(self, table: dict[str, tuple[str, str]]) -> None:
        self._table = table

    def get(self, key: str, lang: str, /, **values: object) -> str:
        zh, en = self._table[key]
        if lang == "en":
            return english_counts(en.format(**values)) if values else en
        return zh.format(**values) if values else zh

    def __contains__(self, key: str) -> bool:
        return key in self._table

    def keys(self) -> list[str]:
        return list(self._table)


COMMON = Messages(
    {
        "unknown_command": (
            "未知命令 /{name}。发送 /help 查看可用命令。",
            "Unknown command /{name}. Send /help to see what I can do.",
        ),
        "admin_only": (
            "抱歉，/{name} 仅限管理员使用。",
            "Sorry, /{name} is for admins only.",
        ),
        "empty_message": (
            "消息是空的，没有内容可以记录。",
            "The message is empty; nothing to record.",
        ),
        "too_long": (
            "消息太长了（{length} 字，上限 {limit} 字），请精简后再发。",
            "That message is too long ({length} characters, limit {limit}). Please shorten it.",
        ),
        "internal_error": (
            "抱歉，处理这条消息时出错了，内容没有保存。请稍后再试。",
            "Sorry, something went wrong; nothing was saved. Please try again later.",
        ),
        "rate_limited": (
            "你发命令太快了，请稍等 {seconds} 秒再试 🙏（打卡、提问、论文等内容不受限制，照常记录）",
            "You're sending commands too quickly; please wait {seconds} s 🙏 (notes, questions, "
            "papers and the like are not limited: they are all recorded)",
        ),
        "usage": ("用法：{usage}", "Usage: {usage}"),
        "anonymous_sender": (
            "你现在以「匿名管理员」身份发言，内容无法记在你名下。请关闭匿名后再发；管理命令照常可用。",
            "You are posting as an anonymous admin, so this cannot be credited to you. Turn "
            "anonymity off and send it again; admin commands still work.",
        ),
        "control_chars": (
            "消息里有看不见的控制字符（{char}），没有保存。请删掉后重新发送。",
            "Your message contains an invisible control character ({char}); nothing was saved. "
            "Please remove it and send again.",
        ),
        "quote_hint": (
            "没有记录为回答：看不出你引用的是哪个问题。回答方式：引用机器人登记问题的那条消息，"
            "或发送 /answer 编号 你的回答（/questions 查看编号）。",
            "Not saved as an answer: I can't tell which question you quoted. To answer, quote "
            "the bot's message that registered the question, or send /answer <number> <text> "
            "(/questions lists the numbers).",
        ),
        "private_hint": (
            "发送 /help 查看我能做什么；发送「自学」了解如何加入。",
            "Send /help to see what I can do, or 「自学」 to learn how to join.",
        ),
    }
)


def preview(text: str, limit: int = 60) -> str:
    """``text`` on one line (runs of whitespace become one space), cut to ``limit`` characters
    with a trailing "…": how replies quote what a member wrote."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
