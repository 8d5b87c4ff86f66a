"""/checkin (打卡, #打卡, #心得): weekly learning notes, plus listing, editing and deleting them.

Points reward learning: one check-in a day earns points (later ones are kept for the digest
without points); emoji-only notes and repeats of the last week's notes are refused kindly.

Several check-ins a week are kept as separate rows and merged per member in the digest. The
week is the club week: the open digest period the note goes into
(:func:`digest.periods.club_week`); the reply names that issue and its deadline.
"""

from __future__ import annotations

import re
from datetime import timedelta

from bot.clubtime import local_label
from bot.context import Context
from bot.i18n import Messages, preview
from bot.model import Reply
from bot.registry import command
from digest.periods import ClubWeek, club_week
from handlers import note_quality, privacy
from storage import checkins
from storage.models import CheckIn

USAGE = "<学习心得>"
MAX_CHARS = 3000
RECENT = timedelta(days=3)
"""A new note is compared with the member's notes of the last three days (a topic revisited
next week is new learning)."""

MSG = Messages(
    {
        "saved": (
            "✅ 已记录 {name} 本周第 {n} 条学习心得，将收录进第 {issue} 期周报（{deadline} 截止）",
            "✅ Saved {name}'s learning note #{n} this week; it goes into digest issue {issue} "
            "(closes {deadline})",
        ),
        "saved_private": (
            "✅ 已记录 {name} 本周第 {n} 条学习心得（算在第 {issue} 期这一周，{deadline} 截止）",
            "✅ Saved {name}'s learning note #{n} this week (it counts for the week of issue "
            "{issue}, closing {deadline})",
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
            "修改：/checkin edit <序号> <新内容>；删除：/checkin del <序号>",
            "Edit: /checkin edit <number> <new text>; delete: /checkin del <number>",
        ),
        "edit_usage": (
            "用法：/checkin edit <序号> <新内容>，序号是 /checkin 列表里的编号，例如 /checkin edit 2 复习了 SVM",
            "Usage: /checkin edit <number> <new text>, the number from the /checkin list, "
            "e.g. /checkin edit 2 reviewed SVMs",
        ),
        "del_usage": (
            "用法：/checkin del <序号>，序号是 /checkin 列表里的编号，例如 /checkin del 2",
            "Usage: /checkin del <number>, the number from the /checkin list, e.g. /checkin del 2",
        ),
        "not_found": (
            "你本周的学习心得里没有第 {n} 条（共 {count} 条）。发送 /checkin 查看列表。",
            "You have no note number {n} this week ({count} in all). Send /checkin to see the list.",
        ),
        "edited": (
            "✏️ 已修改你本周第 {n} 条学习心得",
            "✏️ Your learning note #{n} this week was updated",
        ),
        "deleted": (
            "🗑️ 已删除你本周第 {n} 条学习心得",
            "🗑️ Your learning note #{n} this week was deleted",
        ),
        "contentless": (
            "这条打卡还没写学了什么 🙂 写一两句今天的收获吧，例如：#打卡 看完 CS231n 第三讲，理解了反向传播",
            "That check-in doesn't say what you learned yet 🙂 add a sentence, e.g. "
            "#打卡 finished CS231n lecture 3, understood backprop",
        ),
        "duplicate": (
            "这条和你最近的心得「{earlier}」几乎一样，没有重复记录。想补充可以 /checkin edit <序号> <新内容>。",
            'This is almost the same as your recent note "{earlier}", so it was not saved again. '
            "To add to it: /checkin edit <number> <new text>.",
        ),
        "unscored": (
            "（今天的打卡分已经拿到了：这条照样进周报，不再加分）",
            "(you already earned today's check-in points: this one goes into the digest "
            "without more points)",
        ),
        "too_long": (
            "学习心得太长了（{length} 字，上限 {limit} 字），请精简或分几次发送。",
            "That note is too long ({length} characters, limit {limit}); please shorten or split it.",
        ),
    }
)

_EDIT_WORDS = ("edit", "修改", "编辑")
_DELETE_WORDS = ("del", "delete", "rm", "删除")
_ENGLISH_VERBS = ("edit", "del", "delete", "rm")
"""English verbs are always the sub-command; 修改/编辑/删除 only before a number or alone
(``#打卡 修改了论文的引言`` is a note)."""
_NUMBER = re.compile(r"^[#＃]?(\d{1,4})$")


def _club_week(ctx: Context, *, store: bool = True) -> ClubWeek:
    """The club week a note sent now goes into (the open digest issue)."""
    return club_week(ctx.session, ctx.group, ctx.now, ctx.config.digest.cron, store=store)


def _this_weeks(ctx: Context) -> list[CheckIn]:
    """The sender's check-ins this week, numbered 1.. in the order ``/checkin`` lists them."""
    week = _club_week(ctx, store=False)
    start, end = week.start, week.end
    return checkins.member_checkins(ctx.session, ctx.group.id, ctx.member.id, start, end)


