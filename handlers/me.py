"""/me (我的), /rank (排行) and /away (请假): a member's record, the leaderboard, vacation mode.

Streak and leaderboard rules live in :mod:`storage.engagement`.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta

from bot.clubtime import local_label
from bot.context import Context
from bot.i18n import Messages
from bot.model import Reply
from bot.registry import command
from digest.periods import club_week
from storage import engagement, engagement_away, engagement_rank
from storage.engagement_rank import RankEntry

TOP = 10
MAX_AWAY_DAYS = 84  # 12 weeks
HISTORY_WEEKS = 8
MARKS = {"done": "✅", "missed": "❌", "away": "🏖", "pending": "⏳", "before": "➖"}
AWAY_PATTERN = re.compile(
    r"^(?P<n>\d{1,4})\s*(?P<unit>d|day|days|w|wk|week|weeks|m|mo|month|months|"
    r"天|日|周|星期|个星期|个月|月)$",
    re.IGNORECASE,
)
UNIT_DAYS = {
    **dict.fromkeys(("d", "day", "days", "天", "日"), 1),
    **dict.fromkeys(("w", "wk", "week", "weeks", "周", "星期", "个星期"), 7),
    **dict.fromkeys(("m", "mo", "month", "months", "个月", "月"), 30),
}
OFF_WORDS = ("off", "back", "stop", "cancel", "结束", "取消", "回来", "回来了")

MSG = Messages(
    {
        "me": (
            "📒 {name} 的学习记录\n"
            "打卡 {checkins} 次 · 提问 {questions} · 回答 {answers} · 论文 {papers} · 资料 {resources}\n"
            "🔥 连续打卡 {current} 周（最长 {longest} 周）\n"
            "最近 {weeks} 周：{history}\n"
            "（✅ 已打卡 ❌ 未打卡 🏖 请假 ⏳ 本周待打卡 ➖ 尚未加入）",
            "📒 {name}'s record\n"
            "Check-ins {checkins} · questions {questions} · answers {answers} · papers {papers} · "
            "resources {resources}\n"
            "🔥 Weekly streak: {current} (longest {longest})\n"
            "Last {weeks} weeks: {history}\n"
            "(✅ checked in ❌ missed 🏖 away ⏳ this week, not yet ➖ before joining)",
        ),
        "me_pending": (
            "本周还没打卡，发送 /checkin <心得> 保持连续记录 💪",
            "No check-in this week yet: send /checkin <notes> to keep your streak 💪",
        ),
        "me_away": ("🏖 请假中，至 {until}", "🏖 Away until {until}"),
        "rank_week": ("🏆 本周排行（{start} 起）", "🏆 This week's ranking (since {start})"),
        "rank_all": ("🏆 总排行", "🏆 All-time ranking"),
        "rank_line": ("{rank}. {name} — {points} 分", "{rank}. {name} — {points} pts"),
        "rank_you": ("你：第 {rank} 名，{points} 分", "You: #{rank}, {points} pts"),
        "rank_you_none": ("你还没有积分，快来打卡吧！", "You have no points yet: check in!"),
        "rank_empty_week": (
            "本周还没有人打卡或分享。发送 /checkin <心得> 成为第一个！",
            "Nobody has checked in or shared anything this week yet. Be the first: /checkin <notes>",
        ),
        "rank_empty_all": ("还没有任何记录。", "Nothing recorded yet."),
        "rank_weights": (
            "计分：打卡 {checkin} · 回答 {answer} · 论文 {paper} · 资料 {resource}",
            "Points: check-in {checkin} · answer {answer} · paper {paper} · resource {resource}",
        ),
        "rank_usage": (
            "用法：/rank（本周）或 /rank all（总榜）",
            "Usage: /rank (this week) or /rank all",
        ),
        "away_set": (
            "🏖 已请假至 {until}（{days} 天）。请假期间的周不会中断你的连续打卡。"
            "提前回来发送 /away off。",
            "🏖 You're away until {until} ({days} days). Weeks away won't break your streak. "
            "Back early? Send /away off.",
        ),
        "away_off": ("欢迎回来 👋 请假已结束。", "Welcome back 👋 You're no longer away."),
        "away_not": ("你现在没有请假。", "You're not away at the moment."),
        "away_status": (
            "🏖 你正在请假，至 {until}。提前回来发送 /away off。",
            "🏖 You're away until {until}. Back early? Send /away off.",
        ),
        "away_usage": (
            "用法：/away 2w（或 3d、1m、10天、2周），/away off 结束请假。最长 12 周。",
            "Usage: /away 2w (or 3d, 1m, 10天, 2周); /away off to come back. At most 12 weeks.",
        ),
        "away_too_long": (
            "请假最长 12 周（{max} 天），你填的是 {days} 天。",
            "You can be away for at most 12 weeks ({max} days); you asked for {days} days.",
        ),
        "away_zero": ("请假时长至少 1 天。", "Being away takes at least one day."),
    }
)


def _local(ctx: Context, moment: datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return moment.astimezone(engagement.group_tz(ctx.group)).strftime(fmt)


@command(
    "me",
    aliases=("我的",),
    help_zh="我的打卡、连续周数和贡献",
    help_en="your check-ins, streak and contributions",
)
async def me(ctx: Context) -> Reply:
    """Show the caller's totals, weekly streak, the last 8 weeks and away status."""
    member = ctx.member
    counts = engagement_rank.all_contributions(
        engagement_rank.contribution_counts(ctx.session, ctx.group, member_ids=[member.id]).get(
            member.id
        )
        or Counter()
    )
    week = club_week(ctx.session, ctx.group, ctx.now, ctx.config.digest.cron, store=False)
    streak = engagement.member_streak(
        ctx.session, ctx.group, member.id, ctx.now, history_weeks=HISTORY_WEEKS, this_week=week.key
    )
    history = "".join(MARKS[week.state] for week in streak.history)
    lines = [
        ctx.text(
            MSG,
            "me",
            name=member.display_name,
            checkins=counts["checkin"],
            questions=counts["question"],
            answers=counts["answer"],
            papers=counts["paper"],
            resources=counts["resource"],
            current=streak.current,
            longest=streak.longest,
            weeks=HISTORY_WEEKS,
            history=history,
        )
    ]
    away = engagement_away.current_away(ctx.session, member.id, ctx.now)
    if away is not None:
        lines.append(ctx.text(MSG, "me_away", until=_local(ctx, away.ends_at)))
    elif not streak.checked_in_this_week:
        lines.append(ctx.text(MSG, "me_pending"))
    return Reply("\n".join(lines))


