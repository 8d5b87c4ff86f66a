"""Keyword replies: the 「自学」 join reply and admin ``/keyword add|del|list``.

The dispatcher routes every word in ``config.join.keywords`` to :func:`join` and answers
exact-match keywords stored in the KeywordReply table itself; this module only manages them.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import select

from bot.context import Context
from bot.i18n import Messages, preview
from bot.model import Reply
from bot.registry import JOIN_KEYWORD, command, keyword
from storage.models import KeywordReply

log = logging.getLogger(__name__)

MAX_KEYWORD_CHARS = 100
USAGE = "add <词> <回复> | del <词> | list"
ADD_WORDS = ("add", "set", "添加", "增加")
DEL_WORDS = ("del", "delete", "rm", "remove", "删除")
LIST_WORDS = ("list", "ls", "列表", "查看")

MSG = Messages(
    {
        "usage": (
            "用法：\n/keyword add <关键词> <回复>  添加或修改\n/keyword del <关键词>  删除\n"
            "/keyword list  查看全部",
            "Usage:\n/keyword add <word> <reply>  add or change\n/keyword del <word>  delete\n"
            "/keyword list  show all",
        ),
        "empty_reply": (
            "关键词「{word}」缺少回复内容。用法：/keyword add <关键词> <回复>",
            "Keyword “{word}” has no reply text. Usage: /keyword add <word> <reply>",
        ),
        "too_long": (
            "关键词太长了（{length} 字，上限 {limit} 字）。",
            "That keyword is too long ({length} characters, limit {limit}).",
        ),
        "bad_prefix": (
            "关键词不能以 / 或 # 开头（会和命令、话题标签冲突）：{word}",
            "A keyword cannot start with / or # (those are commands and hashtags): {word}",
        ),
        "join_word": (
            "「{word}」是入群关键词，回复来自配置文件 join（以及公众号的 mp.join_text），不能在这里修改。",
            "“{word}” is the join keyword; its reply comes from join (and mp.join_text for the "
            "公众号) in the config file.",
        ),
        "join_link": ("加入链接：{link}", "Join here: {link}"),
        "scan_qr": (
            "长按识别下方二维码，加入社群 👇",
            "Scan the QR code below to join the group 👇",
        ),
        "no_way_in": (
            "请留言你的微信号，管理员会拉你进群。",
            "Leave your WeChat ID in a message and an admin will add you to the group.",
        ),
        "already_here": (
            "你已经在「{group}」里啦 👋 想拉朋友一起学？让 TA 私聊我发「自学」；怎么打卡见 /help。",
            "You're already in “{group}” 👋 To bring a friend, have them message me 「自学」 "
            "privately; /help shows how to check in.",
        ),
        "added": ("已添加关键词「{word}」✅", "Keyword “{word}” added ✅"),
        "updated": (
            "关键词「{word}」已存在，回复已更新 ✅",
            "Keyword “{word}” already existed; its reply was updated ✅",
        ),
        "deleted": ("已删除关键词「{word}」🗑", "Keyword “{word}” deleted 🗑"),
        "not_found": (
            "没有关键词「{word}」。发送 /keyword list 查看全部。",
            "There is no keyword “{word}”. Send /keyword list to see them all.",
        ),
        "list_title": ("关键词回复：", "Keyword replies:"),
        "list_join": ("{words}（入群介绍，来自配置）", "{words} (join info, from config)"),
        "list_empty": (
            "还没有自定义关键词。用 /keyword add <关键词> <回复> 添加。",
            "No custom keywords yet. Add one with /keyword add <word> <reply>.",
        ),
    }
)


@keyword(JOIN_KEYWORD)
async def join(ctx: Context) -> Reply:
    """「自学」: how to join, written for where it was sent (never 「回复自学」 again).

    In the group's own chat everyone is a member already: one line (you are here; a friend
    should DM the bot 「自学」; /help for 打卡), never the join text meant for outsiders.
    公众号 followers get ``mp.join_text`` with the group's QR code (``mp.qr_image``) or
    ``mp.invite_link``; a chat gets its platform's text (``join.<platform>``, else
    ``join.chat_text``) and invite link; a WeChat DM is also invited into the study room.
    """
    incoming = ctx.incoming
    if incoming.platform == "mp":
        return _join_for_follower(ctx)
    if not incoming.chat.is_private:  # a configured chat (the dispatcher answers the others)
        return Reply(ctx.text(MSG, "already_here", group=ctx.group.name))
    join_config = ctx.config.join
    channel = getattr(join_config, incoming.platform, None)
    en = ctx.lang == "en"
    if en:
        text = (channel and channel.text_en) or join_config.chat_text_en
    else:
        text = (channel and channel.text) or join_config.chat_text
    text = text.replace("{group}", ctx.group.name)
    link = (channel and channel.invite_link) or join_config.invite_link
    if link:
        text = f"{text}\n{ctx.text(MSG, 'join_link', link=link)}"
    room = None
    if incoming.chat.is_private and incoming.platform == "wechat":
        room = ctx.config.wechat.study_room_id
    return Reply(text, invite_to_room=room)


def _join_for_follower(ctx: Context) -> Reply:
    """The 公众号 follower's 「自学」: the join text, then the QR code image (``mp.qr_image``),
    else the invite link (``mp.invite_link``, else ``join.invite_link``), else a note that an
    admin will add them (and a warning in the log: the admin forgot both)."""
    mp = ctx.config.mp
    text = mp.join_text_en if ctx.lang == "en" else mp.join_text
    image = None
    if mp.qr_image:
        try:
            image = Path(mp.qr_image).expanduser().read_bytes()
        except OSError as error:
            log.error("mp.qr_image %s cannot be read: %s", mp.qr_image, error)
    link = mp.invite_link or ctx.config.join.invite_link
    if image is not None:
        text = f"{text}\n{ctx.text(MSG, 'scan_qr')}"
    elif link:
        text = f"{text}\n{ctx.text(MSG, 'join_link', link=link)}"
    else:
        log.warning("「自学」 from a 公众号 follower: set mp.qr_image or mp.invite_link")
        text = f"{text}\n{ctx.text(MSG, 'no_way_in')}"
    name = Path(mp.qr_image).name if mp.qr_image else "qr.png"
    return Reply(text, image=image, image_name=name)


def _find(ctx: Context, word: str) -> KeywordReply | None:
    return ctx.session.scalars(
        select(KeywordReply).where(
            KeywordReply.group_id == ctx.group.id, KeywordReply.keyword == word
        )
    ).one_or_none()


def _add(ctx: Context, rest: str) -> Reply:
    parts = rest.split(None, 1)
    if not parts:
        raise ctx.fail(MSG, "usage")
    word = parts[0]
    reply = parts[1].strip() if len(parts) > 1 else ""
    if len(word) > MAX_KEYWORD_CHARS:
        raise ctx.fail(MSG, "too_long", length=len(word), limit=MAX_KEYWORD_CHARS)
    if word.startswith(("/", "#")):
        raise ctx.fail(MSG, "bad_prefix", word=word)
    if word in ctx.config.join.keywords or word in ctx.registry.keywords:
        raise ctx.fail(MSG, "join_word", word=word)
    if not reply:
        raise ctx.fail(MSG, "empty_reply", word=word)
    existing = _find(ctx, word)
    if existing is not None:
        existing.reply = reply
        existing.created_by = ctx.incoming.sender.qualified_id
        return Reply(ctx.text(MSG, "updated", word=word))
    ctx.session.add(
        KeywordReply(
            group_id=ctx.group.id,
            keyword=word,
            reply=reply,
            created_by=ctx.incoming.sender.qualified_id,
            created_at=ctx.now,
        )
    )
    return Reply(ctx.text(MSG, "added", word=word))


def _delete(ctx: Context, rest: str) -> Reply:
    word = rest.strip()
    if not word:
        raise ctx.fail(MSG, "usage")
    existing = _find(ctx, word)
    if existing is None:
        raise ctx.fail(MSG, "not_found", word=word)
    ctx.session.delete(existing)
    return Reply(ctx.text(MSG, "deleted", word=word))


def _list(ctx: Context) -> Reply:
    rows = ctx.session.scalars(
        select(KeywordReply)
        .where(KeywordReply.group_id == ctx.group.id)
        .order_by(KeywordReply.keyword)
    ).all()
    lines = [ctx.text(MSG, "list_title")]
    join_words = "、".join(f"「{w}」" for w in ctx.config.join.keywords)
    if join_words:
        lines.append("• " + ctx.text(MSG, "list_join", words=join_words))
    lines.extend(f"• 「{row.keyword}」→ {preview(row.reply, 40)}" for row in rows)
    if not rows:
        lines.append(ctx.text(MSG, "list_empty"))
    return Reply("\n".join(lines))


@command(
    "keyword",
    aliases=("关键词",),
    usage=USAGE,
    usage_en="add <word> <reply> | del <word> | list",
    help_zh="管理关键词自动回复",
    help_en="manage keyword replies",
    admin=True,
)
async def keyword_admin(ctx: Context) -> Reply:
    """``/keyword add <词> <回复>`` / ``del <词>`` / ``list``: the group's keyword replies."""
    parts = ctx.args.split(None, 1)
    action = parts[0].lower() if parts else ""
    rest = parts[1] if len(parts) > 1 else ""
    if action in ADD_WORDS:
        return _add(ctx, rest)
    if action in DEL_WORDS:
        return _delete(ctx, rest)
    if action in LIST_WORDS:
        return _list(ctx)
    raise ctx.fail(MSG, "usage")
