"""Admin views of a digest issue: the numbered preview and the status summary.

Used by the ``/digest`` handler and by the scheduler's preview job (sent to admins before
publishing). Entry numbers are :attr:`digest.model.Digest.entries` indexes, the numbers
``/digest feature N`` and ``/digest drop N`` take; ``/digest undrop N`` takes the number of
the 已移除 list shown under the preview.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Config
from bot.i18n import Messages
from bot.model import Reply
from digest.budget import TARGET_MARKDOWN, fit_markdown, fit_telegram, fit_wechat
from digest.build import build_digest
from digest.model import Digest, entry_code
from digest.publish_parts import html_to_text, issue_url
from digest.publish_report import MSG as PUBLISH_MSG
from digest.publish_report import delivery_status
from storage import digest_overrides
from storage.models import DigestDelivery, DigestIssue, Group

MSG = Messages(
    {
        "head": (
            "📰 周报预览 · 第{n}期（{status}）\n周期：{period}（{tz}）\n"
            "论文 {papers} 篇 · 心得 {members} 人 · 资料 {resources} 条 · 问答 {questions} 个",
            "📰 Digest preview · issue {n} ({status})\nPeriod: {period} ({tz})\n"
            "{papers} papers · notes from {members} members · {resources} resources · "
            "{questions} questions",
        ),
        "featured": ("置顶：{items}", "Featured: {items}"),
        "messages": ("{n} 条", "{n} messages"),
        "edited": (
            "✏️ 已修改（/digest edit 编号 查看原文）：{items}",
            "✏️ Edited (/digest edit <ref> shows the original): {items}",
        ),
        "targets": ("各平台将收到：", "What each platform gets:"),
        "target_telegram": ("Telegram 群", "Telegram group"),
        "target_wechat": ("微信群", "WeChat group"),
        "target_console": ("控制台", "console chat"),
        "target_markdown": ("公众号/Markdown 文章", "WeChat Official Account / Markdown article"),
        "target_line": (
            "· {target}：{count} 条，共 {total} 字（{sizes}）",
            "· {target}: {count} message(s), {total} characters ({sizes})",
        ),
        "target_article": (
            "· {target}：{total} 字（上限 {limit}）",
            "· {target}: {total} characters (limit {limit})",
        ),
        "collapsed": (
            "  ⚠️ 超出长度上限，已折叠为精选：{sections}（其余只列名字，附「全文见阅读原文」）",
            "  ⚠️ Over the length budget; collapsed to highlights: {sections} "
            "(the rest listed by name, with 「全文见阅读原文」)",
        ),
        "still_over": (
            "  ⚠️ 折叠后仍超出上限（{limit}）",
            "  ⚠️ Still over the budget after collapsing ({limit})",
        ),
        "shown_as": (
            "以下是{target}将收到的内容（编号供 /digest 命令使用）：",
            "Below is what the {target} gets (numbers for the /digest commands):",
        ),
        "dropped": (
            "已移除（/digest undrop 编号 恢复，如 undrop C12）：",
            "Dropped (/digest undrop <ref> restores, e.g. undrop C12):",
        ),
        "empty": (
            "本期还没有任何内容（论文、心得、资料、提问）。",
            "Nothing in this issue yet (no papers, notes, resources or questions).",
        ),
        "hint": (
            "管理员：/digest feature 编号 置顶 · drop 编号 移除（〔〕里的编号不会变，如 drop M3；"
            "单条心得 drop C12）· edit 编号 字段 文字 修改（如 edit P3 headline 新标题）· "
            "move 编号 位置 排序 · preface 文字 设置刊首语 · publish 发布（publish now 立即发布本期）",
            "Admins: /digest feature <ref> · drop <ref> (the 〔〕 references never shift, e.g. "
            "drop M3; one check-in: drop C12) · edit <ref> <field> <text> (e.g. edit P3 headline "
            "…) · move <ref> <position> · preface <text> · publish (publish now: at once)",
        ),
        "status_draft": ("未发布", "not published"),
        "status_publishing": ("发布中", "publishing"),
        "status_published": ("已发布", "published"),
        "status_empty": ("无内容，未发布", "empty, not published"),
        "status_head": (
            "📊 周报状态\n本期：第{n}期（{status}）\n周期：{period}（{tz}）\n"
            "论文 {papers} 篇 · 心得 {checkins} 条（{members} 人）· 问答 {questions} 个\n"
            "刊首语：{preface} · 置顶 {featured} 项 · 移除 {dropped} 项",
            "📊 Digest status\nThis issue: {n} ({status})\nPeriod: {period} ({tz})\n"
            "{papers} papers · {checkins} notes ({members} members) · {questions} questions\n"
            "Preface: {preface} · {featured} featured · {dropped} dropped",
        ),
        "preface_custom": ("已设置", "custom"),
        "preface_default": ("默认", "default"),
        "issue_line": (
            "第{n}期（{period}）：{status}",
            "Issue {n} ({period}): {status}",
        ),
        "previous": ("最近几期：", "Recent issues:"),
        "published_at": ("，发布于 {at}", ", published {at}"),
    }
)


def digest_of(session: Session, issue: DigestIssue, config: Config) -> Digest:
    """The issue's digest as it would be published now (admin choices applied)."""
    group = session.get(Group, issue.group_id)
    slug = group.slug if group is not None else None
    return build_digest(session, issue, config, web_url=issue_url(config, issue.number, slug))


