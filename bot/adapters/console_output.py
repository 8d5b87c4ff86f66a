"""What the console adapter prints: bot messages with short ids, saved images and files.

:class:`ConsoleOutput` gives every bot message a short id such as ``[b7]`` (remembered so
``:reply b7 <text>`` can answer it), records question announcements (``bot.sent``),
saves images under the image directory and attachments (e.g. the /export file) under
``exports/`` beside it, and writes to a stream that may not encode every character or may
have been closed (then ``finished`` is set so the adapter stops reading input).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import IO

from bot.adapters.console_text import MSG
from bot.model import ChatRef, Reply

log = logging.getLogger("bot.adapters.console")  # the adapter's log, as before the split


class ConsoleOutput:
    """Writes bot messages to ``stdout`` and keeps their short ids."""

    def __init__(
        self,
        stdout: IO[str],
        *,
        record_sent: Callable[[ChatRef, str, int], None],
        language: str,
        image_dir: Path,
        session: str,
        finished: asyncio.Event,
    ) -> None:
        self.stdout = stdout
        self.record_sent = record_sent  # a question announcement's id, so replies answer it
        self.language = language
        self.image_dir = image_dir
        self.session = session
        self.finished = finished
        self.sent: dict[str, tuple[str, ChatRef]] = {}  # short id -> (platform id, chat)
        self._out_ids = itertools.count(1)

    def _t(self, key: str, /, **values: object) -> str:
        return MSG.get(key, self.language, **values)

    def show(self, reply: Reply, chat: ChatRef) -> str:
        """Print one bot message with a fresh short id; returns that id."""
        short = f"b{next(self._out_ids)}"
        platform_id = f"{self.session}-{short}"
        self.sent[short] = (platform_id, chat)
        body = reply.text.replace("\n", "\n     ")
        self.write(f"[{short}] 🤖 {body}")
        if reply.question_id is not None:
            try:
                self.record_sent(chat, platform_id, reply.question_id)
            except Exception:
                log.exception("could not record question message %s", short)
        if reply.image is not None:
            self.save_image(reply)
        if reply.file is not None:
            self.save_file(reply.file, reply.file_name)
        if reply.invite_to_room:
            self.write("     " + self._t("invite", room=reply.invite_to_room))
        return short

    def save_image(self, reply: Reply) -> None:
        """A reply's image goes to the image directory."""
        assert reply.image is not None
        name = Path(reply.image_name).name or "image.png"
        path = self.image_dir / name
        try:
            self.image_dir.mkdir(parents=True, exist_ok=True)
            path.write_bytes(reply.image)
        except OSError as error:
            self.write("     " + self._t("image_failed", error=error))
            return
        self.write("     " + self._t("image_saved", path=path))

    def save_file(self, data: bytes, name: str) -> None:
        """An attachment (e.g. the /export file) goes to ``exports/`` beside the images."""
        path = self.image_dir.parent / "exports" / (Path(name).name or "file.bin")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        except OSError as error:
            self.write("     " + self._t("file_failed", error=error))
            return
        self.write("     " + self._t("file_saved", path=path))

    def write(self, text: str, end: str = "\n") -> None:
        """Print ``text``; unencodable characters are replaced, a closed stream ends input."""
        out = self.stdout
        try:
            out.write(text + end)
            out.flush()
        except UnicodeEncodeError:
            encoding = getattr(out, "encoding", None) or "ascii"
            with contextlib.suppress(Exception):
                out.write((text + end).encode(encoding, "replace").decode(encoding))
                out.flush()
        except (BrokenPipeError, ValueError):  # output closed: stop reading input
            self.finished.set()
