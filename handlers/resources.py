"""/share (分享, #分享): a learning resource — URL + #tags + a few words about it."""

from __future__ import annotations

from bot.context import Context, UserError
from bot.i18n import COMMON, Messages
from bot.model import Reply
from bot.parsing.arguments import parse_share
from bot.parsing.errors import ParseError
from bot.parsing.links import arxiv_id, url_key
from bot.registry import command
from handlers import privacy
from storage import content

MAX_TEXT = 2000

MSG = Messages(
    {
        "usage": ("/share <链接> #标签 … 简介", "/share <url> #tag … description"),
        "usage_hint": (
            "例如：/share https://zhuanlan.zhihu.com/p/123 #NLP #BERT BERT 原理讲解",
            "e.g. /share https://example.com/bert #NLP #BERT a clear BERT walkthrough",
        ),
        "saved": ("🔗 已收藏资源 #{id}：{url}", "🔗 Resource #{id} saved: {url}"),
        "tags": ("标签：{tags}", "Tags: {tags}"),
        "no_tags": (
            "标签：无（加上 #标签 更方便检索，如 #NLP #目标检测）",
            "Tags: none (add #tags such as #NLP to make it easier to find)",
        ),
        "reshared": (
            "（这个链接群里之前分享过{earlier}，本次照样收藏，不再加分）",
            "(this link was shared in the group before{earlier}; saved again without points)",
        ),
        "too_long": (
            "简介太长了（{length} 字，上限 {limit} 字）。",
            "The description is too long ({length} characters, limit {limit}).",
        ),
    }
)


@command(
    "share",
    aliases=("分享",),
    hashtags=("#分享", "#资源", "#资料", "#share", "#resource"),
    usage="<链接> #标签 … 简介",
    usage_en="<url> #tag … description",
    help_zh="分享学习资料：链接 + #标签 + 简介",
    help_en="share a learning resource: URL + #tags + description",
    content=True,  # a member's post: never refused by the flood limit
)
async def share(ctx: Context) -> Reply:
    """Store a resource with its tags and description."""
    if not ctx.args.strip():
        usage = COMMON.get("usage", ctx.lang, usage=ctx.text(MSG, "usage"))
        return Reply(f"{usage}\n{ctx.text(MSG, 'usage_hint')}")
    try:
        url, tags, text = parse_share(ctx.args)
    except ParseError as error:
        raise UserError(error.message(ctx.lang)) from None
    if len(text) > MAX_TEXT:
        raise ctx.fail(MSG, "too_long", length=len(text), limit=MAX_TEXT)
    key = url_key(url)
    paper = arxiv_id(url)
    paper_key = f"arxiv:{paper}" if paper else key
    earlier = content.earlier_share(ctx.session, ctx.group.id, url, key, paper_key, ctx.member.id)
    resource = content.add_resource(
        ctx.session,
        ctx.group.id,
        ctx.member.id,
        url=url,
        url_key=key,
        text=text,
        tags=tags,
        now=ctx.now,
        scored=earlier is None,
        source=ctx.source,
        private=privacy.keeps_private(ctx),
    )
    lines = [ctx.text(MSG, "saved", id=resource.id, url=url)]
    if earlier is not None:
        lines.append(ctx.text(MSG, "reshared", earlier=f" #{earlier}" if earlier else ""))
    if tags:
        lines.append(ctx.text(MSG, "tags", tags=" ".join(f"#{t}" for t in tags)))
    else:
        lines.append(ctx.text(MSG, "no_tags"))
    if text:
        lines.append(text)
    if ctx.incoming.chat.is_private:  # private or public: the member should know which
        lines.append(privacy.entry_note(ctx))
    return Reply("\n".join(lines))
