"""/start and /help: greet and list the commands this member may use."""

from __future__ import annotations

from bot.context import Context
from bot.i18n import Messages
from bot.model import Reply
from bot.registry import command

MSG = Messages(
    {
        "welcome": (
            "你好，{name}！我是「{group}」的学习助手 🤖\n"
            "每周用 /checkin（或 #打卡）分享学习心得，/ask 提问，/paper 推荐论文，/share 分享资料。\n"
            "发送 /help 查看全部命令，发送「自学」了解如何加入。",
            "Hi {name}! I'm the study assistant of “{group}” 🤖\n"
            "Share weekly notes with /checkin (or #打卡), ask with /ask, recommend papers with "
            "/paper and resources with /share.\nSend /help for every command, 「自学」 to join.",
        ),
        "help_title": ("可用命令：", "Commands:"),
        "admin_title": ("管理员命令：", "Admin commands:"),
    }
)


def _line(
    spec_name: str, usage: str, help_text: str, aliases: tuple[str, ...], lang: str
) -> str:
    joined = " ".join(aliases)
    alias = (f" ({joined})" if lang == "en" else f"（{joined}）") if aliases else ""
    head = f"/{spec_name} {usage}".rstrip()
    return f"{head}{alias} — {help_text}"


@command("start", help_zh="开始使用，查看简介", help_en="introduction")
async def start(ctx: Context) -> Reply:
    """Greet the member by name and point at /help; a new 公众号 follower (``subscribe``
    arrives as /start) gets ``mp.welcome``."""
    if ctx.incoming.platform == "mp":
        mp = ctx.config.mp
        return Reply(mp.welcome_en if ctx.lang == "en" else mp.welcome)
    return Reply(ctx.text(MSG, "welcome", name=ctx.member.display_name, group=ctx.group.name))


@command("help", aliases=("帮助",), help_zh="查看所有命令", help_en="list every command")
async def help_(ctx: Context) -> Reply:
    """List the commands; admins also see the admin commands."""
    lines = [ctx.text(MSG, "help_title")]
    for spec in ctx.registry.visible_commands(include_admin=False):
        hashtags = tuple(spec.hashtags)
        lines.append(_line(spec.name, spec.usage_for(ctx.lang), spec.help(ctx.lang), hashtags, ctx.lang))
    if ctx.is_admin:
        lines.append("")
        lines.append(ctx.text(MSG, "admin_title"))
        lines.extend(
            _line(spec.name, spec.usage_for(ctx.lang), spec.help(ctx.lang), (), ctx.lang)
            for spec in ctx.registry.commands.values()
            if spec.admin and not spec.hidden
        )
    return Reply("\n".join(lines))
