"""Quiet acknowledgments in groups: a reaction, one batched message, or a reply.

A check-in confirmation (a :class:`~bot.model.Reply` of kind ``ack``) in a busy group would
put one bot message per member into the chat -- 40 in a Sunday-evening rush of 打卡 -- and
spend the group's send allowance (Telegram: 20 a minute). Each chat has a mode
(``groups[].chats[].ack``, else the platform's ``telegram.ack`` / ``wechat.ack``):

- ``react``: a reaction on the member's message (Telegram ``setMessageReaction``, an emoji of
  the standard set, ``telegram.ack_reaction``); where the chat disallows reactions, ``batch``.
- ``batch``: one message per short window naming everyone recorded, e.g. 「✅ 已记录：小王、
  小李、阿明 等 12 人的打卡」. Acknowledgments queued within ``ack_batch_seconds`` go out
  together; on Telegram the window's message is edited in place while it is open
  (``sending.ack_window_seconds``); WeChat cannot edit, so each batch is a new message.
- ``reply``: one reply per member, as before (for quiet groups).

Private chats are always answered one by one. Errors, duplicates and anything that needs the
member's attention are ordinary answers (kind ``answer``), never acknowledgments.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from bot.i18n import Messages

AckMode = Literal["react", "batch", "reply"]
SHOWN_NAMES = 10

MSG = Messages(
    {
        "recorded": ("✅ 已记录：{names} 的打卡", "✅ Check-ins recorded: {names}"),
        "recorded_many": (
            "✅ 已记录：{names} 等 {count} 人的打卡",
            "✅ Check-ins recorded: {names} and others, {count} in all",
        ),
    }
)


def batch_text(names: Sequence[str], lang: str) -> str:
    """「✅ 已记录：小王、小李 的打卡」, or the first names and 「等 N 人」 beyond ten."""
    unique = list(dict.fromkeys(name or "?" for name in names))
    separator = "、" if lang != "en" else ", "
    shown = separator.join(unique[:SHOWN_NAMES])
    if len(unique) <= SHOWN_NAMES:
        return MSG.get("recorded", lang, names=shown)
    return MSG.get("recorded_many", lang, names=shown, count=len(unique))


@dataclass
class OpenBatch:
    """The message of a chat's current window and the names it shows."""

    message_id: str
    names: list[str]
    opened: float


@dataclass
class AckBatches:
    """Per chat, the open batch message (edited in place until ``window`` seconds passed)."""

    window: float = 60.0
    clock: Callable[[], float] = time.monotonic
    _open: dict[str, OpenBatch] = field(default_factory=dict)

    def open_for(self, chat: str) -> OpenBatch | None:
        batch = self._open.get(chat)
        if batch is not None and self.clock() - batch.opened > self.window:
            del self._open[chat]
            return None
        return batch

    def opened(self, chat: str, message_id: str, names: Sequence[str]) -> None:
        self._open[chat] = OpenBatch(message_id, list(names), self.clock())
        if len(self._open) > 5000:  # forget the oldest windows
            for key in list(self._open)[:1000]:
                del self._open[key]

    def close(self, chat: str) -> None:
        self._open.pop(chat, None)
