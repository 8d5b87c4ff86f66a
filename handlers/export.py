"""/export (导出, admin): this group's data as a JSON file that ``studybot import`` reads.

The file has the format of ``studybot export`` (:mod:`storage.export_schema`), holding this
group only (see :func:`storage.export.export_group`). It is read after the message's unit of
work commits, on a worker thread with its own session, so a large group does not stall the
bot; above :data:`GZIP_OVER` bytes it is gzip-compressed (``.json.gz``, which
``studybot import`` also reads). Sent privately to the admin who asked: it holds every
member's notes and names.
"""

from __future__ import annotations

import asyncio
import gzip
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.clubtime import zone
from bot.context import Context
from bot.i18n import Messages
from bot.model import Reply
from bot.registry import command
from storage.export import dump_json, export_group
from storage.export_schema import Export

GZIP_OVER = 1_000_000
"""JSON larger than this (bytes) is sent gzip-compressed."""
MAX_FILE = 45 * 1024 * 1024
"""Telegram bots may upload 50 MB; larger exports are for ``studybot export`` on the server."""

MSG = Messages(
    {
        "done": (
            "📦 已导出「{group}」：成员 {members} · 打卡 {checkins} · 提问 {questions}"
            " · 论文 {papers} · 资料 {resources} · 周报 {issues} 期\n"
            "文件 {name}（{size}{packed}）。导入：studybot import {name}",
            "📦 Exported “{group}”: members {members} · check-ins {checkins} · questions"
            " {questions} · papers {papers} · resources {resources} · digest issues {issues}\n"
            "File {name} ({size}{packed}). To import: studybot import {name}",
        ),
        "packed": ("，gzip 压缩，原始 JSON {raw}", ", gzip-compressed from {raw} of JSON"),
        "too_big": (
            "导出文件太大（压缩后 {size}），无法在聊天中发送。"
            "请在服务器上运行 studybot export --out 文件.json",
            "The export is too large to send in a chat ({size} compressed). "
            "Run studybot export --out FILE.json on the server instead.",
        ),
        "empty": (
            "还没有「{group}」的数据可以导出。",
            "There is no data for “{group}” to export yet.",
        ),
    }
)


def human_size(size: int) -> str:
    """``532 B``, ``12.3 KB``, ``4.5 MB``."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def encode(data: Export) -> tuple[bytes, int]:
    """The file's bytes and the size of the JSON (gzip-compressed when large)."""
    raw = dump_json(data).encode("utf-8")
    if len(raw) <= GZIP_OVER:
        return raw, len(raw)
    return gzip.compress(raw, compresslevel=6, mtime=0), len(raw)


def _read(engine: Engine, slug: str, now: datetime) -> tuple[Export | None, bytes, int]:
    """Blocking: export and encode in a session of its own (called on a worker thread)."""
    with Session(engine) as session:
        data = export_group(session, slug, now)
    if data is None:
        return None, b"", 0
    body, raw = encode(data)
    return data, body, raw


@command(
    "export",
    aliases=("导出",),
    admin=True,
    help_zh="导出本群数据（JSON 文件，可用 studybot import 导入）",
    help_en="export this group's data (a JSON file for studybot import)",
)
async def export(ctx: Context) -> None:
    """Read the group after this unit of work commits; reply privately with the file."""
    bind = ctx.session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine  # a session on a Connection
    slug, name, now, timezone = ctx.group.slug, ctx.group.name, ctx.now, ctx.group.timezone

    async def run() -> Reply:
        data, body, raw = await asyncio.to_thread(_read, engine, slug, now)
        if data is None:
            return Reply(ctx.text(MSG, "empty", group=name), private=True)
        if len(body) > MAX_FILE:
            return Reply(ctx.text(MSG, "too_big", size=human_size(len(body))), private=True)
        [group] = data.groups
        local = now.astimezone(zone(timezone))  # the club's time, like every time shown
        file_name = f"studybot-{slug}-{local:%Y%m%d-%H%M}.json" + (".gz" if raw > GZIP_OVER else "")
        packed = ctx.text(MSG, "packed", raw=human_size(raw)) if raw > GZIP_OVER else ""
        text = ctx.text(
            MSG,
            "done",
            group=group.name,
            members=len(data.members),
            checkins=len(group.checkins),
            questions=len(group.questions),
            papers=len(group.papers),
            resources=len(group.resources),
            issues=len(group.digest_issues),
            name=file_name,
            size=human_size(len(body)),
            packed=packed,
        )
        return Reply(text, file=body, file_name=file_name, private=True)

    ctx.after_commit(run)