def dropped_digest(
    session: Session, issue: DigestIssue, config: Config, *, edited: bool = True
) -> Digest:
    """The digest without the admins' drops (to name the dropped entries); ``edited=False``
    also without the stored edits (the members' originals)."""
    shadow = DigestIssue(
        id=issue.id,
        group_id=issue.group_id,
        number=issue.number,
        period_start=issue.period_start,
        period_end=issue.period_end,
        status=issue.status,
        preface=issue.preface,
        featured=list(issue.featured or []),
        dropped=[],
    )
    return build_digest(session, shadow, config, edited=edited)


def _group_language(session: Session, issue: DigestIssue, config: Config) -> str:
    group = session.get(Group, issue.group_id)
    return config.group_language(group.slug) if group is not None else config.language


def status_label(status: str, lang: str) -> str:
    key = f"status_{status}"
    return MSG.get(key, lang) if key in MSG else status


def target_summary(d: Digest, config: Config, lang: str) -> list[str]:
    """Per target: the parts it will get, their count and sizes, and a warning on collapse."""
    lines = [MSG.get("targets", lang)]
    budget = config.digest.budget
    for fitted, limit in (
        (fit_telegram(d, config), MSG.get("messages", lang, n=budget.telegram_messages)),
        (fit_wechat(d, config), MSG.get("messages", lang, n=budget.wechat_messages)),
        (fit_markdown(d, config), f"{budget.markdown_chars:,}"),
    ):
        target = MSG.get(f"target_{fitted.target}", lang)
        total = f"{sum(fitted.sizes):,}"
        if fitted.target == TARGET_MARKDOWN:
            lines.append(MSG.get("target_article", lang, target=target, total=total, limit=limit))
        else:
            sizes = " / ".join(f"{n:,}" for n in fitted.sizes)
            lines.append(
                MSG.get(
                    "target_line",
                    lang,
                    target=target,
                    count=len(fitted.parts),
                    total=total,
                    sizes=sizes,
                )
            )
        if fitted.collapsed:
            names = d.t["list_sep"].join(d.section_title(s) for s in fitted.collapsed)
            lines.append(MSG.get("collapsed", lang, sections=names))
        if not fitted.fits:
            lines.append(MSG.get("still_over", lang, limit=limit))
    return lines


