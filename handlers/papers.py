"""/paper (论文, #论文) shares a paper for 论文速递; /papers (论文列表) lists this week's papers.

``/paper <url> [title] | summary | 一句话概括``: the URL is validated, arXiv ids and GitHub code
links are recognised, and a paper already shared in the group (same normalised URL or arXiv id)
is refused with a pointer to the earlier entry.
"""

from __future__ import annotations

from bot.clubtime import local_label, zone
from bot.context import Context, UserError
from bot.i18n import COMMON, Messages
from bot.model import Reply
from bot.parsing.arguments import parse_paper
from bot.parsing.errors import ParseError
from bot.registry import command
from digest.periods import club_week
from handlers import privacy
from handlers.paper_edit import EDIT_WORDS, edit_paper
from storage import content
from storage.models import Paper

MSG = Messages(
    {
        "usage": (
            "/paper <链接> [标题] | 摘要 | 一句话概括",
            "/paper <url> [title] | summary | one-line summary",
        ),
        "usage_hint": (
            "例如：/paper https://arxiv.org/abs/1903.10258 DCL 细粒度识别 | 摘要… | 一句话概括…",
            "e.g. /paper https://arxiv.org/abs/1903.10258 DCL fine-grained | summary… | gist…",
        ),
        "saved": ("📄 已收录论文 #{id}：{title}", "📄 Paper #{id} saved: {title}"),
        "arxiv": ("arXiv：{id}", "arXiv: {id}"),
        "code": ("代码：{url}", "Code: {url}"),
        "one_liner": ("一句话概括：{text}", "In one line: {text}"),
        "fetching": (
            "论文名称、作者和摘要稍后自动从 arXiv 补全。",
            "The paper's title, authors and abstract will be filled in from arXiv shortly.",
        ),
        "fetch_failed": (
            "（arXiv 暂时连不上，论文信息稍后自动重试）",
            "(arXiv unreachable for now: its details will be fetched later)",
        ),
        "by_authors": ("作者：{names}", "Authors: {names}"),
        "in_digest": (
            "将收录进第 {issue} 期周报的论文速递（{deadline} 截止）📚",
            "It goes into the paper digest of issue {issue} (closes {deadline}) 📚",
        ),
        "duplicate": (
            "这篇论文已经分享过了：#{id}《{title}》，由 {name} 于 {date} 分享。",
            "This paper was already shared: #{id} “{title}”, by {name} on {date}.",
        ),
        "none": (
            "本周还没有人分享论文。用 /paper <链接> 标题 | 摘要 | 一句话概括 来分享吧。",
            "No papers shared this week yet. Share one with /paper <url> title | summary | gist.",
        ),
        "list_title": ("本周论文（{n} 篇）：", "Papers this week ({n}):"),
    }
)


def paper_label(paper: Paper) -> str:
    """The title, else the title fetched from arXiv, else the arXiv id / URL."""
    return paper.label


def authors_line(paper: Paper, lang: str, most: int = 3) -> str:
    """The first ``most`` fetched authors, 「等」 / "et al." for the rest."""
    names = paper.arxiv_authors.splitlines()
    more = len(names) > most
    shown = ", ".join(names[:most])
    return shown + (" 等" if lang == "zh" else " et al.") if more else shown


