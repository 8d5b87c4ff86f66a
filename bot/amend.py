"""Edited and recalled messages: what a message created follows the message.

An entry (check-in, question, answer, paper, resource) remembers the message it came from
(``source``, see :mod:`storage.sources`). A Telegram member who edits that message gets the
entry updated, with a short reply saying so (or why not: the edit no longer says what the
entry needs, and the entry stays as it was). A WeChat member who recalls (撤回) it gets it
withdrawn: a check-in is removed; a question (with its answers), an answer, a paper or a
resource goes to the trash as the member's own withdrawal (``/trash`` and ``/digest status``
say so; admins cannot ``/restore`` it: the author took it back); a withdrawn question is announced in its chat, since others may be
answering it. An edit of a message that stored nothing (a chat line, or a post that was
refused, such as an emoji-only 打卡) is handled as that post, once: a second edit updates it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.i18n import COMMON, Messages, preview
from bot.model import ChatRef, Incoming, Reply, utcnow
from bot.parsing.arguments import parse_paper, parse_share
from bot.parsing.errors import ParseError
from bot.parsing.links import url_key
from bot.routing import Route, clean_text, forbidden_char
from handlers import note_quality
from storage import checkins, content, moderation, sources
from storage.db import Database
from storage.models import Answer, CheckIn, Member, Paper, Question, Resource

log = logging.getLogger(__name__)


class AmendHost(Protocol):
    """What amending needs of :class:`bot.dispatch.Dispatcher` (which calls in here)."""

    db: Database
    clock: Callable[[], datetime]

    def language_of(self, chat: ChatRef) -> str: ...

    def route(self, text: str) -> Route | None: ...


MSG = Messages(
    {
        "updated": (
            "✏️ 已按你编辑后的消息更新学习心得：{text}",
            "✏️ Your learning note now reads as your edited message: {text}",
        ),
        "not_a_checkin": (
            "你编辑后的消息不再是打卡，原来的学习心得保留着。要删除请发送 /checkin，再 /checkin del <序号>。",
            "Your edited message is no longer a check-in; the stored note stays. To delete it, "
            "send /checkin, then /checkin del <number>.",
        ),
        "contentless": (
            "编辑后的打卡没有写学了什么，原来的学习心得保留着 🙂",
            "The edited check-in doesn't say what you learned; the stored note stays 🙂",
        ),
        "question_updated": (
            "✏️ 已按你编辑后的消息更新问题 #{number}：{text}",
            "✏️ Question #{number} now reads as your edited message: {text}",
        ),
        "answer_updated": (
            "✏️ 已按你编辑后的消息更新你对问题 #{number} 的回答：{text}",
            "✏️ Your answer to question #{number} now reads as your edited message: {text}",
        ),
        "paper_updated": (
            "✏️ 已按你编辑后的消息更新论文 #{id}：{text}",
            "✏️ Paper #{id} now reads as your edited message: {text}",
        ),
        "resource_updated": (
            "✏️ 已按你编辑后的消息更新资源 #{id}：{text}",
            "✏️ Resource #{id} now reads as your edited message: {text}",
        ),
        "kept": (
            "你编辑后的消息不再是{what}，原来的{what} {label} 保留着。",
            "Your edited message is no longer a {what}; {what} {label} stays as it was.",
        ),
        "echo": (
            "编辑后的内容不算回答，原来的回答保留着 🙂",
            "The edited text is no answer; your answer stays as it was 🙂",
        ),
        "duplicate": (
            "编辑后的链接是群里已有的论文 #{id}，原来的论文 #{own} 保留着。",
            "The edited link is paper #{id}, already shared; paper #{own} stays as it was.",
        ),
        "question": ("提问", "question"),
        "answer": ("回答", "answer"),
        "paper": ("论文", "paper"),
        "resource": ("资源分享", "resource"),
        "question_recalled": (
            "↩️ 问题 #{number} 已被提问者撤回。",
            "↩️ Question #{number} was withdrawn by its asker.",
        ),
        "recalled_by": ("{name}（撤回）", "{name} (recalled)"),
    }
)
MAX_CHARS = 3000
_ANSWER_ARGS = re.compile(r"^[#＃]?\d{1,9}(?:\s*[:：,，、。]\s*|\s+)(.*)$", re.S)


def apply_edit(dispatcher: AmendHost, incoming: Incoming) -> list[Reply] | None:
    """Update the entry ``incoming`` (an edited message, same id) created; None when that
    message created nothing (the dispatcher then handles the edit as a new post)."""
    lang = dispatcher.language_of(incoming.chat)
    text = clean_text(incoming.text)
    source = sources.source_key(incoming.platform, incoming.chat.chat_id, incoming.message_id)
    with dispatcher.db.session() as session:
        stored = sources.by_source(session, source)
        if stored is None:
            return None
        if (char := forbidden_char(incoming.text)) is not None:
            return [Reply(COMMON.get("control_chars", lang, char=char))]
        route = dispatcher.route(text)
        if isinstance(stored, CheckIn):
            replies = _edit_checkin(dispatcher, stored, route, lang)
        elif isinstance(stored, Question):
            replies = _edit_question(stored, route, lang)
        elif isinstance(stored, Answer):
            replies = _edit_answer(session, stored, route, text, lang)
        elif isinstance(stored, Paper):
            replies = _edit_paper(session, stored, route, lang)
        else:
            replies = _edit_resource(session, stored, route, lang)
    log.info("%s from %s: edited (%d replies)", type(stored).__name__, source, len(replies))
    return replies


def _args_of(route: Route | None, command: str) -> str | None:
    """The edited message's arguments if it is still ``command`` (else None)."""
    if route is None or route.spec is None or route.spec.name != command:
        return None
    return route.args


