"""/digest (周报): admins preview, steer and publish the weekly digest.

``preview`` · ``publish`` / ``publish now`` · ``preface <text>`` · ``feature N`` · ``drop N`` ·
``undrop N`` · ``edit <ref> …`` / ``move <ref> …`` (:mod:`handlers.digest_edit`) · ``status`` ·
``mp [N] [retry]`` (the 公众号 draft). N is the number shown in the preview. Changes apply to
the current period's issue while it is a draft; publishing runs after this message's unit of
work commits.
"""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import select

from bot.clubtime import PeriodError, zone
from bot.context import Context, UserError
from bot.i18n import Messages
from bot.model import Reply
from bot.registry import command
from digest.model import entry_code, key_of_code
from digest.periods import ensure_issue, issue_ending_at_or_before
from digest.preview import digest_of, dropped_digest, preview_replies, status_text
from digest.publish_report import published_just_before
from digest.service import close_early
from handlers.digest_edit import edit_entry, move_entry
from storage import moderation, outbox
from storage.models import DigestIssue

MAX_PREFACE = 2000

MSG = Messages(
    {
        "withdrawn_title": (
            "↩️ 本期成员本人撤回了 {n} 条：",
            "↩️ Withdrawn by their authors this period ({n}):",
        ),
        "trash_title": ("🗑️ 本期管理员删除了 {n} 条：", "🗑️ Deleted by admins this period ({n}):"),
        "trash_paper": ("论文", "paper"),
        "trash_resource": ("资源", "resource"),
        "trash_question": ("问题", "question"),
        "trash_answer": ("回答", "answer"),
        "usage": (
            "用法：/digest preview|publish [now]|preface <文字>|feature N|drop N|undrop N|"
            "edit <编号> [字段 文字]|move <编号> <位置>|status",
            "Usage: /digest preview|publish [now]|preface <text>|feature N|drop N|undrop N|"
            "edit <ref> [field text]|move <ref> <position>|status",
        ),
        "preface_usage": (
            "用法：/digest preface <刊首语文字>（不能为空）",
            "Usage: /digest preface <text> (it cannot be empty)",
        ),
        "preface_long": (
            "刊首语太长了（{n} 字，上限 {limit} 字）。",
            "The preface is too long ({n} characters, limit {limit}).",
        ),
        "preface_set": ("刊首语已更新（第{n}期）✅", "Preface set for issue {n} ✅"),
        "n_usage": (
            "用法：/digest {sub} N（N 是预览里的编号，例如 /digest {sub} 2）",
            "Usage: /digest {sub} N (N is the number in the preview, e.g. /digest {sub} 2)",
        ),
        "n_range": (
            "没有编号 {n}：本期预览共有 {count} 项，请先 /digest preview 看编号。",
            "There is no entry {n}: this preview has {count} entries; see /digest preview.",
        ),
        "undrop_range": (
            "没有编号 {n}：已移除列表共有 {count} 项（见 /digest preview）。",
            "There is no entry {n}: the dropped list has {count} entries (see /digest preview).",
        ),
        "queue": (
            "发送队列（{platform}）：{count} 条待发，最早的已等 {wait} 秒"
            "（平台限速时排队，见 docs/sending.md）",
            "Send queue ({platform}): {count} waiting, the oldest for {wait} s"
            " (held back by the platform's limits, see docs/sending.md)",
        ),
        "featured": ("已置顶：{title}", "Featured: {title}"),
        "unfeatured": ("已取消置顶：{title}", "No longer featured: {title}"),
        "dropped": (
            "已从本期移除：{title}（/digest undrop 恢复）",
            "Left out of this issue: {title} (/digest undrop restores it)",
        ),
        "undropped": ("已恢复：{title}", "Restored: {title}"),
        "no_ref": (
            "没有 {code} 这一项（编号见 /digest preview，例如 P2、M3、Q5、C12）。",
            "There is no entry {code} in this issue (see /digest preview, e.g. P2, M3, Q5, C12).",
        ),
        "not_dropped": ("{code} 没有被移除。", "{code} is not dropped."),
        "checkin_feature": (
            "单条心得不能置顶，请置顶该成员（M 编号）。",
            "A single check-in cannot be featured; feature the member (their M reference).",
        ),
        "frozen": (
            "第{n}期已经开始发布，不能再修改。",
            "Issue {n} is already being published; it can no longer be changed.",
        ),
        "nothing_closed": (
            "没有已结束、待发布的周报。本期（第{n}期）到 {end} 结束；"
            "要立即发布本期，请发送 /digest publish now",
            "No finished issue is waiting. This issue ({n}) ends {end}; "
            "send /digest publish now to publish it at once.",
        ),
        "empty": (
            "第{n}期还没有任何内容（论文、心得、资料、提问），不发布。",
            "Issue {n} has nothing in it yet (no papers, notes, resources or questions); not published.",
        ),
        "unavailable": ("发布功能未启用。", "Publishing is not available."),
        "mp_usage": (
            "用法：/digest mp [期数] [retry]：把已发布的周报存入公众号草稿箱（默认最新一期）",
            "Usage: /digest mp [issue number] [retry]: put a published digest in the 公众号 "
            "drafts (default: the latest)",
        ),
        "publishing": ("正在发布第{n}期…", "Publishing issue {n}…"),
    }
)

