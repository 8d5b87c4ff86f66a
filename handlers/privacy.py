"""/public (公开): whether the check-ins a member sends in a private chat are public.

A check-in sent in a private chat is private unless the member opts in (``/public on``) or
the deployment makes them public by default (``privacy.dm_entries_public``): a private one
counts for the member's streak, ``/rank`` and ``/me`` but never shows in the digest, the
archive, feeds or ``/search``. ``/checkin``'s reply in a private chat says which applies.
The choice is the member's, for every group, and applies to check-ins sent from then on.
"""

from __future__ import annotations

from bot.context import Context
from bot.i18n import Messages
from bot.model import Reply
from bot.registry import command

MSG = Messages(
    {
        "status_private": (
            "你在私聊里发的学习心得目前不公开：只计入连续打卡、/rank 和 /me，不进周报、网页存档和搜索。"
            "想公开，发送 /public on。",
            "The learning notes you send in a private chat are private now: they count for "
            "your streak, /rank and /me, but stay out of the digest, the archive and search. "
            "To make them public: /public on.",
        ),
        "status_public": (
            "你在私聊里发的学习心得目前公开：和群里发的一样收进周报。想改为不公开，发送 /public off。",
            "The learning notes you send in a private chat are public now: they go into the "
            "digest like those sent in the group. To keep them private: /public off.",
        ),
        "now_public": (
            "好的，之后你在私聊里发的学习心得会收进周报（之前的不变）。",
            "Done: learning notes you send in a private chat from now on go into the digest "
            "(earlier ones stay as they were).",
        ),
        "now_private": (
            "好的，之后你在私聊里发的学习心得只有你看得到（仍计入连续打卡和 /me；之前的不变）。",
            "Done: learning notes you send in a private chat from now on are private (they "
            "still count for your streak and /me; earlier ones stay as they were).",
        ),
        "usage": (
            "用法：/public on（私聊心得公开）或 /public off（不公开）；不带参数查看当前设置。",
            "Usage: /public on (private-chat notes public) or /public off (private); no "
            "argument shows the current setting.",
        ),
        "dm_private": (
            "🔒 这条只有你看得到：计入连续打卡和 /me，不进公开周报。想公开私聊心得：/public on",
            "🔒 Only you see this one: it counts for your streak and /me, not in the public "
            "digest. To make private-chat notes public: /public on",
        ),
        "dm_public": (
            "🌐 你选择了公开私聊心得，这条会收进周报（/public off 改为不公开）",
            "🌐 You chose public private-chat notes: this one goes into the digest "
            "(/public off to keep them private)",
        ),
    }
)

_ON = ("on", "yes", "公开", "开", "是")
_OFF = ("off", "no", "不公开", "关", "否", "private")


def dm_entries_public(ctx: Context) -> bool:
    """Whether what the sender sends in a private chat is public (their choice, else the
    config default)."""
    chosen = ctx.member.dm_public
    return ctx.config.privacy.dm_entries_public if chosen is None else chosen


def keeps_private(ctx: Context) -> bool:
    """Whether an entry in this message stays private (sent in a private chat, not opted in)."""
    return ctx.incoming.chat.is_private and not dm_entries_public(ctx)


def privacy_note(ctx: Context) -> str:
    """The line ``/checkin`` adds in a private chat: private, or public by the member's
    choice."""
    return ctx.text(MSG, "dm_public" if dm_entries_public(ctx) else "dm_private")


@command(
    "public",
    aliases=("公开",),
    usage="[on|off]",
    usage_en="[on|off]",
    help_zh="私聊里发的学习心得是否公开（默认不公开，只计入连续打卡和 /me）",
    help_en="whether notes sent in a private chat are public (default: private, they count "
    "for your streak and /me only)",
)
async def public(ctx: Context) -> Reply:
    """Show or set whether the member's private-chat check-ins are public."""
    arg = ctx.args.strip().lower()
    if not arg:
        return Reply(ctx.text(MSG, "status_public" if dm_entries_public(ctx) else "status_private"))
    if arg in _ON:
        ctx.member.dm_public = True
        return Reply(ctx.text(MSG, "now_public"))
    if arg in _OFF:
        ctx.member.dm_public = False
        return Reply(ctx.text(MSG, "now_private"))
    raise ctx.fail(MSG, "usage")
