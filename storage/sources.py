"""Where an entry came from: ``platform:chat_id:message_id`` of the message that created it.

Check-ins, questions, answers, papers and resources keep it in ``source``, so an edited message
(Telegram) updates its entry and a recalled one (WeChat 撤回) withdraws it (``bot.amend``).
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Answer, CheckIn, Paper, Question, Resource

Entry = CheckIn | Question | Answer | Paper | Resource
KINDS: tuple[type[Entry], ...] = (CheckIn, Question, Answer, Paper, Resource)


def source_key(platform: str, chat_id: str, message_id: str) -> str:
    """What ``source`` holds for a platform message."""
    return f"{platform}:{chat_id}:{message_id}"[:300]


def by_source(session: Session, source: str) -> Entry | None:
    """The entry the message ``source`` created, of whichever kind, if any."""
    for model in KINDS:
        found = session.scalars(select(model).where(model.source == source).limit(1)).first()
        if found is not None:
            return cast(Entry, found)
    return None
