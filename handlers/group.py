"""/group (群, 切换群): in a private chat, which study group the chat acts for.

A member of several groups lists them with ``/group`` and switches with ``/group <number or
short name>``; the choice is remembered (``group_members.dm_chosen``) until changed. In a group
chat the chat's own group always applies, so ``/group`` there only says which one it is.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.context import Context
from bot.dm_scope import dm_scope
from bot.i18n import Messages
from bot.model import Reply
from bot.registry import command
from storage import memberships
from storage.models import Group

MSG = Messages(
    {
        "in_group": (
            "这个群聊属于「{name}」。/group 用于私聊：在几个学习群里都用过我的成员，可以在私聊里选择对应哪个群。",
            "This chat belongs to “{name}”. /group is for private chats: a member of several "
            "study groups chooses there which one the private chat is for.",
        ),
        "none": (
            "你还没有在任何学习群的群聊里用过我，所以私聊对应「{name}」。"
            "在你的学习群里发一次命令（例如 /checkin）后，就可以在这里选择。",
            "You have not used me in any study group's chat yet, so this private chat is for "
            "“{name}”. Once you send a command (e.g. /checkin) in your group's chat, you can "
            "choose here.",
        ),
        "list": (
            "私聊现在对应：{current}\n你所在的学习群：\n{groups}\n切换：/group <序号或简称>",
            "This private chat is for: {current}\nYour study groups:\n{groups}\n"
            "Switch: /group <number or short name>",
        ),
        "unchosen": ("（还没有选择）", "(not chosen yet)"),
        "switched": (
            "好的，私聊现在对应「{name}」：之后在这里发送的命令都作用于这个群。",
            "Done: this private chat is now for “{name}”; commands you send here act for it.",
        ),
        "unknown": (
            "没有「{arg}」这个选项。你所在的学习群：\n{groups}\n发送 /group <序号或简称> 选择。",
            "There is no option “{arg}”. Your study groups:\n{groups}\n"
            "Send /group <number or short name> to choose.",
        ),
    }
)


@command(
    "group",
    aliases=("群", "切换群"),
    usage="[序号或简称]",
    usage_en="[number or short name]",
    help_zh="私聊中查看或切换私聊对应的学习群（在几个群里都用过机器人时）",
    help_en="in a private chat, show or switch the study group it acts for",
)
async def group(ctx: Context) -> Reply:
    """List the member's groups, or choose the one their private chat acts for."""
    if not ctx.incoming.chat.is_private or ctx.incoming.platform == "mp":
        return Reply(ctx.text(MSG, "in_group", name=ctx.group_config.name))
    scope = dm_scope(ctx.session, ctx.config, ctx.member)
    if not scope.options:
        return Reply(ctx.text(MSG, "none", name=ctx.config.groups[0].name))
    current = scope.group
    marks = [
        f"{i}. {g.name}（{g.slug}）{' ✅' if current is not None and g.slug == current.slug else ''}"
        for i, g in enumerate(scope.options, 1)
    ]
    arg = ctx.args.strip().lstrip("#＃")
    if not arg:
        shown = current.name if current is not None else ctx.text(MSG, "unchosen")
        return Reply(ctx.text(MSG, "list", current=shown, groups="\n".join(marks)))
    chosen = None
    if arg.isdigit() and 1 <= int(arg) <= len(scope.options):
        chosen = scope.options[int(arg) - 1]
    else:
        chosen = next(
            (g for g in scope.options if arg.casefold() in (g.slug.casefold(), g.name.casefold())),
            None,
        )
    if chosen is None:
        raise ctx.fail(MSG, "unknown", arg=arg[:40], groups="\n".join(marks))
    row = ctx.session.scalars(select(Group).where(Group.slug == chosen.slug)).one()
    memberships.choose(ctx.session, ctx.member.id, row.id)
    return Reply(ctx.text(MSG, "switched", name=chosen.name))
