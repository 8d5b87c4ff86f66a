"""The console adapter: chat with the bot in a terminal (or through a pipe) as a group member.

``studybot run`` with no platform token opens it, so a newcomer can try every command at once.
Lines are read on a daemon thread (stdin may be a tty, a pipe or a file) and handled in order
on the event loop. Every bot message gets a short id such as ``[b7]``; ``:reply b7 <text>``
replies to it (answering a question). Meta commands start with ``:`` (see ``:help``).
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

from bot.config import Config
from bot.dispatch import Dispatcher
from bot.i18n import Messages
from bot.model import ChatRef, Incoming, Outgoing, Reply, UserRef

log = logging.getLogger(__name__)

PLATFORM = "console"
DEFAULT_GROUP_CHAT = "console-group"
META = re.compile(r"^:([A-Za-z]+)(?:\s+(.*))?$", re.S)
USER_ID = re.compile(r"^[\w.@-]{1,64}$")
_EOF = object()

MSG = Messages(
    {
        "banner": (
            "══ studybot 控制台 · {group} ══\n"
            "{who}直接输入消息，回车发送；试试：\n"
            "  /help   /checkin 今天读完了 CS231n 第三讲   /ask 什么是 dropout？\n"
            "  /paper https://arxiv.org/abs/1706.03762 Attention Is All You Need\n"
            "  /share https://example.com #入门 好文章   自学\n"
            "控制台命令：\n{meta}",
            "══ studybot console · {group} ══\n"
            "{who} Type a message and press Enter; try:\n"
            "  /help   /checkin finished CS231n lecture 3   /ask what is dropout?\n"
            "  /paper https://arxiv.org/abs/1706.03762 Attention Is All You Need\n"
            "  /share https://example.com #intro great article   自学\n"
            "Console commands:\n{meta}",
        ),
        "meta": (
            "  :user <id> [名字]  切换身份        :admin  切换管理员身份（或启动时加 --as-admin）\n"
            "  :dm / :group       切换到私聊 / 群聊\n"
            "  :reply <b编号> <内容>  回复某条机器人消息（例如回答问题）\n"
            "  行尾加 \\ 可以换行继续输入        :help  显示本说明   :quit  退出（或 Ctrl-D）",
            "  :user <id> [name]  switch identity   :admin  toggle admin (or start with --as-admin)\n"
            "  :dm / :group       switch to a private chat / the group chat\n"
            "  :reply <b-id> <text>  reply to a bot message (e.g. answer a question)\n"
            "  end a line with \\ to continue it   :help  this text   :quit  exit (or Ctrl-D)",
        ),
        "you_are": (
            "现在你是「{name}」（{uid}）{role}，在{chat}。",
            "You are now “{name}” ({uid}){role} in {chat}.",
        ),
        "role_admin": ("，管理员", ", admin"),
        "in_group": ("群聊", "the group chat"),
        "in_dm": ("与机器人的私聊", "a private chat with the bot"),
        "member_name": ("新同学", "Newcomer"),
        "admin_name": ("管理员", "Admin"),
        "user_usage": (
            "用法：:user <id> [名字]，id 只能包含字母、数字和 _.-@",
            "Usage: :user <id> [name]; the id may use letters, digits and _.-@",
        ),
        "reply_usage": (
            "用法：:reply <b编号> <内容>，例如 :reply b3 我来回答",
            "Usage: :reply <b-id> <text>, e.g. :reply b3 here is my answer",
        ),
        "reply_unknown": ("没有编号为 {mid} 的机器人消息。", "There is no bot message {mid}."),
        "unknown_meta": (
            "未知的控制台命令 :{name}，输入 :help 查看。",
            "Unknown console command :{name}; type :help for the list.",
        ),
        "no_reply": ("（机器人没有回复）", "(no reply)"),
        "private_to": ("私聊给 {name}", "privately to {name}"),
        "image_saved": ("图片已保存：{path}", "image saved: {path}"),
        "image_failed": ("图片保存失败：{error}", "could not save the image: {error}"),
        "file_saved": ("文件已保存：{path}", "file saved: {path}"),
        "file_failed": ("文件保存失败：{error}", "could not save the file: {error}"),
        "invite": ("（将邀请你加入群 {room}）", "(would invite you to room {room})"),
        "outgoing": ("── 机器人发往 {chat} ──", "── bot message to {chat} ──"),
        "mentions": ("提醒：{users}", "mentions: {users}"),
        "error": (
            "处理这条消息时出错了：{error}",
            "Something went wrong with that message: {error}",
        ),
        "bye": ("再见 👋", "Bye 👋"),
    }
)


def group_chat_ref(config: Config) -> ChatRef:
    """The console chat of the first group that has one (``console-group`` by default)."""
    for group in config.groups:
        for chat in group.chats:
            if chat.platform == PLATFORM:
                return ChatRef(PLATFORM, chat.chat_id, "group", group.name)
    return ChatRef(PLATFORM, DEFAULT_GROUP_CHAT, "group", config.groups[0].name)


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
        image_dir: str | Path = "data/console-images",
        echo: bool | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.config = config
        self.stdin = stdin if stdin is not None else sys.stdin
        self.stdout = stdout if stdout is not None else sys.stdout
        self.image_dir = Path(image_dir)
        self.interactive = _isatty(self.stdin) and _isatty(self.stdout)
        self.echo = (not _isatty(self.stdin)) if echo is None else echo
        self.finished = asyncio.Event()
        self.group_chat = group_chat_ref(config)
        self.user_id, self.user_name = "member", self._t("member_name")
        self.admin = False
        self.private = False
        self._session = uuid.uuid4().hex[:8]
        self._in_ids = itertools.count(1)
        self._out_ids = itertools.count(1)
        self._sent: dict[str, tuple[str, ChatRef]] = {}  # short id -> (platform id, chat)
        self._queue: asyncio.Queue[object] | None = None
        self._task: asyncio.Task[None] | None = None
        self.as_admin = as_admin

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
        return MSG.get(key, self.config.language, **values)

    # -- Adapter protocol ----------------------------------------------------------------
    async def start(self) -> None:
        """Print the banner and start reading input; returns at once."""
        self._queue = asyncio.Queue()
        loop = asyncio.get_running_loop()
        self._write(self.banner())
        threading.Thread(target=self._read_lines, args=(loop,), daemon=True).start()
        self._task = asyncio.create_task(self._consume())

    async def stop(self) -> None:
        """Stop handling input (the reader thread is a daemon and dies with the process)."""
        if self._task is not None and not self._task.done():
            if self.interactive:
                self._write("")  # e.g. after Ctrl-C at the prompt
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.finished.set()

    async def run(self) -> None:
        """Start, handle every line until input ends, stop (handy for tests and scripts)."""
        await self.start()
        await self.finished.wait()
        await self.stop()

    async def send(self, outgoing: Outgoing) -> list[str]:
        """Print a message the bot starts itself (digest, reminder) under a header."""
        title = outgoing.chat.title or outgoing.chat.chat_id
        self._write(self._t("outgoing", chat=f"{title} ({PLATFORM}:{outgoing.chat.chat_id})"))
        if outgoing.mention_user_ids:
            self._write(
                self._t("mentions", users=" ".join(f"@{u}" for u in outgoing.mention_user_ids))
            )
        return [self._show(outgoing.reply, outgoing.chat)]

    def banner(self) -> str:
        return self._t(
            "banner", group=self.group_chat.title, who=self._whoami(), meta=self._t("meta")
        )

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
                        self._write("")  # leave the prompt line before the shell's
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
                self._write(f"{self.user_name}> " + text.replace("\n", "\n... "))
            meta = META.match(text.strip())
            if meta:
                return await self._meta(meta.group(1).lower(), (meta.group(2) or "").strip())
            if text.strip():
                await self._say(text)
        except Exception as error:  # never let one line end the session
            log.exception("console input failed")
            self._write(self._t("error", error=type(error).__name__))
        return True

    async def _say(self, text: str, reply_to: tuple[str, ChatRef] | None = None) -> None:
        chat = reply_to[1] if reply_to else self.chat
        incoming = Incoming(
            chat=chat,
            sender=UserRef(PLATFORM, self.user_id, self.user_name),
            text=text,
            message_id=f"{self._session}-{next(self._in_ids)}",
            reply_to_message_id=reply_to[0] if reply_to else None,
            platform_admin=self.admin,
        )
        replies = await self.dispatcher.dispatch(incoming)
        if not replies:
            self._write("  " + self._t("no_reply"))
        for reply in replies:
            self._deliver(reply, chat)

    async def _meta(self, name: str, args: str) -> bool:
        if name in ("quit", "q", "exit"):
            self._write(self._t("bye"))
            return False
        if name == "help":
            self._write(self._t("meta"))
        elif name == "user":
            parts = args.split(None, 1)
            if not parts or not USER_ID.match(parts[0]):
                self._write(self._t("user_usage"))
            else:
                self.user_id = parts[0]
                self.user_name = parts[1].strip() if len(parts) > 1 else parts[0]
                self._write(self._whoami())
        elif name == "admin":
            self.as_admin = not self.admin
            self._write(self._whoami())
        elif name in ("dm", "private"):
            self.private = True
            self._write(self._whoami())
        elif name == "group":
            self.private = False
            self._write(self._whoami())
        elif name == "reply":
            await self._reply(args)
        else:
            self._write(self._t("unknown_meta", name=name))
        return True

    async def _reply(self, args: str) -> None:
        parts = args.split(None, 1)
        if len(parts) < 2:
            self._write(self._t("reply_usage"))
            return
        short = parts[0].strip("[]").lower()
        target = self._sent.get(short)
        if target is None:
            self._write(self._t("reply_unknown", mid=parts[0]))
            return
        await self._say(parts[1], reply_to=target)

    # -- output --------------------------------------------------------------------------
    def _deliver(self, reply: Reply, chat: ChatRef) -> None:
        target = reply.chat or chat
        if target != chat:
            title = target.title or target.chat_id
            self._write(self._t("outgoing", chat=f"{title} ({PLATFORM}:{target.chat_id})"))
        if reply.private and not target.is_private:
            target = ChatRef(PLATFORM, f"dm-{self.user_id}", "private", self.user_name)
            self._write("  → " + self._t("private_to", name=self.user_name))
        self._show(reply, target)

    def _show(self, reply: Reply, chat: ChatRef) -> str:
        """Print one bot message with a fresh short id; returns that id."""
        short = f"b{next(self._out_ids)}"
        platform_id = f"{self._session}-{short}"
        self._sent[short] = (platform_id, chat)
        body = reply.text.replace("\n", "\n     ")
        self._write(f"[{short}] 🤖 {body}")
        if reply.question_id is not None:
            try:
                self.dispatcher.record_sent(chat, platform_id, reply.question_id)
            except Exception:
                log.exception("could not record question message %s", short)
        if reply.image is not None:
            self._save_image(reply)
        if reply.file is not None:
            self._save_file(reply.file, reply.file_name)
        if reply.invite_to_room:
            self._write("     " + self._t("invite", room=reply.invite_to_room))
        return short

    def _save_image(self, reply: Reply) -> None:
        assert reply.image is not None
        name = Path(reply.image_name).name or "image.png"
        path = self.image_dir / name
        try:
            self.image_dir.mkdir(parents=True, exist_ok=True)
            path.write_bytes(reply.image)
        except OSError as error:
            self._write("     " + self._t("image_failed", error=error))
            return
        self._write("     " + self._t("image_saved", path=path))

    def _save_file(self, data: bytes, name: str) -> None:
        """An attachment (e.g. the /export file) goes to ``exports/`` beside the images."""
        path = self.image_dir.parent / "exports" / (Path(name).name or "file.bin")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        except OSError as error:
            self._write("     " + self._t("file_failed", error=error))
            return
        self._write("     " + self._t("file_saved", path=path))

    def _whoami(self) -> str:
        role = self._t("role_admin") if self.admin else ""
        where = self._t("in_dm") if self.private else self._t("in_group")
        return self._t("you_are", name=self.user_name, uid=self.user_id, role=role, chat=where)

    def _prompt(self, *, continued: bool) -> None:
        where = "dm" if self.private else "group"
        self._write("... " if continued else f"{self.user_name}@{where}> ", end="")

    def _write(self, text: str, end: str = "\n") -> None:
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


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False
