"""/delete (删除内容), /trash (回收站), /restore (恢复) and /audit (操作记录): admins remove any
entry and undo it; every admin action is logged.

``/delete paper N`` · ``resource N`` · ``question N`` · ``answer N k`` (answer k of question N,
as ``/q N`` numbers them) moves the entry to the trash (a soft delete: a snapshot with who and
when, listed by ``/digest status``); lists, the digest, search and points no longer show it.
``/trash`` lists the group's trash, newest first, each with the ``/restore`` line that brings
it back; ``/restore paper|resource|question N`` · ``answer N k`` puts the entry back as it was
(a question with its answers; a question number taken meanwhile becomes the next free one).
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
from storage.models import Paper, Resource, TrashItem

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
        "restore_usage": (
            "/restore paper|resource|question <编号> 或 /restore answer <问题编号> <回答序号>"
            "（/trash 列出回收站）",
            "/restore paper|resource|question <number> or /restore answer <question> <answer>"
            " (/trash lists the trash)",
        ),
        "not_in_trash": (
            "回收站里没有{what} {label}（/trash 查看回收站）。",
            "The trash holds no {what} {label} (/trash lists it).",
        ),
        "restored": ("♻️ 已恢复{what} {label}", "♻️ Restored {what} {label}"),
        "renumbered": (
            "♻️ 已恢复{what} {label}：原编号已被占用，现为 {now}",
            "♻️ Restored {what} {label}: its number was taken meanwhile, it is now {now}",
        ),
        "shared_again": (
            "无法恢复论文 {label}：这篇论文之后又被分享为 #{number}。",
            "Cannot restore paper {label}: it was shared again as #{number}.",
        ),
        "question_gone": (
            "无法恢复回答 {label}：它的问题已被删除，请先 /restore question 恢复问题。",
            "Cannot restore answer {label}: its question is deleted; /restore question first.",
        ),
        "withdrawn": (
            "{what} {label} 是作者本人撤回的，不能恢复（撤回的内容只有作者能重新发送）。",
            "{what} {label} was withdrawn by its author and cannot be restored (only the author "
            "can post it again).",
        ),
        "withdrawn_line": (
            "· {what} {label} — {name}，{when}（作者本人撤回，不可恢复）",
            "· {what} {label} — {name}, {when} (withdrawn by its author, not restorable)",
        ),
        "trash_empty": ("回收站是空的。", "The trash is empty."),
        "trash_title": (
            "🗑️ 回收站（最近 {n} 条，/restore 恢复）：",
            "🗑️ The trash (latest {n}, /restore brings one back):",
        ),
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
TRASH_SHOWN = 20


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
    moderation.trash(ctx.session, ctx.group.id, entry, label, actor, ctx.now)
    return Reply(ctx.text(MSG, "deleted", what=what, label=label))


def _parse_ref(args: str) -> tuple[str, str, str] | None:
    """``paper 3`` / ``问题 3`` / ``answer 3 2`` -> (kind, label, the usage's form), else None."""
    two, one = _TWO.match(args.strip()), _ONE.match(args.strip())
    found = two or one
    kind = KINDS.get(found.group(1).lower()) if found else None
    if kind is None or found is None or (kind == "answer") != (two is not None):
        return None
    if two is not None:
        return kind, f"#{two.group(2)}-{two.group(3)}", f"{two.group(2)} {two.group(3)}"
    return kind, f"#{found.group(2)}", found.group(2)


@command(
    "restore",
    aliases=("恢复", "恢复内容", "undelete"),
    usage="paper|resource|question <N> | answer <N> <k>",
    admin=True,
    help_zh="从回收站恢复被删除的论文、资源、问题或回答（/trash 查看回收站）",
    help_en="bring a deleted paper, resource, question or answer back (/trash lists them)",
)
async def restore(ctx: Context) -> Reply:
    """Undo a soft delete: the entry comes back from its trash snapshot."""
    ref = _parse_ref(ctx.args)
    if ref is None:
        return Reply(COMMON.get("usage", ctx.lang, usage=ctx.text(MSG, "restore_usage")))
    kind, label, _ = ref
    what = ctx.text(MSG, kind)
    item = moderation.find_trashed(ctx.session, ctx.group.id, kind, label)
    if item is None:
        raise ctx.fail(MSG, "not_in_trash", what=what, label=label)
    if moderation.withdrawn(item):
        raise ctx.fail(MSG, "withdrawn", what=what, label=label)
    try:
        entry = moderation.restore(ctx.session, item)
    except moderation.RestoreRefused as refused:
        raise ctx.fail(MSG, refused.reason, what=what, label=label, **refused.values) from None
    now = moderation.current_label(ctx.session, entry)
    if now != label:
        return Reply(ctx.text(MSG, "renumbered", what=what, label=label, now=now))
    return Reply(ctx.text(MSG, "restored", what=what, label=label))


def _gist(item: TrashItem) -> str:
    """A few words saying what the trashed entry was."""
    snap = item.snapshot
    text = snap.get("title") or snap.get("text") or snap.get("url") or ""
    text = " ".join(str(text).split())
    return text if len(text) <= 30 else text[:29] + "…"


@command(
    "trash",
    aliases=("回收站",),
    admin=True,
    help_zh="查看回收站（被删除的内容，可 /restore 恢复）",
    help_en="the trash: deleted entries, each restorable with /restore",
)
async def trash(ctx: Context) -> Reply:
    """The group's latest trashed entries with who deleted them, when, and how to restore."""
    items = moderation.trash_items(ctx.session, ctx.group.id, TRASH_SHOWN)
    if not items:
        return Reply(ctx.text(MSG, "trash_empty"))
    tz = zone(ctx.group.timezone)
    lines = [ctx.text(MSG, "trash_title", n=len(items))]
    for item in items:
        when = item.deleted_at.astimezone(tz).strftime("%m-%d %H:%M")
        what = ctx.text(MSG, item.kind)
        numbers = item.label.lstrip("#").replace("-", " ")
        if moderation.withdrawn(item):  # no content shown: the author took it back
            name = item.deleted_by
            lines.append(ctx.text(MSG, "withdrawn_line", what=what, label=item.label, name=name, when=when))
            continue
        if ctx.lang == "en":
            line = f"· {what} {item.label} “{_gist(item)}” — {item.deleted_by}, {when}"
        else:
            line = f"· {what} {item.label}「{_gist(item)}」— {item.deleted_by}，{when}"
        lines.append(f"{line}  /restore {item.kind} {numbers}")
    return Reply("\n".join(lines))


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
        colon = ": " if ctx.lang == "en" else "："
        lines.append(f"{when} {entry.actor}{colon}{what}")
    return Reply("\n".join(lines))
