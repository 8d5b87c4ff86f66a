"""/checkin (打卡, #打卡, #心得): weekly learning notes, plus listing, editing and deleting them.

Several check-ins a week are kept as separate rows and merged per member in the digest. The
week is the group's local ISO week (Monday 00:00 in ``group.timezone``).
"""

from __future__ import annotations

import re

from bot.context import Context
from bot.i18n import Messages
from bot.model import Reply
from bot.registry import command
from storage import checkins
from storage.models import CheckIn

USAGE = "<学习心得>"
MAX_CHARS = 3000
PREVIEW = 60

MSG = Messages(
    {
        "saved": (
            "✅ 已记录 {name} 本周第 {n} 条学习心得，将合并进本周周报",
            "✅ Saved {name}'s learning note #{n} this week; it will be merged into this week's digest",
        ),
        "none": (
            "你本周还没有学习心得。发送 /checkin <内容> 或 #打卡 <内容> 记录。",
            "You have no learning notes this week yet. Send /checkin <text> or #打卡 <text>.",
        ),
        "list_title": (
            "{name} 本周的学习心得（{n} 条）：",
            "{name}'s learning notes this week ({n}):",
        ),
        "list_hint": (
            "修改：/checkin edit <id> <新内容>；删除：/checkin del <id>",
            "Edit: /checkin edit <id> <new text>; delete: /checkin del <id>",
        ),
        "edit_usage": ("用法：/checkin edit <id> <新内容>", "Usage: /checkin edit <id> <new text>"),
        "del_usage": ("用法：/checkin del <id>", "Usage: /checkin del <id>"),
        "not_found": (
            "没有找到编号为 {id} 的学习心得。发送 /checkin 查看你本周的记录。",
            "No learning note with id {id}. Send /checkin to see yours this week.",
        ),
        "not_yours": (
            "编号 {id} 的学习心得不是你的，只能修改或删除自己的记录。",
            "Note {id} is not yours; you can only edit or delete your own notes.",
        ),
        "edited": ("✏️ 已修改学习心得 [{id}]", "✏️ Learning note [{id}] updated"),
        "deleted": ("🗑️ 已删除学习心得 [{id}]", "🗑️ Learning note [{id}] deleted"),
        "too_long": (
            "学习心得太长了（{length} 字，上限 {limit} 字），请精简或分几次发送。",
            "That note is too long ({length} characters, limit {limit}); please shorten or split it.",
        ),
    }
)

_EDIT = re.compile(r"^(?:edit|修改|编辑)\s+[#＃]?(\d{1,9})(?:\s+(.*))?$", re.S | re.I)
_DELETE = re.compile(r"^(?:del|delete|rm|删除)\s+[#＃]?(\d{1,9})\s*$", re.I)


def _preview(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= PREVIEW else line[: PREVIEW - 1] + "…"


def _owned(ctx: Context, checkin_id: int) -> CheckIn:
    """The check-in ``checkin_id`` if the sender may change it (own entry, or an admin)."""
    checkin = checkins.get_checkin(ctx.session, ctx.group.id, checkin_id)
    if checkin is None:
        raise ctx.fail(MSG, "not_found", id=checkin_id)
    if checkin.member_id != ctx.member.id and not ctx.is_admin:
        raise ctx.fail(MSG, "not_yours", id=checkin_id)
    return checkin


def _check_length(ctx: Context, text: str) -> None:
    if len(text) > MAX_CHARS:
        raise ctx.fail(MSG, "too_long", length=len(text), limit=MAX_CHARS)


@command(
    "checkin",
    aliases=("打卡",),
    hashtags=("#打卡", "#心得"),
    usage=USAGE,
    help_zh="记录本周学习心得（一周可多条，周报中合并）；不带内容列出本周记录；edit/del <id> 修改或删除",
    help_en="record a weekly learning note (several a week are merged); no text lists yours; edit/del <id>",
)
async def checkin(ctx: Context) -> Reply:
    """Record a learning note, or list/edit/delete this week's notes."""
    args = ctx.args.strip()
    if not args:
        return _list(ctx)
    if edit := _EDIT.match(args):
        text = (edit.group(2) or "").strip()
        if not text:
            raise ctx.fail(MSG, "edit_usage")
        _check_length(ctx, text)
        entry = checkins.edit_checkin(_owned(ctx, int(edit.group(1))), text, ctx.now)
        return Reply(ctx.text(MSG, "edited", id=entry.id))
    if args.split()[0].lower() in ("edit", "修改", "编辑") and len(args.split()) == 1:
        raise ctx.fail(MSG, "edit_usage")
    if delete := _DELETE.match(args):
        entry = _owned(ctx, int(delete.group(1)))
        checkins.delete_checkin(ctx.session, entry)
        return Reply(ctx.text(MSG, "deleted", id=entry.id))
    if args.lower() in ("del", "delete", "rm", "删除"):
        raise ctx.fail(MSG, "del_usage")
    _check_length(ctx, args)
    week = checkins.week_bounds(ctx.now, ctx.group.timezone)
    _, count = checkins.add_checkin(ctx.session, ctx.group.id, ctx.member.id, args, ctx.now, week)
    return Reply(ctx.text(MSG, "saved", name=ctx.member.display_name, n=count))


def _list(ctx: Context) -> Reply:
    start, end = checkins.week_bounds(ctx.now, ctx.group.timezone)
    entries = checkins.member_checkins(ctx.session, ctx.group.id, ctx.member.id, start, end)
    if not entries:
        return Reply(ctx.text(MSG, "none"))
    lines = [ctx.text(MSG, "list_title", name=ctx.member.display_name, n=len(entries))]
    lines += [f"{i}. [{e.id}] {_preview(e.text)}" for i, e in enumerate(entries, 1)]
    lines.append(ctx.text(MSG, "list_hint"))
    return Reply("\n".join(lines))