def _numbered(ctx: Context, number: str) -> tuple[int, CheckIn]:
    """The sender's own note with list number ``number`` (what ``/checkin`` shows)."""
    entries = _this_weeks(ctx)
    n = int(number)
    if not 1 <= n <= len(entries):
        raise ctx.fail(MSG, "not_found", n=n, count=len(entries))
    return n, entries[n - 1]


def _check_length(ctx: Context, text: str) -> None:
    if len(text) > MAX_CHARS:
        raise ctx.fail(MSG, "too_long", length=len(text), limit=MAX_CHARS)


@command(
    "checkin",
    aliases=("打卡",),
    hashtags=("#打卡", "#心得", "#checkin", "#check-in"),
    bare_words=("打卡",),
    usage=USAGE,
    usage_en="<learning note>",
    help_zh="记录本周学习心得（一周可多条，周报中合并）；不带内容列出本周记录；edit/del <序号> 修改或删除",
    help_en="record a weekly learning note (several a week are merged); no text lists yours; edit/del <number>",
    content=True,  # a member's post: never refused by the flood limit
)
async def checkin(ctx: Context) -> Reply:
    """Record a learning note, or list/edit/delete this week's notes."""
    args = ctx.args.strip()
    if not args:
        return _list(ctx)
    verb, number, text = [*args.split(maxsplit=2), "", ""][:3]
    command_like = verb.lower() in _ENGLISH_VERBS or not number or _NUMBER.match(number)
    if verb.lower() in _EDIT_WORDS and command_like:
        found = _NUMBER.match(number)
        if found is None or not text.strip():
            raise ctx.fail(MSG, "edit_usage")
        _check_length(ctx, text.strip())
        if note_quality.is_contentless(text):
            raise ctx.fail(MSG, "contentless")
        n, entry = _numbered(ctx, found.group(1))
        checkins.edit_checkin(entry, text.strip(), ctx.now)
        return Reply(ctx.text(MSG, "edited", n=n))
    if verb.lower() in _DELETE_WORDS and command_like:
        found = _NUMBER.match(number)
        if found is None or text:
            raise ctx.fail(MSG, "del_usage")
        n, entry = _numbered(ctx, found.group(1))
        checkins.delete_checkin(ctx.session, entry)
        return Reply(ctx.text(MSG, "deleted", n=n))
    _check_length(ctx, args)
    _check_learning(ctx, args)
    week = _club_week(ctx)
    written = max(ctx.now, week.start)  # a late note for a published issue joins the next
    today = checkins.day_bounds(written, ctx.group.timezone)
    scored = not checkins.scored_in(ctx.session, ctx.group.id, ctx.member.id, today)
    source = ctx.source
    private = privacy.keeps_private(ctx)
    _, count = checkins.add_checkin(
        ctx.session,
        ctx.group.id,
        ctx.member.id,
        args,
        written,
        (week.start, week.end),
        counts_for=week.key,
        scored=scored,
        source=source,
        private=private,
    )
    deadline = local_label(week.end, ctx.group.timezone, ctx.lang)
    saved = ctx.text(
        MSG,
        "saved_private" if private else "saved",  # a private note goes into no digest
        name=ctx.member.display_name,
        n=count,
        issue=week.number,
        deadline=deadline,
    )
    if ctx.incoming.chat.is_private:  # private or public: the member should know which
        saved = f"{saved}\n{privacy.privacy_note(ctx)}"
    if not scored:  # it needs the member's attention: a direct reply, not a quiet one
        return Reply(f"{saved}\n{ctx.text(MSG, 'unscored')}")
    return Reply(saved, kind="ack")  # quiet in groups: a reaction or one batched message


def _check_learning(ctx: Context, text: str) -> None:
    """Refuse a note that says nothing (emoji only) or repeats one of the last days'."""
    if note_quality.is_contentless(text):
        raise ctx.fail(MSG, "contentless")
    recent = checkins.member_checkins(
        ctx.session, ctx.group.id, ctx.member.id, ctx.now - RECENT, ctx.now + RECENT
    )
    earlier = note_quality.near_duplicate(text, [entry.text for entry in recent])
    if earlier is not None:
        raise ctx.fail(MSG, "duplicate", earlier=preview(earlier))


def _list(ctx: Context) -> Reply:
    entries = _this_weeks(ctx)
    if not entries:
        return Reply(ctx.text(MSG, "none"))
    lines = [ctx.text(MSG, "list_title", name=ctx.member.display_name, n=len(entries))]
    lines += [f"{i}. {preview(e.text)}" for i, e in enumerate(entries, 1)]
    lines.append(ctx.text(MSG, "list_hint"))
    return Reply("\n".join(lines))
