"""A test-only Sender shared by processes: each message is appended as a JSON line to a file.

``{"pid", "platform", "chat_id", "text", "html"}`` per line, written (O_APPEND, one write)
*after* an optional delay (network latency) and *before* ``send`` returns; then, if asked, a
``sent <platform> <chat_id>`` progress line is printed so a test can kill the process right
after a given part went out.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.model import Outgoing


@dataclass
class FileSender:
    platform: str
    path: Path
    delay: float = 0.0
    progress: bool = False
    calls: int = 0

    async def send(self, outgoing: Outgoing) -> list[str]:
        self.calls += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        line = json.dumps(
            {
                "pid": os.getpid(),
                "platform": self.platform,
                "chat_id": outgoing.chat.chat_id,
                "text": outgoing.reply.text,
                "html": outgoing.reply.html,
            },
            ensure_ascii=False,
        )
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)
        if self.progress:
            print(f"sent {self.platform} {outgoing.chat.chat_id}", flush=True)
        return [f"{self.platform}-{os.getpid()}-{self.calls}"]


def read_records(path: Path) -> list[dict[str, Any]]:
    """Every message recorded so far, in the order it was sent."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
