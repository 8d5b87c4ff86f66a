"""Which group a private chat acts for.

A member belongs to the groups in whose configured chats they used the bot
(``group_members``). In a private chat the bot acts for the group the member chose with
``/group`` (remembered in ``group_members.dm_chosen``); with one group, for that one; with none
yet, for the first configured group (a newcomer asking how to join). A member of several
groups who has not chosen is asked to choose before a command that reads or writes a group's
data runs. 公众号 followers always belong to ``mp.group`` (see the dispatcher).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.config import Config, GroupConfig
from storage import memberships
from storage.models import Member

#: Commands that run before a member of several groups has chosen one (they read nothing
#: of a group's data).
NEEDS_NO_GROUP = frozenset({"group", "start", "help", "public"})


@dataclass(frozen=True)
class DmScope:
    """The groups the member may act for in a private chat, and the one chosen (None while a
    member of several groups has not chosen)."""

    options: list[GroupConfig]
    group: GroupConfig | None


def dm_scope(session: Session, config: Config, member: Member) -> DmScope:
    """The member's groups (config order) and the one their private chat acts for."""
    seen = memberships.member_group_slugs(session, member.id)
    options = [group for group in config.groups if group.slug in seen]
    chosen = memberships.chosen_slug(session, member.id)
    by_slug = {group.slug: group for group in options}
    if chosen in by_slug:
        return DmScope(options, by_slug[chosen])
    if len(options) == 1:
        return DmScope(options, options[0])
    if not options:
        return DmScope(options, config.groups[0])
    return DmScope(options, None)
