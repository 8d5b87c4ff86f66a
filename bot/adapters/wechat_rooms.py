"""WeChat room membership: rooms missing from the config, and 「自学」 invitations.

:class:`WechatRooms` warns once per room that talks to the bot but is not in
``groups[].chats`` (so digests and reminders cannot go there), and, when 「自学」 arrives in a
DM, invites the friend into ``wechat.study_room_id`` unless already a member (else it sends the
join text). Membership is read fresh from the puppet on every invitation.
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
from bot.model import ChatRef, Incoming, Reply

log = logging.getLogger("bot.adapters.wechat")  # the adapter's log, as before the split

MSG = Messages(
    {
        "invited": (
            "已邀请你加入「{room}」群，请留意微信里的群邀请 ✅",
            "I've invited you to “{room}”; look out for the group invitation in WeChat ✅",
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
        outbound: WechatOutbound,
        bot: Callable[[], Any],
        post: Post,
    ) -> None:
        self.lang = config.language
        self.dispatcher = dispatcher
        self.outbound = outbound
        self._bot = bot
        self._post = post
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

    async def invite(self, incoming: Incoming, reply: Reply) -> None:
        """Invite the sender into the room, never re-inviting a member; else the join text.

        Membership is read fresh from the puppet (``room_members``, what ``Room.member_list``
        uses) rather than the cached room payload, which can be stale after joins and leaves.
        """
        room_id = reply.invite_to_room
        assert room_id is not None
        contact_id = incoming.sender.user_id
        dm = incoming.chat
        group = self.dispatcher.group_for_chat(ChatRef(PLATFORM, room_id))
        topic = group.name if group is not None else ""
        try:
            room = self._bot().Room.load(room_id)
            await room.ready()
            topic = payload_value(room, "topic") or topic
            members = await self._bot().puppet.room_members(room_id)
        except Exception as exc:
            log.warning(
                "WeChat: cannot read the study room %s (%s); sending the join text", room_id, exc
            )
            await self._post(dm, Reply(reply.text), [])
            return
        if contact_id in members:
            await self._post(dm, Reply(MSG.get("already_member", self.lang, room=topic)), [])
            return
        try:
            contact = self._bot().Contact.load(contact_id)
            await self.outbound.attempt(
                f"room invite of {contact_id}", lambda: room.add(contact), retries=1
            )
        except Exception as exc:
            log.warning(
                "WeChat: inviting %s into %s failed (%s); sending the join text",
                contact_id,
                room_id,
                exc,
            )
            await self._post(dm, Reply(reply.text), [])
            return
        await self._post(dm, Reply(MSG.get("invited", self.lang, room=topic)), [])
