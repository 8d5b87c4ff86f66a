"""WeChat room membership: rooms missing from the config, and 「自学」 invitations.

:class:`WechatRooms` warns once per room that talks to the bot but is not in
``groups[].chats`` (so digests and reminders cannot go there), and, when 「自学」 arrives in a
DM, invites the friend into ``wechat.study_room_id`` unless already a member or invited within
``wechat.invite_cooldown_seconds``; a failed invitation is reported to the WeChat admins once.
Invitations are remembered through :class:`bot.sent.SentMessages` (the database), so a restart neither re-sends
a pending one nor reports a failure twice. Membership is read fresh from the puppet on every
invitation.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.adapters.wechat_connect import payload_value
from bot.adapters.wechat_send import WechatOutbound
from bot.adapters.wechat_session import PLATFORM
from bot.config import Config
from bot.dispatch import Dispatcher
from bot.i18n import Messages
from bot.model import ChatRef, Incoming, Reply, utcnow
from bot.sent import SentMessages

log = logging.getLogger("bot.adapters.wechat")  # the adapter's log, as before the split

MSG = Messages(
    {
        "invited": (
            "已邀请你加入「{room}」群，请留意微信里的群邀请 ✅",
            "I've invited you to “{room}”; look out for the group invitation in WeChat ✅",
        ),
        "pending": (
            "群邀请已经发给你了，请在微信里查看并接受「{room}」的邀请 🙂",
            "The invitation to “{room}” is on its way: please accept it in WeChat 🙂",
        ),
        "failed": (
            "抱歉，暂时没能邀请你进「{room}」群，已经通知管理员，他们会尽快拉你进群 🙏{link}",
            "Sorry, I couldn't invite you to “{room}” just now; the admins have been told and "
            "will add you soon 🙏{link}",
        ),
        "link": ("\n也可以通过这个链接加入：{url}", "\nYou can also join with this link: {url}"),
        "admin_alert": (
            "⚠️ 邀请 {name}（{contact}）进「{room}」群失败：{error}。请手动拉 TA 进群。",
            "⚠️ Inviting {name} ({contact}) to “{room}” failed: {error}. Please add them by hand.",
        ),
        "already_member": (
            "你已经在「{room}」群里啦，直接在群里打卡、提问就好 😊",
            "You're already in “{room}”: check in and ask questions right there 😊",
        ),
    }
)

Post = Callable[[ChatRef, Reply, list[str]], Awaitable[list[str]]]


class WechatRooms:
    """The adapter's rooms: config coverage and study-room invitations through ``post``."""

    def __init__(
        self,
        config: Config,
        dispatcher: Dispatcher,
        sent: SentMessages,
        outbound: WechatOutbound,
        bot: Callable[[], Any],
        post: Post,
    ) -> None:
        room = config.wechat.study_room_id
        # the invitation is into the study room: its group's language, else the global one
        self.lang = (
            dispatcher.language_of(ChatRef(PLATFORM, room, "group")) if room else config.language
        )
        self.dispatcher = dispatcher
        self.sent = sent
        self.outbound = outbound
        self._bot = bot
        self._post = post
        self.join = config.join
        self.cooldown = config.wechat.invite_cooldown_seconds
        self.now = utcnow  # wall clock: invitations are remembered across restarts
        self._in_flight: set[str] = set()  # contacts whose 「自学」 is being handled now
        self._admin_contacts = [
            admin.split(":", 1)[1] for admin in config.admins if admin.startswith(f"{PLATFORM}:")
        ]
        self._known_rooms = {
            chat.chat_id
            for group in config.groups
            for chat in group.chats
            if chat.platform == PLATFORM
        }

    def note_chat(self, incoming: Incoming) -> None:
        """Log where messages come from; warn once about rooms missing from the config."""
        chat, sender = incoming.chat, incoming.sender
        log.debug(
            "WeChat: message %s in %s %s 「%s」 from %s 「%s」",
            incoming.message_id, chat.kind, chat.chat_id, chat.title, sender.user_id,
            sender.display_name,
        )  # fmt: skip
        if chat.kind == "group" and chat.chat_id not in self._known_rooms:
            self._known_rooms.add(chat.chat_id)
            log.warning(
                "WeChat: room 「%s」 (%s) is not in groups[].chats; add "
                '{platform: wechat, chat_id: "%s"} to post digests and reminders there',
                chat.title, chat.chat_id, chat.chat_id,
            )  # fmt: skip

    def recent(self, contact_id: str, room_id: str) -> str | None:
        """The state (``sent``/``failed``) of an invitation of ``contact_id`` into ``room_id``
        within the cooldown, else None."""
        found = self.sent.last_invitation(PLATFORM, contact_id, room_id)
        if found is None:
            return None
        state, when = found
        return state if (self.now() - when).total_seconds() < self.cooldown else None

    async def invite(self, incoming: Incoming, reply: Reply) -> None:
        """Invite the sender into the room once per cooldown, never re-inviting a member.

        A burst of 「自学」 sends one invitation (the pending one is remembered before the first
        await); a failed invitation is reported to the WeChat admins and the person is told so
        (no "reply 「自学」 again" loop). Membership is read fresh from the puppet
        (``room_members``, what ``Room.member_list`` uses) rather than the cached room payload,
        which can be stale after joins and leaves.
        """
        room_id = reply.invite_to_room
        assert room_id is not None
        contact_id = incoming.sender.user_id
        dm = incoming.chat
        group = self.dispatcher.group_for_chat(ChatRef(PLATFORM, room_id))
        topic = group.name if group is not None else ""
        if contact_id in self._in_flight:  # a burst: the first 「自学」 is being handled
            await self._post(dm, Reply(MSG.get("pending", self.lang, room=topic)), [])
            return
        self._in_flight.add(contact_id)
        try:
            await self._invite(incoming, room_id, topic)
        finally:
            self._in_flight.discard(contact_id)

    async def _invite(self, incoming: Incoming, room_id: str, topic: str) -> None:
        contact_id, dm = incoming.sender.user_id, incoming.chat
        if self.recent(contact_id, room_id) == "failed":  # the admins know already
            await self._failed(incoming, topic, "", tell_admins=False)
            return
        try:
            room = self._bot().Room.load(room_id)
            await room.ready()
            topic = payload_value(room, "topic") or topic
            members = await self._bot().puppet.room_members(room_id)
        except Exception as exc:
            log.warning("WeChat: cannot read the study room %s (%s)", room_id, exc)
            error = f"cannot read the room: {exc}"
            self.sent.note_invitation(PLATFORM, contact_id, room_id, "failed", self.now(), error)
            await self._failed(incoming, topic, error)
            return
        if contact_id in members:
            await self._post(dm, Reply(MSG.get("already_member", self.lang, room=topic)), [])
            return
        if self.recent(contact_id, room_id) == "sent":
            await self._post(dm, Reply(MSG.get("pending", self.lang, room=topic)), [])
            return
        # remembered before it goes out: a crash or restart never sends it twice
        self.sent.note_invitation(PLATFORM, contact_id, room_id, "sent", self.now())
        try:
            contact = self._bot().Contact.load(contact_id)
            await self.outbound.attempt(
                f"room invite of {contact_id}", lambda: room.add(contact), retries=1
            )
        except Exception as exc:
            log.warning("WeChat: inviting %s into %s failed (%s)", contact_id, room_id, exc)
            error = str(exc) or type(exc).__name__
            self.sent.note_invitation(PLATFORM, contact_id, room_id, "failed", self.now(), error)
            await self._failed(incoming, topic, error)
            return
        await self._post(dm, Reply(MSG.get("invited", self.lang, room=topic)), [])

    async def _failed(
        self, incoming: Incoming, topic: str, error: str, *, tell_admins: bool = True
    ) -> None:
        """Tell the person the admins know (with the invite link if any), and tell the admins
        (once per failure: not again for the person's next 「自学」 within the cooldown)."""
        link = (
            MSG.get("link", self.lang, url=self.join.invite_link) if self.join.invite_link else ""
        )
        text = MSG.get("failed", self.lang, room=topic, link=link)
        await self._post(incoming.chat, Reply(text), [])
        if not tell_admins:
            return
        alert = MSG.get(
            "admin_alert",
            self.lang,
            name=incoming.sender.display_name,
            contact=incoming.sender.user_id,
            room=topic,
            error=error[:200],
        )
        for admin in self._admin_contacts:
            try:
                await self._post(ChatRef(PLATFORM, admin, "private"), Reply(alert), [])
            except Exception:
                log.exception("WeChat: cannot tell admin %s about a failed invitation", admin)
        if not self._admin_contacts:
            log.error("WeChat: no wechat: admins in config to tell: %s", alert)