def preview_replies(
    session: Session, issue: DigestIssue, config: Config, platform: str = "telegram"
) -> list[Reply]:
    """A header (period, counts, featured, dropped, what each target gets, hints) and the
    numbered digest parts as the chat on ``platform`` will get them (WeChat text on WeChat,
    Telegram HTML elsewhere), within that platform's budget."""
    lang = _group_language(session, issue, config)
    d = digest_of(session, issue, config)
    lines = [
        MSG.get(
            "head",
            lang,
            n=issue.number,
            status=status_label(issue.status, lang),
            period=d.period_label,
            tz=d.timezone,
            papers=len(d.papers),
            members=len(d.notes),
            resources=len(d.resources),
            questions=len(d.questions),
        )
    ]
    titles = {e.key: f"{e.index}. {e.title}" for e in d.entries}
    featured = [titles[key] for key in issue.featured or [] if key in titles]
    if featured:
        lines.append(MSG.get("featured", lang, items="；".join(featured)))
    edited: dict[str, list[str]] = {}
    for row in digest_overrides.for_issue(session, issue.group_id, issue.number):
        if row.field != "position":
            edited.setdefault(entry_code(row.entry_key), []).append(row.field)
    if edited:
        items = "；".join(f"{code} {'/'.join(fields)}" for code, fields in edited.items())
        lines.append(MSG.get("edited", lang, items=items))
    if issue.dropped:
        whole = dropped_digest(session, issue, config)
        full = {e.key: f"{whole.section_title(e.section)} · {e.title}" for e in whole.entries}
        for notes in whole.notes:
            for key, text in zip(notes.text_keys, notes.texts, strict=False):
                short = " ".join(text.split())[:24]
                full[key] = f"{whole.section_title('notes')} · {notes.member_name}：{short}"
        lines.append(MSG.get("dropped", lang))
        for i, key in enumerate(issue.dropped, start=1):
            lines.append(f"  {i}. {full.get(key, key)} 〔{entry_code(key)}〕")
    if d.is_empty:
        lines.append(MSG.get("empty", lang))
    if not d.is_empty:
        lines += target_summary(d, config, lang)
    lines.append(MSG.get("hint", lang))
    wechat = platform == "wechat"
    shown = platform if platform in ("wechat", "console") else "telegram"
    target = MSG.get(f"target_{shown}", lang)
    lines.append(MSG.get("shown_as", lang, target=target))
    head = "\n".join(lines)
    replies = [Reply(text=head)]
    if wechat:
        return replies + [Reply(text=p) for p in fit_wechat(d, config, numbered=True).parts]
    for part in fit_telegram(d, config, numbered=True, platform=platform).parts:
        replies.append(Reply(text=html_to_text(part), html=part))
    return replies


def status_text(
    session: Session, issue: DigestIssue, config: Config, recent: list[DigestIssue]
) -> str:
    """The current issue's period and counts, then recent issues with their deliveries."""
    lang = _group_language(session, issue, config)
    d = digest_of(session, issue, config)
    # the check-ins the digest will show (private DM notes and dropped ones are not in it)
    checkins = sum(len(notes.texts) for notes in d.notes)
    custom = bool((issue.preface or "").strip())
    lines = [
        MSG.get(
            "status_head",
            lang,
            n=issue.number,
            status=status_label(issue.status, lang),
            period=d.period_label,
            tz=d.timezone,
            papers=len(d.papers),
            checkins=checkins or 0,
            members=len(d.notes),
            questions=len(d.questions),
            preface=MSG.get("preface_custom" if custom else "preface_default", lang),
            featured=len(issue.featured or []),
            dropped=len(issue.dropped or []),
        )
    ]
    others = [r for r in recent if r.id != issue.id]
    if others:
        lines.append(MSG.get("previous", lang))
    fmt = "%m-%d %H:%M"
    for other in others:
        tz = d.local_start.tzinfo
        period = (
            f"{other.period_start.astimezone(tz).strftime(fmt)} – "
            f"{other.period_end.astimezone(tz).strftime(fmt)}"
        )
        line = MSG.get(
            "issue_line",
            lang,
            n=other.number,
            period=period,
            status=status_label(other.status, lang),
        )
        if other.published_at is not None:
            at = other.published_at.astimezone(tz).strftime(fmt)
            line += MSG.get("published_at", lang, at=at)
        lines.append(line)
        rows = session.scalars(
            select(DigestDelivery)
            .where(DigestDelivery.issue_id == other.id)
            .order_by(DigestDelivery.id)
        ).all()
        for row in rows:
            s = delivery_status(row)
            state_key = f"state_{s.state}"
            text = PUBLISH_MSG.get(
                "line",
                lang,
                chat=f"{s.platform}:{s.chat_id}",
                state=PUBLISH_MSG.get(state_key, lang) if state_key in PUBLISH_MSG else s.state,
                sent=s.parts_sent,
                total=s.parts_total,
            )
            if s.last_error and not s.done:
                text += PUBLISH_MSG.get("error", lang, error=s.last_error[:200])
            lines.append("  " + text)
            if s.doubtful_part is not None:
                lines.append("  " + PUBLISH_MSG.get("doubt", lang, part=s.doubtful_part + 1))
    return "\n".join(lines)
