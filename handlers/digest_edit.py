"""/digest edit and /digest move (编辑 / 移动): admins curate a draft issue's entries in chat.

``/digest edit <ref>`` shows an entry's fields (current text, and the original where edited);
``/digest edit <ref> <field> <text>`` stores an override (the member's original stays);
``/digest edit <ref> <field> -`` (or ``reset`` / 恢复) clears one, ``/digest edit <ref> reset``
all of the entry's. ``/digest move <ref> <N|before <ref>|after <ref>|first|last>`` pins the
entry's place in its section for this issue. ``<ref>`` is the stable reference the preview
shows (P3, Q2, R1, C12; M5 for move). Fields per kind: :mod:`digest.overrides`.
:func:`edit_field` is shared with ``/paper edit`` (the member who shared a paper).
"""

from __future__ import annotations

import unicodedata

from bot.context import Context
from bot.i18n import Messages
from bot.model import Reply
from digest.model import Digest, entry_code, key_of_code
from digest.overrides import FIELDS, LIMITS, field_of
from digest.preview import digest_of, dropped_digest
from storage import digest_overrides
from storage.models import DigestIssue

MSG = Messages(
    {
        "edit_usage": (
            "用法：/digest edit <编号> [字段 新文字]，编号见 /digest preview（如 P3、Q2、R1、C12）。"
            "例如 /digest edit P3 headline 注意力就是一切；/digest edit P3 headline - 恢复原文",
            "Usage: /digest edit <ref> [field new text], refs as in /digest preview (P3, Q2, "
            "R1, C12). E.g. /digest edit P3 headline Attention is all you need; "
            "/digest edit P3 headline - restores the original",
        ),
        "move_usage": (
            "用法：/digest move <编号> <位置|before 编号|after 编号|first|last>，"
            "例如 /digest move P3 1、/digest move Q4 before Q2",
            "Usage: /digest move <ref> <position|before <ref>|after <ref>|first|last>, "
            "e.g. /digest move P3 1 or /digest move Q4 before Q2",
        ),
        "no_ref": (
            "本期没有 {code} 这一项。可用的编号：{refs}",
            "There is no {code} in this issue. References you can use: {refs}",
        ),
        "no_refs": ("本期还没有可编辑的条目。", "This issue has no entries to edit yet."),
        "member_edit": (
            "{code} 是一位成员的全部心得，不能整体编辑；请编辑单条心得（C 编号，见 /digest preview）。",
            "{code} is a member's whole block of notes; edit one check-in instead (its C "
            "reference, see /digest preview).",
        ),
        "checkin_move": (
            "单条心得不能移动；请移动该成员（M 编号）。",
            "A single check-in cannot be moved; move the member (their M reference).",
        ),
        "unknown_field": (
            "{code} 没有「{word}」这个字段。可改的字段：{fields}",
            "{code} has no field “{word}”. Fields you can edit: {fields}",
        ),
        "need_text": (
            "请在字段后写新文字，例如 /digest edit {code} {field} 新文字；"
            "恢复原文：/digest edit {code} {field} -",
            "Write the new text after the field, e.g. /digest edit {code} {field} new text; "
            "to restore the original: /digest edit {code} {field} -",
        ),
        "too_long": (
            "{field}太长了（{n} 字，上限 {limit} 字），没有修改。",
            "That {field} is too long ({n} characters, limit {limit}); nothing was changed.",
        ),
        "set": (
            "✏️ 已修改 {code} 的{field}：{text}\n（成员原文保留；恢复：/digest edit {code} {word} -）",
            "✏️ {code} {field} set to: {text}\n(the member's original is kept; "
            "to restore it: /digest edit {code} {word} -)",
        ),
        "same": (
            "与原文相同：{code} 的{field}用回原文。",
            "Same as the original: {code} shows its original {field}.",
        ),
        "cleared": ("已恢复 {code} 的{field}原文。", "{code} shows its original {field} again."),
        "cleared_all": (
            "已恢复 {code} 的原文（清除 {n} 项修改）。",
            "{code} shows its original text again ({n} edit(s) cleared).",
        ),
        "nothing_to_clear": ("{code} 没有修改过{field}。", "{code} has no edited {field}."),
        "show_head": ("✏️ {code} 当前内容：", "✏️ {code} now reads:"),
        "show_line": ("{name}（{field}）：{value}", "{name} ({field}): {value}"),
        "edited_mark": ("  ✏️ 已修改，原文：{value}", "  ✏️ edited; original: {value}"),
        "empty_value": ("（空）", "(empty)"),
        "show_hint": (
            "修改：/digest edit {code} <字段> <新文字> · 恢复原文：/digest edit {code} <字段> -",
            "Edit: /digest edit {code} <field> <new text> · restore: /digest edit {code} <field> -",
        ),
        "f_headline": ("标题", "headline"),
        "f_title": ("标题", "title"),
        "f_paper_title": ("论文名称", "paper title"),
        "f_summary": ("摘要", "summary"),
        "f_one-liner": ("一句话概括", "one-liner"),
        "f_text": ("正文", "text"),
        "bad_position": (
            "位置要在 1 到 {count} 之间（{section}共 {count} 项）。",
            "The position must be between 1 and {count} ({section} has {count} entries).",
        ),
        "other_section": (
            "{code} 和 {other} 不在同一栏目，只能在本栏目内移动。",
            "{code} and {other} are in different sections; entries move within their section.",
        ),
        "dropped_move": (
            "{code} 已从本期移除，先 /digest undrop {code} 再移动。",
            "{code} is dropped from this issue; /digest undrop {code} first.",
        ),
        "moved": ("↕️ 已移动 {code}，{section}现在的顺序：", "↕️ Moved {code}; {section} now reads:"),
    }
)

