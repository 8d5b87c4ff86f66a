"""/link (绑定): one member across platforms, e.g. a 公众号 follower and their Telegram account.

``/link`` gives a one-time code (15 minutes; sent privately when asked in a group); ``/link
<code>`` sent from the other platform joins the two: the sender's check-ins, questions, papers
and streak become the code owner's (:mod:`storage.links`), and from then on both identities are
that one member.
"""

from __future__ import annotations

from bot.context import Context
from bot.i18n import Messages
from bot.model import Reply
from bot.registry import command
from storage.links import LinkError, new_code, redeem

PLATFORM_NAMES = {"mp": "公众号", "telegram": "Telegram", "wechat": "微信", "console": "控制台"}

MSG = Messages(
    {
        "code": (
            "你的绑定码：{code}（15 分钟内有效，只能用一次）\n"
            "在另一个平台（公众号 / Telegram / 微信）给我发送：/link {code}\n"
            "两边的打卡、提问和连续打卡记录就会合并为同一个成员。",
            "Your link code: {code} (valid for 15 minutes, once)\n"
            "Send this from your other platform (WeChat Official Account / Telegram / WeChat): /link {code}\n"
            "Your check-ins, questions and streak there and here then belong to one member.",
        ),
        "linked": (
            "绑定成功 ✅ 你在{platform}的记录已合并到「{name}」（转移 {moved} 条）。",
            "Linked ✅ Your {platform} records now belong to “{name}” ({moved} moved).",
        ),
        "unknown": (
            "绑定码无效或已过期。请在另一个平台发送 /link 获取新的绑定码。",
            "That code is unknown or expired. Send /link on your other platform for a new one.",
        ),
        "same": (
            "这个绑定码来自同一个平台（或就是你自己）。请在另一个平台发送 /link {code}。",
            "That code comes from this same platform (or is your own). Send /link {code} from "
            "your other platform.",
        ),
        "usage": (
            "用法：/link 获取绑定码；/link <6位数字> 在另一个平台完成绑定",
            "Usage: /link for a code; /link <6 digits> on your other platform to link",
        ),
    }
)


@command(
    "link",
    aliases=("绑定",),
    usage="[code]",
    help_zh="把公众号和群聊里的身份绑定为同一个成员",
    help_en="join your WeChat Official Account and chat identities into one member",
)
async def link(ctx: Context) -> Reply:
    """``/link``: a one-time code; ``/link <code>``: merge this identity into the code's."""
    code = ctx.args.strip()
    platform = ctx.incoming.platform
    if not code:
        issued = new_code(ctx.session, ctx.member, platform, ctx.now)
        private = not ctx.incoming.chat.is_private  # a code is not for the whole group
        return Reply(ctx.text(MSG, "code", code=issued), private=private)
    if not (code.isdigit() and len(code) == 6):
        raise ctx.fail(MSG, "usage")
    try:
        linked = redeem(ctx.session, code, ctx.member, platform, ctx.now)
    except LinkError as error:
        raise ctx.fail(MSG, error.reason, code=code) from None
    name = PLATFORM_NAMES.get(platform, platform) if ctx.lang == "zh" else platform
    return Reply(
        ctx.text(
            MSG, "linked", platform=name, name=linked.member.display_name, moved=linked.moved_rows
        )
    )