@command(
    "paper",
    aliases=("论文",),
    hashtags=("#论文", "#paper"),
    usage="<链接> [标题] | 摘要 | 一句话概括",
    usage_en="<url> [title] | summary | one-line takeaway",
    help_zh="分享论文（识别 arXiv 编号与 GitHub 代码链接，重复的会提示）",
    help_en="share a paper (arXiv ids and GitHub code links recognised; duplicates refused)",
    content=True,  # a member's post: never refused by the flood limit
)
async def paper(ctx: Context) -> Reply:
    """Store a paper for the weekly 论文速递, refusing duplicates within the group
    (``/paper edit …``: :mod:`handlers.paper_edit`)."""
    first, rest = [*ctx.args.split(None, 1), "", ""][:2]
    if first.lower() in EDIT_WORDS:
        return edit_paper(ctx, rest)
    if not ctx.args.strip():
        usage = COMMON.get("usage", ctx.lang, usage=ctx.text(MSG, "usage"))
        return Reply(f"{usage}\n{ctx.text(MSG, 'usage_hint')}")
    try:
        parsed = parse_paper(ctx.args)
    except ParseError as error:
        raise UserError(error.message(ctx.lang)) from None
    week = club_week(ctx.session, ctx.group, ctx.now, ctx.config.digest.cron)
    try:
        stored = content.add_paper(
            ctx.session,
            ctx.group.id,
            ctx.member.id,
            url=parsed.url,
            url_key=parsed.url_key,
            arxiv_id=parsed.arxiv_id,
            code_url=parsed.code_url,
            title=parsed.title,
            summary=parsed.summary,
            one_liner=parsed.one_liner,
            now=max(ctx.now, week.start),  # late for a published issue: the next one
            source=ctx.source,
            private=privacy.keeps_private(ctx),
        )
    except content.DuplicatePaper as duplicate:
        earlier = duplicate.existing
        date = earlier.created_at.astimezone(zone(ctx.group.timezone)).date()
        raise ctx.fail(
            MSG,
            "duplicate",
            id=earlier.id,
            title=paper_label(earlier),
            name=earlier.member.display_name,
            date=date.isoformat(),
        ) from None
    lines = [ctx.text(MSG, "saved", id=stored.id, title=paper_label(stored))]
    if stored.arxiv_id:
        lines.append(ctx.text(MSG, "arxiv", id=stored.arxiv_id))
    for code in stored.code_urls:
        lines.append(ctx.text(MSG, "code", url=code))
    if stored.one_liner:
        lines.append(ctx.text(MSG, "one_liner", text=stored.one_liner))
    fetch = ctx.services.paper_metadata
    if fetch is not None and (stored.arxiv_status or stored.code_status):
        paper_id = stored.id

        async def fetch_metadata() -> None:
            fetch(paper_id)  # a background task: the member's reply does not wait for it

        ctx.after_commit(fetch_metadata)
        if stored.arxiv_status and ctx.config.papers.fetch_metadata:
            lines.append(ctx.text(MSG, "fetching"))
    if not stored.private:  # a private paper is promised to no digest
        deadline = local_label(week.end, ctx.group.timezone, ctx.lang)
        lines.append(ctx.text(MSG, "in_digest", issue=week.number, deadline=deadline))
    if ctx.incoming.chat.is_private:  # private or public: the member should know which
        lines.append(privacy.entry_note(ctx))
    return Reply("\n".join(lines))


@command(
    "papers",
    aliases=("论文列表",),
    help_zh="列出本周分享的论文",
    help_en="list this week's papers",
)
async def papers(ctx: Context) -> Reply:
    """List the papers shared this (local) week."""
    week = club_week(ctx.session, ctx.group, ctx.now, ctx.config.digest.cron, store=False)
    start, end = week.start, week.end
    # the member's own private papers too, in their private chat only
    viewer = ctx.member.id if ctx.incoming.chat.is_private else None
    found = content.papers_between(ctx.session, ctx.group.id, start, end, viewer)
    if not found:
        return Reply(ctx.text(MSG, "none"))
    lines = [ctx.text(MSG, "list_title", n=len(found))]
    for item in found:
        lock = "🔒 " if item.private else ""
        lines.append(f"{lock}#{item.id} {paper_label(item)} — {item.member.display_name}")
        if item.arxiv_title and item.arxiv_title != paper_label(item):
            lines.append(f"   {item.arxiv_title}")
        if item.arxiv_authors:
            lines.append("   " + ctx.text(MSG, "by_authors", names=authors_line(item, ctx.lang)))
        if item.arxiv_status == "failed":
            lines.append("   " + ctx.text(MSG, "fetch_failed"))
        lines.append(f"   {item.link}")
    return Reply("\n".join(lines))