RESET_WORDS = frozenset({"-", "－", "—", "reset", "clear", "清除", "恢复", "重置", "原文"})
BEFORE_WORDS = frozenset({"before", "前", "之前", "前面"})
AFTER_WORDS = frozenset({"after", "后", "之后", "后面"})
FIRST_WORDS = frozenset({"first", "top", "最前", "第一", "置顶"})
LAST_WORDS = frozenset({"last", "bottom", "最后", "末尾"})
#: Fields kept on one line (a headline or title with a line break would break layouts).
ONE_LINE = frozenset({"headline", "title", "one-liner"})
_MAX_REFS_LISTED = 30


def _words(text: str) -> list[str]:
    """``text`` split on any whitespace (full-width spaces included), NFKC-normalised words."""
    return [unicodedata.normalize("NFKC", w) for w in text.split()]


def field_name(ctx: Context, kind: str, name: str) -> str:
    """A field's name in the reader's language (a paper's ``title`` is its 论文名称)."""
    key = "f_paper_title" if (kind, name) == ("paper", "title") else f"f_{name}"
    return ctx.text(MSG, key)


def values_of(d: Digest, key: str) -> dict[str, str] | None:
    """The shown text of every editable field of entry ``key`` in ``d`` (None: not in it)."""
    for p in d.papers:
        if p.key == key:
            return {
                "headline": p.title,
                "title": p.paper_name or "",
                "summary": p.summary,
                "one-liner": p.one_liner,
            }
    for q in d.questions:
        if q.key == key:
            return {"title": q.title}
    for r in d.resources:
        if r.key == key:
            return {"title": r.title, "summary": r.text}
    for notes in d.notes:
        for k, text in zip(notes.text_keys, notes.texts, strict=False):
            if k == key:
                return {"text": text}
    return None


def _all_refs(d: Digest, kinds: tuple[str, ...]) -> list[str]:
    keys = [e.key for e in d.entries]
    keys += [k for n in d.notes for k in n.text_keys]
    return [k for k in keys if k.partition(":")[0] in kinds]