SUBCOMMANDS = {
    "preview": "preview",
    "预览": "preview",
    "publish": "publish",
    "发布": "publish",
    "preface": "preface",
    "刊首语": "preface",
    "feature": "feature",
    "置顶": "feature",
    "drop": "drop",
    "移除": "drop",
    "undrop": "undrop",
    "恢复": "undrop",
    "status": "status",
    "状态": "status",
    "mp": "mp",
    "公众号": "mp",
    "edit": "edit",
    "编辑": "edit",
    "修改": "edit",
    "move": "move",
    "移动": "move",
    "排序": "move",
}


def _current(ctx: Context) -> DigestIssue:
    return ensure_issue(ctx.session, ctx.group, ctx.now, ctx.config.digest.cron)


def _draft(ctx: Context) -> DigestIssue:
    issue = _current(ctx)
    if issue.status != "draft":
        raise ctx.fail(MSG, "frozen", n=issue.number)
    return issue


def _number(ctx: Context, sub: str, rest: str) -> int:
    text = rest.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 6:
        raise ctx.fail(MSG, "n_usage", sub=sub)
    return int(text)


def _preface(ctx: Context, rest: str) -> Reply:
    text = rest.strip()
    if not text:
        raise ctx.fail(MSG, "preface_usage")
    if len(text) > MAX_PREFACE:
        raise ctx.fail(MSG, "preface_long", n=len(text), limit=MAX_PREFACE)
    issue = _draft(ctx)
    issue.preface = text
    return Reply(ctx.text(MSG, "preface_set", n=issue.number))


def _checkin_titles(ctx: Context, issue: DigestIssue) -> dict[str, str]:
    """``checkin:<id>`` -> 「成员：first words」 for every check-in of the issue (drops ignored)."""
    titles: dict[str, str] = {}
    for notes in dropped_digest(ctx.session, issue, ctx.config).notes:
        for key, text in zip(notes.text_keys, notes.texts, strict=False):
            short = " ".join(text.split())
            titles[key] = f"{notes.member_name}：{short[:24]}{'…' if len(short) > 24 else ''}"
    return titles


def _reference(ctx: Context, issue: DigestIssue, sub: str, rest: str) -> tuple[str, str]:
    """(key, title) of the entry ``rest`` names: a stable reference (P12, C45) or a preview
    number."""
    text = rest.strip()
    key = key_of_code(text)
    if key is None:
        n = _number(ctx, sub, text)
        entries = digest_of(ctx.session, issue, ctx.config).entries
        if not 1 <= n <= len(entries):
            raise ctx.fail(MSG, "n_range", n=n, count=len(entries))
        return entries[n - 1].key, entries[n - 1].title
    if key.startswith("checkin:"):
        titles = _checkin_titles(ctx, issue)
    else:
        titles = {e.key: e.title for e in dropped_digest(ctx.session, issue, ctx.config).entries}
    if key not in titles:
        raise ctx.fail(MSG, "no_ref", code=entry_code(key))
    return key, titles[key]


