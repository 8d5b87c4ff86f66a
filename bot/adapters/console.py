"""The console adapter: chat with the bot in a terminal (or through a pipe) as a group member.

``studybot run`` with no platform token opens it, so a newcomer can try every command at once.
Lines are read on a daemon thread (stdin may be a tty, a pipe or a file) and handled in order
on the event loop. Every bot message gets a short id such as ``[b7]``; ``:reply b7 <text>``
replies to it (answering a question). Meta commands start with ``:`` (see ``:help``).

Texts live in :mod:`bot.adapters.console_text`, printing and saving bot messages in
:mod:`bot.adapters.console_output`; this module reads input, keeps the console user's identity
and chat, and runs the meta commands. Replies go through the outbox and a send stage like on
every platform (no limits here); a line's replies are printed before the next line is read,
so a piped transcript stays in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import re
import sys
import threading
import uuid
from pathlib import Path
from typing import IO, Any

from bot.adapters.console_output import ConsoleOutput
from bot.adapters.console_text import MSG, PLATFORM, group_chat_ref
from bot.config import Config
from bot.dispatch import Dispatcher
from bot.ingest import Ingest, enqueue
from bot.model import ChatRef, Incoming, Outgoing, UserRef
from bot.outbox import Queued
from bot.sending import Limits, RateLimiter, SendStage
from bot.sent import SentLog, SentMessages

log = logging.getLogger(__name__)


META = re.compile(r"^:([A-Za-z]+)(?:\s+(.*))?$", re.S)
USER_ID = re.compile(r"^[\w.@-]{1,64}$")
_EOF = object()


class ConsoleAdapter:
    """Reads lines, dispatches them as one console user, prints the replies."""

    platform = PLATFORM

    def __init__(
        self,
        dispatcher: Dispatcher,
        config: Config,
        *,
        stdin: IO[Any] | None = None,
        stdout: IO[str] | None = None,
        as_admin: bool = False,
        image_dir: str | Path | None = None,
        echo: bool | None = None,
        sent: SentMessages | None = None,
    ) -> None:
        sent = sent if sent is not None else SentLog(dispatcher.db, dispatcher.bot_names)
        self.dispatcher = dispatcher
        self.config = config
        self.stdin = stdin if stdin is not None else sys.stdin
        self.stdout = stdout if stdout is not None else sys.stdout
        # images (charts) and files (/export) go under the data directory, never the shell's
        self.image_dir = Path(image_dir) if image_dir else config.data_path / "console-images"
        self.interactive = _isatty(self.stdin) and _isatty(self.stdout)
        self.echo = (not _isatty(self.stdin)) if echo is None else echo
        self.finished = asyncio.Event()
        self.group_chat = group_chat_ref(config)
        self.lang = dispatcher.language_of(self.group_chat)  # its group's language
        self.user_id, self.user_name = "member", self._t("member_name")
        self.admin = False
        self.private = False
        self._session = uuid.uuid4().hex[:8]
        self._in_ids = itertools.count(1)
        self._queue: asyncio.Queue[object] | None = None
        self._task: asyncio.Task[None] | None = None
        self.output = ConsoleOutput(
            self.stdout,
            record_sent=sent.record_sent,
            language=self.lang,
            image_dir=self.image_dir,
            session=self._session,
            finished=self.finished,
        )
        self.as_admin = as_admin
        self.sending = SendStage(
            PLATFORM,
            dispatcher.db,
            self.send_queued,
            RateLimiter(Limits(), is_group=lambda chat: not chat.startswith("dm-")),
            max_age=config.sending.max_age_seconds,
            retry_seconds=config.sending.retry_seconds,
            report_seconds=0,
            offload=False,  # one person at the keyboard: replies print in the order made
        )
        dispatcher.use_outbox(PLATFORM)
        self.ingest = Ingest(dispatcher)  # one line at a time: batches of one
        self.archive_url: str | None = None  # the runner sets it once the web archive runs

    # -- identity ------------------------------------------------------------------------
    @property
    def as_admin(self) -> bool:
        return self.admin

    @as_admin.setter
    def as_admin(self, value: bool) -> None:
        """Admin mode: become ``console:admin`` (from the default member) and a chat admin."""
        self.admin = value
        if value and self.user_id == "member":
            self.user_id, self.user_name = "admin", self._t("admin_name")
        elif not value and self.user_id == "admin":
            self.user_id, self.user_name = "member", self._t("member_name")

    @property
    def chat(self) -> ChatRef:
        if self.private:
            return ChatRef(PLATFORM, f"dm-{self.user_id}", "private", self.user_name)
        return self.group_chat

    def _t(self, key: str, /, **values: object) -> str:
        return MSG.get(key, self.lang, **values)

    # -- Adapter protocol ----------------------------------------------------------------
    async def start(self) -> None:
        """Print the banner and start reading input; returns at once."""
        self._queue = asyncio.Queue()
        loop = asyncio.get_running_loop()
        self.output.write(self.banner())
        threading.Thread(target=self._read_lines, args=(loop,), daemon=True).start()
        self._task = asyncio.create_task(self._consume())

    async def stop(self) -> None:
        """Stop handling input: the lines already read are handled first (within
        ``sending.shutdown_seconds``), later ones are not read; what is still left after that
        is counted in a warning (the reader thread is a daemon and dies with the process)."""
        if self._task is not None and not self._task.done():
            if self.interactive:
                self.output.write("")  # e.g. after Ctrl-C at the prompt
            assert self._queue is not None
            self._queue.put_nowait(_EOF)  # after the lines already read: handle them, then end
            try:
                await asyncio.wait_for(
                    asyncio.shield(self._task), self.config.sending.shutdown_seconds
                )
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        left = 0
        while self._queue is not None and not self._queue.empty():
            left += self._queue.get_nowait() is not _EOF
        if left:  # read from the input but not handled: say so rather than lose them quietly
            log.warning("console: %d input lines read but not handled at shutdown", left)
        await self.sending.stop(self.config.sending.shutdown_seconds)
        self.finished.set()

    async def run(self) -> None:
        """Start, handle every line until input ends, stop (handy for tests and scripts)."""
        await self.start()
        await self.finished.wait()
        await self.stop()

    async def send(self, outgoing: Outgoing) -> list[str]:
        """Print a message the bot starts itself (digest, reminder) under a header."""
        title = outgoing.chat.title or outgoing.chat.chat_id
        self.output.write(self._t("outgoing", chat=f"{title} ({PLATFORM}:{outgoing.chat.chat_id})"))
        if outgoing.mention_user_ids:
            self.output.write(
                self._t("mentions", users=" ".join(f"@{u}" for u in outgoing.mention_user_ids))
            )
        return [self.output.show(outgoing.reply, outgoing.chat)]

    def show_archive(self, url: str) -> None:
        """Tell the person at the console where the web archive is (once it runs)."""
        self.archive_url = url
        self.output.write(self._t("archive", url=url))

    def banner(self) -> str:
        text = self._t(
            "banner", group=self.group_chat.title, who=self._whoami(), meta=self._t("meta")
        )
        if self.archive_url:  # where published digests can be read (set when the web runs)
            text += "\n" + self._t("archive", url=self.archive_url)
        return text

    # -- input ---------------------------------------------------------------------------
    def _read_lines(self, loop: asyncio.AbstractEventLoop) -> None:
        """Reader thread: decode each line (bytes with errors='replace') and queue it."""
        source = getattr(self.stdin, "buffer", self.stdin)
        while True:
            try:
                raw = source.readline()
            except (OSError, ValueError):  # closed or unreadable stream
                raw = b""
            line = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
            item: object = line if line else _EOF
            try:
                loop.call_soon_threadsafe(self._queue.put_nowait, item)  # type: ignore[union-attr]
            except RuntimeError:  # the loop is closed
                return
            if item is _EOF:
                return

    async def _consume(self) -> None:
        assert self._queue is not None
        pending: list[str] = []
        try:
            while True:
                if self.interactive:
                    self._prompt(continued=bool(pending))
                item = await self._queue.get()
                if item is _EOF:
                    if self.interactive:
                        self.output.write("")  # leave the prompt line before the shell's
                    if pending:
                        await self._handle_line("\n".join(pending))
                    break
                line = str(item).rstrip("\r\n")
                if line.endswith("\\"):
                    pending.append(line[:-1])
                    continue
                text = "\n".join([*pending, line])
                pending = []
                if not await self._handle_line(text):
                    break
        finally:
            self.finished.set()

    async def _handle_line(self, text: str) -> bool:
        """Handle one (possibly multi-line) input; False means quit."""
        try:
            if self.echo and text.strip():
                self.output.write(f"{self.user_name}> " + text.replace("\n", "\n... "))
            meta = META.match(text.strip())
            if meta:
                return await self._meta(meta.group(1).lower(), (meta.group(2) or "").strip())
            if text.strip():
                await self._say(text)
        except Exception as error:  # never let one line end the session
            log.exception("console input failed")
            self.output.write(self._t("error", error=type(error).__name__))
        return True

    async def _say(self, text: str, reply_to: tuple[str, ChatRef] | None = None) -> None:
        chat = reply_to[1] if reply_to else self.chat
        incoming = Incoming(
            chat=chat,
            sender=UserRef(PLATFORM, self.user_id, self.user_name),
            text=text,
            message_id=f"{self._session}-{next(self._in_ids)}",
            reply_to_message_id=reply_to[0] if reply_to else None,
            mentions_bot=True,  # whoever types in the console talks to the bot
            platform_admin=self.admin,
        )
        before = self.sending.sent
        replies = await self.ingest.handle(incoming)  # queued in its transaction
        await enqueue(self.dispatcher, incoming, replies)  # refusals and errors made outside it
        self.sending.notify()
        await self.sending.idle()  # printed before the next line is read
        if self.sending.sent == before:
            self.output.write("  " + self._t("no_reply"))

    async def _meta(self, name: str, args: str) -> bool:
        if name in ("quit", "q", "exit"):
            self.output.write(self._t("bye"))
            return False
        if name == "help":
            self.output.write(self._t("meta"))
        elif name == "user":
            parts = args.split(None, 1)
            if not parts or not USER_ID.match(parts[0]):
                self.output.write(self._t("user_usage"))
            else:
                self.user_id = parts[0]
                self.user_name = parts[1].strip() if len(parts) > 1 else parts[0]
                self.output.write(self._whoami())
        elif name == "admin":
            self.as_admin = not self.admin
            self.output.write(self._whoami())
        elif name in ("dm", "private"):
            self.private = True
            self.output.write(self._whoami())
        elif name == "group":
            self.private = False
            self.output.write(self._whoami())
        elif name == "reply":
            await self._reply(args)
        else:
            self.output.write(self._t("unknown_meta", name=name))
        return True

    async def _reply(self, args: str) -> None:
        parts = args.split(None, 1)
        if len(parts) < 2:
            self.output.write(self._t("reply_usage"))
            return
        short = parts[0].strip("[]").lower()
        target = self.output.sent.get(short)
        if target is None:
            self.output.write(self._t("reply_unknown", mid=parts[0]))
            return
        await self._say(parts[1], reply_to=target)

    # -- output --------------------------------------------------------------------------
    async def send_queued(self, item: Queued) -> None:
        """Print one outbox row (the send stage calls this) in its chat."""
        target = item.chat
        if item.extra.get("to_member"):  # someone else than the sender (an asker)
            name = item.sender.display_name or item.sender.user_id
            if item.chat_kind == "private":
                self.output.write("  → " + self._t("private_to", name=name))
            else:
                self.output.write(self._t("outgoing", chat=f"{self._title(target)}"))
                self.output.write(self._t("mentions", users=f"@{name}"))
        elif item.extra.get("fallback"):  # private, asked for in a group
            name = item.sender.display_name
            target = ChatRef(PLATFORM, f"dm-{item.sender.user_id}", "private", name)
            self.output.write("  → " + self._t("private_to", name=name))
        elif "message_id" not in item.extra:  # not the chat the message came from
            title = self._title(target)
            self.output.write(self._t("outgoing", chat=f"{title} ({PLATFORM}:{target.chat_id})"))
        self.output.show(item.reply(), target)

    def _title(self, chat: ChatRef) -> str:
        if chat.chat_id == self.group_chat.chat_id:
            return self.group_chat.title or chat.chat_id
        return chat.title or chat.chat_id

    def _whoami(self) -> str:
        role = self._t("role_admin") if self.admin else ""
        where = self._t("in_dm") if self.private else self._t("in_group")
        return self._t("you_are", name=self.user_name, uid=self.user_id, role=role, chat=where)

    def _prompt(self, *, continued: bool) -> None:
        where = "dm" if self.private else "group"
        self.output.write("... " if continued else f"{self.user_name}@{where}> ", end="")


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False