def _resolve(ctx: Context, issue: DigestIssue, word: str, kinds: tuple[str, ...]) -> str:
    """The key of the entry ``word`` names (a stable reference, or a preview number)."""
    whole = dropped_digest(ctx.session, issue, ctx.config)
    key = key_of_code(word)
    if key is None and word.isascii() and word.isdigit() and len(word) < 7:
        entry = digest_of(ctx.session, issue, ctx.config).entry(int(word))
        key = entry.key if entry is not None else None
    known = _all_refs(whole, ("paper", "member", "resource", "question", "checkin"))
    if key is None or key not in known:
        refs = [entry_code(k) for k in _all_refs(whole, kinds)]
        if not refs:
            raise ctx.fail(MSG, "no_refs")
        listed = "、".join(refs[:_MAX_REFS_LISTED]) + ("…" if len(refs) > _MAX_REFS_LISTED else "")
        code = entry_code(key) if key else word[:20]
        raise ctx.fail(MSG, "no_ref", code=code, refs=listed)
    return key


def _clean(name: str, text: str) -> str:
    text = text.strip()
    if name in ONE_LINE:
        return " ".join(text.split())
    return "\n".join(line.rstrip() for line in text.splitlines()).strip()


def _short(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def show_entry(ctx: Context, issue: DigestIssue, key: str) -> Reply:
    """Every editable field of ``key``: its current text, and the original where edited."""
    kind, code = key.partition(":")[0], entry_code(key)
    now = values_of(dropped_digest(ctx.session, issue, ctx.config), key) or {}
    original = values_of(dropped_digest(ctx.session, issue, ctx.config, edited=False), key) or {}
    empty = ctx.text(MSG, "empty_value")
    lines = [ctx.text(MSG, "show_head", code=code)]
    for name in FIELDS[kind]:
        value = now.get(name, "")
        label = field_name(ctx, kind, name)
        lines.append(
            ctx.text(MSG, "show_line", name=label, field=name, value=_short(value) or empty)
        )
        if value != original.get(name, ""):
            lines.append(
                ctx.text(MSG, "edited_mark", value=_short(original.get(name, "")) or empty)
            )
    lines.append(ctx.text(MSG, "show_hint", code=code))
    return Reply("\n".join(lines))


def edit_field(
    ctx: Context,
    issue: DigestIssue,
    key: str,
    words: list[str],
    allowed: tuple[str, ...] | None = None,
) -> Reply:
    """Set or clear one field of ``key`` from ``words`` = [field, text...] (already split
    once); ``allowed`` narrows the fields (``/paper edit``). Shared by /digest and /paper."""
    kind, code = key.partition(":")[0], entry_code(key)
    fields = allowed or FIELDS[kind]
    name = field_of(kind, words[0])
    if name is None or name not in fields:
        listed = (", " if ctx.lang == "en" else "、").join(
            f"{f} ({field_name(ctx, kind, f)})"
            if ctx.lang == "en"
            else f"{f}（{field_name(ctx, kind, f)}）"
            for f in fields
        )
        raise ctx.fail(MSG, "unknown_field", code=code, word=words[0][:20], fields=listed)
    label = field_name(ctx, kind, name)
    text = words[1].strip() if len(words) > 1 else ""
    if not text:
        raise ctx.fail(MSG, "need_text", code=code, field=words[0])
    gid = ctx.group.id
    if unicodedata.normalize("NFKC", text).lower() in RESET_WORDS:
        if not digest_overrides.clear(ctx.session, gid, key, name):
            raise ctx.fail(MSG, "nothing_to_clear", code=code, field=label)
        return Reply(ctx.text(MSG, "cleared", code=code, field=label))
    text = _clean(name, text)
    if len(text) > LIMITS[name]:
        raise ctx.fail(MSG, "too_long", field=label, n=len(text), limit=LIMITS[name])
    original = values_of(dropped_digest(ctx.session, issue, ctx.config, edited=False), key) or {}
    if text == original.get(name):
        digest_overrides.clear(ctx.session, gid, key, name)
        return Reply(ctx.text(MSG, "same", code=code, field=label))
    by = ctx.member.display_name or ctx.incoming.sender.qualified_id
    digest_overrides.set_value(ctx.session, gid, key, name, text, by=by, now=ctx.now)
    return Reply(ctx.text(MSG, "set", code=code, field=label, text=_short(text), word=name))


def edit_entry(ctx: Context, issue: DigestIssue, rest: str) -> Reply:
    """``/digest edit <ref> [field text | field - | reset]``."""
    head = rest.split(None, 2)
    if not head:
        raise ctx.fail(MSG, "edit_usage")
    kinds = tuple(FIELDS)
    key = _resolve(ctx, issue, unicodedata.normalize("NFKC", head[0]), kinds)
    kind, code = key.partition(":")[0], entry_code(key)
    if kind not in FIELDS:
        raise ctx.fail(MSG, "member_edit", code=code)
    if len(head) == 1:
        return show_entry(ctx, issue, key)
    if len(head) == 2 and unicodedata.normalize("NFKC", head[1]).lower() in RESET_WORDS:
        n = digest_overrides.clear(ctx.session, ctx.group.id, key)
        return Reply(ctx.text(MSG, "cleared_all", code=code, n=n))
    return edit_field(ctx, issue, key, [unicodedata.normalize("NFKC", head[1]), *head[2:]])


def _section_keys(d: Digest, section: str) -> list[str]:
    return [e.key for e in d.entries if e.section == section]


def move_entry(ctx: Context, issue: DigestIssue, rest: str) -> Reply:
    """``/digest move <ref> <N|before ref|after ref|first|last>``: pin the section's order."""
    words = [w.lower() for w in _words(rest)]
    if len(words) < 2:
        raise ctx.fail(MSG, "move_usage")
    kinds = ("paper", "member", "resource", "question")
    key = _resolve(ctx, issue, words[0], (*kinds, "checkin"))
    code = entry_code(key)
    if key.startswith("checkin:"):
        raise ctx.fail(MSG, "checkin_move")
    d = digest_of(ctx.session, issue, ctx.config)
    section = next((e.section for e in d.entries if e.key == key), None)
    if section is None:
        raise ctx.fail(MSG, "dropped_move", code=code)
    order = _section_keys(d, section)
    title = d.section_title(section)
    order.remove(key)
    where, target = words[1], words[2:]
    if where in FIRST_WORDS and not target:
        index = 0
    elif where in LAST_WORDS and not target:
        index = len(order)
    elif where in BEFORE_WORDS | AFTER_WORDS and len(target) == 1:
        other = _resolve(ctx, issue, target[0], kinds)
        if other == key:
            raise ctx.fail(MSG, "move_usage")
        if other not in order:
            raise ctx.fail(MSG, "other_section", code=code, other=entry_code(other))
        index = order.index(other) + (1 if where in AFTER_WORDS else 0)
    elif where.isascii() and where.isdigit() and not target and len(where) < 7:
        if not 1 <= int(where) <= len(order) + 1:
            raise ctx.fail(MSG, "bad_position", count=len(order) + 1, section=title)
        index = int(where) - 1
    else:
        raise ctx.fail(MSG, "move_usage")
    order.insert(index, key)
    by = ctx.member.display_name or ctx.incoming.sender.qualified_id
    digest_overrides.set_positions(
        ctx.session, ctx.group.id, issue.number, order, by=by, now=ctx.now
    )
    after = digest_of(ctx.session, issue, ctx.config)
    lines = [ctx.text(MSG, "moved", code=code, section=title)]
    rows = [e for e in after.entries if e.section == section]
    lines += [f"{i}. {_short(e.title, 40)} 〔{e.code}〕" for i, e in enumerate(rows, start=1)]
    return Reply("\n".join(lines))
