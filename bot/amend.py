"""Edited and recalled messages: a check-in follows the message it came from.

A Telegram member who edits a ``#打卡`` message gets the stored note updated (with a reply
saying so); a WeChat member who recalls (撤回) one gets it removed from storage and so from the
digest. Only check-ins remember their message (``CheckIn.source``); an edit of a message that
stored nothing stores nothing (an edit is not a new message).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.i18n import COMMON, Messages, preview
from bot.model import Incoming, Reply, utcnow
from bot.routing import clean_text, forbidden_char
from handlers import note_quality
from storage import checkins, sources

if TYPE_CHECKING:
    from bot.dispatch import Dispatcher

log = logging.getLogger(__name__)

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
    }
)
MAX_CHARS = 3000



def apply_edit(dispatcher: Dispatcher, incoming: Incoming) -> list[Reply]:
    """Update the check-in ``incoming`` (an edited message, same id) created, if any."""
    lang = dispatcher.config.language
    text = clean_text(incoming.text)
    source = sources.source_key(incoming.platform, incoming.chat.chat_id, incoming.message_id)
    with dispatcher.db.session() as session:
        stored = checkins.by_source(session, source)
        if stored is None:
            return []
        if (char := forbidden_char(incoming.text)) is not None:
            return [Reply(COMMON.get("control_chars", lang, char=char))]
        route = dispatcher.route(text)
        if route is None or route.spec is None or route.spec.name != "checkin" or not route.args:
            return [Reply(MSG.get("not_a_checkin", lang))]
        new_text = route.args
        if note_quality.is_contentless(new_text):
            return [Reply(MSG.get("contentless", lang))]
        if len(new_text) > MAX_CHARS:
            return [Reply(COMMON.get("too_long", lang, length=len(new_text), limit=MAX_CHARS))]
        if new_text == stored.text:
            return []  # an edit elsewhere in the message (formatting): nothing changed
        checkins.edit_checkin(stored, new_text, dispatcher.clock())
    log.info("check-in from %s updated by an edit", source)
    return [Reply(MSG.get("updated", lang, text=preview(new_text)))]


def apply_recall(dispatcher: Dispatcher, platform: str, chat_id: str, message_id: str) -> bool:
    """Remove the check-in the recalled message created; whether there was one."""
    source = sources.source_key(platform, chat_id, message_id)
    with dispatcher.db.session() as session:
        stored = checkins.by_source(session, source)
        if stored is None:
            return False
        checkins.delete_checkin(session, stored)
    log.info("check-in from %s removed: its message was recalled (%s)", source, utcnow())
    return True