def _rank_lines(ctx: Context, entries: list[RankEntry]) -> list[str]:
    lines = [
        ctx.text(MSG, "rank_line", rank=e.rank, name=e.name, points=e.points) for e in entries[:TOP]
    ]
    mine = next((e for e in entries if e.member_id == ctx.member.id), None)
    if mine is None:
        lines.append(ctx.text(MSG, "rank_you_none"))
    elif mine not in entries[:TOP]:
        lines.append("…")
        lines.append(ctx.text(MSG, "rank_you", rank=mine.rank, points=mine.points))
    else:
        lines.append(ctx.text(MSG, "rank_you", rank=mine.rank, points=mine.points))
    return lines


@command(
    "rank",
    aliases=("排行", "排行榜"),
    usage="[all]",
    help_zh="本周排行；/rank all 总排行",
    help_en="this week's leaderboard; /rank all for all time",
)
async def rank(ctx: Context) -> Reply:
    """Top 10 of this week (or all time with ``all``) plus the caller's own position."""
    arg = ctx.args.strip().lower()
    if arg in ("all", "全部", "总", "总榜"):
        entries = engagement_rank.leaderboard(ctx.session, ctx.group)
        title, empty = ctx.text(MSG, "rank_all"), "rank_empty_all"
    elif arg in ("", "week", "本周"):
        week = club_week(ctx.session, ctx.group, ctx.now, ctx.config.digest.cron, store=False)
        entries = engagement_rank.leaderboard(ctx.session, ctx.group, week.start, week.end)
        start = local_label(week.start, ctx.group.timezone, ctx.lang)
        title, empty = ctx.text(MSG, "rank_week", start=start), "rank_empty_week"
    else:
        raise ctx.fail(MSG, "rank_usage")
    if not entries:
        return Reply(ctx.text(MSG, empty))
    lines = [title, *_rank_lines(ctx, entries), ctx.text(MSG, "rank_weights", **engagement_rank.WEIGHTS)]
    return Reply("\n".join(lines))


def parse_away(text: str) -> int | None:
    """Days in ``3d`` / ``2w`` / ``1m`` / ``10天`` / ``2周`` / ``1个月``; None when unreadable."""
    match = AWAY_PATTERN.match(text.strip().replace(" ", ""))
    if match is None:
        return None
    return int(match.group("n")) * UNIT_DAYS[match.group("unit").lower()]


@command(
    "away",
    aliases=("请假", "休假"),
    usage="<3d|2w|1m|off>",
    help_zh="请假（不打断连续打卡），/away off 结束",
    help_en="go away without breaking your streak; /away off to return",
)
async def away(ctx: Context) -> Reply:
    """Start, extend or end an away period (at most 12 weeks)."""
    arg = ctx.args.strip()
    member = ctx.member
    if not arg:
        running = engagement_away.current_away(ctx.session, member.id, ctx.now)
        if running is not None:
            return Reply(ctx.text(MSG, "away_status", until=_local(ctx, running.ends_at)))
        raise ctx.fail(MSG, "away_usage")
    if arg.lower() in OFF_WORDS:
        ended = engagement_away.end_away(ctx.session, member, ctx.now)
        return Reply(ctx.text(MSG, "away_off" if ended else "away_not"))
    days = parse_away(arg)
    if days is None:
        raise ctx.fail(MSG, "away_usage")
    if days == 0:
        raise ctx.fail(MSG, "away_zero")
    if days > MAX_AWAY_DAYS:
        raise ctx.fail(MSG, "away_too_long", max=MAX_AWAY_DAYS, days=days)
    until = ctx.now + timedelta(days=days)
    engagement_away.set_away(ctx.session, member, ctx.now, until)
    return Reply(ctx.text(MSG, "away_set", until=_local(ctx, until), days=days))
