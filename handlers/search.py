"""/search (搜索): full-text search over check-ins, questions, answers, papers and resources.

``/search 词向量 #nlp type:paper page 2`` — words (Chinese is segmented with jieba), ``#tag``
filters, type filters (``type:论文`` or ``论文:``; 心得 问题 回答 论文 资源 / checkin question
answer paper resource) and a page number. Five results a page, best first.
"""

from __future__ import annotations

from bot.clubtime import zone as clubtime_zone
from bot.context import Context
from bot.i18n import COMMON, Messages
from bot.model import Reply
from bot.registry import command
from storage.search.find import Hit, SearchPage, search
from storage.search.text import QueryError, parse_query

PER_PAGE = 5
ECHO_CHARS = 40

MSG = Messages(
    {
        "usage": (
            "/search <关键词> [#标签] [type:类型] [page N]",
            "/search <words> [#tag] [type:kind] [page N]",
        ),
        "examples": (
            "例如：/search 词向量；/search 目标检测 YOLO；/search #NLP type:论文；"
            "/search 过拟合 page 2\n类型：心得 问题 回答 论文 资源（也可写 论文:关键词）",
            "e.g. /search word2vec; /search object detection YOLO; /search #NLP type:paper; "
            "/search overfitting page 2\nKinds: checkin question answer paper resource "
            "(or paper:word)",
        ),
        "unknown_type": (
            "不认识的类型「{value}」。可用类型：心得 问题 回答 论文 资源"
            "（checkin question answer paper resource）。",
            "Unknown kind “{value}”. Kinds: checkin question answer paper resource "
            "(心得 问题 回答 论文 资源).",
        ),
        "none": (
            "没有找到与「{query}」相关的内容。换个关键词试试，或去掉 #标签 / 类型 过滤。",
            "Nothing found for “{query}”. Try other words, or drop the #tag / kind filters.",
        ),
        "header": ("🔎「{query}」共 {total} 条结果：", "🔎 “{query}”: {total} found"),
        "relaxed": (
            "🔎 没有同时包含所有关键词的内容，以下 {total} 条包含部分关键词：",
            "🔎 Nothing has every word; {total} found with some of them:",
        ),
        "past_end": (
            "「{query}」只有 {pages} 页结果，发送 /search {args} page {pages} 查看最后一页。",
            "“{query}” has only {pages} pages; send /search {args} page {pages} for the last.",
        ),
        "footer_more": (
            "第 {page}/{pages} 页，发送 /search {args} page {next} 查看下一页",
            "Page {page}/{pages}; send /search {args} page {next} for the next page",
        ),
        "footer_last": ("第 {page}/{pages} 页", "Page {page}/{pages}"),
        "kind_checkin": ("心得", "check-in"),
        "kind_question": ("问题", "question"),
        "kind_answer": ("回答", "answer"),
        "kind_paper": ("论文", "paper"),
        "kind_resource": ("资源", "resource"),
        "answer_of": ("回答 · 问题 #{n}", "answer · question #{n}"),
    }
)

KIND_WORD = {
    "checkin": "心得",
    "question": "问题",
    "answer": "回答",
    "paper": "论文",
    "resource": "资源",
}


def _usage(ctx: Context) -> Reply:
    usage = COMMON.get("usage", ctx.lang, usage=ctx.text(MSG, "usage"))
    return Reply(f"{usage}\n{ctx.text(MSG, 'examples')}")


def _args_without_page(ctx: Context, result: SearchPage) -> str:
    query = result.query
    parts = [query.words, *(f"#{t}" for t in query.tags)]
    parts += [f"type:{KIND_WORD[k] if ctx.lang == 'zh' else k}" for k in query.kinds]
    return " ".join(p for p in parts if p)


def _label(ctx: Context, hit: Hit) -> str:
    kind = ctx.text(MSG, f"kind_{hit.kind}")
    if hit.kind == "question":
        return f"[{kind} #{hit.number}]"
    if hit.kind == "answer":
        return f"[{ctx.text(MSG, 'answer_of', n=hit.number)}]"
    if hit.kind == "paper":
        return f"[{kind} {hit.ref_id}]《{hit.title[:60]}》"
    if hit.kind == "resource":
        return f"[{kind} {hit.ref_id}] {hit.url}"
    return f"[{kind} {hit.ref_id}]"


def _format(ctx: Context, result: SearchPage, echo: str, args: str) -> str:
    zone = clubtime_zone(ctx.group.timezone or "UTC")
    key = "relaxed" if result.relaxed else "header"
    total = f"{result.total}+" if result.capped else str(result.total)
    lines = [ctx.text(MSG, key, query=echo, total=total)]
    first = (result.page - 1) * result.per_page
    for i, hit in enumerate(result.items, start=first + 1):
        day = hit.created_at.astimezone(zone).strftime("%Y-%m-%d")
        who = f"{hit.member} · {day}" if hit.member else day
        lines.append(f"{i}. {_label(ctx, hit)} — {who}")
        if hit.snippet and hit.snippet != hit.url:
            lines.append(f"   {hit.snippet}")
    if result.page < result.pages:
        footer = ctx.text(
            MSG, "footer_more", page=result.page, pages=result.pages, args=args,
            next=result.page + 1,
        )  # fmt: skip
    else:
        footer = ctx.text(MSG, "footer_last", page=result.page, pages=result.pages)
    lines.append(footer)
    return "\n".join(lines)


@command(
    "search",
    aliases=("搜索", "查找"),
    usage="<关键词> [#标签] [type:类型] [page N]",
    usage_en="<words> [#tag] [type:kind] [page N]",
    help_zh="搜索心得、问题、回答、论文和资源（支持 #标签、type:论文、page 2）",
    help_en="search check-ins, questions, answers, papers and resources (#tag, type:paper, page 2)",
)
async def search_command(ctx: Context) -> Reply:
    """Show one page of results for the query, with a hint for the next page."""
    try:
        parsed = parse_query(ctx.args)
    except QueryError as error:
        raise ctx.fail(MSG, "unknown_type", value=error.value[:30]) from None
    if parsed.empty:
        return _usage(ctx)
    result = search(ctx.session, ctx.group.id, ctx.args, per_page=PER_PAGE)
    args = _args_without_page(ctx, result)
    echo = args if len(args) <= ECHO_CHARS else args[:ECHO_CHARS] + "…"
    if result.total == 0:
        return Reply(ctx.text(MSG, "none", query=echo))
    if not result.items:
        return Reply(ctx.text(MSG, "past_end", query=echo, pages=result.pages, args=args))
    return Reply(_format(ctx, result, echo, args))