def _too_long(text: str, lang: str, limit: int = MAX_CHARS) -> list[Reply]:
    if len(text) > limit:
        return [Reply(COMMON.get("too_long", lang, length=len(text), limit=limit))]
    return []


def _edit_checkin(
    dispatcher: AmendHost, stored: CheckIn, route: Route | None, lang: str
) -> list[Reply]:
    new_text = _args_of(route, "checkin")
    if not new_text:
        return [Reply(MSG.get("not_a_checkin", lang))]
    if note_quality.is_contentless(new_text):
        return [Reply(MSG.get("contentless", lang))]
    if refused := _too_long(new_text, lang):
        return refused
    if new_text == stored.text:
        return []  # an edit elsewhere in the message (formatting): nothing changed
    checkins.edit_checkin(stored, new_text, dispatcher.clock())
    return [Reply(MSG.get("updated", lang, text=preview(new_text)))]


def _kept(kind: str, label: str, lang: str) -> list[Reply]:
    return [Reply(MSG.get("kept", lang, what=MSG.get(kind, lang), label=label))]


def _edit_question(stored: Question, route: Route | None, lang: str) -> list[Reply]:
    new_text = (_args_of(route, "ask") or "").strip()
    if not new_text:
        return _kept("question", f"#{stored.number}", lang)
    if refused := _too_long(new_text, lang):
        return refused
    if new_text == stored.text:
        return []
    stored.text = new_text
    return [Reply(MSG.get("question_updated", lang, number=stored.number, text=preview(new_text)))]


def _edit_answer(
    session: Session, stored: Answer, route: Route | None, text: str, lang: str
) -> list[Reply]:
    question = session.get(Question, stored.question_id)
    number = question.number if question is not None else 0
    args = _args_of(route, "answer")
    if args is not None:  # /answer N text: the question stays the one it answered
        found = _ANSWER_ARGS.match(args.strip())
        new_text = found.group(1).strip() if found else ""
    elif route is None:  # it was a reply to the question's announcement
        new_text = text.strip()
    else:
        new_text = ""
    if not new_text:
        return _kept("answer", f"#{number}", lang)
    if note_quality.is_echo(new_text):
        return [Reply(MSG.get("echo", lang))]
    if refused := _too_long(new_text, lang):
        return refused
    if new_text == stored.text:
        return []
    stored.text = new_text
    return [Reply(MSG.get("answer_updated", lang, number=number, text=preview(new_text)))]


