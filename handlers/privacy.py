"""/public (公开): whether what a member sends in a private chat is public.

Check-ins, papers, resources and questions sent in a private chat are private unless the
member opts in (``/public on``) or the deployment makes them public by default
(``privacy.dm_entries_public``). A private entry is seen by its member only: never in the
digest, the archive, feeds, ``/search``, ``/papers`` or ``/questions`` of others, and a
private question is announced to no group and answered by no one else; a private check-in
still counts for the streak, ``/rank`` and ``/me``. Each reply in a private chat says which
applies and how to change it. The choice is the member's, for every group, and applies to
what they send from then on. Answers are always public (they answer a public question).
"""

from __future__ import annotations

from bot.context import Context
from bot.i18n import Messages
from bot.model import Reply
from bot.registry import command

MSG = Messages(
    {
        "status_private": (
            "你在私聊里发的学习心得、论文、资料和提问目前不公开：只有你看得到（心得仍计入连续打卡、"
            "/rank 和 /me），不进周报、网页存档和搜索，也不在群里公布。想公开，发送 /public on。",
            "The learning notes, papers, resources and questions you send in a private chat "
            "are private now: only you see them (notes still count for your streak, /rank and "
            "/me); they stay out of the digest, the archive and search and are not announced "
            "in the group. To make them public: /public on.",
        ),
        "status_public": (
            "你在私聊里发的学习心得、论文、资料和提问目前公开：和群里发的一样收进周报。"
            "想改为不公开，发送 /public off。",
            "The learning notes, papers, resources and questions you send in a private chat "
            "are public now: they go into the digest like those sent in the group. To keep "
            "them private: /public off.",
        ),
        "now_public": (
            "好的，之后你在私聊里发的学习心得、论文、资料和提问会公开、收进周报（之前的不变）。",
            "Done: the notes, papers, resources and questions you send in a private chat from "
            "now on are public and go into the digest (earlier ones stay as they were).",
        ),
        "now_private": (
            "好的，之后你在私聊里发的学习心得、论文、资料和提问只有你看得到（心得仍计入连续打卡和 "
            "/me；之前的不变）。",
            "Done: the notes, papers, resources and questions you send in a private chat from "
            "now on are private (notes still count for your streak and /me; earlier ones stay "
            "as they were).",
        ),
        "usage": (
            "用法：/public on（私聊里发的内容公开）或 /public off（不公开）；不带参数查看当前设置。",
            "Usage: /public on (what you send in a private chat is public) or /public off "
            "(private); no argument shows the current setting.",
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
        "entry_private": (
            "🔒 只有你看得到：不进周报、网页存档和搜索，也不在群里公布。"
            "想公开私聊里发的内容：/public on",
            "🔒 Only you see this: it stays out of the digest, the archive and search, and is "
            "not announced in the group. To make what you send privately public: /public on",
        ),
        "entry_public": (
            "🌐 你选择了公开私聊里发的内容：这条和群里发的一样收进周报（/public off 改为不公开）",
            "🌐 You chose to make what you send privately public: this one goes into the "
            "digest like the group's (/public off to keep it private)",
        ),
        "question_private": (
            "🔒 这个问题只有你看得到：不在群里公布、不进周报，别人看不到也无法回答。"
            "想请大家解答：到群里提问，或先发送 /public on",
            "🔒 Only you see this question: it is not announced in the group nor in the "
            "digest, so no one else can answer it. To ask everyone: ask in the group, or send "
            "/public on first",
        ),
        "question_public": (
            "🌐 你选择了公开私聊里发的内容：这个问题已在群里公布，也会进周报，大家都能回答"
            "（/public off 改为不公开）",
            "🌐 You chose to make what you send privately public: this question is announced "
            "in the group and goes into the digest, for everyone to answer (/public off to "
            "keep it private)",
        ),
        "answer_public": (
            "🌐 回答总是公开的：提问者会收到，大家用 /q {number} 也能看到（与 /public 设置无关）",
            "🌐 Answers are always public: the asker is told, and everyone sees them with "
            "/q {number} (whatever your /public setting)",
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


def entry_note(ctx: Context, kind: str = "entry") -> str:
    """The line a paper's, resource's (``entry``) or question's (``question``) reply adds in
    a private chat: private, or public by the member's choice, and how to change it."""
    return ctx.text(MSG, f"{kind}_{'public' if dm_entries_public(ctx) else 'private'}")


def answer_note(ctx: Context, number: int) -> str:
    """The line an answer's reply adds in a private chat: answers are public."""
    return ctx.text(MSG, "answer_public", number=number)


@command(
    "public",
    aliases=("公开",),
    usage="[on|off]",
    usage_en="[on|off]",
    help_zh="私聊里发的心得、论文、资料和提问是否公开（默认不公开，只有你看得到）",
    help_en="whether the notes, papers, resources and questions you send in a private chat "
    "are public (default: private, only you see them)",
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
