"""/delete (删除内容) and /audit (操作记录): admins remove any entry; every admin action is logged.

``/delete paper N`` · ``resource N`` · ``question N`` · ``answer N k`` (answer k of question N,
as ``/q N`` numbers them) moves the entry to the trash (a soft delete: a snapshot with who and
when, listed by ``/digest status``); lists, the digest, search and points no longer show it.
``/audit [N]`` shows the last N (default 20) admin actions: who, what, when. The dispatcher
logs each admin command (see ``storage.moderation.record_action``).
"""

from __future__ import annotations

import re

from bot.clubtime import zone
from bot.context import Context
from bot.i18n import COMMON, Messages
from bot.model import Reply
from bot.registry import command
from storage import moderation, questions
from storage.models import Paper, Resource

MSG = Messages(
    {
        "usage": (
            "/delete paper|resource|question <编号> 或 /delete answer <问题编号> <回答序号>",
            "/delete paper|resource|question <number> or /delete answer <question> <answer>",
        ),
        "not_found": ("没有找到{what} {label}。", "There is no {what} {label}."),
        "deleted": (
            "🗑️ 已删除{what} {label}（移入回收站，/digest status 可见）",
            "🗑️ Deleted {what} {label} (moved to the trash, listed by /digest status)",
        ),
        "paper": ("论文", "paper"),
        "resource": ("资源", "resource"),
        "question": ("问题", "question"),
        "answer": ("回答", "answer"),
        "audit_none": ("还没有管理员操作记录。", "No admin actions logged yet."),
        "audit_title": ("🧾 最近 {n} 条管理员操作：", "🧾 The last {n} admin actions:"),
        "audit_usage": ("/audit [条数]", "/audit [count]"),
    }
)

KINDS = {
    "paper": "paper", "论文": "paper", "papers": "paper",
    "resource": "resource", "资源": "resource", "share": "resource", "资料": "resource",
    "question": "question", "问题": "question", "q": "question",
    "answer": "answer", "回答": "answer", "a": "answer",
}  # fmt: skip
_NUMBER = r"[#＃]?(\d{1,9})"
_ONE = re.compile(rf"^(\S+)\s+{_NUMBER}$")
_TWO = re.compile(rf"^(\S+)\s+{_NUMBER}\s+{_NUMBER}$")
AUDIT_DEFAULT, AUDIT_MAX = 20, 100


def _usage(ctx: Context) -> Reply:
    return Reply(COMMON.get("usage", ctx.lang, usage=ctx.text(MSG, "usage")))


@command(
    "delete",
    aliases=("删除内容", "remove"),
    usage="paper|resource|question <N> | answer <N> <k>",
    admin=True,
    help_zh="删除任意论文、资源、问题或回答（移入回收站，/digest status 可见）",
    help_en="delete any paper, resource, question or answer (kept in the trash, see /digest status)",
)
async def delete(ctx: Context) -> Reply:
    """Soft-delete one entry of the group."""
    args = ctx.args.strip()
    two, one = _TWO.match(args), _ONE.match(args)
    found = two or one
    kind = KINDS.get(found.group(1).lower()) if found else None
    if kind is None or found is None or (kind == "answer") != (two is not None):
        return _usage(ctx)
    number = int(found.group(2))
    what = ctx.text(MSG, kind)
    actor = f"{ctx.member.display_name} ({ctx.incoming.sender.qualified_id})"
    entry: object | None
    if kind == "paper":
        label = f"#{number}"
        entry = ctx.session.get(Paper, number)
        entry = entry if entry is not None and entry.group_id == ctx.group.id else None
    elif kind == "resource":
        label = f"#{number}"
        entry = ctx.session.get(Resource, number)
        entry = entry if entry is not None and entry.group_id == ctx.group.id else None
    else:
        question = questions.question_by_number(ctx.session, ctx.group.id, number)
        label = f"#{number}"
        entry = question
        if kind == "answer":
            position = int(found.group(3))
            label = f"#{number}-{position}"
            answers = questions.answers_of(ctx.session, question.id) if question else []
            entry = answers[position - 1] if 1 <= position <= len(answers) else None
    if entry is None:
        raise ctx.fail(MSG, "not_found", what=what, label=label)
    moderation.trash(ctx.session, ctx.group.id, entry, label, actor, ctx.now)  # type: ignore[arg-type]
    return Reply(ctx.text(MSG, "deleted", what=what, label=label))


@command(
    "audit",
    aliases=("操作记录", "日志"),
    usage="[N]",
    admin=True,
    help_zh="查看最近的管理员操作（谁、做了什么、何时）",
    help_en="recent admin actions: who, what, when",
)
async def audit(ctx: Context) -> Reply:
    """The last N admin actions of the group, newest first, in the group's timezone."""
    args = ctx.args.strip()
    if args and not args.isdigit():
        return Reply(COMMON.get("usage", ctx.lang, usage=ctx.text(MSG, "audit_usage")))
    limit = min(int(args), AUDIT_MAX) if args else AUDIT_DEFAULT
    entries = moderation.recent_actions(ctx.session, ctx.group.id, max(limit, 1))
    if not entries:
        return Reply(ctx.text(MSG, "audit_none"))
    tz = zone(ctx.group.timezone)
    lines = [ctx.text(MSG, "audit_title", n=len(entries))]
    for entry in entries:
        when = entry.created_at.astimezone(tz).strftime("%m-%d %H:%M")
        what = f"/{entry.command} {entry.args}".strip()
        lines.append(f"{when} {entry.actor}：{what}")
    return Reply("\n".join(lines))