def _edit_paper(session: Session, stored: Paper, route: Route | None, lang: str) -> list[Reply]:
    args = _args_of(route, "paper")
    if not args or not args.strip():
        return _kept("paper", f"#{stored.id}", lang)
    try:
        parsed = parse_paper(args)
    except ParseError as error:
        return [Reply(error.message(lang))]
    other = content.find_paper_duplicate(
        session, stored.group_id, parsed.url_key, parsed.arxiv_id, stored.member_id
    )
    if other is not None and other.id != stored.id:
        return [Reply(MSG.get("duplicate", lang, id=other.id, own=stored.id))]
    key = content.private_key(stored.member, parsed.url_key) if stored.private else parsed.url_key
    fields = {
        "url": parsed.url,
        "url_key": key,
        "arxiv_id": parsed.arxiv_id,
        "code_url": parsed.code_url,
        "title": parsed.title,
        "summary": parsed.summary,
        "one_liner": parsed.one_liner,
    }
    if all(getattr(stored, key) == value for key, value in fields.items()):
        return []
    for key, value in fields.items():
        setattr(stored, key, value)
    label = parsed.title or parsed.url
    return [Reply(MSG.get("paper_updated", lang, id=stored.id, text=preview(label)))]


def _edit_resource(
    session: Session, stored: Resource, route: Route | None, lang: str
) -> list[Reply]:
    args = _args_of(route, "share")
    if not args or not args.strip():
        return _kept("resource", f"#{stored.id}", lang)
    try:
        url, tags, text = parse_share(args)
    except ParseError as error:
        return [Reply(error.message(lang))]
    if refused := _too_long(text, lang):
        return refused
    if (url, text, sorted(tags)) == (stored.url, stored.text, sorted(t.name for t in stored.tags)):
        return []
    stored.url, stored.url_key, stored.text = url, url_key(url), text
    stored.tags = content.get_or_create_tags(session, tags)
    return [Reply(MSG.get("resource_updated", lang, id=stored.id, text=preview(text or url)))]


def apply_recall(
    dispatcher: AmendHost, platform: str, chat_id: str, message_id: str
) -> list[Reply]:
    """Withdraw the entry the recalled message created (see the module docstring); the
    notices to post in ``chat_id`` (a withdrawn question's)."""
    source = sources.source_key(platform, chat_id, message_id)
    lang = dispatcher.language_of(ChatRef(platform, chat_id))
    with dispatcher.db.session() as session:
        stored = sources.by_source(session, source)
        if stored is None:
            return []
        if isinstance(stored, CheckIn):
            checkins.delete_checkin(session, stored)
            log.info("check-in from %s removed: its message was recalled (%s)", source, utcnow())
            return []
        group_id = _group_of(session, stored)
        label = moderation.current_label(session, stored)
        member = session.get(Member, stored.member_id)
        actor = MSG.get("recalled_by", lang, name=member.display_name if member else "?")
        number = stored.number if isinstance(stored, Question) else None
        item = moderation.trash(session, group_id, stored, label, actor, dispatcher.clock())
        item.snapshot = {**item.snapshot, moderation.WITHDRAWN: True}  # not restorable
    log.info("%s %s from %s withdrawn: its message was recalled", type(stored).__name__, label, source)
    if number is not None:
        return [Reply(MSG.get("question_recalled", lang, number=number), kind="notice")]
    return []


def _group_of(session: Session, entry: Question | Answer | Paper | Resource) -> int:
    if isinstance(entry, Answer):
        group_id = session.scalar(select(Question.group_id).where(Question.id == entry.question_id))
        return int(group_id or 0)
    return entry.group_id