def _feature_or_drop(ctx: Context, sub: str, rest: str) -> Reply:
    issue = _draft(ctx)
    key, title = _reference(ctx, issue, sub, rest)
    if sub == "drop":
        if key not in (issue.dropped or []):
            issue.dropped = [*(issue.dropped or []), key]
        issue.featured = [k for k in issue.featured or [] if k != key]
        return Reply(ctx.text(MSG, "dropped", title=title))
    if key.startswith("checkin:"):
        raise ctx.fail(MSG, "checkin_feature")
    featured = list(issue.featured or [])
    if key in featured:
        issue.featured = [k for k in featured if k != key]
        return Reply(ctx.text(MSG, "unfeatured", title=title))
    issue.featured = [*featured, key]
    return Reply(ctx.text(MSG, "featured", title=title))


def _undrop(ctx: Context, rest: str) -> Reply:
    issue = _draft(ctx)
    dropped = list(issue.dropped or [])
    key = key_of_code(rest)
    if key is None:
        n = _number(ctx, "undrop", rest)
        if not 1 <= n <= len(dropped):
            raise ctx.fail(MSG, "undrop_range", n=n, count=len(dropped))
        key = dropped[n - 1]
    elif key not in dropped:
        raise ctx.fail(MSG, "not_dropped", code=entry_code(key))
    issue.dropped = [k for k in dropped if k != key]
    titles = {e.key: e.title for e in dropped_digest(ctx.session, issue, ctx.config).entries}
    titles.update(_checkin_titles(ctx, issue))
    return Reply(ctx.text(MSG, "undropped", title=titles.get(key, key)))


def _closed(ctx: Context) -> DigestIssue | None:
    """The latest ended, unpublished issue (a group's very first week is never invented)."""
    has_issues = ctx.session.scalar(
        select(DigestIssue.id).where(DigestIssue.group_id == ctx.group.id).limit(1)
    )
    if has_issues is None:
        return None
    try:
        return issue_ending_at_or_before(ctx.session, ctx.group, ctx.now, ctx.config.digest.cron)
    except PeriodError:
        return None


def _publish(ctx: Context, rest: str) -> Reply | None:
    publish = ctx.services.publish_digest
    if publish is None:
        raise ctx.fail(MSG, "unavailable")
    now_wanted = rest.strip().lower() in ("now", "立即", "现在")
    if rest.strip() and not now_wanted:
        raise ctx.fail(MSG, "usage")
    closed = _closed(ctx)
    if closed is not None and closed.status == "draft":
        if digest_of(ctx.session, closed, ctx.config).is_empty:
            closed = None  # an empty past week: nothing to publish there
    if closed is not None and not now_wanted:
        issue = closed
    else:
        issue = _current(ctx)
        if not now_wanted:
            d = digest_of(ctx.session, issue, ctx.config)
            ends = d.local_end.strftime("%Y-%m-%d %H:%M")
            return Reply(ctx.text(MSG, "nothing_closed", n=issue.number, end=ends))
        if issue.status == "draft":
            if digest_of(ctx.session, issue, ctx.config).is_empty:
                # another admin's (or process's) run may have closed it a moment ago
                elsewhere = published_just_before(ctx.session, issue, ctx.now, ctx.lang)
                if elsewhere is not None:
                    raise UserError(f"{elsewhere}\n{ctx.text(MSG, 'empty', n=issue.number)}")
                raise ctx.fail(MSG, "empty", n=issue.number)
            close_early(ctx.session, issue, ctx.now)  # the next issue starts now
    slug, number = ctx.group.slug, issue.number

    async def run() -> Reply:
        return Reply(await publish(slug, number))

    ctx.after_commit(run)
    return None


