"""/paper edit (论文 编辑): the member who shared a paper edits how the digest shows it.

``/paper edit <n> headline|summary|one-liner <text>`` (``-`` restores the original; without a
field it shows the current text). ``n`` is the paper's number from /paper and /papers. Only
the paper's sharer may edit it, and only until its issue is published; the edit is stored as
an override (:mod:`digest.overrides`), the paper as shared stays, and it is audit-logged.
"""

from __future__ import annotations

import unicodedata

from bot.context import Context
from bot.i18n import Messages
from bot.model import Reply
from digest.periods import issue_containing
from handlers.digest_edit import edit_field, show_entry
from storage import moderation
from storage.models import Paper

#: What the sharer may change (the real title is the admins' or the metadata's).
MEMBER_FIELDS = ("headline", "summary", "one-liner")
EDIT_WORDS = frozenset({"edit", "编辑", "修改"})

MSG = Messages(
    {
        "usage": (
            "用法：/paper edit <论文编号> headline|summary|one-liner <新文字>"
            "（编号见 /papers；只能改自己分享的论文；- 恢复原文）",
            "Usage: /paper edit <paper number> headline|summary|one-liner <new text> "
            "(numbers in /papers; only papers you shared; - restores the original)",
        ),
        "no_paper": (
            "没有编号为 {n} 的论文（见 /papers）。",
            "There is no paper {n} (see /papers).",
        ),
        "not_yours": (
            "只能修改自己分享的论文；#{n} 由 {name} 分享。需要改动请联系管理员（/digest edit）。",
            "You can only edit papers you shared; #{n} was shared by {name}. Ask an admin "
            "(/digest edit).",
        ),
        "published": (
            "#{n} 所在的第{issue}期周报已经发布，不能再修改。",
            "Issue {issue}, which has paper #{n}, is already published; it can't be changed.",
        ),
    }
)


def edit_paper(ctx: Context, rest: str) -> Reply:
    """Apply ``/paper edit`` for the paper's sharer."""
    words = rest.split(None, 2)
    if not words:
        raise ctx.fail(MSG, "usage")
    number = unicodedata.normalize("NFKC", words[0]).lstrip("#")
    if not number.isascii() or not number.isdigit() or len(number) > 9:
        raise ctx.fail(MSG, "usage")
    paper = ctx.session.get(Paper, int(number))
    if paper is None or paper.group_id != ctx.group.id:
        raise ctx.fail(MSG, "no_paper", n=int(number))
    if paper.member_id != ctx.member.id:
        raise ctx.fail(MSG, "not_yours", n=paper.id, name=paper.member.display_name)
    issue = issue_containing(ctx.session, ctx.group, paper.created_at)
    if issue is None or issue.status != "draft":
        raise ctx.fail(MSG, "published", n=paper.id, issue=issue.number if issue else "?")
    key = f"paper:{paper.id}"
    if len(words) == 1:
        return show_entry(ctx, issue, key)
    field = unicodedata.normalize("NFKC", words[1])
    reply = edit_field(ctx, issue, key, [field, *words[2:]], allowed=MEMBER_FIELDS)
    moderation.record_action(  # members' edits are logged like admins' (/audit)
        ctx.session,
        ctx.group.id,
        ctx.member.display_name,
        ctx.incoming.sender.qualified_id,
        "paper",
        f"edit {rest}",
        ctx.now,
    )
    return reply
