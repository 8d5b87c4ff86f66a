"""A bot process for crash tests: reads JSON-line messages on stdin, dispatches each through the
real wiring, and prints ``ack <message_id>`` only after the message's unit of work committed.

Usage: ``python -m tests.support.ingest_worker CONFIG.yaml`` then JSON lines
``{"id": "m1", "user": "u1", "text": "/checkin ..."}``.
"""

from __future__ import annotations

import asyncio
import json
import sys

from bot.app import build_app
from bot.config import load_config
from bot.model import ChatRef, Incoming, UserRef

CHAT = ChatRef("console", "console-group", "group", "crash-test")


async def main(config_path: str) -> None:
    app = build_app(load_config(config_path))
    out = sys.stdout
    print("ready", flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        message = json.loads(line)
        incoming = Incoming(
            chat=CHAT,
            sender=UserRef("console", message["user"], message["user"]),
            text=message["text"],
            message_id=message["id"],
        )
        await app.dispatcher.dispatch(incoming)
        out.write(f"ack {message['id']}\n")
        out.flush()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