def _mp_draft(ctx: Context, rest: str) -> None:
    """``/digest mp [N] [retry]``: the issue's 公众号 draft, after this message commits."""
    push = ctx.services.push_mp_draft
    if push is None:
        raise ctx.fail(MSG, "unavailable")
    number, force = None, False
    for word in rest.split():
        if word.isdigit() and number is None:
            number = int(word)
        elif word.lower() in ("retry", "force", "重试"):
            force = True
        else:
            raise ctx.fail(MSG, "mp_usage")

    async def run() -> Reply:
        return Reply(await push(number, force=force))

    ctx.after_commit(run)


@command(
    "digest",
    aliases=("周报",),
    usage="preview|publish [now]|preface <刊首语>|feature N|drop N|undrop N|edit <编号> [字段 文字]"
    "|move <编号> <位置>|status|mp [N] [retry]",
    usage_en="preview|publish [now]|preface <text>|feature N|drop N|undrop N|edit <ref> [field "
    "text]|move <ref> <position>|status|mp [N] [retry]",
    help_zh="周报：预览、设置刊首语、置顶/移除/编辑/排序条目、发布、查看状态",
    help_en="weekly digest: preview, preface, feature/drop/edit/move entries, publish, status",
    admin=True,
)
async def digest_admin(ctx: Context) -> Reply | list[Reply] | None:
    """Dispatch the /digest subcommands (admins only)."""
    parts = ctx.args.split(None, 1)
    sub, rest = (parts[0], parts[1] if len(parts) > 1 else "") if parts else ("", "")
    name = SUBCOMMANDS.get(sub.lower())
    if name is None:
        raise ctx.fail(MSG, "usage")
    if name == "preview":
        platform = ctx.incoming.chat.platform
        return preview_replies(ctx.session, _current(ctx), ctx.config, platform)
    if name == "status":
        current = _current(ctx)
        recent = list(
            ctx.session.scalars(
                select(DigestIssue)
                .where(DigestIssue.group_id == ctx.group.id)
                .order_by(DigestIssue.number.desc())
                .limit(4)
            )
        )
        text = status_text(ctx.session, current, ctx.config, recent)
        lines = [text, *_trash_lines(ctx, current), *_send_queue_lines(ctx)]
        return Reply("\n".join(lines))
    if name == "preface":
        return _preface(ctx, rest)
    if name == "publish":
        return _publish(ctx, rest)
    if name == "mp":
        _mp_draft(ctx, rest)
        return None
    if name == "undrop":
        return _undrop(ctx, rest)
    if name == "edit":
        return edit_entry(ctx, _draft(ctx), rest)
    if name == "move":
        return move_entry(ctx, _draft(ctx), rest)
    return _feature_or_drop(ctx, name, rest)


def _trash_lines(ctx: Context, issue: DigestIssue) -> list[str]:
    """What admins deleted during the issue's period (/delete): kind, label, who, when."""
    items = moderation.trashed_between(
        ctx.session, ctx.group.id, issue.period_start, max(issue.period_end, ctx.now)
    )
    if not items:
        return []
    tz = zone(ctx.group.timezone)
    separator = ", " if ctx.lang == "en" else "，"
    lines: list[str] = []
    deleted = [item for item in items if not moderation.withdrawn(item)]
    withdrawn = [item for item in items if moderation.withdrawn(item)]
    for title, group in (("trash_title", deleted), ("withdrawn_title", withdrawn)):
        if group:
            lines.append(ctx.text(MSG, title, n=len(group)))
        for item in group:
            when = item.deleted_at.astimezone(tz).strftime("%m-%d %H:%M")
            kind = ctx.text(MSG, f"trash_{item.kind}")
            lines.append(f"· {kind} {item.label} — {item.deleted_by}{separator}{when}")
    return lines


def _send_queue_lines(ctx: Context) -> list[str]:
    """One line per platform whose replies wait in the outbox (none when nothing waits)."""
    lines = []
    for platform, count, oldest in outbox.backlog_by_platform(ctx.session):
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        wait = max(0, int((ctx.now - oldest).total_seconds())) if oldest is not None else 0
        lines.append(ctx.text(MSG, "queue", platform=platform, count=count, wait=wait))
    return lines
