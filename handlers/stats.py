"""/stats (统计, admin): a text summary of the group plus the weekly activity chart (PNG)."""

from __future__ import annotations

from bot.context import Context
from bot.i18n import Messages
from bot.model import Reply
from bot.registry import command
from digest.charts import render_chart
from storage import engagement
from storage.stats import group_stats

CHART_WEEKS = 12

MSG = Messages(
    {
        "summary": (
            "📊 {group} 统计（{date}）\n"
            "成员 {members} 人，其中 {contributors} 人发过内容\n"
            "本周活跃 {active} 人 · 本周打卡 {this_week} 次（上周 {last_week} 次）\n"
            "累计：打卡 {checkin} · 提问 {question}（待解答 {open} · 已解答 {answered}）"
            " · 回答 {answer} · 论文 {paper} · 资料 {resource}\n"
            "图：最近 {weeks} 周每周活跃成员与打卡次数",
            "📊 {group} stats ({date})\n"
            "{members} members, {contributors} of whom have posted\n"
            "Active this week: {active} · check-ins this week: {this_week} (last week {last_week})\n"
            "Totals: check-ins {checkin} · questions {question} (open {open} · answered {answered})"
            " · answers {answer} · papers {paper} · resources {resource}\n"
            "Chart: members active and check-ins per week, last {weeks} weeks",
        ),
        "drawing": ("⏳ 图表生成中，稍后发送…", "⏳ Drawing the chart; it follows shortly…"),
        "caption": (
            "📊 {group}：最近 {weeks} 周每周活跃成员与打卡次数",
            "📊 {group}: members active and check-ins per week, last {weeks} weeks",
        ),
    }
)


@command(
    "stats",
    aliases=("统计",),
    admin=True,
    help_zh="群组统计与图表",
    help_en="group statistics and chart",
)
async def stats(ctx: Context) -> Reply:
    """Summarise the group, then send the activity chart: the figures are read and answered
    in the message's transaction (at once, queued with the message, so a shutdown cannot
    lose them), the chart is drawn after it commits (off the event loop) and follows."""
    figures = group_stats(ctx.session, ctx.group, ctx.now, CHART_WEEKS)
    tz = engagement.group_tz(ctx.group)
    totals = figures.totals
    text = ctx.text(
        MSG,
        "summary",
        group=ctx.group.name,
        date=ctx.now.astimezone(tz).strftime("%Y-%m-%d"),
        members=figures.members,
        contributors=figures.contributors,
        active=figures.active_this_week,
        this_week=figures.checkins_this_week,
        last_week=figures.checkins_last_week,
        checkin=totals["checkin"],
        question=totals["question"],
        open=figures.questions["open"],
        answered=figures.questions["answered"],
        answer=totals["answer"],
        paper=totals["paper"],
        resource=totals["resource"],
        weeks=CHART_WEEKS,
    )
    weeks, name, slug, lang = figures.weeks, ctx.group.name, ctx.group.slug, ctx.lang
    separate = ctx.config.charts.separate_process

    caption = ctx.text(MSG, "caption", group=name, weeks=CHART_WEEKS)

    async def draw() -> Reply:
        png = await render_chart(weeks, name, slug, lang, separate_process=separate)
        return Reply(caption, image=png, image_name=f"stats-{slug}.png")

    ctx.after_commit(draw)
    return Reply(f"{text}\n{ctx.text(MSG, 'drawing')}")
